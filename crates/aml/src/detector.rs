use chrono::Duration;
use redflag_core::{
    Activity, Detector, History, Module, Observation, Rule, RuleSet, Verdict, WindowMode,
};
use redflag_ml_core::{IsolationForest, verdict_with_model};

use crate::windows::{receiver_inflows, sender_daily, sender_inflows, sender_outflows};
use crate::{
    AmlConfig, FanInRule, FanOutRule, HighRiskJurisdictionRule, LargeTransactionRule,
    NearThresholdClusteringRule, PassThroughRule, RoundAmountRule, StructuringRule, Transaction,
    VelocityRule, Watchlist, WatchlistRule, model,
};

/// The AML engine: the transaction-monitoring typologies over each transfer's sender and receiver
/// windows, plus the anomaly model's score.
pub struct AmlDetector {
    config: AmlConfig,
    rules: RuleSet<Transaction>,
    model: Option<IsolationForest>,
    anomaly_threshold: Option<f64>,
}

/// The AML verdict on one transfer: `risk` is the contract's `risk_score`.
pub type AmlAssessment = Verdict;

impl AmlDetector {
    pub fn new(config: AmlConfig) -> Self {
        let rules: Vec<Box<dyn Rule<Transaction>>> = vec![
            Box::new(StructuringRule::new(&config)),
            Box::new(LargeTransactionRule::new(&config)),
            Box::new(NearThresholdClusteringRule::new(&config)),
            Box::new(VelocityRule::new(&config)),
            Box::new(PassThroughRule::new(&config)),
            Box::new(FanInRule::new(&config)),
            Box::new(FanOutRule::new(&config)),
            Box::new(RoundAmountRule::new(&config)),
            Box::new(HighRiskJurisdictionRule::new(&config)),
        ];
        Self {
            config,
            rules: RuleSet::new(rules),
            model: None,
            anomaly_threshold: None,
        }
    }

    /// Raises an `AnomalyRule` alert when the model's score reaches `threshold` (the artifact's
    /// `threshold` metric); without it the score is only reported.
    pub fn with_anomaly_threshold(mut self, threshold: f64) -> Self {
        self.anomaly_threshold = Some(threshold);
        self
    }

    /// Checks every transfer's parties against this watchlist too.
    pub fn with_watchlist(mut self, watchlist: Watchlist) -> Self {
        if !watchlist.is_empty() {
            self.rules.push(Box::new(WatchlistRule::new(watchlist)));
        }
        self
    }

    /// Scores every transfer with this anomaly model too (its features: [`crate::model::FEATURES`]).
    pub fn with_model(mut self, model: IsolationForest) -> Self {
        self.model = Some(model);
        self
    }

    /// How far back the sender's outflow detail is needed: the longest of the rules' windows (the
    /// 30-day baseline reads the daily sums instead).
    fn outflow_horizon(&self) -> Duration {
        let c = &self.config;
        [
            Duration::hours(i64::from(c.structuring_window_hours)),
            Duration::days(i64::from(c.clustering_window_days)),
            Duration::hours(i64::from(c.pass_through_window_hours)),
            Duration::hours(i64::from(c.fan_window_hours)),
            Duration::days(i64::from(c.round_amount_window_days)),
            Duration::hours(24),
        ]
        .into_iter()
        .max()
        .unwrap_or_else(|| Duration::hours(24))
    }

    /// How far back an account's inflows are needed: fan-in and pass-through.
    fn inflow_horizon(&self) -> Duration {
        Duration::hours(i64::from(
            self.config
                .fan_window_hours
                .max(self.config.pass_through_window_hours),
        ))
    }
}

impl Detector for AmlDetector {
    type Event = Transaction;
    type Assessment = AmlAssessment;

    const MODULE: Module = Module::Aml;

    /// The sender's outflows (detail, and summed per day for the baseline) and the receiver's
    /// inflows record the transfer; the sender's own inflows are only read (what it received is
    /// what a pass-through moves on).
    fn observations(&self, transaction: &Transaction) -> Vec<Observation> {
        let activity = |counterparty: &str| Activity {
            at: transaction.at,
            reference: transaction.transaction_id.clone(),
            amount: transaction.amount,
            quantity: 0.0,
            counterparty: counterparty.to_owned(),
        };
        vec![
            Observation {
                key: sender_outflows(transaction),
                activity: activity(&transaction.receiver_id),
                horizon: self.outflow_horizon(),
                mode: WindowMode::Record,
            },
            Observation {
                key: receiver_inflows(transaction),
                activity: activity(&transaction.sender_id),
                horizon: self.inflow_horizon(),
                mode: WindowMode::Record,
            },
            Observation {
                key: sender_daily(transaction),
                activity: activity(&transaction.receiver_id),
                horizon: Duration::days(i64::from(self.config.velocity_baseline_days)),
                mode: WindowMode::Aggregate {
                    bucket: Duration::days(1),
                },
            },
            Observation {
                key: sender_inflows(transaction),
                activity: activity(&transaction.receiver_id),
                horizon: Duration::hours(i64::from(self.config.pass_through_window_hours)),
                mode: WindowMode::ReadOnly,
            },
        ]
    }

    fn detect(&self, transaction: &Transaction, history: &History) -> AmlAssessment {
        verdict_with_model(
            self.rules.evaluate(transaction, history),
            self.config.flag_risk_score,
            self.model.as_ref(),
            &model::FEATURES,
            &model::features(transaction, history),
            self.anomaly_threshold,
        )
    }
    fn history_rules(&self) -> Vec<&'static str> {
        self.rules.history_rules()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use redflag_core::Severity;
    use redflag_ml_core::Sampler;
    use redflag_store::InProcessWindows;
    use serde_json::{Value, json};

    use super::*;

    /// Transfers through the detector as the gateway sends them, over the store's in-process
    /// windows.
    struct Scenario {
        detector: AmlDetector,
        windows: InProcessWindows,
    }

    impl Scenario {
        fn new() -> Self {
            Self::with(AmlConfig::default())
        }

        fn with(config: AmlConfig) -> Self {
            Self {
                detector: AmlDetector::new(config),
                windows: InProcessWindows::new(10_000),
            }
        }

        fn send(
            &mut self,
            id: &str,
            sender: &str,
            receiver: &str,
            amount: f64,
            at: &str,
            extra: Value,
        ) -> AmlAssessment {
            let mut body = json!({"transaction_id": id, "user_id": "U", "amount": amount,
                                  "sender_id": sender, "receiver_id": receiver, "timestamp": at});
            if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
                body.extend(extra);
            }
            let transaction = Transaction::parse(&body, Utc::now()).expect("a valid transfer");
            let observations = self.detector.observations(&transaction);
            let history = self.windows.observe_now(&observations);
            self.detector.detect(&transaction, &history)
        }

        fn rules(
            &mut self,
            id: &str,
            sender: &str,
            receiver: &str,
            amount: f64,
            at: &str,
        ) -> Vec<String> {
            rules(&self.send(id, sender, receiver, amount, at, json!({})))
        }
    }

    fn rules(verdict: &AmlAssessment) -> Vec<String> {
        verdict
            .alerts
            .iter()
            .map(|alert| alert.rule.clone())
            .collect()
    }

    fn at(hours: f64) -> String {
        let start = DateTime::parse_from_rfc3339("2026-02-01T09:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        (start + Duration::seconds((hours * 3600.0) as i64)).to_rfc3339()
    }

    #[test]
    fn without_history_every_rule_but_size_jurisdiction_and_watchlist_is_skipped() {
        let detector = AmlDetector::new(AmlConfig::default()).with_watchlist(
            Watchlist::from_csv("id,name,list\nX,Y,Z\n", "test").expect("a watchlist"),
        );
        assert_eq!(
            detector.history_rules(),
            [
                "StructuringRule",
                "NearThresholdClusteringRule",
                "VelocityRule",
                "RapidMovementRule",
                "FanInRule",
                "FanOutRule",
                "RoundAmountRule",
            ]
        );
    }

    #[test]
    fn structuring_fires_on_the_third_deposit_below_threshold_with_the_seed_reason() {
        let mut s = Scenario::new();
        assert!(s.rules("T1", "S", "R", 9800.0, &at(0.0)).is_empty());
        assert!(s.rules("T2", "S", "R", 9900.0, &at(1.0)).is_empty());
        let verdict = s.send("T3", "S", "R", 9800.0, &at(2.0), json!({}));
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "StructuringRule")
            .expect("structuring");
        assert_eq!(
            alert.reason,
            "Structuring detected: 3 transactions totaling $29500.00 in 24h, all below $10000.0 threshold"
        );
        assert_eq!(alert.metadata["num_transactions"], json!(3));
        assert_eq!(alert.metadata["total_amount"], json!(29500.0));
        assert_eq!((alert.severity, alert.confidence), (Severity::High, 0.8));
        assert!(verdict.flagged);
    }

    #[test]
    fn three_deposits_spread_over_thirty_hours_are_not_structuring() {
        let mut s = Scenario::new();
        for (i, hours) in [0.0, 15.0, 30.0].iter().enumerate() {
            let fired = s.rules(&format!("T{i}"), "S", "R", 9000.0, &at(*hours));
            assert!(!fired.contains(&"StructuringRule".to_owned()), "{fired:?}");
        }
    }

    #[test]
    fn small_payments_and_a_payment_at_the_threshold_are_not_structuring() {
        let mut s = Scenario::new();
        for (i, amount) in [120.0, 80.0, 45.5].iter().enumerate() {
            assert!(
                s.rules(&format!("T{i}"), "S", "R", *amount, &at(i as f64))
                    .is_empty()
            );
        }
        let mut s = Scenario::new();
        s.rules("A", "S", "R", 9800.0, &at(0.0));
        s.rules("B", "S", "R", 9900.0, &at(0.1));
        let fired = s.rules("C", "S", "R", 10_000.0, &at(0.2));
        assert!(!fired.contains(&"StructuringRule".to_owned()), "{fired:?}");
        assert!(
            fired.contains(&"LargeTransactionRule".to_owned()),
            "{fired:?}"
        );
    }

    #[test]
    fn a_large_cash_deposit_is_the_ctr_trigger_and_weighs_more_than_a_wire() {
        let mut s = Scenario::new();
        let cash = s.send(
            "C",
            "S",
            "R",
            12_000.0,
            &at(0.0),
            json!({"transaction_type": "cash_deposit"}),
        );
        assert_eq!(
            cash.alerts[0].reason,
            "Large cash transaction: $12000.00 at or above the $10000.0 reporting threshold"
        );
        assert_eq!(cash.alerts[0].metadata["cash"], json!(true));
        let wire = s.send(
            "W",
            "S2",
            "R",
            12_000.0,
            &at(0.0),
            json!({"transaction_type": "wire"}),
        );
        assert!(cash.alerts[0].confidence > wire.alerts[0].confidence);
        assert!(s.rules("X", "S3", "R", 9_999.99, &at(0.0)).is_empty());
    }

    #[test]
    fn amounts_clustered_just_under_the_threshold_over_days_are_flagged() {
        let mut s = Scenario::new();
        s.rules("T1", "S", "R1", 9500.0, &at(0.0));
        s.rules("T2", "S", "R1", 9300.0, &at(50.0));
        let verdict = s.send("T3", "S", "R1", 9700.0, &at(100.0), json!({}));
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "NearThresholdClusteringRule")
            .expect("clustering");
        assert_eq!(
            alert.reason,
            "Just-below-threshold clustering: 3 transactions between $9000.00 and $10000.0 in 7 days, totaling $28500.00"
        );
        assert!(
            !rules(&verdict).contains(&"StructuringRule".to_owned()),
            "days apart: not structuring"
        );
    }

    #[test]
    fn a_burst_within_hours_is_structurings_to_report_not_clustering() {
        let mut s = Scenario::new();
        s.rules("T1", "S", "R", 9500.0, &at(0.0));
        s.rules("T2", "S", "R", 9300.0, &at(2.0));
        assert_eq!(
            s.rules("T3", "S", "R", 9700.0, &at(4.0)),
            ["StructuringRule"]
        );
    }

    #[test]
    fn near_threshold_amounts_more_than_a_week_apart_or_outside_the_band_are_not_clustering() {
        let mut s = Scenario::new();
        for (i, hours) in [0.0, 100.0, 200.0].iter().enumerate() {
            assert!(
                !s.rules(&format!("T{i}"), "S", "R", 9500.0, &at(*hours))
                    .contains(&"NearThresholdClusteringRule".to_owned())
            );
        }
        let mut s = Scenario::new();
        for i in 0..3 {
            assert!(
                s.rules(&format!("T{i}"), "S", "R", 8500.0, &at(f64::from(i) * 40.0))
                    .is_empty()
            );
        }
    }

    #[test]
    fn six_transfers_in_an_hour_break_the_velocity_limit_and_five_do_not() {
        let mut s = Scenario::new();
        for i in 0..5 {
            assert!(
                s.rules(&format!("T{i}"), "S", "R", 120.5, &at(f64::from(i) * 0.1))
                    .is_empty()
            );
        }
        let verdict = s.send("T5", "S", "R", 120.5, &at(0.5), json!({}));
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "VelocityRule")
            .expect("velocity");
        assert_eq!(
            alert.reason,
            "Velocity limits exceeded: 6 transfers in 1 hour (limit 5)"
        );
        assert_eq!(alert.metadata["transactions_1h"], json!(6));
    }

    #[test]
    fn twenty_five_thousand_in_an_hour_breaks_the_hourly_amount_limit() {
        let mut s = Scenario::new();
        assert!(s.rules("T1", "S", "R", 9_000.5, &at(0.0)).is_empty());
        let verdict = s.send("T2", "S", "R", 16_000.5, &at(0.5), json!({}));
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "VelocityRule")
            .expect("velocity");
        assert_eq!(
            alert.evidence,
            ["$25001.00 sent in 1 hour (limit $20000.00)"]
        );
        let mut s = Scenario::new();
        s.rules("T1", "S", "R", 9_000.5, &at(0.0));
        let fired = s.rules("T2", "S", "R", 16_000.5, &at(1.5));
        assert!(
            !fired.contains(&"VelocityRule".to_owned()),
            "ninety minutes apart: {fired:?}"
        );
    }

    #[test]
    fn a_day_far_above_the_senders_own_baseline_is_a_velocity_spike() {
        let mut s = Scenario::new();
        for day in 0..10 {
            assert!(
                s.rules(
                    &format!("D{day}"),
                    "S",
                    "R",
                    100.25,
                    &at(f64::from(day) * 24.0)
                )
                .is_empty()
            );
        }
        let verdict = s.send(
            "SPIKE",
            "S",
            "R",
            2000.25,
            &at(10.0 * 24.0 + 1.0),
            json!({}),
        );
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "VelocityRule")
            .expect("spike");
        assert!(
            alert.evidence[0].contains("x the sender's daily average $100.25 over 30 days"),
            "{:?}",
            alert.evidence
        );
        let mut steady = Scenario::new();
        for day in 0..11 {
            assert!(
                steady
                    .rules(
                        &format!("D{day}"),
                        "S",
                        "R",
                        100.25,
                        &at(f64::from(day) * 24.0)
                    )
                    .is_empty()
            );
        }
    }

    #[test]
    fn money_received_and_sent_on_within_hours_is_rapid_movement() {
        let mut s = Scenario::new();
        s.rules("IN", "PAYER", "MULE", 10_000.0, &at(0.0));
        let verdict = s.send("OUT", "MULE", "ONWARD", 9_500.0, &at(3.0), json!({}));
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "RapidMovementRule")
            .expect("pass-through");
        assert_eq!(
            alert.reason,
            "Rapid movement: $9500.00 of $10000.00 received in 24h sent on again (95%)"
        );
        assert_eq!(alert.metadata["inflow_senders"], json!(1));

        let mut s = Scenario::new();
        s.rules("IN", "PAYER", "SAVER", 10_000.0, &at(0.0));
        assert!(
            s.rules("OUT", "SAVER", "SHOP", 5_000.0, &at(3.0))
                .is_empty(),
            "half kept: not pass-through"
        );
        let mut s = Scenario::new();
        s.rules("IN", "PAYER", "LATE", 10_000.0, &at(0.0));
        assert!(
            !s.rules("OUT", "LATE", "X", 9_500.0, &at(30.0))
                .contains(&"RapidMovementRule".to_owned()),
            "a day later"
        );
    }

    #[test]
    fn with_no_minimum_an_account_that_received_nothing_is_not_pass_through() {
        let config = AmlConfig {
            pass_through_min_amount: 0.0,
            ..AmlConfig::default()
        };
        let mut s = Scenario::with(config);
        assert!(
            s.rules("OUT", "FRESH", "ANYONE", 500.5, &at(0.0))
                .is_empty()
        );
    }

    #[test]
    fn five_distinct_senders_to_one_receiver_are_fan_in_and_one_sender_five_times_is_not() {
        let mut s = Scenario::new();
        for i in 0..4 {
            assert!(
                s.rules(
                    &format!("T{i}"),
                    &format!("P{i}"),
                    "COLLECTOR",
                    300.5,
                    &at(f64::from(i))
                )
                .is_empty()
            );
        }
        let verdict = s.send("T4", "P4", "COLLECTOR", 300.5, &at(4.0), json!({}));
        let alert = verdict
            .alerts
            .iter()
            .find(|a| a.rule == "FanInRule")
            .expect("fan-in");
        assert_eq!(
            alert.reason,
            "Fan-in: 5 distinct senders paid COLLECTOR $1502.50 in 24h"
        );
        let mut s = Scenario::new();
        for i in 0..5 {
            assert!(
                !s.rules(&format!("T{i}"), "P", "COLLECTOR", 300.5, &at(f64::from(i)))
                    .contains(&"FanInRule".to_owned())
            );
        }
    }

    #[test]
    fn one_sender_paying_five_receivers_in_a_day_is_fan_out_but_not_over_two_days() {
        let mut s = Scenario::new();
        for i in 0..4 {
            s.rules(
                &format!("T{i}"),
                "DIST",
                &format!("R{i}"),
                250.5,
                &at(f64::from(i)),
            );
        }
        let fired = s.rules("T4", "DIST", "R4", 250.5, &at(4.0));
        assert_eq!(fired, ["FanOutRule"]);
        let mut s = Scenario::new();
        for i in 0..5 {
            assert!(
                s.rules(
                    &format!("T{i}"),
                    "DIST",
                    &format!("R{i}"),
                    250.5,
                    &at(f64::from(i) * 9.0)
                )
                .is_empty()
            );
        }
    }

    #[test]
    fn repeated_round_amounts_are_flagged_and_amounts_with_cents_are_not() {
        let mut s = Scenario::new();
        s.rules("T1", "S", "R", 2000.0, &at(0.0));
        s.rules("T2", "S", "R", 3000.0, &at(30.0));
        let verdict = s.send("T3", "S", "R", 2000.0, &at(60.0), json!({}));
        assert_eq!(rules(&verdict), ["RoundAmountRule"]);
        assert_eq!(
            verdict.alerts[0].reason,
            "Repeated round amounts: 3 transfers in whole multiples of $1000 in 7 days, totaling $7000.00"
        );
        assert_eq!(verdict.alerts[0].severity, Severity::Low);
        let mut s = Scenario::new();
        for i in 0..3 {
            assert!(
                s.rules(&format!("T{i}"), "S", "R", 2000.5, &at(f64::from(i) * 30.0))
                    .is_empty()
            );
        }
    }

    #[test]
    fn a_counterparty_in_a_high_risk_jurisdiction_names_the_list() {
        let mut s = Scenario::new();
        let call = s.send(
            "T1",
            "S",
            "R",
            500.5,
            &at(0.0),
            json!({"sender_country": "US", "receiver_country": "IR"}),
        );
        assert_eq!(call.alerts[0].severity, Severity::Critical);
        assert_eq!(
            call.alerts[0].reason,
            "High-risk jurisdiction: receiver country IR is on the FATF call-for-action list (as of 2025-06-13)"
        );
        let monitored = s.send(
            "T2",
            "S",
            "R",
            500.5,
            &at(0.0),
            json!({"receiver_country": "vn"}),
        );
        assert_eq!(monitored.alerts[0].severity, Severity::High);
        assert!(
            s.send(
                "T3",
                "S",
                "R",
                500.5,
                &at(0.0),
                json!({"receiver_country": "FR"})
            )
            .alerts
            .is_empty()
        );
        let configured = Scenario::with(AmlConfig {
            high_risk_countries: vec!["fr".to_owned()],
            ..AmlConfig::default()
        })
        .send(
            "T4",
            "S",
            "R",
            500.5,
            &at(0.0),
            json!({"receiver_country": "FR"}),
        );
        assert_eq!(
            configured.alerts[0].metadata["list"],
            json!("configured high-risk list")
        );
    }

    #[test]
    fn a_hundred_ordinary_transfers_raise_no_alert_above_medium() {
        let mut s = Scenario::new();
        let mut random = Sampler::new(17);
        for i in 0..100 {
            let sender = format!("CUSTOMER-{}", random.below(30));
            let receiver = format!("MERCHANT-{}", random.below(60));
            let amount = (random.log_normal(4.5, 1.0) * 100.0).round() / 100.0 + 0.01;
            let hours = f64::from(i) * 1.7 + random.uniform(0.0, 1.0);
            let verdict = s.send(
                &format!("T{i}"),
                &sender,
                &receiver,
                amount,
                &at(hours),
                json!({}),
            );
            for alert in &verdict.alerts {
                assert!(alert.severity <= Severity::Medium, "{i}: {alert:?}");
            }
        }
    }
}
