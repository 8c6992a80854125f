//! What custom rules can read of a claim: its validated fields, its dates and amounts as ratios,
//! and the figures of its windows (published at GET /api/rules/insurance/features/). Contact
//! identifiers are hashed before any rule sees a claim, so rules read how many claimants share
//! one, never the value.

use chrono::{Duration, NaiveDate};
use redflag_core::{Activity, History};
use redflag_rules::{FeatureKind, FeatureSpec, FeatureValue};

use crate::Claim;
use crate::contacts::IdentifierKind;
use crate::windows::{claimant_window, identifier_window, policy_window};

use FeatureKind::{Count, Number, Text};

const MONEY: &str = "currency units";

/// The insurance features, in index order. Window figures count the claims *before* this one,
/// by event time.
pub const CATALOGUE: &[FeatureSpec] = &[
    FeatureSpec::new("event.claim_amount", Number, MONEY, "The amount claimed."),
    FeatureSpec::new("event.policy_id", Text, "", "The policy claimed on."),
    FeatureSpec::new("event.claimant_id", Text, "", "The claimant (optional)."),
    FeatureSpec::new(
        "event.claim_type",
        Text,
        "",
        "auto, property, health, travel, life or other (optional).",
    ),
    FeatureSpec::new(
        "event.item_category",
        Text,
        "",
        "The category of the item claimed for (optional).",
    ),
    FeatureSpec::new(
        "event.item_age_years",
        Number,
        "years",
        "The item's age (optional).",
    ),
    FeatureSpec::new(
        "event.estimated_value",
        Number,
        MONEY,
        "The claimant's valuation (optional).",
    ),
    FeatureSpec::new(
        "event.market_value",
        Number,
        MONEY,
        "The item's market value (optional).",
    ),
    FeatureSpec::new(
        "event.coverage_limit",
        Number,
        MONEY,
        "The policy's limit (optional).",
    ),
    FeatureSpec::new(
        "event.deductible",
        Number,
        MONEY,
        "The policy's deductible (optional).",
    ),
    FeatureSpec::new(
        "event.provider_id",
        Text,
        "",
        "The repairer, clinic or other provider (optional).",
    ),
    FeatureSpec::new(
        "hour_of_day",
        Number,
        "hours, UTC",
        "The claim time's hour, minutes as a fraction (13.5 is 13:30).",
    ),
    FeatureSpec::new(
        "days_since_policy_start",
        Number,
        "days",
        "From the policy's start to the incident; missing without both dates.",
    ),
    FeatureSpec::new(
        "days_to_report",
        Number,
        "days",
        "From the incident to its report (the claim's date without a report date); missing without an incident date.",
    ),
    FeatureSpec::new(
        "amount_to_coverage",
        Number,
        "ratio",
        "The amount over the coverage limit (0.98: just under it); missing without a limit.",
    ),
    FeatureSpec::new(
        "amount_to_market_value",
        Number,
        "ratio",
        "The amount over the market value; missing without one.",
    ),
    FeatureSpec::new(
        "policy_claims",
        Count,
        "claims",
        "Earlier claims on the policy within insurance.repeat_claims_window_days.",
    ),
    FeatureSpec::new("policy_claimed", Number, MONEY, "Their total."),
    FeatureSpec::new(
        "claimant_claims",
        Count,
        "claims",
        "Earlier claims by the claimant, on any policy, in the same window; missing without a claimant.",
    ),
    FeatureSpec::new(
        "claimant_policies",
        Count,
        "policies",
        "Distinct policies among them, this one included.",
    ),
    FeatureSpec::new(
        "claims_last_30d",
        Count,
        "claims",
        "Earlier claims on the policy in the 30 days before.",
    ),
    FeatureSpec::new(
        "phone_shared_by",
        Count,
        "claimants",
        "Other claimants who gave the same phone number within insurance.ring_window_days (compared hashed); 0 without one.",
    ),
    FeatureSpec::new(
        "email_shared_by",
        Count,
        "claimants",
        "The same for the e-mail address.",
    ),
    FeatureSpec::new(
        "bank_account_shared_by",
        Count,
        "claimants",
        "The same for the bank account.",
    ),
    FeatureSpec::new(
        "address_shared_by",
        Count,
        "claimants",
        "The same for the address.",
    ),
    FeatureSpec::new(
        "model_score",
        Number,
        "0..1",
        "The anomaly model's score (near 1: anomalous); missing without a model.",
    ),
];

/// Feature `index` of [`CATALOGUE`] for `claim`, seen through `history`; `model_score` is asked
/// only when a rule reads it.
pub(crate) fn value(
    index: usize,
    claim: &Claim,
    history: &History,
    model_score: &dyn Fn() -> Option<f64>,
) -> FeatureValue {
    let money = |value: Option<f64>| FeatureValue::number(value);
    let policy = || history.get(&policy_window(claim));
    let claimant = || {
        claim
            .claimant_id
            .as_deref()
            .map(|claimant| history.get(&claimant_window(claimant)))
    };
    let shared = |kind: IdentifierKind| {
        let Some(hash) = claim.contacts.get(kind) else {
            return FeatureValue::count(0);
        };
        let me = claim.claimant();
        let mut others: Vec<&str> = history
            .get(&identifier_window(kind, hash))
            .iter()
            .map(|entry| entry.counterparty())
            .filter(|other| *other != me)
            .collect();
        others.sort_unstable();
        others.dedup();
        FeatureValue::count(others.len())
    };
    match CATALOGUE.get(index).map(|feature| feature.name) {
        Some("event.claim_amount") => FeatureValue::Number(claim.claim_amount),
        Some("event.policy_id") => FeatureValue::Text(claim.policy_id.clone()),
        Some("event.claimant_id") => FeatureValue::text(claim.claimant_id.as_deref()),
        Some("event.claim_type") => {
            FeatureValue::text(claim.claim_type.map(|claim_type| claim_type.as_str()))
        }
        Some("event.item_category") => FeatureValue::text(claim.item_category.as_deref()),
        Some("event.item_age_years") => money(claim.item_age_years),
        Some("event.estimated_value") => money(claim.estimated_value),
        Some("event.market_value") => money(claim.market_value),
        Some("event.coverage_limit") => money(claim.coverage_limit),
        Some("event.deductible") => money(claim.deductible),
        Some("event.provider_id") => FeatureValue::text(claim.provider_id.as_deref()),
        Some("hour_of_day") => FeatureValue::Number(redflag_core::hour_of_day(claim.at)),
        Some("days_since_policy_start") => {
            days_between(claim.policy_start_date, claim.incident_date)
        }
        Some("days_to_report") => days_between(claim.incident_date, Some(claim.reported_on())),
        Some("amount_to_coverage") => ratio(claim.claim_amount, claim.coverage_limit),
        Some("amount_to_market_value") => ratio(claim.claim_amount, claim.market_value),
        Some("policy_claims") => FeatureValue::count(policy().len()),
        Some("policy_claimed") => {
            FeatureValue::Number(policy().iter().map(|entry| entry.amount).sum())
        }
        Some("claimant_claims") => claimant().map_or(FeatureValue::Missing, |claims| {
            FeatureValue::count(claims.len())
        }),
        Some("claimant_policies") => claimant().map_or(FeatureValue::Missing, |claims| {
            let mut policies: Vec<&str> = claims
                .iter()
                .map(|entry| entry.counterparty())
                .chain(std::iter::once(claim.policy_id.as_str()))
                .collect();
            policies.sort_unstable();
            policies.dedup();
            FeatureValue::count(policies.len())
        }),
        Some("claims_last_30d") => FeatureValue::count(recent(policy(), claim, Duration::days(30))),
        Some("phone_shared_by") => shared(IdentifierKind::Phone),
        Some("email_shared_by") => shared(IdentifierKind::Email),
        Some("bank_account_shared_by") => shared(IdentifierKind::BankAccount),
        Some("address_shared_by") => shared(IdentifierKind::Address),
        Some("model_score") => FeatureValue::number(model_score()),
        _ => FeatureValue::Missing,
    }
}

/// Whole days from `from` to `to`; missing without both.
fn days_between(from: Option<NaiveDate>, to: Option<NaiveDate>) -> FeatureValue {
    match (from, to) {
        (Some(from), Some(to)) => FeatureValue::Number((to - from).num_days() as f64),
        _ => FeatureValue::Missing,
    }
}

fn ratio(amount: f64, of: Option<f64>) -> FeatureValue {
    of.filter(|of| *of > 0.0)
        .map_or(FeatureValue::Missing, |of| {
            FeatureValue::Number(amount / of)
        })
}

/// Entries of `window` within `span` before the claim.
fn recent(window: &[Activity], claim: &Claim, span: Duration) -> usize {
    window
        .iter()
        .filter(|entry| entry.at >= claim.at - span)
        .count()
}
