//! Ordinary traffic: a seeded population of senders, applicants, policies and traders, and the
//! request bodies they send. The bench drives the endpoints with it; the seed uses it as the
//! background against which its planted cases stand out.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use redflag_ml_core::Sampler;
use serde_json::{Value, json};

/// A detection endpoint (or the echo baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Aml,
    Credit,
    Insurance,
    Market,
    /// `POST /api/echo/`: the server's HTTP ceiling.
    Echo,
}

impl Endpoint {
    pub const DETECTION: [Self; 4] = [Self::Aml, Self::Credit, Self::Insurance, Self::Market];

    pub fn name(self) -> &'static str {
        match self {
            Self::Aml => "aml",
            Self::Credit => "credit",
            Self::Insurance => "insurance",
            Self::Market => "market",
            Self::Echo => "echo",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Self::Aml => "/api/aml/detect/",
            Self::Credit => "/api/credit/assess/",
            Self::Insurance => "/api/insurance/detect/",
            Self::Market => "/api/market/detect/",
            Self::Echo => "/api/echo/",
        }
    }

    /// Whether the endpoint wants a token.
    pub fn authenticated(self) -> bool {
        self != Self::Echo
    }
}

/// How many of each kind of party the population holds.
pub const SENDERS: usize = 5_000;
pub const RECEIVERS: usize = 2_000;
pub const APPLICANTS: usize = 20_000;
pub const POLICIES: usize = 5_000;
pub const SYMBOLS: usize = 200;
pub const TRADERS: usize = 1_000;

const TRANSFER_TYPES: [&str; 5] = ["wire", "ach", "card", "internal", "check"];
const CLAIM_TYPES: [(&str, &str); 4] = [
    ("auto", "vehicle"),
    ("property", "electronics"),
    ("property", "furniture"),
    ("travel", "luggage"),
];

/// The contract's timestamp format.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn money(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A seeded source of ordinary request bodies; `run` keeps business ids unique across runs.
pub struct Traffic {
    sampler: Sampler,
    run: String,
}

impl Traffic {
    pub fn new(seed: u64, run: &str) -> Self {
        Self {
            sampler: Sampler::new(seed),
            run: run.to_owned(),
        }
    }

    /// The `sequence`-th ordinary body for `endpoint`; with `at`, the event carries that time
    /// (seeding a past period), otherwise the server stamps it.
    pub fn body(&mut self, endpoint: Endpoint, sequence: u64, at: Option<DateTime<Utc>>) -> Value {
        let mut body = match endpoint {
            Endpoint::Aml | Endpoint::Echo => self.transfer(sequence),
            Endpoint::Credit => self.application(sequence),
            Endpoint::Insurance => self.claim(sequence, at.unwrap_or_else(Utc::now)),
            Endpoint::Market => self.market_event(sequence),
        };
        if let Some(at) = at {
            body["timestamp"] = json!(timestamp(at));
        }
        body
    }

    fn transfer(&mut self, sequence: u64) -> Value {
        let s = &mut self.sampler;
        let sender = s.below(SENDERS);
        let amount = money(s.log_normal(5.8, 1.1).clamp(5.0, 8_000.0));
        json!({
            "transaction_id": format!("TXN-{}-{sequence}", self.run),
            "user_id": format!("U-{sender}"),
            "amount": amount,
            "sender_id": format!("S-{sender}"),
            "receiver_id": format!("R-{}", s.below(RECEIVERS)),
            "transaction_type": TRANSFER_TYPES[s.below(TRANSFER_TYPES.len())],
            "sender_country": "US",
            "receiver_country": if s.unit() < 0.9 { "US" } else { "GB" },
        })
    }

    fn application(&mut self, sequence: u64) -> Value {
        let s = &mut self.sampler;
        let income = money(s.log_normal(8.5, 0.4).clamp(1_200.0, 40_000.0));
        let term = [24, 36, 48, 60][s.below(4)];
        json!({
            "applicant_id": format!("A-{}", s.below(APPLICANTS)),
            "application_id": format!("APP-{}-{sequence}", self.run),
            "monthly_income": income,
            "employment_length": 6 + s.below(200),
            "requested_amount": money(income * s.uniform(0.5, 6.0)),
            "loan_term_months": term,
            "monthly_debt_payments": money(income * s.uniform(0.0, 0.25)),
            "credit_history_months": 12 + s.below(280),
            "open_accounts": 1 + s.below(8),
            "credit_utilization": (s.uniform(0.02, 0.7) * 100.0).round() / 100.0,
            "late_payments_12m": usize::from(s.unit() < 0.1),
            "recent_inquiries_6m": s.below(3),
        })
    }

    fn claim(&mut self, sequence: u64, at: DateTime<Utc>) -> Value {
        let s = &mut self.sampler;
        let (claim_type, category) = CLAIM_TYPES[s.below(CLAIM_TYPES.len())];
        let policy = s.below(POLICIES);
        let amount = money(s.log_normal(7.3, 0.7).clamp(150.0, 9_000.0)) + 0.37;
        let estimate = money(amount * s.uniform(1.0, 1.15));
        let incident = at - Duration::days(2 + s.below(10) as i64);
        json!({
            "claim_id": format!("CLM-{}-{sequence}", self.run),
            "policy_id": format!("POL-{policy}"),
            "claimant_id": format!("C-{policy}"),
            "claim_amount": amount,
            "estimated_value": estimate,
            "market_value": money(estimate * s.uniform(0.9, 1.1)),
            "claim_type": claim_type,
            "item_category": category,
            "policy_start_date": (at - Duration::days(200 + s.below(900) as i64)).date_naive().to_string(),
            "incident_date": incident.date_naive().to_string(),
            "report_date": (incident + Duration::days(1)).date_naive().to_string(),
        })
    }

    fn market_event(&mut self, sequence: u64) -> Value {
        let s = &mut self.sampler;
        let symbol = s.below(SYMBOLS);
        let price = money((20.0 + symbol as f64) * s.normal(1.0, 0.004));
        let trader = s.below(TRADERS);
        let counterparty = (trader + 1 + s.below(TRADERS - 1)) % TRADERS;
        json!({
            "symbol": format!("SYM{symbol}"),
            "price": price,
            "volume": 100 + s.below(2_000),
            "trader_id": format!("TR-{trader}"),
            "event_type": "trade",
            "side": if s.unit() < 0.5 { "buy" } else { "sell" },
            "trade_id": format!("TRD-{}-{sequence}", self.run),
            "counterparty_id": format!("TR-{counterparty}"),
        })
    }
}
