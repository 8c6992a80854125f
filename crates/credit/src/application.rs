use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// A credit application, as POST /api/credit/assess/ receives it.
///
/// Optional figures stay `None` when not supplied: the scorecard then uses documented neutral
/// values (see the crate README) rather than zeros that would silently punish or flatter the
/// applicant, and names the fields it assumed.
///
/// A service embedding the scorer builds one with [`Application::builder`]; [`Application::parse`]
/// reads the HTTP body. Both validate, and there is no other way to make one outside this crate.
///
/// Its serde form is the idempotency key of a resent business id: the service stores it with the
/// decision and answers a resend with the stored decision only when the forms are equal, 409
/// otherwise. A field added, renamed or serialised differently in a later version therefore makes
/// a resend of an event stored before it a conflict; such a change migrates the stored
/// `request_json` (or compares only the fields both versions know).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Application {
    pub applicant_id: String,
    /// Optional business id of this application; when given, a resend is answered idempotently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    pub monthly_income: f64,
    /// Months in current employment.
    pub employment_length: i64,
    /// The amount of the loan applied for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_amount: Option<f64>,
    /// Term of the loan applied for, in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loan_term_months: Option<i64>,
    /// Existing monthly debt service (excluding the loan applied for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_debt_payments: Option<f64>,
    /// Age of the oldest account, in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_history_months: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_accounts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revolving_balance: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revolving_limit: Option<f64>,
    /// Revolving balance / revolving limit, 0..1, when the bureau reports the ratio only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_utilization: Option<f64>,
    /// Payments 30 or more days late in the last 12 months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_payments_12m: Option<i64>,
    /// Delinquencies (60 or more days past due) in the last 24 months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delinquencies_24m: Option<i64>,
    /// Bankruptcies on file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bankruptcies: Option<i64>,
    /// Hard credit inquiries in the last six months, as the bureau reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent_inquiries_6m: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_types: Option<AccountTypes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The event time: the client's `timestamp`, or the time of receipt.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

/// How many accounts of each kind the applicant holds: the raw material of the credit mix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AccountTypes {
    pub revolving: i64,
    pub installment: i64,
    pub mortgage: i64,
}

impl AccountTypes {
    /// The account kinds, in the order they are reported.
    pub const KINDS: [&'static str; 3] = ["revolving", "installment", "mortgage"];

    /// The kinds the applicant holds at least one account of.
    pub fn held(&self) -> Vec<&'static str> {
        Self::KINDS
            .into_iter()
            .zip([self.revolving, self.installment, self.mortgage])
            .filter(|(_, count)| *count > 0)
            .map(|(kind, _)| kind)
            .collect()
    }
}

/// Employment longer than sixty years is a data error, not a career.
const EMPLOYMENT_MONTHS: NumberBounds = NumberBounds {
    min: 0.0,
    exclusive_min: false,
    max: 720.0,
};

/// A credit file older than a hundred years is a data error.
const HISTORY_MONTHS: NumberBounds = NumberBounds {
    min: 0.0,
    exclusive_min: false,
    max: 1200.0,
};

/// Loan terms from one month to forty years (the longest mortgage terms offered).
const TERM_MONTHS: NumberBounds = NumberBounds {
    min: 1.0,
    exclusive_min: false,
    max: 480.0,
};

/// How far a stated utilisation may differ from balance / limit before the two contradict.
const UTILIZATION_TOLERANCE: f64 = 0.005;

impl Application {
    /// An application with the required figures: set the optional ones on the builder, and
    /// [`ApplicationBuilder::build`] checks them all as the HTTP body is checked.
    pub fn builder(
        applicant_id: impl Into<String>,
        monthly_income: f64,
        employment_length: i64,
    ) -> ApplicationBuilder {
        let mut body = Map::new();
        body.insert(
            "applicant_id".to_owned(),
            Value::String(applicant_id.into()),
        );
        body.insert("monthly_income".to_owned(), body_value(monthly_income));
        body.insert("employment_length".to_owned(), json!(employment_length));
        ApplicationBuilder { body }
    }

    /// Reads an application from a request body; `now` is the event time when the body has none.
    pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut fields = FieldReader::new(body)?;
        let applicant_id = fields.required_id("applicant_id");
        let application_id = fields.optional_id("application_id");
        let monthly_income = fields.required_number("monthly_income", NumberBounds::AMOUNT);
        let employment_length = fields.required_integer("employment_length", EMPLOYMENT_MONTHS);
        let requested_amount = fields.optional_number("requested_amount", NumberBounds::AMOUNT);
        let loan_term_months = fields.optional_integer("loan_term_months", TERM_MONTHS);
        let monthly_debt_payments =
            fields.optional_number("monthly_debt_payments", NumberBounds::NON_NEGATIVE_AMOUNT);
        let credit_history_months =
            fields.optional_integer("credit_history_months", HISTORY_MONTHS);
        let open_accounts = fields.optional_integer("open_accounts", NumberBounds::COUNT);
        let revolving_balance =
            fields.optional_number("revolving_balance", NumberBounds::NON_NEGATIVE_AMOUNT);
        let revolving_limit =
            fields.optional_number("revolving_limit", NumberBounds::NON_NEGATIVE_AMOUNT);
        let credit_utilization =
            fields.optional_number("credit_utilization", NumberBounds::FRACTION);
        let late_payments_12m = fields.optional_integer("late_payments_12m", NumberBounds::COUNT);
        let delinquencies_24m = fields.optional_integer("delinquencies_24m", NumberBounds::COUNT);
        let bankruptcies = fields.optional_integer("bankruptcies", NumberBounds::COUNT);
        let recent_inquiries_6m =
            fields.optional_integer("recent_inquiries_6m", NumberBounds::COUNT);
        let account_types = read_account_types(&mut fields);
        let timestamp = fields.optional_timestamp("timestamp", now);
        check_revolving(
            &mut fields,
            revolving_balance,
            revolving_limit,
            credit_utilization,
        );
        fields.finish(|| Self {
            applicant_id: applicant_id.unwrap_or_default(),
            application_id,
            monthly_income: monthly_income.unwrap_or_default(),
            employment_length: employment_length.unwrap_or_default(),
            requested_amount,
            loan_term_months,
            monthly_debt_payments,
            credit_history_months,
            open_accounts,
            revolving_balance,
            revolving_limit,
            credit_utilization,
            late_payments_12m,
            delinquencies_24m,
            bankruptcies,
            recent_inquiries_6m,
            account_types,
            at: timestamp.unwrap_or(now),
            timestamp,
        })
    }

    /// A builder holding this application's figures: to change some and have them checked again.
    pub fn to_builder(&self) -> ApplicationBuilder {
        match serde_json::to_value(self) {
            Ok(Value::Object(body)) => ApplicationBuilder { body },
            // A struct of named fields always serialises to an object; were it not, `build`
            // would name every required field as missing rather than score nothing.
            _ => ApplicationBuilder { body: Map::new() },
        }
    }

    /// Checks an application by the rules the HTTP body is held to, so that a library caller
    /// that changed a figure after building it cannot score what the service would refuse.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let body = serde_json::to_value(self)
            .map_err(|error| ValidationErrors::non_field(error.to_string()))?;
        Self::parse(&body, self.at.max(Utc::now())).map(|_| ())
    }

    /// Revolving utilisation: balance / limit when both are known, else the stated ratio. Over
    /// the limit gives more than 1.
    pub fn utilization(&self) -> Option<f64> {
        match (self.revolving_balance, self.revolving_limit) {
            (Some(balance), Some(limit)) if limit > 0.0 => Some(balance / limit),
            _ => self.credit_utilization,
        }
    }
}

/// Reads `account_types`: an object of non-negative whole counts keyed by account kind. A kind
/// outside the three is refused rather than ignored: a misspelt "instalment" would otherwise
/// silently empty the credit mix.
fn read_account_types(fields: &mut FieldReader<'_>) -> Option<AccountTypes> {
    fields.optional_object("account_types", |counts| {
        counts.reject_unknown(&AccountTypes::KINDS);
        let mut count = |kind| {
            counts
                .optional_integer(kind, NumberBounds::COUNT)
                .unwrap_or_default()
        };
        AccountTypes {
            revolving: count("revolving"),
            installment: count("installment"),
            mortgage: count("mortgage"),
        }
    })
}

/// Balance and limit come as a pair; with a stated ratio too, the three must agree.
fn check_revolving(
    fields: &mut FieldReader<'_>,
    balance: Option<f64>,
    limit: Option<f64>,
    stated: Option<f64>,
) {
    const REQUIRED_WITH: &str = "This field is required when revolving_";
    match (balance, limit) {
        (Some(_), None) if !fields.has_error("revolving_limit") => {
            fields.reject(
                "revolving_limit",
                format!("{REQUIRED_WITH}balance is given."),
            );
        }
        (None, Some(_)) if !fields.has_error("revolving_balance") => {
            fields.reject(
                "revolving_balance",
                format!("{REQUIRED_WITH}limit is given."),
            );
        }
        (Some(balance), Some(limit)) if limit == 0.0 && balance > 0.0 => fields.reject(
            "revolving_limit",
            "Ensure this value is greater than 0 when revolving_balance is above 0.",
        ),
        (Some(balance), Some(limit)) if limit > 0.0 => {
            let ratio = balance / limit;
            if stated.is_some_and(|stated| (stated - ratio).abs() > UTILIZATION_TOLERANCE) {
                fields.reject(
                    "credit_utilization",
                    format!(
                        "Does not match revolving_balance / revolving_limit ({ratio:.3}); send one or the other."
                    ),
                );
            }
        }
        _ => {}
    }
}

/// An application under construction, in the HTTP body's own terms so that one set of checks
/// (and one set of messages) covers both ways in.
#[derive(Debug, Clone)]
pub struct ApplicationBuilder {
    body: Map<String, Value>,
}

/// A figure as the body would carry it. JSON has no NaN or infinity (serde_json writes them as
/// null, which an optional field reads as absent), so those go in as their text, which the
/// number check refuses.
fn body_value(value: impl Serialize + std::fmt::Debug) -> Value {
    match json!(value) {
        Value::Null => Value::String(format!("{value:?}")),
        value => value,
    }
}

/// A setter per field: `Some` (or a bare value) sets it, `None` leaves it out (which `build`
/// refuses for a required one).
macro_rules! fields {
    ($($field:ident: $kind:ty),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($field), "` (`None` leaves it out).")]
            pub fn $field(mut self, value: impl Into<Option<$kind>>) -> Self {
                match value.into() {
                    Some(value) => self.body.insert(stringify!($field).to_owned(), body_value(value)),
                    None => self.body.remove(stringify!($field)),
                };
                self
            }
        )*
    };
}

impl ApplicationBuilder {
    fields! {
        applicant_id: String,
        monthly_income: f64,
        employment_length: i64,
        application_id: String,
        requested_amount: f64,
        loan_term_months: i64,
        monthly_debt_payments: f64,
        credit_history_months: i64,
        open_accounts: i64,
        revolving_balance: f64,
        revolving_limit: f64,
        credit_utilization: f64,
        late_payments_12m: i64,
        delinquencies_24m: i64,
        bankruptcies: i64,
        recent_inquiries_6m: i64,
        account_types: AccountTypes,
        timestamp: DateTime<Utc>,
    }

    /// The application, dated by its `timestamp` or else now; every field error at once, in the
    /// words the HTTP API answers with.
    pub fn build(&self) -> Result<Application, ValidationErrors> {
        Application::parse(&Value::Object(self.body.clone()), Utc::now())
    }
}

impl redflag_core::Event for Application {
    fn reference(&self) -> Option<&str> {
        self.application_id.as_deref()
    }

    fn entity(&self) -> &str {
        &self.applicant_id
    }

    fn event_time(&self) -> DateTime<Utc> {
        self.at
    }
}
