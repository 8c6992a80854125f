use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;

/// A validated money transfer, as POST /api/aml/detect/ receives it.
///
/// Serialises to the fields the client sent (not the resolved event time), which is what
/// idempotency compares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transaction {
    pub transaction_id: String,
    pub user_id: String,
    pub amount: f64,
    pub sender_id: String,
    pub receiver_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl Transaction {
    /// Reads a transfer from a request body; `now` is the event time when the body has none.
    pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut fields = FieldReader::new(body)?;
        let transaction_id = fields.required_id("transaction_id");
        let user_id = fields.required_id("user_id");
        let amount = fields.required_number("amount", NumberBounds::AMOUNT);
        let sender_id = fields.required_id("sender_id");
        let receiver_id = fields.required_id("receiver_id");
        let timestamp = fields.optional_timestamp("timestamp");
        fields.finish(|| Self {
            transaction_id: transaction_id.unwrap_or_default(),
            user_id: user_id.unwrap_or_default(),
            amount: amount.unwrap_or_default(),
            sender_id: sender_id.unwrap_or_default(),
            receiver_id: receiver_id.unwrap_or_default(),
            at: timestamp.unwrap_or(now),
            timestamp,
        })
    }
}
