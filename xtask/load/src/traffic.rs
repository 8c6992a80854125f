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

    /// The path for requests of `batch` events: the batch endpoint when more than one.
    pub fn path_for(self, batch: usize) -> &'static str {
        match (self, batch > 1) {
            (Self::Aml, true) => "/api/aml/batch/",
            (Self::Credit, true) => "/api/credit/batch/",
            (Self::Insurance, true) => "/api/insurance/batch/",
            (Self::Market, true) => "/api/market/batch/",
            _ => self.path(),
        }
    }

    /// Whether the endpoint wants a token.
    pub fn authenticated(self) -> bool {
        self != Self::Echo
    }
}

/// How many of each kind of party send the traffic.
#[derive(Debug, Clone, Copy)]
pub struct Population {
    pub senders: usize,
    pub receivers: usize,
    pub applicants: usize,
    pub policies: usize,
    pub symbols: usize,
    pub traders: usize,
}

impl Population {
    /// A month of a mid-sized institution's activity (the seed): a sender makes a few transfers
    /// a month, so that windows fill and baselines form without every customer looking suspect.
    pub const DEMO: Self = Self {
        senders: 5_000,
        receivers: 2_000,
        applicants: 20_000,
        policies: 5_000,
        symbols: 200,
        traders: 1_000,
    };

    /// A load test's minutes at thousands of events a second (the bench): as many parties as a
    /// large institution has, so that each one's rate stays what a real customer's is. With the
    /// demo population a 20-second run gave every sender dozens of transfers a day, and four
    /// alerts fired on nearly every transfer.
    pub const LOAD: Self = Self {
        senders: 1_000_000,
        receivers: 200_000,
        applicants: 1_000_000,
        policies: 500_000,
        symbols: 2_000,
        traders: 50_000,
    };
}

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

/// Given names and surnames the bench's parties are named from (ordinary names from many
/// countries: some share a token with listed names, as real customers' do).
const GIVEN_NAMES: [&str; 40] = [
    "James", "Maria", "Wei", "Fatima", "Olga", "Carlos", "Aisha", "Hiroshi", "Anna", "Mohammed",
    "Sofia", "Ivan", "Priya", "Lucas", "Emma", "Ahmed", "Chen", "Elena", "David", "Grace", "Omar",
    "Ingrid", "Pedro", "Yuki", "Sarah", "Tomasz", "Amara", "Lars", "Nadia", "Kofi", "Isabel",
    "Raj", "Leila", "Mateo", "Hannah", "Dmitri", "Zainab", "Oliver", "Mei", "Jonas",
];
const SURNAMES: [&str; 50] = [
    "Smith",
    "Garcia",
    "Wang",
    "Khan",
    "Ivanova",
    "Silva",
    "Okafor",
    "Tanaka",
    "Muller",
    "Rossi",
    "Nguyen",
    "Kowalski",
    "Patel",
    "Johansson",
    "Dubois",
    "Hassan",
    "Lopez",
    "Kim",
    "Novak",
    "Brown",
    "Fernandez",
    "Yamamoto",
    "Schmidt",
    "Mensah",
    "Costa",
    "Petrov",
    "Haddad",
    "Larsen",
    "Moreau",
    "Singh",
    "Andersen",
    "Romero",
    "Takahashi",
    "Wilson",
    "Eriksson",
    "Bianchi",
    "Abubakar",
    "Horvat",
    "Jensen",
    "Castillo",
    "Chowdhury",
    "Fischer",
    "Ali",
    "Murphy",
    "Nakamura",
    "Oliveira",
    "Popescu",
    "Reyes",
    "Stewart",
    "Virtanen",
];

/// The name of party `index`: a given name, a middle initial and a surname.
fn party_name(index: usize) -> String {
    let given = GIVEN_NAMES[index % GIVEN_NAMES.len()];
    let surname = SURNAMES[(index / GIVEN_NAMES.len()) % SURNAMES.len()];
    let initial = char::from(b'A' + (index / (GIVEN_NAMES.len() * SURNAMES.len()) % 26) as u8);
    format!("{given} {initial}. {surname}")
}

/// A seeded source of ordinary request bodies; `run` keeps business ids unique across runs.
pub struct Traffic {
    sampler: Sampler,
    run: String,
    population: Population,
    /// Whether AML transfers name their sender and receiver (screened inline).
    names: bool,
    /// The share of AML transfers sent to a high-risk jurisdiction (flagged).
    flagged_share: f64,
}

impl Traffic {
    pub fn new(seed: u64, run: &str, population: Population) -> Self {
        Self {
            sampler: Sampler::new(seed),
            run: run.to_owned(),
            population,
            names: false,
            flagged_share: 0.0,
        }
    }

    /// This share of AML transfers goes to a high-risk jurisdiction, which flags it: traffic
    /// whose flagged decisions are delivered to webhooks.
    pub fn with_flagged_share(mut self, share: f64) -> Self {
        self.flagged_share = share;
        self
    }

    /// AML transfers name their sender and receiver.
    pub fn with_names(mut self) -> Self {
        self.names = true;
        self
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
        let sender = s.below(self.population.senders);
        let amount = money(s.log_normal(5.8, 1.1).clamp(5.0, 8_000.0));
        let receiver = s.below(self.population.receivers);
        let mut transfer = json!({
            "transaction_id": format!("TXN-{}-{sequence}", self.run),
            "user_id": format!("U-{sender}"),
            "amount": amount,
            "sender_id": format!("S-{sender}"),
            "receiver_id": format!("R-{receiver}"),
            "transaction_type": TRANSFER_TYPES[s.below(TRANSFER_TYPES.len())],
            "sender_country": "US",
            "receiver_country": if s.unit() < 0.9 { "US" } else { "GB" },
        });
        if self.flagged_share > 0.0 && s.unit() < self.flagged_share {
            transfer["receiver_country"] = json!("IR");
        }
        if self.names {
            transfer["sender_name"] = json!(party_name(sender));
            // Receivers are named from another stretch of the names than senders.
            transfer["receiver_name"] = json!(party_name(receiver + 7 * GIVEN_NAMES.len()));
        }
        transfer
    }

    fn application(&mut self, sequence: u64) -> Value {
        let s = &mut self.sampler;
        let income = money(s.log_normal(8.5, 0.4).clamp(1_200.0, 40_000.0));
        let term = [24, 36, 48, 60][s.below(4)];
        json!({
            "applicant_id": format!("A-{}", s.below(self.population.applicants)),
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
        let policy = s.below(self.population.policies);
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
        let symbol = s.below(self.population.symbols);
        let price = money((20.0 + symbol as f64) * s.normal(1.0, 0.004));
        let traders = self.population.traders.max(2);
        let trader = s.below(traders);
        let counterparty = (trader + 1 + s.below(traders - 1)) % traders;
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
