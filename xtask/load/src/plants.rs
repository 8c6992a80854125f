//! Planted cases: short sequences of events that each carry one typology the engines detect,
//! sent among the ordinary traffic so that the demo's alerts have something true to show, and
//! checked afterwards (was the typology caught?).

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use serde_json::{Value, json};

use crate::traffic::{Endpoint, timestamp};

/// A planted case's events: (time, body) in order.
type Events = Vec<(DateTime<Utc>, Value)>;

/// One planted case: its events, in order, and the marker a response must carry to count as
/// caught (a rule name, or for credit a finding's type).
pub struct Plant {
    pub typology: &'static str,
    pub module: Endpoint,
    /// How long the case lasts from its first event.
    pub span: Duration,
    pub marker: &'static str,
    build: fn(&str, DateTime<Utc>) -> Events,
}

impl Plant {
    /// Whether the case is only caught by a server whose watchlist names its party (the seed's
    /// own server is given one; a server at `--url` has its own).
    pub fn needs_watchlist(&self) -> bool {
        self.marker == "WatchlistRule"
    }

    /// Whether the case is only caught by a server screening names against the demo sanctions
    /// list (`config/sanctions-demo.csv`, imported into the seed's own server).
    pub fn needs_demo_list(&self) -> bool {
        self.marker == "SanctionsMatchRule"
    }

    /// Whether the case is only caught once the anomaly alert is calibrated on the traffic
    /// before it (the alert is silent while its model warms up).
    pub fn needs_calibration(&self) -> bool {
        self.marker == "AnomalyRule"
    }
}

impl Plant {
    /// The case's events, its parties named after `id`, starting at `start`; each body carries
    /// its time.
    pub fn events(&self, id: &str, start: DateTime<Utc>) -> Events {
        (self.build)(id, start)
            .into_iter()
            .map(|(at, mut body)| {
                body["timestamp"] = json!(timestamp(at));
                (at, body)
            })
            .collect()
    }
}

fn minutes(start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    start + Duration::minutes(minutes)
}

fn transfer(id: &str, n: usize, sender: &str, receiver: &str, amount: f64) -> Value {
    json!({"transaction_id": format!("{id}-{n}"), "user_id": format!("U-{sender}"), "amount": amount,
           "sender_id": sender, "receiver_id": receiver, "transaction_type": "wire",
           "sender_country": "US", "receiver_country": "US"})
}

fn application(id: &str, n: usize, applicant: &str, income: f64, debts: f64) -> Value {
    json!({"applicant_id": applicant, "application_id": format!("{id}-{n}"),
           "monthly_income": income, "employment_length": 60, "requested_amount": 8000,
           "loan_term_months": 36, "monthly_debt_payments": debts,
           "credit_history_months": 120, "open_accounts": 4, "credit_utilization": 0.2,
           "late_payments_12m": 0, "recent_inquiries_6m": 0})
}

fn day(at: DateTime<Utc>, days_before: i64) -> String {
    (at - Duration::days(days_before)).date_naive().to_string()
}

fn claim(
    id: &str,
    n: usize,
    policy: &str,
    claimant: &str,
    amount: f64,
    at: DateTime<Utc>,
) -> Value {
    json!({"claim_id": format!("{id}-{n}"), "policy_id": policy, "claimant_id": claimant,
           "claim_amount": amount, "estimated_value": amount * 1.05, "market_value": amount * 1.05,
           "claim_type": "property", "item_category": "electronics",
           "policy_start_date": day(at, 400), "incident_date": day(at, 3), "report_date": day(at, 2)})
}

fn trade(
    id: &str,
    n: usize,
    symbol: &str,
    trader: &str,
    counterparty: &str,
    price: f64,
    volume: u32,
) -> Value {
    json!({"symbol": symbol, "price": price, "volume": volume, "trader_id": trader,
           "event_type": "trade", "side": "buy", "trade_id": format!("{id}-{n}"),
           "counterparty_id": counterparty})
}

/// A market event other than a trade (an order or a cancel) by `trader`.
fn order_event(
    kind: &str,
    symbol: &str,
    trader: &str,
    order: &str,
    price: f64,
    volume: u32,
) -> Value {
    json!({"symbol": symbol, "price": price, "volume": volume, "trader_id": trader,
           "event_type": kind, "side": "buy", "order_id": order})
}

/// `hour:minute` on the first weekday from `at` in New York, the default session's zone.
fn new_york(at: DateTime<Utc>, hour: u32, minute: u32) -> DateTime<Utc> {
    let mut date = at.with_timezone(&chrono_tz::America::New_York).date_naive();
    while matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        date = date.succ_opt().unwrap_or(date);
    }
    let local = date.and_hms_opt(hour, minute, 0).unwrap_or_default();
    chrono_tz::America::New_York
        .from_local_datetime(&local)
        .earliest()
        .map_or(at, |time| time.with_timezone(&Utc))
}

/// A symbol of the case's own (symbols are at most 20 characters): `PL20-3-seed42-...` gives
/// `PL20X3`.
fn symbol_of(id: &str) -> String {
    id.split("-seed").next().unwrap_or(id).replace('-', "X")
}

/// The party a watchlist case sends from; the seed lists it in the watchlist it gives the server.
pub fn watched_party(case: &str) -> String {
    format!("{case}-W")
}

/// Every planted typology.
pub const PLANTS: &[Plant] = &[
    Plant {
        typology: "structuring (3 transfers just under 10,000 in a day)",
        module: Endpoint::Aml,
        span: Duration::hours(3),
        marker: "StructuringRule",
        build: |id, at| {
            [9_500.0, 9_700.0, 9_800.0]
                .iter()
                .enumerate()
                .map(|(n, amount)| {
                    let body = transfer(id, n, &format!("{id}-S"), &format!("{id}-R{n}"), *amount);
                    (minutes(at, 60 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "large cash transaction (CTR)",
        module: Endpoint::Aml,
        span: Duration::minutes(1),
        marker: "LargeTransactionRule",
        build: |id, at| {
            vec![(
                at,
                transfer(id, 0, &format!("{id}-S"), &format!("{id}-R"), 15_000.0),
            )]
        },
    },
    Plant {
        typology: "near-threshold clustering over days",
        module: Endpoint::Aml,
        span: Duration::hours(61),
        marker: "NearThresholdClusteringRule",
        build: |id, at| {
            (0..3)
                .map(|n| {
                    let body = transfer(id, n, &format!("{id}-S"), &format!("{id}-R{n}"), 9_400.0);
                    (minutes(at, 30 * 60 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "velocity (6 transfers in an hour)",
        module: Endpoint::Aml,
        span: Duration::hours(1),
        marker: "VelocityRule",
        build: |id, at| {
            (0..6)
                .map(|n| {
                    let body = transfer(id, n, &format!("{id}-S"), &format!("{id}-R{n}"), 800.0);
                    (minutes(at, 9 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "fan-out (one sender, 6 new receivers)",
        module: Endpoint::Aml,
        span: Duration::hours(6),
        marker: "FanOutRule",
        build: |id, at| {
            (0..6)
                .map(|n| {
                    let body = transfer(id, n, &format!("{id}-S"), &format!("{id}-R{n}"), 650.0);
                    (minutes(at, 50 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "fan-in (6 senders, one receiver)",
        module: Endpoint::Aml,
        span: Duration::hours(6),
        marker: "FanInRule",
        build: |id, at| {
            (0..6)
                .map(|n| {
                    let body = transfer(id, n, &format!("{id}-S{n}"), &format!("{id}-R"), 650.0);
                    (minutes(at, 50 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "pass-through (money in and straight out)",
        module: Endpoint::Aml,
        span: Duration::hours(3),
        marker: "PassThroughRule",
        build: |id, at| {
            let mule = format!("{id}-M");
            vec![
                (at, transfer(id, 0, &format!("{id}-S"), &mule, 6_000.0)),
                (
                    minutes(at, 120),
                    transfer(id, 1, &mule, &format!("{id}-R"), 5_600.0),
                ),
            ]
        },
    },
    Plant {
        typology: "chain of mules (three hand-overs within hours)",
        module: Endpoint::Aml,
        span: Duration::hours(3),
        marker: "ChainRule",
        build: |id, at| {
            let hops = [
                format!("{id}-S"),
                format!("{id}-M1"),
                format!("{id}-M2"),
                format!("{id}-M3"),
            ];
            hops.windows(2)
                .enumerate()
                .map(|(n, pair)| {
                    let amount = 7_000.0 - 150.0 * n as f64;
                    (
                        minutes(at, 40 * n as i64),
                        transfer(id, n, &pair[0], &pair[1], amount),
                    )
                })
                .collect()
        },
    },
    Plant {
        typology: "scatter-gather (one source, three mules, one sink)",
        module: Endpoint::Aml,
        span: Duration::hours(2),
        marker: "ScatterGatherRule",
        build: |id, at| {
            let mut events = Vec::new();
            for n in 0..3 {
                let mule = format!("{id}-M{n}");
                events.push((
                    minutes(at, 5 * n as i64),
                    transfer(id, n, &format!("{id}-S"), &mule, 3_000.0 + 10.0 * n as f64),
                ));
                events.push((
                    minutes(at, 60 + 10 * n as i64),
                    transfer(
                        id,
                        3 + n,
                        &mule,
                        &format!("{id}-K"),
                        2_900.0 + 10.0 * n as f64,
                    ),
                ));
            }
            events.sort_by_key(|(when, _)| *when);
            events
        },
    },
    Plant {
        typology: "round trip (funds back at the origin after three transfers)",
        module: Endpoint::Aml,
        span: Duration::hours(1),
        marker: "RoundTripRule",
        build: |id, at| {
            let (origin, first, second) =
                (format!("{id}-O"), format!("{id}-M1"), format!("{id}-M2"));
            vec![
                (at, transfer(id, 0, &origin, &first, 4_000.0)),
                (minutes(at, 15), transfer(id, 1, &first, &second, 3_900.0)),
                (minutes(at, 30), transfer(id, 2, &second, &origin, 3_850.0)),
            ]
        },
    },
    Plant {
        typology: "repeated round amounts",
        module: Endpoint::Aml,
        span: Duration::hours(49),
        marker: "RoundAmountRule",
        build: |id, at| {
            (0..3)
                .map(|n| {
                    let body = transfer(id, n, &format!("{id}-S"), &format!("{id}-R{n}"), 2_000.0);
                    (minutes(at, 24 * 60 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "high-risk jurisdiction (FATF call for action)",
        module: Endpoint::Aml,
        span: Duration::minutes(1),
        marker: "HighRiskJurisdictionRule",
        build: |id, at| {
            let mut body = transfer(id, 0, &format!("{id}-S"), &format!("{id}-R"), 3_100.0);
            body["receiver_country"] = json!("KP");
            vec![(at, body)]
        },
    },
    Plant {
        typology: "credit: debt-to-income above policy",
        module: Endpoint::Credit,
        span: Duration::minutes(1),
        marker: "policy_rule",
        build: |id, at| vec![(at, application(id, 0, &format!("{id}-A"), 3_000.0, 1_900.0))],
    },
    Plant {
        typology: "credit: bankruptcy on file",
        module: Endpoint::Credit,
        span: Duration::minutes(1),
        marker: "policy_rule",
        build: |id, at| {
            let mut body = application(id, 0, &format!("{id}-A"), 5_000.0, 300.0);
            body["bankruptcies"] = json!(1);
            vec![(at, body)]
        },
    },
    Plant {
        typology: "credit: income below the minimum",
        module: Endpoint::Credit,
        span: Duration::minutes(1),
        marker: "policy_rule",
        build: |id, at| vec![(at, application(id, 0, &format!("{id}-A"), 900.0, 0.0))],
    },
    Plant {
        typology: "credit: loan above annual income",
        module: Endpoint::Credit,
        span: Duration::minutes(1),
        marker: "policy_rule",
        build: |id, at| {
            let mut body = application(id, 0, &format!("{id}-A"), 3_000.0, 0.0);
            body["requested_amount"] = json!(60_000);
            body["loan_term_months"] = json!(360);
            vec![(at, body)]
        },
    },
    Plant {
        typology: "credit: application velocity (3 in 30 days)",
        module: Endpoint::Credit,
        span: Duration::days(10),
        marker: "application_velocity",
        build: |id, at| {
            (0..3)
                .map(|n| {
                    let body = application(id, n, &format!("{id}-A"), 6_000.0, 300.0);
                    (at + Duration::days(4 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "credit: income inconsistency",
        module: Endpoint::Credit,
        span: Duration::days(6),
        marker: "income_inconsistency",
        build: |id, at| {
            vec![
                (at, application(id, 0, &format!("{id}-A"), 4_000.0, 300.0)),
                (
                    at + Duration::days(5),
                    application(id, 1, &format!("{id}-A"), 6_500.0, 300.0),
                ),
            ]
        },
    },
    Plant {
        typology: "insurance: inflated estimate",
        module: Endpoint::Insurance,
        span: Duration::minutes(1),
        marker: "PropertyInflationRule",
        build: |id, at| {
            let mut body = claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 4_500.0, at);
            body["estimated_value"] = json!(5_200.0);
            body["market_value"] = json!(3_200.0);
            vec![(at, body)]
        },
    },
    Plant {
        typology: "insurance: claim soon after inception",
        module: Endpoint::Insurance,
        span: Duration::minutes(1),
        marker: "EarlyClaimRule",
        build: |id, at| {
            let mut body = claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 2_300.0, at);
            body["policy_start_date"] = json!(day(at, 10));
            vec![(at, body)]
        },
    },
    Plant {
        typology: "insurance: late reporting",
        module: Endpoint::Insurance,
        span: Duration::minutes(1),
        marker: "LateReportingRule",
        build: |id, at| {
            let mut body = claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 2_300.0, at);
            body["incident_date"] = json!(day(at, 60));
            body["report_date"] = json!(day(at, 1));
            vec![(at, body)]
        },
    },
    Plant {
        typology: "insurance: repeat claims on one policy",
        module: Endpoint::Insurance,
        span: Duration::days(21),
        marker: "RepeatClaimsRule",
        build: |id, at| {
            (0..3)
                .map(|n| {
                    let when = at + Duration::days(10 * n as i64);
                    let amount = 1_100.0 + 200.0 * n as f64 + 0.45;
                    (
                        when,
                        claim(id, n, &format!("{id}-P"), &format!("{id}-C"), amount, when),
                    )
                })
                .collect()
        },
    },
    Plant {
        typology: "insurance: duplicate claim",
        module: Endpoint::Insurance,
        span: Duration::days(3),
        marker: "DuplicateClaimRule",
        build: |id, at| {
            let first = claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 1_870.25, at);
            let mut second = claim(id, 1, &format!("{id}-P"), &format!("{id}-C"), 1_870.25, at);
            second["report_date"] = first["report_date"].clone();
            vec![(at, first), (at + Duration::days(2), second)]
        },
    },
    Plant {
        typology: "insurance: ring sharing one phone",
        module: Endpoint::Insurance,
        span: Duration::days(9),
        marker: "SharedIdentifierRule",
        build: |id, at| {
            (0..3)
                .map(|n| {
                    let when = at + Duration::days(4 * n as i64);
                    let mut body = claim(
                        id,
                        n,
                        &format!("{id}-P{n}"),
                        &format!("{id}-C{n}"),
                        1_400.5,
                        when,
                    );
                    body["claimant_phone"] =
                        json!(format!("+1 555 {:07}", id.len() * 7919 % 10_000_000));
                    (when, body)
                })
                .collect()
        },
    },
    Plant {
        typology: "insurance: claim far above the estimate",
        module: Endpoint::Insurance,
        span: Duration::minutes(1),
        marker: "ExcessiveClaimRule",
        build: |id, at| {
            let mut body = claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 4_100.3, at);
            body["estimated_value"] = json!(2_000.0);
            body["market_value"] = json!(2_000.0);
            vec![(at, body)]
        },
    },
    Plant {
        typology: "insurance: just under a handler's authority limit",
        module: Endpoint::Insurance,
        span: Duration::minutes(1),
        marker: "AuthorityLimitRule",
        build: |id, at| {
            vec![(
                at,
                claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 9_870.4, at),
            )]
        },
    },
    Plant {
        typology: "insurance: round amount",
        module: Endpoint::Insurance,
        span: Duration::minutes(1),
        marker: "RoundAmountRule",
        build: |id, at| {
            vec![(
                at,
                claim(id, 0, &format!("{id}-P"), &format!("{id}-C"), 6_000.0, at),
            )]
        },
    },
    Plant {
        typology: "market: pump and dump",
        module: Endpoint::Market,
        span: Duration::days(8),
        marker: "Pump And Dump",
        build: |id, at| {
            let symbol = symbol_of(id);
            let mut events = Vec::new();
            for day_index in 0..7 {
                for n in 0..3 {
                    let when = at + Duration::days(day_index) + Duration::hours(2 * n);
                    let sequence = (day_index * 3 + n) as usize;
                    let body = trade(
                        id,
                        sequence,
                        &symbol,
                        &format!("{id}-T{n}"),
                        &format!("{id}-Q{n}"),
                        50.0,
                        1_000,
                    );
                    events.push((when, body));
                }
            }
            let pump_day = at + Duration::days(7);
            for (n, price) in [50.0, 54.0, 58.0, 63.0].iter().enumerate() {
                let body = trade(
                    id,
                    100 + n,
                    &symbol,
                    &format!("{id}-P{n}"),
                    &format!("{id}-Q{n}"),
                    *price,
                    4_000,
                );
                events.push((pump_day + Duration::hours(n as i64), body));
            }
            events
        },
    },
    Plant {
        typology: "market: wash trade with oneself",
        module: Endpoint::Market,
        span: Duration::minutes(1),
        marker: "Wash Trade",
        build: |id, at| {
            let trader = format!("{id}-T");
            vec![(
                at,
                trade(id, 0, &symbol_of(id), &trader, &trader, 41.5, 700),
            )]
        },
    },
    Plant {
        typology: "market: dump after the pump",
        module: Endpoint::Market,
        span: Duration::hours(6),
        marker: "Dump After Pump",
        build: |id, at| {
            let symbol = symbol_of(id);
            let dumper = format!("{id}-D");
            let mut events = vec![(
                at,
                trade(id, 0, &symbol, &dumper, &format!("{id}-Q"), 50.0, 2_000),
            )];
            for (n, price) in [54.0, 58.0, 63.0].iter().enumerate() {
                let body = trade(
                    id,
                    1 + n,
                    &symbol,
                    &format!("{id}-P{n}"),
                    &format!("{id}-Q{n}"),
                    *price,
                    1_500,
                );
                events.push((at + Duration::hours(1 + n as i64), body));
            }
            let mut dump = trade(id, 9, &symbol, &dumper, &format!("{id}-Q"), 52.0, 2_000);
            dump["side"] = json!("sell");
            events.push((at + Duration::hours(5), dump));
            events
        },
    },
    Plant {
        typology: "market: spoofing (orders cancelled after a fill)",
        module: Endpoint::Market,
        span: Duration::seconds(15),
        marker: "Spoofing",
        build: |id, at| {
            let (symbol, trader) = (symbol_of(id), format!("{id}-T"));
            let seconds = |s| at + Duration::seconds(s);
            let mut fill = trade(id, 0, &symbol, &trader, &format!("{id}-Q"), 40.1, 1_000);
            fill["side"] = json!("sell");
            vec![
                (
                    at,
                    order_event("order", &symbol, &trader, &format!("{id}-O1"), 40.0, 3_000),
                ),
                (
                    seconds(2),
                    order_event("order", &symbol, &trader, &format!("{id}-O2"), 40.05, 3_000),
                ),
                (seconds(5), fill),
                (
                    seconds(10),
                    order_event("cancel", &symbol, &trader, &format!("{id}-O1"), 40.0, 3_000),
                ),
                (
                    seconds(12),
                    order_event(
                        "cancel",
                        &symbol,
                        &trader,
                        &format!("{id}-O2"),
                        40.05,
                        3_000,
                    ),
                ),
            ]
        },
    },
    Plant {
        typology: "market: marking the close",
        module: Endpoint::Market,
        span: Duration::days(3),
        marker: "Marking The Close",
        build: |id, at| {
            let symbol = symbol_of(id);
            let mut events: Vec<(DateTime<Utc>, Value)> = [10, 11, 12, 13, 14]
                .iter()
                .enumerate()
                .map(|(n, hour)| {
                    let body = trade(
                        id,
                        n,
                        &symbol,
                        &format!("{id}-T{n}"),
                        &format!("{id}-Q{n}"),
                        30.0,
                        800,
                    );
                    (new_york(at, *hour, 0), body)
                })
                .collect();
            let close = trade(
                id,
                9,
                &symbol,
                &format!("{id}-M"),
                &format!("{id}-Q"),
                31.2,
                500,
            );
            events.push((new_york(at, 15, 55), close));
            events
        },
    },
    Plant {
        typology: "insurance: health provider far above its peers",
        module: Endpoint::Insurance,
        span: Duration::days(26),
        marker: "ProviderOutlierRule",
        build: |id, at| {
            let mut events: Vec<(DateTime<Utc>, Value)> = (0..25)
                .map(|n| {
                    let when = at + Duration::days(n as i64);
                    let amount = 950.0 + 7.0 * n as f64 + 0.35;
                    let mut body = claim(
                        id,
                        n,
                        &format!("{id}-P{n}"),
                        &format!("{id}-C{n}"),
                        amount,
                        when,
                    );
                    body["claim_type"] = json!("health");
                    body["item_category"] = json!("consultation");
                    body["provider_id"] = json!(format!("{id}-DR{n}"));
                    (when, body)
                })
                .collect();
            let when = at + Duration::days(25);
            let mut outlier = claim(
                id,
                99,
                &format!("{id}-PX"),
                &format!("{id}-CX"),
                4_210.35,
                when,
            );
            outlier["claim_type"] = json!("health");
            outlier["item_category"] = json!("consultation");
            outlier["provider_id"] = json!(format!("{id}-DRX"));
            events.push((when, outlier));
            events
        },
    },
    Plant {
        typology: "velocity spike against the sender's own active days",
        module: Endpoint::Aml,
        span: Duration::days(14),
        marker: "VelocityRule",
        build: |id, at| {
            // Twelve ordinary days make a profile (five active days and ten transfers at least,
            // before the last 24 hours); then three times the ordinary day in two hours.
            let sender = format!("{id}-S");
            let mut events: Vec<(DateTime<Utc>, Value)> = (0..12)
                .map(|n| {
                    let body = transfer(id, n, &sender, &format!("{id}-R{n}"), 480.0 + n as f64);
                    (at + Duration::days(n as i64), body)
                })
                .collect();
            for n in 0..3 {
                let body = transfer(id, 12 + n, &sender, &format!("{id}-R{n}"), 1_700.0);
                events.push((
                    at + Duration::days(12) + Duration::hours(2 * n as i64),
                    body,
                ));
            }
            events
        },
    },
    Plant {
        typology: "anomaly model: a burst unlike the population's",
        module: Endpoint::Aml,
        span: Duration::hours(1),
        marker: "AnomalyRule",
        build: |id, at| {
            (0..8)
                .map(|n| {
                    let amount = 90_000.0 + 1_000.0 * n as f64;
                    let body = transfer(id, n, &format!("{id}-S"), &format!("{id}-R{n}"), amount);
                    (minutes(at, 5 * n as i64), body)
                })
                .collect()
        },
    },
    Plant {
        typology: "market: layering (cancelled orders at three prices)",
        module: Endpoint::Market,
        span: Duration::seconds(15),
        marker: "Layering",
        build: |id, at| {
            let (symbol, trader) = (symbol_of(id), format!("{id}-T"));
            let seconds = |s| at + Duration::seconds(s);
            let mut fill = trade(id, 0, &symbol, &trader, &format!("{id}-Q"), 40.1, 1_000);
            fill["side"] = json!("sell");
            let levels = [(1, 40.0), (2, 40.05), (3, 39.95)];
            let mut events: Events = levels
                .iter()
                .map(|(n, price)| {
                    let order = format!("{id}-O{n}");
                    (
                        seconds(*n),
                        order_event("order", &symbol, &trader, &order, *price, 3_000),
                    )
                })
                .collect();
            events.push((seconds(5), fill));
            for (n, price) in levels {
                let order = format!("{id}-O{n}");
                events.push((
                    seconds(8 + n),
                    order_event("cancel", &symbol, &trader, &order, price, 3_000),
                ));
            }
            events
        },
    },
    Plant {
        typology: "market: unusual volume against the symbol's own month",
        module: Endpoint::Market,
        span: Duration::days(8),
        marker: "Unusual Activity",
        build: |id, at| {
            let symbol = symbol_of(id);
            let baseline = [
                (900, 30.0),
                (1_100, 30.1),
                (1_000, 29.95),
                (950, 30.05),
                (1_050, 30.0),
                (1_000, 30.1),
                (980, 30.0),
            ];
            let mut events: Events = baseline
                .iter()
                .enumerate()
                .map(|(n, (volume, price))| {
                    let body = trade(
                        id,
                        n,
                        &symbol,
                        &format!("{id}-T{n}"),
                        &format!("{id}-Q{n}"),
                        *price,
                        *volume,
                    );
                    (at + Duration::days(n as i64), body)
                })
                .collect();
            let burst = trade(
                id,
                9,
                &symbol,
                &format!("{id}-B"),
                &format!("{id}-Q"),
                30.05,
                12_000,
            );
            events.push((at + Duration::days(7), burst));
            events
        },
    },
    Plant {
        typology: "watchlisted sender (the seed's own watchlist)",
        module: Endpoint::Aml,
        span: Duration::minutes(1),
        marker: "WatchlistRule",
        build: |id, at| {
            vec![(
                at,
                transfer(id, 0, &watched_party(id), &format!("{id}-R"), 1_250.0),
            )]
        },
    },
    Plant {
        typology: "payment to a sanctioned party, by name (the demo list)",
        module: Endpoint::Aml,
        span: Duration::minutes(1),
        marker: "SanctionsMatchRule",
        build: |id, at| {
            let mut body = transfer(id, 0, &format!("{id}-S"), &format!("{id}-R"), 2_400.0);
            // RF-005 of config/sanctions-demo.csv, written as a customer would: in another
            // order, with a hyphen, and her date of birth and country.
            body["receiver_name"] = json!("Carla Beatriz Moreno-Valdez");
            body["receiver_date_of_birth"] = json!("1982-11-03");
            body["receiver_country"] = json!("PA");
            vec![(at, body)]
        },
    },
    Plant {
        typology: "credit: default model far above the lender's limit",
        module: Endpoint::Credit,
        span: Duration::minutes(1),
        marker: "model_risk",
        build: |id, at| {
            // Within every policy rule (debt-to-income about 0.35), but maxed-out cards, recent
            // late payments and delinquencies, a short history and many inquiries.
            let mut body = application(id, 0, &format!("{id}-A"), 3_000.0, 800.0);
            body["employment_length"] = json!(6);
            body["credit_utilization"] = json!(0.95);
            body["late_payments_12m"] = json!(3);
            body["delinquencies_24m"] = json!(2);
            body["credit_history_months"] = json!(12);
            body["recent_inquiries_6m"] = json!(4);
            vec![(at, body)]
        },
    },
];
