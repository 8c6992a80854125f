use redflag_core::{Alert, History, Rule, Severity};

use crate::funds_flow::FundsFlow;
use crate::peer_group::{PeerGroup, PeerGroups};
use crate::profile::Profile;
use crate::windows::cents;
use crate::{AmlConfig, Transaction};

/// A break of pattern on both sides: a first transfer to a new counterparty, far above what the
/// sender ordinarily sends (or from a sender with no history), to an account that moves far
/// smaller sums on its quieter days (the lower quartile of its days, so that a mule that has
/// already passed large sums on still shows its ordinary scale; an account that has not sent
/// anything yet, at its `receiver_segment`'s scale when that segment's peer group is learned).
/// The first hand-over to a mule looks like this; a customer paying a broker does not (the broker
/// moves such sums every day), nor does a broker paying a customer.
#[derive(Debug, Clone)]
pub struct ProfileBreakRule {
    config: AmlConfig,
    peers: PeerGroups,
}

impl ProfileBreakRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
            peers: PeerGroups::default(),
        }
    }

    /// Judges receivers too new to have sent anything at their segment's scale.
    pub fn with_peer_groups(mut self, peers: PeerGroups) -> Self {
        self.peers = peers;
        self
    }
}

/// Where the receiver's ordinary scale came from.
enum ReceiverScale<'a> {
    Own(f64),
    Segment(&'a PeerGroup),
}

impl ReceiverScale<'_> {
    fn amount(&self) -> f64 {
        match self {
            Self::Own(amount) => *amount,
            Self::Segment(group) => group.quiet_transfer,
        }
    }
}

impl Rule<Transaction> for ProfileBreakRule {
    fn name(&self) -> &'static str {
        "ProfileBreakRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let flow = FundsFlow::of(transaction, history, &self.config)?;
        if flow.explained || flow.known_receiver {
            return None;
        }
        let multiple = self.config.unusual_amount_multiple;
        let scale = match Profile::receiver(transaction, history, &self.config).quiet_transfer() {
            Some(own) => ReceiverScale::Own(own),
            None => ReceiverScale::Segment(
                self.peers
                    .group(Some(transaction.receiver_segment.as_deref()?))
                    .filter(|group| group.quiet_transfer > 0.0)?,
            ),
        };
        let receiver_usual = scale.amount();
        if transaction.amount < multiple * receiver_usual {
            return None;
        }
        let sender_usual = flow.sender_usual;
        // Both sides known is the strongest; a side judged by what others do, the weakest.
        let confidence = match (&scale, sender_usual) {
            (ReceiverScale::Own(_), Some(_)) => 0.6,
            (ReceiverScale::Own(_), None) | (ReceiverScale::Segment(_), Some(_)) => 0.55,
            (ReceiverScale::Segment(_), None) => 0.5,
        };
        let sender_line = match sender_usual {
            Some(usual) => format!(
                "{} usually sends about ${usual:.2} a transfer: this is {:.0}x that",
                transaction.sender_id,
                transaction.amount / usual
            ),
            None => format!("{} has no history of sending", transaction.sender_id),
        };
        let mut alert = Alert::new(
            self.name(),
            "profile_break",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Break of pattern: ${:.2} to a new counterparty {}, {:.0}x what it usually moves",
                transaction.amount,
                transaction.receiver_id,
                transaction.amount / receiver_usual
            ),
        )
        .with_metadata("amount", cents(transaction.amount))
        .with_metadata("receiver_usual_transfer", cents(receiver_usual))
        .with_metadata("new_counterparty", true)
        .with_evidence(sender_line)
        .with_evidence(match &scale {
            ReceiverScale::Own(_) => format!(
                "{} sends about ${receiver_usual:.2} a transfer on its quieter days",
                transaction.receiver_id
            ),
            ReceiverScale::Segment(group) => format!(
                "{} has not sent anything yet; the {} established senders of segment {} send \
                 about ${receiver_usual:.2} a transfer on their quieter days (median)",
                transaction.receiver_id, group.members, group.segment
            ),
        });
        if let ReceiverScale::Segment(group) = &scale {
            alert = alert.with_metadata(
                "receiver_judged_against",
                format!("peer group {}", group.segment),
            );
        }
        if let Some(usual) = sender_usual {
            alert = alert.with_metadata("sender_usual_transfer", cents(usual));
        }
        Some(alert)
    }
}
