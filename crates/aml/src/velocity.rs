use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::profile::{Profile, recurring_payment};
use crate::windows::{cents, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Velocity: how often and how much a sender moves in an hour and a day. A sender with an
/// established profile is judged against its own ordinary active day on comparable days
/// (weekdays or weekends): a payroll account paying fifty people every Friday is doing what it
/// always does. A new one is judged against the peer limits for an hour and a day. Paying a
/// recurring payee on its pattern is never velocity. A supporting signal: it ranks, it never
/// flags alone.
#[derive(Debug, Clone)]
pub struct VelocityRule {
    config: AmlConfig,
}

impl VelocityRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
        }
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
        } else {
            let max_1h = c.velocity_1h_max_transactions as usize;
            let max_24h = c.velocity_24h_max_transactions as usize;
            if count_1h > max_1h {
                breaches.push(format!("{count_1h} transfers in 1 hour (limit {max_1h})"));
            }
            if amount_1h > c.velocity_1h_max_amount {
                breaches.push(format!(
                    "${amount_1h:.2} sent in 1 hour (limit ${:.2})",
                    c.velocity_1h_max_amount
                ));
            }
            if count_24h > max_24h {
                breaches.push(format!(
                    "{count_24h} transfers in 24 hours (limit {max_24h})"
                ));
            }
            if amount_24h > c.velocity_24h_max_amount {
                breaches.push(format!(
                    "${amount_24h:.2} sent in 24 hours (limit ${:.2})",
                    c.velocity_24h_max_amount
                ));
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
            if ordinary_day.is_some() {
                "own profile"
            } else {
                "peer limits"
            },
        )
        .supporting();
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
