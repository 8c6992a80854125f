//! What a module offers custom rules: each feature's name, kind and unit, and its value on one
//! event.

use serde::Serialize;

/// How a feature reads in an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// A figure with a fraction (an amount, a ratio, a score): CEL `double`. Compare it with any
    /// number; in arithmetic, write literals with a point (`3.0 * amount`).
    Number,
    /// A whole count: CEL `int` (`sender_count_24h >= 5`).
    Count,
    /// Text (an id, a country code): CEL `string`.
    Text,
    /// Yes or no: CEL `bool`.
    Flag,
}

/// One feature of a module's catalogue. Names starting `event.` are the validated event's own
/// fields; the others are figures the detector computes from the event's windows and models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureSpec {
    #[cfg_attr(feature = "openapi", schema(example = "sender_count_24h"))]
    pub name: &'static str,
    pub kind: FeatureKind,
    /// The unit a figure is in (`currency units`, `transfers`, `hours`, `0..1`), empty for text.
    pub unit: &'static str,
    pub description: &'static str,
}

impl FeatureSpec {
    pub const fn new(
        name: &'static str,
        kind: FeatureKind,
        unit: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            kind,
            unit,
            description,
        }
    }

    /// The event field this feature is, when it is one (`event.amount` is `amount`).
    pub fn event_field(&self) -> Option<&'static str> {
        self.name.strip_prefix("event.")
    }
}

/// A feature's value on one event; `Missing` when the event leaves it out (an optional field),
/// which makes a rule that reads it not fire.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureValue {
    Number(f64),
    Count(i64),
    Text(String),
    Flag(bool),
    Missing,
}

impl FeatureValue {
    /// An optional text field.
    pub fn text(value: Option<&str>) -> Self {
        value.map_or(Self::Missing, |text| Self::Text(text.to_owned()))
    }

    /// An optional figure.
    pub fn number(value: Option<f64>) -> Self {
        value.map_or(Self::Missing, Self::Number)
    }

    /// A count of things (a window's length).
    pub fn count(count: usize) -> Self {
        Self::Count(i64::try_from(count).unwrap_or(i64::MAX))
    }

    /// The value as CEL sees it; `None` when missing.
    pub(crate) fn to_cel(&self) -> Option<cel::Value> {
        match self {
            Self::Number(number) => Some(cel::Value::Float(*number)),
            Self::Count(count) => Some(cel::Value::Int(*count)),
            Self::Text(text) => Some(cel::Value::String(text.clone().into())),
            Self::Flag(flag) => Some(cel::Value::Bool(*flag)),
            Self::Missing => None,
        }
    }

    /// The value as an alert's metadata holds it.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Number(number) => serde_json::json!(number + 0.0),
            Self::Count(count) => serde_json::json!(count),
            Self::Text(text) => serde_json::json!(text),
            Self::Flag(flag) => serde_json::json!(flag),
            Self::Missing => serde_json::Value::Null,
        }
    }

    /// The value as a reason sentence shows it: counts whole, figures with at most two decimals,
    /// `?` when missing.
    pub(crate) fn display(&self) -> String {
        match self {
            // An empty sum is -0.0.
            Self::Number(number) if *number == 0.0 => "0".to_owned(),
            Self::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
                format!("{number:.0}")
            }
            Self::Number(number) => {
                let text = format!("{number:.2}");
                text.trim_end_matches('0').trim_end_matches('.').to_owned()
            }
            Self::Count(count) => count.to_string(),
            Self::Text(text) => text.clone(),
            Self::Flag(flag) => flag.to_string(),
            Self::Missing => "?".to_owned(),
        }
    }

    /// A value of this kind for checking a condition before any event exists.
    pub(crate) fn sample(kind: FeatureKind) -> Self {
        match kind {
            FeatureKind::Number => Self::Number(1.0),
            FeatureKind::Count => Self::Count(1),
            FeatureKind::Text => Self::Text("x".to_owned()),
            FeatureKind::Flag => Self::Flag(false),
        }
    }
}
