use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors, messages};
use redflag_screening::BirthDate;
use serde::Serialize;
use serde_json::Value;

use crate::sanctions::{NamedParty, PartyName};

/// A validated money transfer, as POST /api/aml/detect/ receives it.
///
/// Made only by [`Transaction::parse`], which validates (an embedder passes its figures as the
/// JSON body the API takes); the fields are public to read.
///
/// Serialises to the fields the client sent (not the resolved event time).
///
/// Its serde form is the idempotency key of a resent business id: the service stores it with the
/// decision and answers a resend with the stored decision only when the forms are equal, 409
/// otherwise. A field added, renamed or serialised differently in a later version therefore makes
/// a resend of an event stored before it a conflict; such a change migrates the stored
/// `request_json` (or compares only the fields both versions know).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Transaction {
    pub transaction_id: String,
    pub user_id: String,
    pub amount: f64,
    pub sender_id: String,
    pub receiver_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// ISO 4217, upper case; USD when not given.
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<TransactionType>,
    /// Where the transfer was made (branch, atm, online, mobile, ...), as the client names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The sender's customer segment (retail, business, payroll, ... as the client's KYC names
    /// it): a sender too new for a profile is judged against its segment's peer group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_segment: Option<String>,
    /// The receiver's customer segment, when it is the institution's customer: a receiver too new
    /// to have sent anything is judged at its segment's scale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_segment: Option<String>,
    /// The keyed hashes of the parties' names, when given (the names themselves are never
    /// stored; see [`crate::NameScreening`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_name_hash: Option<String>,
    /// `YYYY` or `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_date_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_date_of_birth: Option<String>,
    /// The parties' names as sent, for screening; never serialised.
    #[serde(skip)]
    pub sender_name: Option<PartyName>,
    #[serde(skip)]
    pub receiver_name: Option<PartyName>,
    /// The named parties, hashed by the detector that screens them ([`crate::AmlDetector::name_parties`]).
    #[serde(skip)]
    pub parties: Vec<NamedParty>,
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
        let timestamp = fields.optional_timestamp("timestamp", now);
        let currency = fields.optional_code("currency", 3, messages::CURRENCY);
        let transaction_type = fields
            .optional_choice("transaction_type", TransactionType::NAMES)
            .and_then(TransactionType::from_name);
        let channel = fields.optional_id("channel");
        let sender_country = fields.optional_code("sender_country", 2, messages::COUNTRY);
        let receiver_country = fields.optional_code("receiver_country", 2, messages::COUNTRY);
        let description = fields.optional_text("description");
        let sender_segment = fields.optional_id("sender_segment");
        let receiver_segment = fields.optional_id("receiver_segment");
        let sender_name = fields.optional_name("sender_name");
        let receiver_name = fields.optional_name("receiver_name");
        let sender_date_of_birth = fields.optional_birth_date("sender_date_of_birth");
        let receiver_date_of_birth = fields.optional_birth_date("receiver_date_of_birth");
        let party = |name: Option<String>, date: &Option<String>, country: &Option<String>| {
            name.map(|name| PartyName {
                name,
                date_of_birth: date.as_deref().and_then(BirthDate::parse_iso),
                country: country.clone(),
            })
        };
        let sender_name = party(sender_name, &sender_date_of_birth, &sender_country);
        let receiver_name = party(receiver_name, &receiver_date_of_birth, &receiver_country);
        fields.finish(|| Self {
            transaction_id: transaction_id.unwrap_or_default(),
            user_id: user_id.unwrap_or_default(),
            amount: amount.unwrap_or_default(),
            sender_id: sender_id.unwrap_or_default(),
            receiver_id: receiver_id.unwrap_or_default(),
            at: timestamp.unwrap_or(now),
            timestamp,
            currency: currency.unwrap_or_else(|| "USD".to_owned()),
            transaction_type,
            channel,
            sender_country,
            receiver_country,
            description,
            sender_segment,
            receiver_segment,
            sender_name_hash: None,
            receiver_name_hash: None,
            sender_date_of_birth,
            receiver_date_of_birth,
            sender_name,
            receiver_name,
            parties: Vec::new(),
        })
    }
}

/// What kind of transfer it is; cash types weigh more in currency-transaction reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    CashDeposit,
    CashWithdrawal,
    Wire,
    Ach,
    Card,
    Check,
    Crypto,
    Internal,
}

impl TransactionType {
    /// The accepted spellings, as requests send them.
    pub const NAMES: &'static [&'static str] = &[
        "cash_deposit",
        "cash_withdrawal",
        "wire",
        "ach",
        "card",
        "check",
        "crypto",
        "internal",
    ];

    /// The spelling requests send ([`TransactionType::NAMES`] lists the variants in order).
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "cash_deposit" => Self::CashDeposit,
            "cash_withdrawal" => Self::CashWithdrawal,
            "wire" => Self::Wire,
            "ach" => Self::Ach,
            "card" => Self::Card,
            "check" => Self::Check,
            "crypto" => Self::Crypto,
            "internal" => Self::Internal,
            _ => return None,
        })
    }

    /// Cash in or out: what a currency transaction report is about.
    pub fn is_cash(self) -> bool {
        matches!(self, Self::CashDeposit | Self::CashWithdrawal)
    }
}

impl redflag_core::Event for Transaction {
    fn reference(&self) -> Option<&str> {
        Some(&self.transaction_id)
    }

    fn entity(&self) -> &str {
        &self.sender_id
    }

    fn event_time(&self) -> DateTime<Utc> {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn optional_fields_are_read_normalised_and_validated() {
        let body = json!({"transaction_id": "T", "user_id": "U", "amount": 10, "sender_id": "S",
                          "receiver_id": "R", "currency": "eur", "transaction_type": "CASH_DEPOSIT",
                          "channel": "atm", "sender_country": "us", "receiver_country": "IR",
                          "description": "rent", "unknown": 1});
        let transaction = Transaction::parse(&body, Utc::now()).expect("valid");
        assert_eq!(transaction.currency, "EUR");
        assert_eq!(
            transaction.transaction_type,
            Some(TransactionType::CashDeposit)
        );
        assert_eq!(transaction.sender_country.as_deref(), Some("US"));
        assert_eq!(transaction.receiver_country.as_deref(), Some("IR"));
        let defaults = json!({"transaction_id": "T", "user_id": "U", "amount": 10, "sender_id": "S", "receiver_id": "R"});
        assert_eq!(
            Transaction::parse(&defaults, Utc::now())
                .expect("valid")
                .currency,
            "USD"
        );

        let bad = json!({"transaction_id": "T", "user_id": "U", "amount": 10, "sender_id": "S", "receiver_id": "R",
                         "currency": "dollars", "transaction_type": "barter", "sender_country": "USA"});
        let errors = Transaction::parse(&bad, Utc::now()).expect_err("invalid");
        assert_eq!(errors.field("currency"), [messages::CURRENCY]);
        assert_eq!(
            errors.field("transaction_type"),
            ["\"barter\" is not a valid choice."]
        );
        assert_eq!(errors.field("sender_country"), [messages::COUNTRY]);
    }
}
