//! What custom rules can read of a transfer: its validated fields and the figures of its windows
//! (published at GET /api/rules/aml/features/).

use chrono::Duration;
use redflag_core::{Activity, History};
use redflag_rules::{FeatureKind, FeatureSpec, FeatureValue};

use crate::windows::{
    distinct_counterparties, receiver_inflows, sender_daily, sender_inflows, sender_outflows, since,
};
use crate::{HighRiskJurisdictionRule, Transaction};

use FeatureKind::{Count, Flag, Number, Text};

const MONEY: &str = "currency units";

/// The AML features, in index order. Counts and sums are of the transfers *before* this one
/// within the window, by event time.
pub const CATALOGUE: &[FeatureSpec] = &[
    FeatureSpec::new("event.amount", Number, MONEY, "The amount transferred."),
    FeatureSpec::new(
        "event.currency",
        Text,
        "",
        "ISO 4217 code, upper case (USD when not given).",
    ),
    FeatureSpec::new(
        "event.transaction_type",
        Text,
        "",
        "wire, ach, cash, ... (optional).",
    ),
    FeatureSpec::new(
        "event.channel",
        Text,
        "",
        "branch, atm, online, mobile, ... (optional).",
    ),
    FeatureSpec::new("event.sender_id", Text, "", "The sending account."),
    FeatureSpec::new("event.receiver_id", Text, "", "The receiving account."),
    FeatureSpec::new("event.user_id", Text, "", "The customer who ordered it."),
    FeatureSpec::new(
        "event.sender_country",
        Text,
        "",
        "ISO 3166 alpha-2 (optional).",
    ),
    FeatureSpec::new(
        "event.receiver_country",
        Text,
        "",
        "ISO 3166 alpha-2 (optional).",
    ),
    FeatureSpec::new(
        "event.sender_segment",
        Text,
        "",
        "The sender's customer segment (optional).",
    ),
    FeatureSpec::new(
        "event.receiver_segment",
        Text,
        "",
        "The receiver's segment (optional).",
    ),
    FeatureSpec::new(
        "event.description",
        Text,
        "",
        "The payment reference (optional).",
    ),
    FeatureSpec::new(
        "hour_of_day",
        Number,
        "hours, UTC",
        "The event time's hour, minutes as a fraction (13.5 is 13:30).",
    ),
    FeatureSpec::new(
        "sender_count_1h",
        Count,
        "transfers",
        "Transfers the sender made in the hour before.",
    ),
    FeatureSpec::new("sender_sum_1h", Number, MONEY, "Their total."),
    FeatureSpec::new(
        "sender_count_24h",
        Count,
        "transfers",
        "Transfers the sender made in the 24 hours before.",
    ),
    FeatureSpec::new("sender_sum_24h", Number, MONEY, "Their total."),
    FeatureSpec::new(
        "sender_distinct_receivers_24h",
        Count,
        "accounts",
        "Distinct accounts the sender paid in the 24 hours before.",
    ),
    FeatureSpec::new(
        "sender_count_7d",
        Count,
        "transfers",
        "Transfers the sender made in the 7 days before.",
    ),
    FeatureSpec::new("sender_sum_7d", Number, MONEY, "Their total."),
    FeatureSpec::new(
        "sender_active_days_30d",
        Count,
        "days",
        "Days with at least one transfer sent, in the 30 days before (aml.velocity_baseline_days).",
    ),
    FeatureSpec::new(
        "sender_daily_mean_30d",
        Number,
        MONEY,
        "What the sender sends on an active day, on average over those days (0 without any).",
    ),
    FeatureSpec::new(
        "receiver_count_24h",
        Count,
        "transfers",
        "Transfers the receiver was paid in the 24 hours before.",
    ),
    FeatureSpec::new("receiver_sum_24h", Number, MONEY, "Their total."),
    FeatureSpec::new(
        "receiver_distinct_senders_24h",
        Count,
        "accounts",
        "Distinct accounts that paid the receiver in the 24 hours before.",
    ),
    FeatureSpec::new(
        "sender_received_24h",
        Number,
        MONEY,
        "What the sender itself was paid in the 24 hours before: money a pass-through moves on. Only for transfers of at least aml.pass_through_min_amount; missing below.",
    ),
    FeatureSpec::new(
        "sender_country_high_risk",
        Flag,
        "",
        "The sender's country is on the high-risk list (FATF, or aml.high_risk_countries); false without a country.",
    ),
    FeatureSpec::new(
        "receiver_country_high_risk",
        Flag,
        "",
        "The same for the receiver's country.",
    ),
    FeatureSpec::new(
        "amount_to_threshold",
        Number,
        "ratio",
        "The amount over aml.reporting_threshold (0.95: just under it).",
    ),
    FeatureSpec::new(
        "model_score",
        Number,
        "0..1",
        "The anomaly model's score (near 1: anomalous); missing without a model.",
    ),
];

/// Reads the features of one transfer for custom rules; made once per detector.
pub(crate) struct FeatureReader {
    pub jurisdictions: HighRiskJurisdictionRule,
    pub reporting_threshold: f64,
    pub pass_through_min_amount: f64,
}

/// Count and total of the activities at or after `from`.
fn count_and_sum(activities: &[Activity]) -> (FeatureValue, FeatureValue) {
    (
        FeatureValue::count(activities.len()),
        FeatureValue::Number(activities.iter().map(|a| a.amount).sum()),
    )
}

impl FeatureReader {
    /// Feature `index` of [`CATALOGUE`] on this transfer; `model_score` is asked only for the
    /// feature of that name.
    pub fn value(
        &self,
        index: usize,
        t: &Transaction,
        history: &History,
        model_score: &dyn Fn() -> Option<f64>,
    ) -> FeatureValue {
        let outflows = || history.get(&sender_outflows(t));
        let inflows = || {
            since(
                history.get(&receiver_inflows(t)),
                t.at - Duration::hours(24),
            )
        };
        let within = |hours: i64| since(outflows(), t.at - Duration::hours(hours));
        let daily = || since(history.get(&sender_daily(t)), t.at - Duration::days(30));
        match CATALOGUE.get(index).map(|feature| feature.name) {
            Some("event.amount") => FeatureValue::Number(t.amount),
            Some("event.currency") => FeatureValue::Text(t.currency.clone()),
            Some("event.transaction_type") => {
                FeatureValue::text(t.transaction_type.map(|kind| kind.as_str()))
            }
            Some("event.channel") => FeatureValue::text(t.channel.as_deref()),
            Some("event.sender_id") => FeatureValue::Text(t.sender_id.clone()),
            Some("event.receiver_id") => FeatureValue::Text(t.receiver_id.clone()),
            Some("event.user_id") => FeatureValue::Text(t.user_id.clone()),
            Some("event.sender_country") => FeatureValue::text(t.sender_country.as_deref()),
            Some("event.receiver_country") => FeatureValue::text(t.receiver_country.as_deref()),
            Some("event.sender_segment") => FeatureValue::text(t.sender_segment.as_deref()),
            Some("event.receiver_segment") => FeatureValue::text(t.receiver_segment.as_deref()),
            Some("event.description") => FeatureValue::text(t.description.as_deref()),
            Some("hour_of_day") => FeatureValue::Number(redflag_core::hour_of_day(t.at)),
            Some("sender_count_1h") => count_and_sum(within(1)).0,
            Some("sender_sum_1h") => count_and_sum(within(1)).1,
            Some("sender_count_24h") => count_and_sum(within(24)).0,
            Some("sender_sum_24h") => count_and_sum(within(24)).1,
            Some("sender_distinct_receivers_24h") => {
                FeatureValue::count(distinct_counterparties(within(24), None))
            }
            Some("sender_count_7d") => count_and_sum(within(24 * 7)).0,
            Some("sender_sum_7d") => count_and_sum(within(24 * 7)).1,
            Some("sender_active_days_30d") => FeatureValue::count(daily().len()),
            Some("sender_daily_mean_30d") => {
                let days = daily();
                let total: f64 = days.iter().map(|day| day.amount).sum();
                FeatureValue::Number(if days.is_empty() {
                    0.0
                } else {
                    total / days.len() as f64
                })
            }
            Some("receiver_count_24h") => count_and_sum(inflows()).0,
            Some("receiver_sum_24h") => count_and_sum(inflows()).1,
            Some("receiver_distinct_senders_24h") => {
                FeatureValue::count(distinct_counterparties(inflows(), None))
            }
            Some("sender_received_24h") if t.amount >= self.pass_through_min_amount => {
                let received = since(history.get(&sender_inflows(t)), t.at - Duration::hours(24));
                count_and_sum(received).1
            }
            Some("sender_country_high_risk") => {
                FeatureValue::Flag(self.jurisdictions.is_high_risk(t.sender_country.as_deref()))
            }
            Some("receiver_country_high_risk") => FeatureValue::Flag(
                self.jurisdictions
                    .is_high_risk(t.receiver_country.as_deref()),
            ),
            Some("amount_to_threshold") => {
                FeatureValue::Number(t.amount / self.reporting_threshold)
            }
            Some("model_score") => FeatureValue::number(model_score()),
            _ => FeatureValue::Missing,
        }
    }
}
