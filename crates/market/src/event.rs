use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;

const MAX_SYMBOL_LENGTH: usize = 20;

/// What happened in the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A new order resting in the book.
    Order,
    /// An order withdrawn.
    Cancel,
    /// An order's price or size changed.
    Modify,
    /// An execution.
    Trade,
}

impl EventType {
    pub const NAMES: [&'static str; 4] = ["order", "cancel", "modify", "trade"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Cancel => "cancel",
            Self::Modify => "modify",
            Self::Trade => "trade",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Order, Self::Cancel, Self::Modify, Self::Trade]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// The side of an order or of the trader in a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub const NAMES: [&'static str; 2] = ["buy", "sell"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Buy, Self::Sell]
            .into_iter()
            .find(|side| side.as_str().eq_ignore_ascii_case(name.trim()))
    }

    pub fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// The past tense evidence uses: "bought", "sold".
    pub fn verb(self) -> &'static str {
        match self {
            Self::Buy => "bought",
            Self::Sell => "sold",
        }
    }
}

/// One market event, as POST /api/market/detect/ receives it: by default a trade (the seed's
/// four fields), or an order, cancel or modify. Made only by [`MarketEvent::parse`], which
/// validates; the fields are public to read.
///
/// Its serde form is the idempotency key of a resent business id: the service stores it with the
/// decision and answers a resend with the stored decision only when the forms are equal, 409
/// otherwise. A field added, renamed or serialised differently in a later version therefore makes
/// a resend of an event stored before it a conflict; such a change migrates the stored
/// `request_json` (or compares only the fields both versions know).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MarketEvent {
    pub symbol: String,
    pub price: f64,
    pub volume: f64,
    pub trader_id: String,
    pub event_type: EventType,
    /// The trader's side: what they bought or sold, or the side of their order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// Optional business id of a trade; when given, a resend is answered idempotently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The other party of a trade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
    /// The id that makes a resend idempotent: the trade id, or an order's id with its event
    /// type (a modify has none: one order may be modified many times).
    #[serde(skip)]
    pub reference: Option<String>,
}

impl MarketEvent {
    /// The tests' shorthand: a trade with only the seed's figures, dated now, unchecked.
    #[cfg(test)]
    pub(crate) fn trade(symbol: &str, price: f64, volume: f64, trader_id: &str) -> Self {
        Self {
            symbol: symbol.to_ascii_uppercase(),
            price,
            volume,
            trader_id: trader_id.to_owned(),
            event_type: EventType::Trade,
            side: None,
            trade_id: None,
            order_id: None,
            counterparty_id: None,
            account_id: None,
            venue: None,
            timestamp: None,
            at: Utc::now(),
            reference: None,
        }
    }

    /// Reads an event from a request body; `now` is the event time when the body has none.
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
        let event_type = fields
            .optional_choice("event_type", &EventType::NAMES)
            .and_then(EventType::from_name);
        let side = fields
            .optional_choice("side", &Side::NAMES)
            .and_then(Side::from_name);
        let trade_id = fields.optional_id("trade_id");
        let order_id = fields.optional_id("order_id");
        let counterparty_id = fields.optional_id("counterparty_id");
        let account_id = fields.optional_id("account_id");
        let venue = fields.optional_id("venue");
        let timestamp = fields.optional_timestamp("timestamp", now);
        let kind = if fields.has_error("event_type") {
            None
        } else {
            Some(event_type.unwrap_or(EventType::Trade))
        };
        if let Some(kind) = kind.filter(|kind| *kind != EventType::Trade) {
            if order_id.is_none() && !fields.has_error("order_id") {
                fields.reject(
                    "order_id",
                    format!(
                        "This field is required for a{} {}.",
                        article(kind),
                        kind.as_str()
                    ),
                );
            }
            if side.is_none() && kind != EventType::Cancel && !fields.has_error("side") {
                fields.reject(
                    "side",
                    format!(
                        "This field is required for a{} {}.",
                        article(kind),
                        kind.as_str()
                    ),
                );
            }
        }
        fields.finish(|| {
            let event_type = kind.unwrap_or(EventType::Trade);
            let reference = match event_type {
                EventType::Trade => trade_id.clone(),
                EventType::Order | EventType::Cancel => order_id
                    .as_ref()
                    .map(|order| format!("{}:{order}", event_type.as_str())),
                EventType::Modify => None,
            };
            Self {
                symbol: symbol.unwrap_or_default(),
                price: price.unwrap_or_default(),
                volume: volume.unwrap_or_default(),
                trader_id: trader_id.unwrap_or_default(),
                event_type,
                side,
                trade_id,
                order_id,
                counterparty_id,
                account_id,
                venue,
                at: timestamp.unwrap_or(now),
                timestamp,
                reference,
            }
        })
    }

    pub fn is_trade(&self) -> bool {
        self.event_type == EventType::Trade
    }
}

/// "an order", "a cancel".
fn article(kind: EventType) -> &'static str {
    match kind {
        EventType::Order => "n",
        _ => "",
    }
}

impl redflag_core::Event for MarketEvent {
    fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    fn entity(&self) -> &str {
        &self.symbol
    }

    fn event_time(&self) -> DateTime<Utc> {
        self.at
    }
}
