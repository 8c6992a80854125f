use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::profile::{Profile, recurring_payment};
use crate::windows::{cents, distinct_counterparties, receiver_inflows, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Fan-in: many distinct senders paying one receiver in a short time (money-mule collection). A
/// supporting signal: merchants and brokers are paid by many; scatter-gather is the typology.
#[derive(Debug, Clone)]
pub struct FanInRule {
    min_senders: usize,
    window: Duration,
}

/// Fan-out: one sender paying many distinct receivers in a short time (distribution), beyond its
/// own ordinary active day once it has a profile, and never to a recurring payee (a payroll
/// account paying its staff is not fanning out). A supporting signal.
#[derive(Debug, Clone)]
pub struct FanOutRule {
    min_receivers: usize,
    window: Duration,
    config: AmlConfig,
}

impl FanInRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            min_senders: config.fan_in_min_senders.max(2) as usize,
            window: Duration::hours(i64::from(config.fan_window_hours)),
        }
    }
}

impl FanOutRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            min_receivers: config.fan_out_min_receivers.max(2) as usize,
            window: Duration::hours(i64::from(config.fan_window_hours)),
            config: config.clone(),
        }
    }
}

/// The distinct counterparties and the total of a window plus the current transfer.
fn spread(history: &[redflag_core::Activity], current: &str, amount: f64) -> (usize, f64) {
    let total = history.iter().map(|past| past.amount).sum::<f64>() + amount;
    (distinct_counterparties(history, Some(current)), total)
}

fn confidence(count: usize, minimum: usize) -> f64 {
    (0.3 + 0.03 * (count - minimum) as f64).min(0.45)
}

impl Rule<Transaction> for FanInRule {
    fn name(&self) -> &'static str {
        "FanInRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let inflows = since(
            history.get(&receiver_inflows(transaction)),
            transaction.at - self.window,
        );
        let (senders, total) = spread(inflows, &transaction.sender_id, transaction.amount);
        if senders < self.min_senders {
            return None;
        }
        let confidence = confidence(senders, self.min_senders);
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "fan_in",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Fan-in: {senders} distinct senders paid {} ${total:.2} in {hours}h",
                    transaction.receiver_id
                ),
            )
            .with_metadata("distinct_senders", senders)
            .with_metadata("total_amount", cents(total))
            .with_metadata("window_hours", hours)
            .supporting(),
        )
    }
}

impl Rule<Transaction> for FanOutRule {
    fn name(&self) -> &'static str {
        "FanOutRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let outflows = since(
            history.get(&sender_outflows(transaction)),
            transaction.at - self.window,
        );
        let (receivers, total) = spread(outflows, &transaction.receiver_id, transaction.amount);
        // Paying a recurring payee on its pattern (staff on payday, a supplier) is not fanning
        // out.
        if receivers < self.min_receivers || recurring_payment(transaction, history) {
            return None;
        }
        let profile = Profile::sender(transaction, history, &self.config);
        let ordinary = profile
            .active_day()
            .filter(|_| profile.established())
            .is_some_and(|(day_count, _)| {
                (receivers as f64) < self.config.velocity_baseline_multiple * day_count
            });
        if ordinary {
            return None;
        }
        let confidence = confidence(receivers, self.min_receivers);
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "fan_out",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Fan-out: {} paid {receivers} distinct receivers ${total:.2} in {hours}h",
                    transaction.sender_id
                ),
            )
            .with_metadata("distinct_receivers", receivers)
            .with_metadata("total_amount", cents(total))
            .with_metadata("window_hours", hours)
            .supporting(),
        )
    }
}
