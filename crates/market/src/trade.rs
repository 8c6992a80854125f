use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;

/// Longest accepted ticker symbol.
const MAX_SYMBOL_LENGTH: usize = 20;

/// A validated trade, as POST /api/market/detect/ receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trade {
    /// Upper-cased ticker.
    pub symbol: String,
    pub price: f64,
    pub volume: f64,
    pub trader_id: String,
    /// Optional business id; when given, a resend is answered idempotently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl Trade {
    /// Reads a trade from a request body; `now` is the event time when the body has none.
    pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut fields = FieldReader::new(body)?;
        let symbol = fields.required_id("symbol").map(|s| s.to_ascii_uppercase());
        if symbol
            .as_ref()
            .is_some_and(|symbol| symbol.chars().count() > MAX_SYMBOL_LENGTH)
        {
            fields.reject(
                "symbol",
                format!("Ensure this field has no more than {MAX_SYMBOL_LENGTH} characters."),
            );
        }
        let price = fields.required_number("price", NumberBounds::AMOUNT);
        let volume = fields.required_number("volume", NumberBounds::AMOUNT);
        let trader_id = fields.required_id("trader_id");
        let trade_id = fields.optional_id("trade_id");
        let timestamp = fields.optional_timestamp("timestamp", now);
        fields.finish(|| Self {
            symbol: symbol.unwrap_or_default(),
            price: price.unwrap_or_default(),
            volume: volume.unwrap_or_default(),
            trader_id: trader_id.unwrap_or_default(),
            trade_id,
            at: timestamp.unwrap_or(now),
            timestamp,
        })
    }
}
