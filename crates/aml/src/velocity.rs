use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::windows::{cents, sender_daily, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Velocity: how often and how much a sender moves, against fixed limits for one hour and one
/// day, and against the sender's own average day over the baseline period (from its daily sums).
#[derive(Debug, Clone)]
pub struct VelocityRule {
    max_1h: usize,
    max_amount_1h: f64,
    max_24h: usize,
    max_amount_24h: f64,
    baseline: Duration,
    baseline_multiple: f64,
    baseline_min_days: f64,
}

impl VelocityRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            max_1h: config.velocity_1h_max_transactions as usize,
            max_amount_1h: config.velocity_1h_max_amount,
            max_24h: config.velocity_24h_max_transactions as usize,
            max_amount_24h: config.velocity_24h_max_amount,
            baseline: Duration::days(i64::from(config.velocity_baseline_days)),
            baseline_multiple: config.velocity_baseline_multiple,
            baseline_min_days: f64::from(config.velocity_baseline_min_days.max(1)),
        }
    }
}

impl Rule<Transaction> for VelocityRule {
    fn name(&self) -> &'static str {
        "VelocityRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let day_start = transaction.at - Duration::hours(24);
        let today = since(history.get(&sender_outflows(transaction)), day_start);
        let last_hour = since(today, transaction.at - Duration::hours(1));
        let count_1h = last_hour.len() + 1;
        let amount_1h = last_hour.iter().map(|past| past.amount).sum::<f64>() + transaction.amount;
        let count_24h = today.len() + 1;
        let amount_24h = today.iter().map(|past| past.amount).sum::<f64>() + transaction.amount;
        let mut breaches = Vec::new();
        if count_1h > self.max_1h {
            breaches.push(format!(
                "{count_1h} transfers in 1 hour (limit {})",
                self.max_1h
            ));
        }
        if amount_1h > self.max_amount_1h {
            breaches.push(format!(
                "${amount_1h:.2} sent in 1 hour (limit ${:.2})",
                self.max_amount_1h
            ));
        }
        if count_24h > self.max_24h {
            breaches.push(format!(
                "{count_24h} transfers in 24 hours (limit {})",
                self.max_24h
            ));
        }
        if amount_24h > self.max_amount_24h {
            breaches.push(format!(
                "${amount_24h:.2} sent in 24 hours (limit ${:.2})",
                self.max_amount_24h
            ));
        }
        // The baseline: the sender's daily sums for the days that end before the last 24 hours,
        // averaged over the days they span.
        let days: Vec<_> = history
            .get(&sender_daily(transaction))
            .iter()
            .filter(|day| day.at + Duration::days(1) <= day_start)
            .collect();
        let baseline_daily = days.first().zip(days.last()).and_then(|(oldest, newest)| {
            let span = ((newest.at - oldest.at).num_days() + 1) as f64;
            (span >= self.baseline_min_days)
                .then(|| days.iter().map(|day| day.amount).sum::<f64>() / span)
        });
        if let Some(daily) = baseline_daily.filter(|daily| *daily > 0.0) {
            let multiple = amount_24h / daily;
            if multiple >= self.baseline_multiple {
                breaches.push(format!(
                    "24-hour outflow ${amount_24h:.2} is {multiple:.1}x the sender's daily average ${daily:.2} over {} days",
                    self.baseline.num_days()
                ));
            }
        }
        if breaches.is_empty() {
            return None;
        }
        let confidence = (0.35 + 0.15 * breaches.len() as f64).min(0.8);
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
        .with_metadata("amount_24h", cents(amount_24h));
        if let Some(daily) = baseline_daily {
            alert = alert.with_metadata("baseline_daily_amount", cents(daily));
        }
        for breach in breaches {
            alert = alert.with_evidence(breach);
        }
        Some(alert)
    }
}
