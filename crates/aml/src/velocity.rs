use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::peer_group::{PeerGroup, PeerGroups, PeerLimits};
use crate::profile::{Profile, recurring_payment};
use crate::windows::{cents, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Velocity: how often and how much a sender moves in an hour and a day. A sender with an
/// established profile is judged against its own ordinary active day on comparable days
/// (weekdays or weekends): a payroll account paying fifty people every Friday is doing what it
/// always does. A new one is judged against its segment's peer group (what established senders
/// of the segment do in an hour and a day, learned from the deployment's transfers), or the
/// configured peer limits while the segment has none. Paying a recurring payee on its pattern is
/// never velocity. A supporting signal: it ranks, it never flags alone.
#[derive(Debug, Clone)]
pub struct VelocityRule {
    config: AmlConfig,
    peers: PeerGroups,
}

impl VelocityRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
            peers: PeerGroups::default(),
        }
    }

    /// Judges new senders against these learned peer groups.
    pub fn with_peer_groups(mut self, peers: PeerGroups) -> Self {
        self.peers = peers;
        self
    }
}

impl Rule<Transaction> for VelocityRule {
    fn name(&self) -> &'static str {
        "VelocityRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        // A recurring payee paid on its pattern (staff on payday) is no burst.
        if recurring_payment(transaction, history) {
            return None;
        }
        let c = &self.config;
        let day_start = transaction.at - Duration::hours(24);
        let today = since(history.get(&sender_outflows(transaction)), day_start);
        let last_hour = since(today, transaction.at - Duration::hours(1));
        let count_1h = last_hour.len() + 1;
        let amount_1h = last_hour.iter().map(|past| past.amount).sum::<f64>() + transaction.amount;
        let count_24h = today.len() + 1;
        let amount_24h = today.iter().map(|past| past.amount).sum::<f64>() + transaction.amount;
        let profile = Profile::sender(transaction, history, c);
        let mut breaches = Vec::new();
        let ordinary_day = profile.active_day().filter(|_| profile.established());
        if let Some((day_count, day_amount)) = ordinary_day {
            let multiple = c.velocity_baseline_multiple;
            if count_24h as f64 >= multiple * day_count && count_24h >= MIN_SPIKE_COUNT {
                breaches.push(format!(
                    "{count_24h} transfers in 24 hours, {:.1}x the sender's average of {day_count:.1} over {}",
                    count_24h as f64 / day_count,
                    profile.ordinary_days()
                ));
            }
            if day_amount > 0.0 && amount_24h >= multiple * day_amount {
                breaches.push(format!(
                    "24-hour outflow ${amount_24h:.2} is {:.1}x the sender's average day ${day_amount:.2} over {} in the last {}",
                    amount_24h / day_amount,
                    profile.ordinary_days(),
                    c.velocity_baseline_days
                ));
            }
        }
        // A sender without a profile of its own: its segment's peers, when learned.
        let peer_group = ordinary_day
            .is_none()
            .then(|| self.peers.group(transaction.sender_segment.as_deref()))
            .flatten();
        if ordinary_day.is_none() {
            let limits = peer_group.map_or_else(|| PeerLimits::configured(c), |group| group.limits);
            let source = peer_group.map_or_else(
                || "limit".to_owned(),
                |group| peer_source(group, self.peers.quantile),
            );
            let periods = [
                (
                    "1 hour",
                    count_1h,
                    amount_1h,
                    limits.transactions_1h,
                    limits.amount_1h,
                ),
                (
                    "24 hours",
                    count_24h,
                    amount_24h,
                    limits.transactions_24h,
                    limits.amount_24h,
                ),
            ];
            for (period, count, amount, max_count, max_amount) in periods {
                if count > max_count as usize {
                    breaches.push(format!(
                        "{count} transfers in {period} ({source} {max_count})"
                    ));
                }
                if amount > max_amount {
                    breaches.push(format!(
                        "${amount:.2} sent in {period} ({source} ${max_amount:.2})"
                    ));
                }
            }
        }
        if breaches.is_empty() {
            return None;
        }
        let confidence = (0.2 + 0.1 * breaches.len() as f64).min(0.45);
        let mut alert = Alert::new(
            self.name(),
            "velocity",
            Severity::from_confidence(confidence),
            confidence,
            format!("Velocity limits exceeded: {}", breaches.join("; ")),
        )
        .with_metadata("transactions_1h", count_1h)
        .with_metadata("amount_1h", cents(amount_1h))
        .with_metadata("transactions_24h", count_24h)
        .with_metadata("amount_24h", cents(amount_24h))
        .with_metadata(
            "judged_against",
            match (ordinary_day, peer_group) {
                (Some(_), _) => "own profile".to_owned(),
                (None, Some(group)) => format!("peer group {}", group.segment),
                (None, None) => "peer limits".to_owned(),
            },
        )
        .supporting();
        if let Some(group) = peer_group {
            alert = alert
                .with_metadata("peer_group_members", group.members)
                .with_metadata("peer_group_quantile", self.peers.quantile);
        }
        if let Some((day_count, day_amount)) = ordinary_day {
            alert = alert
                .with_metadata(
                    "baseline_active_day_transactions",
                    (day_count * 10.0).round() / 10.0,
                )
                .with_metadata("baseline_active_day_amount", cents(day_amount));
        }
        for breach in breaches {
            alert = alert.with_evidence(breach);
        }
        Some(alert)
    }
}

/// The fewest transfers in 24 hours that can be a spike in count.
const MIN_SPIKE_COUNT: usize = 3;

/// How an evidence line names a learned limit: "the 95% quantile of the 134 established senders
/// of segment retail:".
fn peer_source(group: &PeerGroup, quantile: f64) -> String {
    format!(
        "the {}% quantile of the {} established senders of segment {}:",
        (quantile * 1000.0).round() / 10.0,
        group.members,
        group.segment
    )
}
