//! Referral signals: what sends an application the score would approve to an underwriter instead.
//! Two are first-party fraud signals read from the applicant's own recent applications; the third
//! is the default model disagreeing with the scorecard.

use chrono::Duration;
use redflag_core::{Activity, Severity};

use crate::decision::Finding;
use crate::reasons::{money, round3};
use crate::{Application, CreditConfig};

/// The referral rules that compare an application with the applicant's earlier ones.
pub(crate) const APPLICATION_VELOCITY: &str = "ApplicationVelocityRule";
pub(crate) const INCOME_INCONSISTENCY: &str = "IncomeInconsistencyRule";
pub(crate) const MODEL_RISK: &str = "DefaultModelRule";

/// The referral signals the application raises; `earlier` are the applicant's earlier
/// applications (their `amount` is the monthly income each stated), oldest first.
pub fn signals(
    application: &Application,
    earlier: &[Activity],
    probability_of_default: Option<f64>,
    config: &CreditConfig,
) -> Vec<Finding> {
    let since = application.at - Duration::days(i64::from(config.velocity_window_days));
    let recent: Vec<&Activity> = earlier
        .iter()
        .filter(|activity| activity.at >= since && activity.at <= application.at)
        .collect();
    [
        velocity(application, &recent, config),
        income_inconsistency(application, &recent, config),
        probability_of_default.and_then(|probability| model_risk(probability, config)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Several applications in a short time: credit seeking ahead of a bust-out, or shopping one
/// identity around.
fn velocity(
    application: &Application,
    recent: &[&Activity],
    config: &CreditConfig,
) -> Option<Finding> {
    let applications = recent.len() + 1;
    let limit = config.velocity_max_applications as usize;
    if applications < limit {
        return None;
    }
    let extra = (applications - limit) as f64;
    let references: Vec<&str> = recent.iter().map(|activity| activity.reference()).collect();
    Some(
        Finding::referral(
            APPLICATION_VELOCITY,
            "application_velocity",
            Severity::Medium,
            0.6 + 0.1 * extra,
            format!(
                "{applications} applications by {} in {} days (referral from {limit})",
                application.applicant_id, config.velocity_window_days
            ),
        )
        .with_metadata("applications", applications)
        .with_metadata("window_days", config.velocity_window_days)
        .with_metadata("earlier_applications", references),
    )
}

/// The same applicant stating a materially different income within weeks: a common first-party
/// fraud signal (income inflated after a decline, or different figures to different products).
fn income_inconsistency(
    application: &Application,
    recent: &[&Activity],
    config: &CreditConfig,
) -> Option<Finding> {
    let income = application.monthly_income;
    let (earlier, change) = recent
        .iter()
        .filter(|activity| activity.amount > 0.0)
        .map(|activity| (activity, (income - activity.amount).abs() / activity.amount))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if change <= config.income_change_tolerance {
        return None;
    }
    let elapsed = application.at - earlier.at;
    let when = if elapsed.num_days() >= 1 {
        format!("{} days earlier", elapsed.num_days())
    } else {
        format!("{} hours earlier", elapsed.num_hours())
    };
    Some(
        Finding::referral(
            INCOME_INCONSISTENCY,
            "income_inconsistency",
            Severity::High,
            0.5 + change / 2.0,
            format!(
                "Stated monthly income {} differs by {:.0}% from {} stated {when} (application {}); tolerance {:.0}%",
                money(income),
                change * 100.0,
                money(earlier.amount),
                earlier.reference(),
                config.income_change_tolerance * 100.0
            ),
        )
        .with_metadata("monthly_income", income)
        .with_metadata("earlier_monthly_income", earlier.amount)
        .with_metadata("earlier_application", earlier.reference())
        .with_metadata("change", round3(change)),
    )
}

/// The default model estimating more risk than the lender accepts, whatever the scorecard says.
fn model_risk(probability: f64, config: &CreditConfig) -> Option<Finding> {
    (probability > config.max_probability_of_default).then(|| {
        Finding::referral(
            MODEL_RISK,
            "model_risk",
            Severity::Medium,
            probability,
            format!(
                "Default model estimates a {:.0}% probability of default (referral above {:.0}%)",
                probability * 100.0,
                config.max_probability_of_default * 100.0
            ),
        )
        .with_metadata("probability_of_default", probability)
        .with_metadata("maximum", config.max_probability_of_default)
    })
}
