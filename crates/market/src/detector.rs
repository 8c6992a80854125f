use redflag_core::{
    Activity, Detector, EntityKind, History, Module, Observation, Rule, RuleSet, Verdict,
    WindowKey, WindowMode,
};

use redflag_ml_core::IsolationForest;

use crate::{MarketConfig, PumpAndDump, Trade, model};

/// The market engine: surveillance rules over the symbol's recent trading.
pub struct MarketDetector {
    config: MarketConfig,
    rules: RuleSet<Trade>,
    model: Option<IsolationForest>,
}

/// The market verdict on one trade.
pub type MarketAssessment = Verdict;

impl MarketDetector {
    pub fn new(config: MarketConfig) -> Self {
        let rules: Vec<Box<dyn Rule<Trade>>> = vec![Box::new(PumpAndDump::new(&config))];
        Self {
            config,
            rules: RuleSet::new(rules),
            model: None,
        }
    }

    /// Scores every trade with this anomaly model too (its features: [`crate::model::FEATURES`]).
    pub fn with_model(mut self, model: IsolationForest) -> Self {
        self.model = Some(model);
        self
    }
}

pub(crate) fn symbol_window(trade: &Trade) -> WindowKey {
    WindowKey::new(Module::Market, EntityKind::Symbol, &trade.symbol)
}

impl Detector for MarketDetector {
    type Event = Trade;
    type Assessment = MarketAssessment;

    const MODULE: Module = Module::Market;

    fn observations(&self, trade: &Trade) -> Vec<Observation> {
        // Without a trade id, a trade is known by trader, time and figures: an exact resend is not
        // counted twice, while distinct trades of one trader in the same instant both count.
        let reference = trade.trade_id.clone().unwrap_or_else(|| {
            format!(
                "{}@{}:{}x{}",
                trade.trader_id,
                trade.at.timestamp_micros(),
                trade.price,
                trade.volume
            )
        });
        vec![Observation {
            key: symbol_window(trade),
            activity: Activity {
                at: trade.at,
                reference,
                amount: trade.price,
                quantity: trade.volume,
                counterparty: String::new(),
            },
            horizon: chrono::Duration::hours(i64::from(self.config.pump_window_hours))
                + chrono::Duration::days(i64::from(self.config.baseline_days)),
            mode: WindowMode::Record,
        }]
    }

    fn detect(&self, trade: &Trade, history: &History) -> MarketAssessment {
        let model_score = self
            .model
            .as_ref()
            .and_then(|model| model.score(&model::features(trade, history)).ok());
        Verdict::from_alerts(
            self.rules.evaluate(trade, history),
            self.config.flag_risk_score,
        )
        .with_model_score(model_score)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-02-09T09:18:20Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn trade(price: f64, volume: f64) -> Trade {
        let body =
            json!({"symbol": "msft", "price": price, "volume": volume, "trader_id": "TR-99"});
        Trade::parse(&body, now()).expect("a valid trade")
    }

    fn past(hours_ago: i64, price: f64, volume: f64) -> Activity {
        Activity {
            at: now() - Duration::hours(hours_ago),
            reference: format!("t-{hours_ago}"),
            amount: price,
            quantity: volume,
            counterparty: String::new(),
        }
    }

    /// Ten quiet days of 2,000 shares a day at about 340.
    fn quiet_baseline() -> Vec<Activity> {
        (2..=11).map(|day| past(day * 24, 340.0, 2000.0)).collect()
    }

    #[test]
    fn a_price_surge_on_abnormal_volume_is_a_pump_with_the_figures() {
        let detector = MarketDetector::new(MarketConfig::default());
        let current = trade(425.5, 5000.0);
        let mut trades = quiet_baseline();
        trades.push(past(20, 340.4, 2000.0));
        trades.push(past(5, 380.0, 3400.0));
        let mut history = History::new();
        history.insert(symbol_window(&current), trades);
        let verdict = detector.detect(&current, &history);
        assert_eq!(current.symbol, "MSFT");
        assert_eq!(verdict.alerts.len(), 1, "{verdict:?}");
        let alert = &verdict.alerts[0];
        assert_eq!(alert.rule, "Pump And Dump");
        assert_eq!(alert.code, "pump_and_dump");
        // 10,400 shares in the window against 20,000 over the 10 baseline days = 5.2x.
        assert_eq!(
            alert.evidence,
            [
                "Trading volume 5.2x higher than 30-day average",
                "Price surged 25.0% in 24 hours"
            ]
        );
        assert!(verdict.flagged);
    }

    #[test]
    fn a_price_surge_on_normal_volume_is_not_a_pump() {
        let detector = MarketDetector::new(MarketConfig::default());
        let current = trade(425.5, 100.0);
        let mut trades = quiet_baseline();
        trades.push(past(20, 340.4, 100.0));
        let mut history = History::new();
        history.insert(symbol_window(&current), trades);
        assert!(detector.detect(&current, &history).alerts.is_empty());
    }

    #[test]
    fn a_symbol_without_baseline_history_stays_quiet() {
        let detector = MarketDetector::new(MarketConfig::default());
        let current = trade(425.5, 12000.0);
        let mut history = History::new();
        history.insert(symbol_window(&current), vec![past(3, 300.0, 50.0)]);
        let verdict = detector.detect(&current, &history);
        assert!(verdict.alerts.is_empty());
        assert_eq!(verdict.risk, 0.0);
    }
}
