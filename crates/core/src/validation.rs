//! Parsing request bodies into typed events, collecting every field error at once.
//!
//! The messages are Django REST framework's, so a dashboard written against the Django backend
//! shows them unchanged.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::request_schema;

/// How a request body's choice field is read, which its schema's `enum` alone cannot say.
pub(crate) const LENIENT_CHOICE: &str = "One of the listed names, in any letter case and with surrounding \
                              spaces: it is read as the listed spelling.";

/// The messages shared by every module, worded as Django REST framework words them.
pub mod messages {
    pub const REQUIRED: &str = "This field is required.";
    pub const NULL: &str = "This field may not be null.";
    pub const BLANK: &str = "This field may not be blank.";
    pub const NOT_A_STRING: &str = "Not a valid string.";
    pub const NOT_A_NUMBER: &str = "A valid number is required.";
    pub const NOT_AN_INTEGER: &str = "A valid integer is required.";
    pub const CONTROL_CHARACTERS: &str = "Control characters are not allowed.";
    pub const DATE_FORMAT: &str =
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
    pub const DATETIME_FORMAT: &str = "Datetime has wrong format. Use one of these formats instead: \
         YYYY-MM-DDThh:mm:ss[.uuuuuu]Z or YYYY-MM-DDThh:mm:ss[.uuuuuu]+HH:MM.";
    pub const NOT_AN_OBJECT: &str = "Invalid data. Expected a dictionary.";
    pub const FUTURE_TIMESTAMP: &str =
        "Ensure this timestamp is no more than 1 hour in the future.";
    pub const NAME: &str = "Enter a name with at least one letter or digit.";
    pub const BIRTH_DATE: &str = "Enter a date of birth as YYYY or YYYY-MM-DD.";
    pub const CURRENCY: &str = "Enter a valid ISO 4217 currency code (three letters, e.g. USD).";
    pub const COUNTRY: &str =
        "Enter a valid ISO 3166-1 alpha-2 country code (two letters, e.g. US).";
}

/// Field name -> messages, serialised as DRF does: `{"amount": ["A valid number is required."]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(BTreeMap<String, Vec<String>>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// An error that concerns the body as a whole rather than one field.
    /// One error on one field.
    pub fn on_field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn non_field(message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add("non_field_errors", message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages recorded for one field.
    pub fn field(&self, field: &str) -> &[String] {
        self.0.get(field).map_or(&[], Vec::as_slice)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, messages)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{field}: {}", messages.join(" "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Reads typed fields out of a JSON object, remembering every problem instead of stopping at the
/// first, then yields either the event or all the errors.
pub struct FieldReader<'a> {
    body: &'a Map<String, Value>,
    errors: ValidationErrors,
}

/// How far ahead of the receiving clock an event time may be: the clocks of clients and servers
/// drift, but not by more.
pub const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::hours(1);

/// The longest identifier accepted, as in the Django models' `max_length`.
pub const MAX_ID_LENGTH: usize = 100;

/// The largest id a list of ids may hold: far above any row count, and exact in a JSON number.
const MAX_LISTED_ID: i64 = 9_000_000_000_000_000 / 1000;

/// The longest free-text field accepted.
pub const MAX_TEXT_LENGTH: usize = 1000;

/// Longest name of a person, a company, a vessel or an aircraft: the longest listed names (UN,
/// OFAC) are well under it.
pub const MAX_NAME_LENGTH: usize = 200;

impl<'a> FieldReader<'a> {
    /// Starts reading a request body, which must be a JSON object.
    pub fn new(body: &'a Value) -> Result<Self, ValidationErrors> {
        match body {
            Value::Object(body) => Ok(Self {
                body,
                errors: ValidationErrors::new(),
            }),
            _ => Err(ValidationErrors::non_field(messages::NOT_AN_OBJECT)),
        }
    }

    /// Declares an optional text field of at most `max_chars` characters, matching `pattern`
    /// (a regular expression), that the caller reads from the body itself (to normalise it its
    /// own way), so that the request schema lists it.
    pub fn declare_optional_text(&self, field: &str, max_chars: usize, pattern: &str) {
        request_schema::field(
            field,
            false,
            || json!({"type": "string", "maxLength": max_chars, "pattern": pattern}),
        );
    }

    /// Records an error found by the caller's own cross-field checks.
    pub fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// Whether a field already has an error, so cross-field checks do not pile on.
    pub fn has_error(&self, field: &str) -> bool {
        !self.errors.field(field).is_empty()
    }

    /// Gives the built value, or every error found.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(self.errors)
        }
    }

    /// An optional nested object, read with its own reader by `read`. Its errors are reported
    /// under `field`, each naming the nested key (`"revolving: A valid integer is required."`),
    /// so that error bodies keep DRF's flat `{"field": ["message"]}` shape.
    pub fn optional_object<T>(
        &mut self,
        field: &str,
        read: impl FnOnce(&mut FieldReader<'a>) -> T,
    ) -> Option<T> {
        if request_schema::describing() {
            static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
            let mut nested = FieldReader {
                body: EMPTY.get_or_init(Map::new),
                errors: ValidationErrors::new(),
            };
            request_schema::nested(field, || {
                read(&mut nested);
            });
            return None;
        }
        let value = self.present(field, false)?;
        let Value::Object(body) = value else {
            self.errors.add(
                field,
                format!(
                    "Expected a dictionary of items but got type \"{}\".",
                    json_type(value)
                ),
            );
            return None;
        };
        let mut nested = FieldReader {
            body,
            errors: ValidationErrors::new(),
        };
        let built = read(&mut nested);
        if nested.errors.is_empty() {
            return Some(built);
        }
        for (key, messages) in nested.errors.0 {
            for message in messages {
                self.errors.add(field, format!("{key}: {message}"));
            }
        }
        None
    }

    /// Refuses every key outside `allowed`: for nested objects whose keys are data (a misspelt
    /// key there would be silently lost), unlike top-level fields, which DRF ignores.
    pub fn reject_unknown(&mut self, allowed: &[&str]) {
        let unknown: Vec<&String> = self
            .body
            .keys()
            .filter(|key| !allowed.contains(&key.as_str()))
            .collect();
        for key in unknown {
            self.errors.add(
                key,
                format!("Not a valid key; expected one of {}.", allowed.join(", ")),
            );
        }
    }

    fn present(&mut self, field: &str, required: bool) -> Option<&'a Value> {
        match self.body.get(field) {
            None => {
                if required {
                    self.errors.add(field, messages::REQUIRED);
                }
                None
            }
            Some(Value::Null) => {
                if required {
                    self.errors.add(field, messages::NULL);
                }
                None
            }
            Some(value) => Some(value),
        }
    }

    /// A required identifier: a non-blank string (or an integer, which DRF accepts as its text) of
    /// at most [`MAX_ID_LENGTH`] characters without control characters as sent, then trimmed.
    pub fn required_id(&mut self, field: &str) -> Option<String> {
        request_schema::field(field, true, || request_schema::text(MAX_ID_LENGTH));
        let value = self.present(field, true)?;
        self.text(field, value, MAX_ID_LENGTH)
    }

    /// An optional identifier; absent or null gives `None`.
    pub fn optional_id(&mut self, field: &str) -> Option<String> {
        request_schema::field(field, false, || request_schema::text(MAX_ID_LENGTH));
        let value = self.present(field, false)?;
        self.text(field, value, MAX_ID_LENGTH)
    }

    /// Optional free text of at most [`MAX_TEXT_LENGTH`] characters.
    pub fn optional_text(&mut self, field: &str) -> Option<String> {
        request_schema::field(field, false, || request_schema::text(MAX_TEXT_LENGTH));
        let value = self.present(field, false)?;
        self.text(field, value, MAX_TEXT_LENGTH)
    }

    fn text(&mut self, field: &str, value: &Value, max_chars: usize) -> Option<String> {
        // Length and control characters are judged on the text as sent, as the document's
        // `maxLength` and `pattern` say: a tab or a newline at either end is refused, not trimmed
        // away. Surrounding spaces are then trimmed, as DRF does.
        let sent = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) if number.is_i64() || number.is_u64() => number.to_string(),
            _ => {
                self.errors.add(field, messages::NOT_A_STRING);
                return None;
            }
        };
        if sent.chars().count() > max_chars {
            self.errors.add(
                field,
                format!("Ensure this field has no more than {max_chars} characters."),
            );
            return None;
        }
        if sent.chars().any(char::is_control) {
            self.errors.add(field, messages::CONTROL_CHARACTERS);
            return None;
        }
        let text = sent.trim();
        if text.is_empty() {
            self.errors.add(field, messages::BLANK);
            return None;
        }
        Some(text.to_owned())
    }

    /// A required secret (a password or a token), taken exactly as sent: not trimmed and never
    /// echoed in errors; blank or longer than [`MAX_TEXT_LENGTH`] characters is refused.
    pub fn required_secret(&mut self, field: &str) -> Option<String> {
        request_schema::field(
            field,
            true,
            || json!({"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH}),
        );
        let value = self.present(field, true)?;
        match value {
            Value::String(secret) if secret.is_empty() => self.errors.add(field, messages::BLANK),
            Value::String(secret) if secret.chars().count() > MAX_TEXT_LENGTH => self.errors.add(
                field,
                format!("Ensure this field has no more than {MAX_TEXT_LENGTH} characters."),
            ),
            Value::String(secret) => return Some(secret.clone()),
            _ => self.errors.add(field, messages::NOT_A_STRING),
        }
        None
    }

    /// A required finite number within `range` (inclusive bounds; `positive` excludes zero).
    pub fn required_number(&mut self, field: &str, bounds: NumberBounds) -> Option<f64> {
        request_schema::field(field, true, || request_schema::number("number", bounds));
        let value = self.present(field, true)?;
        self.number(field, value, bounds)
    }

    /// An optional finite number within `bounds`.
    pub fn optional_number(&mut self, field: &str, bounds: NumberBounds) -> Option<f64> {
        request_schema::field(field, false, || request_schema::number("number", bounds));
        let value = self.present(field, false)?;
        self.number(field, value, bounds)
    }

    fn number(&mut self, field: &str, value: &Value, bounds: NumberBounds) -> Option<f64> {
        let number = match value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        let Some(number) = number.filter(|number| number.is_finite()) else {
            self.errors.add(field, messages::NOT_A_NUMBER);
            return None;
        };
        if let Some(message) = bounds.violation(number) {
            self.errors.add(field, message);
            return None;
        }
        Some(number)
    }

    /// A required whole number within `bounds`.
    pub fn required_integer(&mut self, field: &str, bounds: NumberBounds) -> Option<i64> {
        request_schema::field(field, true, || request_schema::number("integer", bounds));
        let value = self.present(field, true)?;
        self.integer(field, value, bounds)
    }

    /// An optional whole number within `bounds`.
    pub fn optional_integer(&mut self, field: &str, bounds: NumberBounds) -> Option<i64> {
        request_schema::field(field, false, || request_schema::number("integer", bounds));
        let value = self.present(field, false)?;
        self.integer(field, value, bounds)
    }

    fn integer(&mut self, field: &str, value: &Value, bounds: NumberBounds) -> Option<i64> {
        let number = match value {
            Value::Number(number) => number.as_i64().or_else(|| {
                number
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            }),
            Value::String(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(number) = number else {
            self.errors.add(field, messages::NOT_AN_INTEGER);
            return None;
        };
        if let Some(message) = bounds.violation(number as f64) {
            self.errors.add(field, message);
            return None;
        }
        Some(number)
    }

    /// A required, non-empty list of at most `max_items` distinct positive integers (ids), in the
    /// order given.
    pub fn required_id_list(&mut self, field: &str, max_items: usize) -> Option<Vec<i64>> {
        request_schema::field(field, true, || {
            json!({"type": "array", "minItems": 1, "maxItems": max_items, "uniqueItems": true,
                   "items": {"type": "integer", "minimum": 1, "maximum": MAX_LISTED_ID}})
        });
        let value = self.present(field, true)?;
        let Value::Array(items) = value else {
            self.errors.add(
                field,
                format!(
                    "Expected a list of items but got type \"{}\".",
                    json_type(value)
                ),
            );
            return None;
        };
        if items.is_empty() {
            self.errors.add(field, "This list may not be empty.");
            return None;
        }
        if items.len() > max_items {
            self.errors.add(
                field,
                format!("Ensure this field has no more than {max_items} elements."),
            );
            return None;
        }
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            match item.as_i64().filter(|id| (1..=MAX_LISTED_ID).contains(id)) {
                Some(id) if ids.contains(&id) => {
                    self.errors.add(field, format!("{id} is listed twice."));
                    return None;
                }
                Some(id) => ids.push(id),
                None => {
                    self.errors
                        .add(field, "Each item must be a positive integer id.");
                    return None;
                }
            }
        }
        Some(ids)
    }

    /// An optional RFC 3339 event time, converted to UTC, at most [`MAX_CLOCK_SKEW`] after `now`.
    ///
    /// Windows are trimmed by event time, so an event dated far ahead would push every real event
    /// of its entity out of the window; the bound refuses that while allowing for clock skew.
    pub fn optional_timestamp(&mut self, field: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.timestamp(field, false, now)
    }

    /// A required RFC 3339 time, bounded as [`FieldReader::optional_timestamp`].
    pub fn required_timestamp(&mut self, field: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.timestamp(field, true, now)
    }

    fn timestamp(
        &mut self,
        field: &str,
        required: bool,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        request_schema::field(
            field,
            required,
            || json!({"type": "string", "format": "date-time"}),
        );
        let value = self.present(field, required)?;
        let parsed = value
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok());
        match parsed {
            Some(at) if at.with_timezone(&Utc) > now + MAX_CLOCK_SKEW => {
                self.errors.add(field, messages::FUTURE_TIMESTAMP);
                None
            }
            Some(at) => Some(at.with_timezone(&Utc)),
            None => {
                self.errors.add(field, messages::DATETIME_FORMAT);
                None
            }
        }
    }

    /// A party's name: text of at most [`MAX_NAME_LENGTH`] characters holding a letter or a
    /// digit, trimmed.
    pub fn optional_name(&mut self, field: &str) -> Option<String> {
        self.name(field, false)
    }

    pub fn required_name(&mut self, field: &str) -> Option<String> {
        self.name(field, true)
    }

    fn name(&mut self, field: &str, required: bool) -> Option<String> {
        request_schema::field(field, required, || request_schema::name(MAX_NAME_LENGTH));
        let value = self.present(field, required)?;
        let name = self.text(field, value, MAX_NAME_LENGTH)?;
        if name.chars().any(char::is_alphanumeric) {
            Some(name)
        } else {
            self.errors.add(field, messages::NAME);
            None
        }
    }

    /// A date of birth as precise as it is known: `YYYY` or `YYYY-MM-DD` (a real date, year 1800
    /// or later), as sent.
    pub fn optional_birth_date(&mut self, field: &str) -> Option<String> {
        request_schema::field(
            field,
            false,
            || json!({"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$"}),
        );
        let value = self.present(field, false)?;
        let valid = value.as_str().map(str::trim).filter(|text| {
            let year_only = text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit());
            let year = text.get(..4).and_then(|year| year.parse::<i32>().ok());
            let day = text.len() == 10 && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
            (year_only || day) && year.is_some_and(|year| year >= 1800)
        });
        if valid.is_none() {
            self.errors.add(field, messages::BIRTH_DATE);
        }
        valid.map(str::to_owned)
    }

    /// An optional calendar date, `YYYY-MM-DD` (an RFC 3339 date-time is accepted too and
    /// gives its UTC date).
    pub fn optional_date(&mut self, field: &str) -> Option<NaiveDate> {
        request_schema::field(field, false, || json!({"type": "string", "format": "date"}));
        let value = self.present(field, false)?;
        let parsed = value.as_str().map(str::trim).and_then(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .or_else(|| {
                    DateTime::parse_from_rfc3339(text)
                        .ok()
                        .map(|at| at.with_timezone(&Utc).date_naive())
                })
        });
        if parsed.is_none() {
            self.errors.add(field, messages::DATE_FORMAT);
        }
        parsed
    }

    /// An optional code of exactly `length` ASCII letters (ISO 4217 currencies, ISO 3166 alpha-2
    /// countries), upper-cased; `message` explains the format when it is wrong.
    pub fn optional_code(&mut self, field: &str, length: usize, message: &str) -> Option<String> {
        request_schema::field(
            field,
            false,
            || json!({"type": "string", "pattern": format!("^\\s*[A-Za-z]{{{length}}}\\s*$")}),
        );
        let value = self.present(field, false)?;
        let code = value
            .as_str()
            .map(str::trim)
            .filter(|code| code.len() == length && code.chars().all(|c| c.is_ascii_alphabetic()));
        match code {
            Some(code) => Some(code.to_ascii_uppercase()),
            None => {
                self.errors.add(field, message);
                None
            }
        }
    }

    /// An optional code from a fixed list, exactly as the list spells it: a query filter takes
    /// what its documented `enum` lists and nothing else (`AML`, ` aml` are refused).
    pub fn optional_exact_choice(
        &mut self,
        field: &str,
        choices: &[&'static str],
    ) -> Option<&'static str> {
        let schema = json!({"type": "string", "enum": choices});
        self.choice((field, false), choices, schema, |choice, text| {
            choice == text
        })
    }

    /// A required code from a fixed list, exactly as the list spells it: an action's verb.
    pub fn required_exact_choice(
        &mut self,
        field: &str,
        choices: &[&'static str],
    ) -> Option<&'static str> {
        let schema = json!({"type": "string", "enum": choices});
        self.choice((field, true), choices, schema, |choice, text| {
            choice == text
        })
    }

    /// An optional code from a fixed list, compared case-insensitively and returned in the list's
    /// spelling; its schema says so, as JSON Schema's `enum` cannot.
    pub fn optional_choice(
        &mut self,
        field: &str,
        choices: &[&'static str],
    ) -> Option<&'static str> {
        let schema = json!({"type": "string", "enum": choices, "description": LENIENT_CHOICE});
        self.choice((field, false), choices, schema, |choice, text| {
            choice.eq_ignore_ascii_case(text.trim())
        })
    }

    fn choice(
        &mut self,
        (field, required): (&str, bool),
        choices: &[&'static str],
        schema: Value,
        matches: impl Fn(&str, &str) -> bool,
    ) -> Option<&'static str> {
        request_schema::field(field, required, || schema);
        let value = self.present(field, required)?;
        let Some(text) = value.as_str() else {
            self.errors.add(field, messages::NOT_A_STRING);
            return None;
        };
        let found = choices.iter().find(|choice| matches(choice, text)).copied();
        if found.is_none() {
            self.errors
                .add(field, format!("\"{text}\" is not a valid choice."));
        }
        found
    }
}

/// DRF's (Python's) name for a JSON value's type, as its error messages give it.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// The accepted range of a numeric field.
#[derive(Debug, Clone, Copy)]
pub struct NumberBounds {
    /// Smallest accepted value.
    pub min: f64,
    /// Whether `min` itself is rejected (amounts must be strictly positive).
    pub exclusive_min: bool,
    /// Largest accepted value.
    pub max: f64,
}

impl NumberBounds {
    /// Money amounts: strictly positive and at most one trillion, far above any real payment, so
    /// that overflowing sums cannot happen.
    pub const AMOUNT: Self = Self {
        min: 0.0,
        exclusive_min: true,
        max: 1e12,
    };
    /// Counts and durations: zero or more, at most one million.
    pub const COUNT: Self = Self {
        min: 0.0,
        exclusive_min: false,
        max: 1e6,
    };
    /// Money amounts where zero is meaningful (debts, balances).
    pub const NON_NEGATIVE_AMOUNT: Self = Self {
        min: 0.0,
        exclusive_min: false,
        max: 1e12,
    };
    /// Fractions such as a utilisation ratio.
    pub const FRACTION: Self = Self {
        min: 0.0,
        exclusive_min: false,
        max: 1.0,
    };

    fn violation(self, value: f64) -> Option<String> {
        if self.exclusive_min && value <= self.min {
            Some(format!("Ensure this value is greater than {}.", self.min))
        } else if value < self.min {
            Some(format!(
                "Ensure this value is greater than or equal to {}.",
                self.min
            ))
        } else if value > self.max {
            Some(format!(
                "Ensure this value is less than or equal to {}.",
                self.max
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn collects_every_field_error_in_drf_words() {
        let body =
            json!({"transaction_id": "", "amount": "lots", "count": -1, "long": "x".repeat(101)});
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        assert_eq!(reader.required_id("transaction_id"), None);
        assert_eq!(reader.required_number("amount", NumberBounds::AMOUNT), None);
        assert_eq!(reader.required_integer("count", NumberBounds::COUNT), None);
        assert_eq!(reader.required_id("long"), None);
        assert_eq!(reader.required_id("missing"), None);
        let errors = reader.finish(|| ()).expect_err("every field is wrong");
        let json = serde_json::to_value(&errors).expect("errors serialise");
        assert_eq!(
            json,
            json!({
                "amount": ["A valid number is required."],
                "count": ["Ensure this value is greater than or equal to 0."],
                "long": ["Ensure this field has no more than 100 characters."],
                "missing": ["This field is required."],
                "transaction_id": ["This field may not be blank."],
            })
        );
    }

    #[test]
    fn text_is_judged_as_sent_then_its_spaces_trimmed() {
        let padded = format!("{}x", " ".repeat(100));
        let body = json!({"spaced": "  S-1 ", "tab": "\tS-1", "newline": "S-1\n",
                          "padded": padded, "blank": "   "});
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        assert_eq!(reader.required_id("spaced").as_deref(), Some("S-1"));
        assert_eq!(reader.required_id("tab"), None);
        assert_eq!(reader.required_id("newline"), None);
        assert_eq!(reader.required_id("padded"), None);
        assert_eq!(reader.required_id("blank"), None);
        let errors = reader.finish(|| ()).expect_err("four fields are wrong");
        assert_eq!(
            serde_json::to_value(&errors).expect("errors serialise"),
            json!({
                "blank": ["This field may not be blank."],
                "newline": ["Control characters are not allowed."],
                "padded": ["Ensure this field has no more than 100 characters."],
                "tab": ["Control characters are not allowed."],
            })
        );
    }

    #[test]
    fn accepts_numbers_as_ids_and_numeric_strings_as_numbers() {
        let body = json!({"user_id": 17, "amount": "9800.5", "zero": 0});
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        assert_eq!(reader.required_id("user_id").as_deref(), Some("17"));
        assert_eq!(
            reader.required_number("amount", NumberBounds::AMOUNT),
            Some(9800.5)
        );
        assert_eq!(reader.required_number("zero", NumberBounds::AMOUNT), None);
        let errors = reader.finish(|| ()).expect_err("zero is not an amount");
        assert_eq!(
            errors.field("zero"),
            ["Ensure this value is greater than 0."]
        );
    }

    #[test]
    fn nested_object_errors_name_the_key_under_the_field() {
        let body = json!({"counts": {"a": 2, "b": -1, "typo": 1}, "flat": "x"});
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        let read = |nested: &mut FieldReader<'_>| {
            nested.reject_unknown(&["a", "b"]);
            (
                nested.optional_integer("a", NumberBounds::COUNT),
                nested.optional_integer("b", NumberBounds::COUNT),
            )
        };
        assert_eq!(reader.optional_object("counts", read), None);
        assert_eq!(reader.optional_object("flat", read), None);
        assert_eq!(reader.optional_object("absent", read), None);
        let errors = reader.finish(|| ()).expect_err("two fields are wrong");
        assert_eq!(
            serde_json::to_value(&errors).expect("errors serialise"),
            json!({
                "counts": ["b: Ensure this value is greater than or equal to 0.",
                           "typo: Not a valid key; expected one of a, b."],
                "flat": ["Expected a dictionary of items but got type \"str\"."],
            })
        );
        let body = json!({"counts": {"a": 2}});
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        assert_eq!(
            reader.optional_object("counts", read),
            Some((Some(2), None))
        );
    }

    #[test]
    fn dates_are_calendar_days_and_date_times_give_their_utc_day() {
        let body = json!({"day": "2026-02-29", "ok": "2026-03-01", "late": "2026-03-01T23:30:00-02:00",
                          "number": 20260301});
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        assert_eq!(reader.optional_date("day"), None, "2026 is not a leap year");
        assert_eq!(
            reader.optional_date("ok"),
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        assert_eq!(
            reader.optional_date("late"),
            NaiveDate::from_ymd_opt(2026, 3, 2)
        );
        assert_eq!(reader.optional_date("number"), None);
        assert_eq!(reader.optional_date("absent"), None);
        let errors = reader.finish(|| ()).expect_err("two are wrong");
        assert_eq!(errors.field("day"), [messages::DATE_FORMAT]);
        assert_eq!(errors.field("number"), [messages::DATE_FORMAT]);
    }

    #[test]
    fn rejects_bodies_that_are_not_objects() {
        let errors = FieldReader::new(&json!([1, 2]))
            .err()
            .expect("a list is not an object");
        assert_eq!(errors.field("non_field_errors"), [messages::NOT_AN_OBJECT]);
    }

    #[test]
    fn timestamps_are_rfc3339_and_converted_to_utc() {
        let body = json!({"ok": "2026-02-09T10:12:33.221+01:00", "bad": "yesterday",
                          "skewed": "2026-02-09T10:00:00Z", "future": "9999-12-31T23:59:59Z"});
        let now = DateTime::parse_from_rfc3339("2026-02-09T09:30:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let mut reader = FieldReader::new(&body).expect("the body is an object");
        let at = reader.optional_timestamp("ok", now).expect("a valid time");
        assert_eq!(at.to_rfc3339(), "2026-02-09T09:12:33.221+00:00");
        assert!(
            reader.optional_timestamp("skewed", now).is_some(),
            "half an hour ahead is clock skew"
        );
        assert_eq!(reader.optional_timestamp("future", now), None);
        assert_eq!(reader.optional_timestamp("bad", now), None);
        assert_eq!(reader.optional_timestamp("absent", now), None);
        let errors = reader.finish(|| ()).expect_err("bad time");
        assert_eq!(errors.field("bad"), [messages::DATETIME_FORMAT]);
        assert_eq!(errors.field("future"), [messages::FUTURE_TIMESTAMP]);
    }
}
