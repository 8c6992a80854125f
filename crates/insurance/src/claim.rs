use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;

/// A validated insurance claim, as POST /api/insurance/detect/ receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl Claim {
    /// Reads a claim from a request body; `now` is the event time when the body has none.
    pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut fields = FieldReader::new(body)?;
        let claim_id = fields.required_id("claim_id");
        let policy_id = fields.required_id("policy_id");
        let claim_amount = fields.required_number("claim_amount", NumberBounds::AMOUNT);
        let estimated_value = fields.optional_number("estimated_value", NumberBounds::AMOUNT);
        let market_value = fields.optional_number("market_value", NumberBounds::AMOUNT);
        let timestamp = fields.optional_timestamp("timestamp", now);
        fields.finish(|| Self {
            claim_id: claim_id.unwrap_or_default(),
            policy_id: policy_id.unwrap_or_default(),
            claim_amount: claim_amount.unwrap_or_default(),
            estimated_value,
            market_value,
            at: timestamp.unwrap_or(now),
            timestamp,
        })
    }
}
