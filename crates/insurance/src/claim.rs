use chrono::{DateTime, Duration, NaiveDate, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;

use crate::contacts::{ContactHashes, IdentifierHasher, IdentifierKind};

/// The line of business a claim belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimType {
    Auto,
    Property,
    Health,
    Travel,
    Life,
    Other,
}

impl ClaimType {
    pub const NAMES: [&'static str; 6] = ["auto", "property", "health", "travel", "life", "other"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Property => "property",
            Self::Health => "health",
            Self::Travel => "travel",
            Self::Life => "life",
            Self::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Auto,
            Self::Property,
            Self::Health,
            Self::Travel,
            Self::Life,
            Self::Other,
        ]
        .into_iter()
        .find(|claim_type| claim_type.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// A validated insurance claim, as POST /api/insurance/detect/ receives it.
///
/// Contact identifiers arrive in clear and leave [`Claim::parse`] as keyed hashes only
/// ([`ContactHashes`]): nothing downstream (windows, database, logs) ever sees the values. Made
/// only by [`Claim::parse`] (or `InsuranceDetector::parse`), which validates; the fields are
/// public to read.
///
/// Its serde form is the idempotency key of a resent business id: the service stores it with the
/// decision and answers a resend with the stored decision only when the forms are equal, 409
/// otherwise. A field added, renamed or serialised differently in a later version therefore makes
/// a resend of an event stored before it a conflict; such a change migrates the stored
/// `request_json` (or compares only the fields both versions know).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Claim {
    pub claim_id: String,
    pub policy_id: String,
    pub claim_amount: f64,
    /// The claimant's or adjuster's estimate of the loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_value: Option<f64>,
    /// The actual cash value of the insured property, the reference for inflation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_type: Option<ClaimType>,
    /// What was lost or damaged, as the valuation table names it (e.g. `laptop`, `sedan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_category: Option<String>,
    /// The item's age in years, for the valuation table's depreciation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_age_years: Option<f64>,
    /// The person claiming; without it, the policy stands for the claimant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_start_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deductible: Option<f64>,
    /// The repairer, clinic or other provider paid for the loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(flatten)]
    pub contacts: ContactHashes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

/// How far ahead of the claim's own date an incident or report date may lie: one day, for time
/// zones.
const DATE_SKEW_DAYS: i64 = 1;

/// Item ages up to a century.
const ITEM_AGE_YEARS: NumberBounds = NumberBounds {
    min: 0.0,
    exclusive_min: false,
    max: 100.0,
};

impl Claim {
    /// The tests' shorthand: a claim with only the required figures, dated now, unchecked.
    #[cfg(test)]
    pub(crate) fn new(
        claim_id: impl Into<String>,
        policy_id: impl Into<String>,
        claim_amount: f64,
    ) -> Self {
        Self {
            claim_id: claim_id.into(),
            policy_id: policy_id.into(),
            claim_amount,
            estimated_value: None,
            market_value: None,
            claim_type: None,
            item_category: None,
            item_age_years: None,
            claimant_id: None,
            policy_start_date: None,
            incident_date: None,
            report_date: None,
            coverage_limit: None,
            deductible: None,
            provider_id: None,
            contacts: ContactHashes::default(),
            description: None,
            timestamp: None,
            at: Utc::now(),
        }
    }

    /// Reads a claim from a request body; `now` is the event time when the body has none;
    /// contact identifiers are hashed with `hasher` and their clear values dropped.
    pub fn parse(
        body: &Value,
        now: DateTime<Utc>,
        hasher: &IdentifierHasher,
    ) -> Result<Self, ValidationErrors> {
        let mut fields = FieldReader::new(body)?;
        let claim_id = fields.required_id("claim_id");
        let policy_id = fields.required_id("policy_id");
        let claim_amount = fields.required_number("claim_amount", NumberBounds::AMOUNT);
        let estimated_value = fields.optional_number("estimated_value", NumberBounds::AMOUNT);
        let market_value = fields.optional_number("market_value", NumberBounds::AMOUNT);
        let claim_type = fields
            .optional_choice("claim_type", &ClaimType::NAMES)
            .and_then(ClaimType::from_name);
        let item_category = fields
            .optional_id("item_category")
            .map(|category| category.to_lowercase());
        let item_age_years = fields.optional_number("item_age_years", ITEM_AGE_YEARS);
        let claimant_id = fields.optional_id("claimant_id");
        let policy_start_date = fields.optional_date("policy_start_date");
        let incident_date = fields.optional_date("incident_date");
        let report_date = fields.optional_date("report_date");
        let coverage_limit = fields.optional_number("coverage_limit", NumberBounds::AMOUNT);
        let deductible = fields.optional_number("deductible", NumberBounds::NON_NEGATIVE_AMOUNT);
        let provider_id = fields.optional_id("provider_id");
        let description = fields.optional_text("description");
        let timestamp = fields.optional_timestamp("timestamp", now);
        let contacts = read_contacts(&mut fields, body, hasher);
        let at = timestamp.unwrap_or(now);
        check_dates(&mut fields, incident_date, report_date, at);
        if let (Some(deductible), Some(limit)) = (deductible, coverage_limit)
            && deductible > limit
        {
            fields.reject(
                "deductible",
                "Ensure this value is not above coverage_limit.",
            );
        }
        fields.finish(|| Self {
            claim_id: claim_id.unwrap_or_default(),
            policy_id: policy_id.unwrap_or_default(),
            claim_amount: claim_amount.unwrap_or_default(),
            estimated_value,
            market_value,
            claim_type,
            item_category,
            item_age_years,
            claimant_id,
            policy_start_date,
            incident_date,
            report_date,
            coverage_limit,
            deductible,
            provider_id,
            contacts,
            description,
            timestamp,
            at,
        })
    }

    /// Reads back a claim as the service stored it, its contact identifiers already hashed
    /// (under `claimant_phone_hash` and the like): what a backtest replays. `now` is the event
    /// time when the body has none.
    pub fn from_stored(body: &Value, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        // A stored claim holds no identifier in clear, so nothing is hashed with this key.
        let mut claim = Self::parse(body, now, &IdentifierHasher::new(&[]))?;
        for kind in IdentifierKind::ALL {
            let stored = body
                .get(format!("{}_hash", kind.field()))
                .and_then(Value::as_str);
            if let Some(hash) = stored {
                claim.contacts.set(kind, hash.to_owned());
            }
        }
        Ok(claim)
    }

    /// Who is claiming: the claimant id, or the policy when the claim names no claimant.
    pub fn claimant(&self) -> String {
        match &self.claimant_id {
            Some(claimant) => claimant.clone(),
            None => format!("policy:{}", self.policy_id),
        }
    }

    /// The day the loss was reported: `report_date`, or the claim's own date.
    pub fn reported_on(&self) -> NaiveDate {
        self.report_date.unwrap_or_else(|| self.at.date_naive())
    }
}

/// Hashes each contact identifier given; a malformed one is an error that never quotes it.
/// The longest contact identifier (an address) accepted before normalising.
const MAX_CONTACT_CHARS: usize = 300;

fn read_contacts(
    fields: &mut FieldReader<'_>,
    body: &Value,
    hasher: &IdentifierHasher,
) -> ContactHashes {
    let mut contacts = ContactHashes::default();
    for kind in IdentifierKind::ALL {
        let field = kind.field();
        fields.declare_optional_text(field, MAX_CONTACT_CHARS, kind.pattern());
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(raw)) if raw.chars().count() <= MAX_CONTACT_CHARS => {
                match kind.normalise(raw) {
                    Ok(normalised) => contacts.set(kind, hasher.hash(kind, &normalised)),
                    Err(message) => fields.reject(field, message),
                }
            }
            Some(Value::String(_)) => {
                fields.reject(
                    field,
                    format!("Ensure this field has no more than {MAX_CONTACT_CHARS} characters."),
                );
            }
            Some(_) => fields.reject(field, "Not a valid string."),
        }
    }
    contacts
}

/// A loss is reported after it happens, and neither lies after the claim itself.
fn check_dates(
    fields: &mut FieldReader<'_>,
    incident: Option<NaiveDate>,
    report: Option<NaiveDate>,
    at: DateTime<Utc>,
) {
    let latest = at.date_naive() + Duration::days(DATE_SKEW_DAYS);
    for (field, date) in [("incident_date", incident), ("report_date", report)] {
        if date.is_some_and(|date| date > latest) {
            fields.reject(field, "Ensure this date is not after the claim's date.");
        }
    }
    if let (Some(incident), Some(report)) = (incident, report)
        && report < incident
    {
        fields.reject(
            "report_date",
            "Ensure this date is not before incident_date.",
        );
    }
}

impl redflag_core::Event for Claim {
    fn reference(&self) -> Option<&str> {
        Some(&self.claim_id)
    }

    fn entity(&self) -> &str {
        &self.policy_id
    }

    fn event_time(&self) -> DateTime<Utc> {
        self.at
    }
}
