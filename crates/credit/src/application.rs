use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;

/// A validated credit application, as POST /api/credit/assess/ receives it.
///
/// Optional figures stay `None` when not supplied: the factors then use documented neutral values
/// rather than zeros that would silently punish (or flatter) the applicant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    pub applicant_id: String,
    /// Optional business id of this application; when given, a resend is answered idempotently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    pub monthly_income: f64,
    /// Months in current employment.
    pub employment_length: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_debt_payments: Option<f64>,
    /// Age of the oldest account, in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_history_months: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_payments_12m: Option<i64>,
    /// Revolving balance / revolving limit, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_utilization: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent_inquiries_6m: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl Application {
    /// Reads an application from a request body; `now` is the event time when the body has none.
    pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut fields = FieldReader::new(body)?;
        let applicant_id = fields.required_id("applicant_id");
        let application_id = fields.optional_id("application_id");
        let monthly_income = fields.required_number("monthly_income", NumberBounds::AMOUNT);
        let employment_length = fields.required_integer("employment_length", NumberBounds::COUNT);
        let requested_amount = fields.optional_number("requested_amount", NumberBounds::AMOUNT);
        let monthly_debt_payments =
            fields.optional_number("monthly_debt_payments", NumberBounds::NON_NEGATIVE_AMOUNT);
        let credit_history_months =
            fields.optional_integer("credit_history_months", NumberBounds::COUNT);
        let late_payments_12m = fields.optional_integer("late_payments_12m", NumberBounds::COUNT);
        let credit_utilization =
            fields.optional_number("credit_utilization", NumberBounds::FRACTION);
        let recent_inquiries_6m =
            fields.optional_integer("recent_inquiries_6m", NumberBounds::COUNT);
        let timestamp = fields.optional_timestamp("timestamp", now);
        fields.finish(|| Self {
            applicant_id: applicant_id.unwrap_or_default(),
            application_id,
            monthly_income: monthly_income.unwrap_or_default(),
            employment_length: employment_length.unwrap_or_default(),
            requested_amount,
            monthly_debt_payments,
            credit_history_months,
            late_payments_12m,
            credit_utilization,
            recent_inquiries_6m,
            at: timestamp.unwrap_or(now),
            timestamp,
        })
    }

    /// Monthly debt service over monthly income, when the applicant reported debts.
    pub fn debt_to_income(&self) -> Option<f64> {
        self.monthly_debt_payments
            .map(|debts| debts / self.monthly_income)
    }
}
