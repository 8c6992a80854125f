use std::sync::Arc;

use chrono::Duration;
use redflag_core::{
    Activity, ConfigError, Detector, EntityKind, History, Learning, Module, ModuleSpec,
    Observation, Rule, RuleSet, Verdict, WindowMode,
};
use redflag_ml_core::{
    AnomalyModel, Artifact, IsolationForest, verdict_with_model, verdict_with_score,
};
use redflag_rules::{CompiledRules, Customisable, FeatureSpec};

use crate::features::FeatureReader;

use crate::funds_flow::pass_through_window;
use crate::windows::{
    payee, receiver_daily, receiver_inflows, receiver_outflows, sender_daily, sender_inflows,
    sender_outflows,
};
use crate::{
    AmlConfig, ChainRule, FanInRule, FanOutRule, HighRiskJurisdictionRule, LargeTransactionRule,
    NameScreening, NearThresholdClusteringRule, PassThroughRule, PeerGroups, ProfileBreakRule,
    RoundAmountRule, RoundTripRule, SanctionsMatchRule, ScatterGatherRule, StructuringRule,
    Transaction, VelocityRule, Watchlist, WatchlistRule, model,
};

/// The AML engine: the transaction-monitoring typologies over each transfer's sender and receiver
/// windows, plus the anomaly model's score.
pub struct AmlDetector {
    config: AmlConfig,
    rules: RuleSet<Transaction>,
    model: Option<AnomalyModel>,
    /// The team's own rules (a published rule set), run after the built-in ones.
    custom: Option<Arc<CompiledRules>>,
    features: FeatureReader,
    /// Screening of the parties' names, when the service gives the lists.
    screening: Option<NameScreening>,
}

/// The AML verdict on one transfer: `risk` is the contract's `risk_score`.
pub type AmlAssessment = Verdict;

impl AmlDetector {
    /// The engine with its typologies configured; refuses settings that make them meaningless.
    pub fn new(config: AmlConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let rules: Vec<Box<dyn Rule<Transaction>>> = vec![
            Box::new(StructuringRule::new(&config)),
            Box::new(LargeTransactionRule::new(&config)),
            Box::new(NearThresholdClusteringRule::new(&config)),
            Box::new(VelocityRule::new(&config)),
            Box::new(PassThroughRule::new(&config)),
            Box::new(ChainRule::new(&config)),
            Box::new(ScatterGatherRule::new(&config)),
            Box::new(RoundTripRule::new(&config)),
            Box::new(ProfileBreakRule::new(&config)),
            Box::new(FanInRule::new(&config)),
            Box::new(FanOutRule::new(&config)),
            Box::new(RoundAmountRule::new(&config)),
            Box::new(HighRiskJurisdictionRule::new(&config)),
        ];
        let features = FeatureReader {
            jurisdictions: HighRiskJurisdictionRule::new(&config),
            reporting_threshold: config.reporting_threshold,
            pass_through_min_amount: config.pass_through_min_amount,
        };
        Ok(Self {
            config,
            rules: RuleSet::new(rules),
            model: None,
            custom: None,
            features,
            screening: None,
        })
    }

    /// Scores every transfer with the artifact's anomaly model too (its features:
    /// [`crate::model::FEATURES`]), alerting from the score measured on its training data.
    pub fn with_model(mut self, artifact: Artifact<IsolationForest>) -> Self {
        self.model = Some(AnomalyModel::from_artifact(artifact));
        self
    }

    /// Alerts from this score instead of the one measured on the training data (a deployment's
    /// calibration to its own traffic); `None` keeps the anomaly alert silent, as while the
    /// calibration warms up, and the score still ranks events. Call it after `with_model`.
    pub fn with_anomaly_threshold(mut self, threshold: Option<f64>) -> Self {
        if let Some(model) = &mut self.model {
            model.threshold = threshold;
        }
        self
    }

    /// Judges senders too new for a profile against these learned peer groups (see
    /// [`PeerGroups::learn`]) instead of the configured peer limits, and receivers that have not
    /// sent anything yet at their segment's scale.
    pub fn with_peer_groups(mut self, peers: PeerGroups) -> Self {
        self.rules.replace(Box::new(
            ProfileBreakRule::new(&self.config).with_peer_groups(peers.clone()),
        ));
        self.rules.replace(Box::new(
            VelocityRule::new(&self.config).with_peer_groups(peers),
        ));
        self
    }

    /// Screens the parties' names, when a transfer gives them, against the lists in use
    /// (`SanctionsMatchRule`).
    pub fn with_screening(mut self, screening: NameScreening) -> Self {
        self.screening = Some(screening.clone());
        self.rules
            .push(Box::new(SanctionsMatchRule::new(screening)));
        self
    }

    /// Hashes the transfer's named parties for screening and for the stored request (which
    /// keeps the hashes, never the names); without screening, the names are left unscreened
    /// and unstored.
    pub fn name_parties(&self, transaction: &mut Transaction) {
        let Some(screening) = &self.screening else {
            return;
        };
        let sender = transaction
            .sender_name
            .as_ref()
            .and_then(|name| screening.party("sender", name));
        let receiver = transaction
            .receiver_name
            .as_ref()
            .and_then(|name| screening.party("receiver", name));
        transaction.sender_name_hash = sender.as_ref().map(|named| named.party.name_hash.clone());
        transaction.receiver_name_hash =
            receiver.as_ref().map(|named| named.party.name_hash.clone());
        transaction.parties = sender.into_iter().chain(receiver).collect();
    }

    /// Checks every transfer's parties against this watchlist too.
    pub fn with_watchlist(mut self, watchlist: Watchlist) -> Self {
        if !watchlist.is_empty() {
            self.rules.push(Box::new(WatchlistRule::new(watchlist)));
        }
        self
    }

    /// How far back the sender's outflow detail is needed: the longest of the rules' windows (the
    /// 30-day baseline reads the daily sums instead).
    fn outflow_horizon(&self) -> Duration {
        let c = &self.config;
        [
            Duration::hours(i64::from(c.structuring_window_hours)),
            Duration::days(i64::from(c.clustering_window_days)),
            Duration::hours(i64::from(c.fan_window_hours)),
            Duration::days(i64::from(c.round_amount_window_days)),
            self.round_trip_window(),
            // The custom rules' longest sender feature (`sender_count_7d`).
            Duration::days(7),
        ]
        .into_iter()
        .max()
        .unwrap_or_else(|| Duration::hours(24))
    }

    /// How far back an account's inflows are needed: fan-in, the funds-flow typologies and round
    /// trips.
    fn inflow_horizon(&self) -> Duration {
        // At least a day: the custom rules' `receiver_*_24h` and `sender_received_24h`.
        Duration::hours(i64::from(self.config.fan_window_hours).max(24))
            .max(pass_through_window(&self.config))
            .max(self.round_trip_window())
    }

    fn round_trip_window(&self) -> Duration {
        Duration::hours(i64::from(self.config.round_trip_window_hours))
    }

    /// The rules, the custom rules and the model's verdict; `known_score` is the model's score
    /// on this event when another decision already computed it.
    fn decide(
        &self,
        transaction: &Transaction,
        history: &History,
        known_score: Option<Option<f64>>,
    ) -> AmlAssessment {
        let row = model::features(transaction, history);
        let score = || {
            known_score.unwrap_or_else(|| {
                self.model
                    .as_ref()
                    .and_then(|model| model.forest.score(&row).ok())
            })
        };
        let mut alerts = self.rules.evaluate(transaction, history);
        if let Some(custom) = &self.custom {
            // Scored here only for a rule that reads `model_score` (the verdict scores again,
            // unless the score is known).
            alerts.extend(
                custom.evaluate(&mut |index| {
                    self.features.value(index, transaction, history, &score)
                }),
            );
        }
        let (flag_at, model) = (self.config.flag_risk_score, self.model.as_ref());
        match known_score {
            Some(known) => {
                verdict_with_score(alerts, flag_at, model, &model::FEATURES, &row, known)
            }
            None => verdict_with_model(alerts, flag_at, model, &model::FEATURES, &row),
        }
    }
}

impl Customisable for AmlDetector {
    const CATALOGUE: &'static [FeatureSpec] = crate::features::CATALOGUE;

    fn builtin_rules(&self) -> Vec<&'static str> {
        self.rules.names()
    }

    fn with_rule_set(
        mut self,
        disabled: &[String],
        custom: Arc<CompiledRules>,
    ) -> Result<Self, String> {
        self.rules.disable(disabled)?;
        self.custom = Some(custom).filter(|custom| !custom.is_empty());
        Ok(self)
    }
}

impl Detector for AmlDetector {
    type Event = Transaction;
    type Assessment = AmlAssessment;

    const SPEC: ModuleSpec = ModuleSpec {
        module: Module::Aml,
        reference_field: "transaction_id",
        entity_field: "sender_id",
        event_time_field: "timestamp",
        windows: &[
            EntityKind::Sender,
            EntityKind::Receiver,
            EntityKind::SenderDaily,
            EntityKind::Payee,
        ],
        model_features: &model::FEATURES,
        learning: Learning::Anomaly,
    };

    /// A transfer worth following (at least `pass_through_min_amount`) reads the sender's own
    /// inflows first (what a pass-through moves on); the receiver's inflows then record it with
    /// its funds-flow depth over them. Every transfer is recorded in the receiver's inflows and
    /// in the sender's outflows (detail, and summed per day: the profile). A transfer worth
    /// following is also recorded among the sender's payments to this receiver (a recurring
    /// payee), and reads the receiver's outflows (where money that comes back went) and daily
    /// sums (the scale of money it ordinarily moves). Smaller transfers skip those four: the
    /// rules that need them do not look at a transfer below the minimum, and most transfers are
    /// small.
    fn observations(&self, transaction: &Transaction) -> Vec<Observation> {
        let activity = |counterparty: &str| {
            Activity::new(
                transaction.at,
                &transaction.transaction_id,
                transaction.amount,
                0.0,
                counterparty,
            )
        };
        let followed = transaction.amount >= self.config.pass_through_min_amount;
        let mut observations = Vec::with_capacity(7);
        if followed {
            observations.push(Observation {
                key: sender_inflows(transaction),
                activity: activity(&transaction.receiver_id),
                horizon: self.inflow_horizon(),
                mode: WindowMode::ReadOnly,
            });
        }
        observations.push(Observation {
            key: receiver_inflows(transaction),
            activity: activity(&transaction.sender_id),
            horizon: self.inflow_horizon(),
            mode: if followed {
                WindowMode::Forward {
                    source: 0,
                    within: pass_through_window(&self.config),
                    min_share: self.config.pass_through_min_share,
                }
            } else {
                WindowMode::Record
            },
        });
        observations.push(Observation {
            key: sender_outflows(transaction),
            activity: activity(&transaction.receiver_id),
            horizon: self.outflow_horizon(),
            mode: WindowMode::Record,
        });
        observations.push(Observation {
            key: sender_daily(transaction),
            activity: activity(&transaction.receiver_id),
            horizon: Duration::days(i64::from(self.config.velocity_baseline_days)),
            mode: WindowMode::Aggregate {
                bucket: Duration::days(1),
            },
        });
        if followed {
            observations.push(Observation {
                key: payee(transaction),
                activity: activity(""),
                horizon: Duration::days(i64::from(self.config.recurring_payee_days)),
                mode: WindowMode::Record,
            });
            observations.push(Observation {
                key: receiver_outflows(transaction),
                activity: activity(&transaction.sender_id),
                horizon: self.round_trip_window(),
                mode: WindowMode::ReadOnly,
            });
            observations.push(Observation {
                key: receiver_daily(transaction),
                activity: activity(&transaction.sender_id),
                horizon: Duration::days(i64::from(self.config.velocity_baseline_days)),
                mode: WindowMode::ReadAggregate {
                    bucket: Duration::days(1),
                },
            });
        }
        observations
    }

    /// Typologies flag; supporting signals (velocity, fans, round amounts, a large non-cash
    /// transfer, the anomaly model) rank but never flag alone ([`Verdict::from_alerts`]).
    fn detect(&self, transaction: &Transaction, history: &History) -> AmlAssessment {
        self.decide(transaction, history, None)
    }
    /// Reuses the model's score: rule sets change rules and thresholds, never the model.
    fn detect_beside(
        &self,
        transaction: &Transaction,
        history: &History,
        decided: &AmlAssessment,
    ) -> AmlAssessment {
        self.decide(transaction, history, Some(decided.exact_model_score))
    }
    fn history_rules(&self) -> Vec<&'static str> {
        self.rules.history_rules()
    }
    fn history_horizon(&self) -> Duration {
        let days = |days: u32| Duration::days(i64::from(days));
        [
            self.outflow_horizon(),
            self.inflow_horizon(),
            days(self.config.velocity_baseline_days),
            days(self.config.recurring_payee_days),
        ]
        .into_iter()
        .max()
        .unwrap_or_else(|| self.outflow_horizon())
    }
}
