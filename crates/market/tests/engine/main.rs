//! The market engine on timestamped event sequences, through the store's real in-process
//! windows: each typology's scenario and the near miss that must stay quiet.

mod abuse;
mod baseline;
mod custom_rules;
mod multi_day;
mod validation;

use chrono::{DateTime, Duration, Utc};
use redflag_core::{Alert, Detector};
use redflag_market::{MarketAssessment, MarketConfig, MarketDetector, MarketEvent};
use redflag_windows::InProcessWindows;
use serde_json::{Value, json};

pub struct Scenario {
    detector: MarketDetector,
    windows: InProcessWindows,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            detector: MarketDetector::new(MarketConfig::default()).expect("the default session"),
            windows: InProcessWindows::new(10_000),
        }
    }
}

impl Scenario {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_detector(detector: MarketDetector) -> Self {
        Self {
            detector,
            windows: InProcessWindows::new(10_000),
        }
    }

    /// Sends one event: `fields` completes the body (symbol, price, volume, trader_id, ...).
    pub fn send(&self, at: DateTime<Utc>, fields: Value) -> MarketAssessment {
        let mut body = json!({"timestamp": at.to_rfc3339()});
        if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
            body.extend(fields);
        }
        let event = MarketEvent::parse(&body, Utc::now()).expect("a valid event");
        self.detector.score(&event, &mut &self.windows)
    }

    /// A trade of `trader` in `symbol`.
    pub fn trade(
        &self,
        at: DateTime<Utc>,
        symbol: &str,
        price: f64,
        volume: f64,
        trader: &str,
        extra: Value,
    ) -> MarketAssessment {
        let mut fields =
            json!({"symbol": symbol, "price": price, "volume": volume, "trader_id": trader});
        if let (Some(fields), Value::Object(extra)) = (fields.as_object_mut(), extra) {
            fields.extend(extra);
        }
        self.send(at, fields)
    }

    /// 30 days of ordinary trading in `symbol` before `until`: five trades a day of 380-420
    /// shares around $10.
    pub fn ordinary_month(&self, symbol: &str, until: DateTime<Utc>) {
        for day in (1..=30).rev() {
            for i in 0..5 {
                let at = until - Duration::days(day) + Duration::hours(2 * i);
                let wobble = f64::from(((day * 7 + i * 3) % 9) as i32 - 4);
                self.trade(
                    at,
                    symbol,
                    10.0 + wobble * 0.02,
                    400.0 + wobble * 5.0,
                    &format!("MM-{i}"),
                    json!({}),
                );
            }
        }
    }
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid test time")
        .with_timezone(&Utc)
}

pub fn alert<'a>(verdict: &'a MarketAssessment, rule: &str) -> Option<&'a Alert> {
    verdict.alerts.iter().find(|alert| alert.rule == rule)
}

pub fn rules(verdict: &MarketAssessment) -> Vec<&str> {
    verdict
        .alerts
        .iter()
        .map(|alert| alert.rule.as_str())
        .collect()
}
