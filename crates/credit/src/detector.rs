use std::sync::Arc;

use chrono::Duration;
use redflag_core::{
    Activity, Alert, Assessment, ConfigError, Detector, EntityKind, History, Learning, Module,
    ModuleSpec, Observation, Severity, ValidationErrors, WindowKey, WindowMode,
};
use redflag_ml_core::{Artifact, Classifier, FeatureValue};
use redflag_rules::{CompiledRules, Customisable, FeatureSpec};
use serde::Serialize;

use crate::decision::Finding;
use crate::features::Facts;
use crate::scaling::OddsScaling;
use crate::scorecard::{Evidence, Inquiries, Scorecard, Scored, thin_file};
use crate::{
    Affordability, Application, CreditConfig, Decision, Factors, ReasonCode, RiskTier, model,
    policy, reasons, referrals,
};

/// Regulation B practice: at most four principal reasons.
const MAX_REASONS: usize = 4;
/// A characteristic is a principal reason only when it lost at least this share of the points it
/// can lose: a 5% debt-to-income costs a few points, but is no reason to refuse credit.
const MIN_REASON_SHARE: f64 = 0.1;
/// An approval lists at most this many strengths.
const MAX_STRENGTHS: usize = 4;

/// The credit engine: scorecard, policy rules, referral signals, decision and adverse-action
/// reasons, plus the default model's second opinion.
pub struct CreditDetector {
    config: CreditConfig,
    model: Option<Arc<dyn Classifier>>,
    /// Built-in policy rules and referral signals a rule set switched off.
    disabled: Vec<&'static str>,
    /// A rule set's custom rules: critical ones decline, others refer, supporting ones report.
    custom: Option<Arc<CompiledRules>>,
}

/// The built-in policy rules and referral signals, by name: what a rule set can switch off.
const BUILTIN_RULES: [&str; 7] = [
    "MinimumIncomePolicy",
    "DebtToIncomePolicy",
    "BankruptcyPolicy",
    "LoanToIncomePolicy",
    referrals::APPLICATION_VELOCITY,
    referrals::INCOME_INCONSISTENCY,
    referrals::MODEL_RISK,
];

/// The credit verdict on one application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditAssessment {
    /// The scorecard score, 300..=850.
    pub credit_score: u32,
    pub decision: Decision,
    pub risk_tier: RiskTier,
    pub factors: Factors,
    /// Principal reasons, at most four: policy rules first, then the referral signals that turned
    /// an approval into a review, then the characteristics that cost most points. Empty when
    /// approved.
    pub reasons: Vec<ReasonCode>,
    /// The strengths of an approved file, in the applicant's own figures.
    pub strengths: Vec<String>,
    /// Every characteristic's part in the score, including the ones that cost nothing.
    pub characteristics: Vec<Scored>,
    /// The policy-rule and referral alerts, then one alert per characteristic reason.
    pub alerts: Vec<Alert>,
    /// True when the file has no six-month credit history or no open account: the score then
    /// rests on assumed averages, not evidence.
    pub thin_file: bool,
    /// The fields for which the population average was assumed.
    pub assumed_fields: Vec<&'static str>,
    /// (Existing debts + new instalment) / income from the figures supplied, three decimals.
    pub debt_to_income: Option<f64>,
    /// The estimated monthly instalment of the loan applied for, in cents precision.
    pub new_instalment: Option<f64>,
    /// The default model's probability of default (0..=1, three decimals), when there is a model.
    pub probability_of_default: Option<f64>,
    /// That probability on the 300-850 scale through [`OddsScaling::STANDARD`].
    pub model_score: Option<u32>,
    /// The figures the default model reads ([`crate::model::FEATURES`] order), kept with the
    /// decision so that the model can later be retrained on labelled outcomes.
    #[serde(skip)]
    pub model_features: Vec<f64>,
}

impl CreditDetector {
    /// The engine with the lender's cut-offs; refuses settings that make decisions meaningless.
    pub fn new(config: CreditConfig) -> Result<Self, ConfigError> {
        config.check()?;
        Ok(Self {
            config,
            model: None,
            disabled: Vec::new(),
            custom: None,
        })
    }

    /// Estimates every applicant's probability of default with the artifact's model too (its
    /// features: [`crate::model::FEATURES`]): a scorecard or logistic regression trained on
    /// labelled outcomes. Above `max_probability_of_default` it refers an approval.
    pub fn with_model<M: Classifier + 'static>(mut self, artifact: Artifact<M>) -> Self {
        self.model = Some(Arc::new(artifact.model));
        self
    }

    /// Scores one application on its own figures (no history of earlier applications): the
    /// entry point for a service embedding the scorer. The application is held to the rules the
    /// HTTP body is.
    pub fn assess(&self, application: &Application) -> Result<CreditAssessment, ValidationErrors> {
        application.validate()?;
        Ok(self.detect(application, &History::new()))
    }

    fn probability_of_default(&self, features: &[f64]) -> Option<f64> {
        let model = self.model.as_ref()?;
        let row: Vec<FeatureValue> = features.iter().copied().map(FeatureValue::Number).collect();
        model
            .probability(&row)
            .ok()
            .map(|p| (p * 1000.0).round() / 1000.0)
    }

    fn by_score(&self, score: u32) -> Decision {
        if score >= self.config.approve_min_score {
            Decision::Approved
        } else if score >= self.config.review_min_score {
            Decision::Review
        } else {
            Decision::Declined
        }
    }
}

fn applicant_window(application: &Application) -> WindowKey {
    WindowKey::new(
        Module::Credit,
        EntityKind::Applicant,
        &application.applicant_id,
    )
}

impl Customisable for CreditDetector {
    const CATALOGUE: &'static [FeatureSpec] = crate::features::CATALOGUE;

    fn builtin_rules(&self) -> Vec<&'static str> {
        BUILTIN_RULES.to_vec()
    }

    fn with_rule_set(
        mut self,
        disabled: &[String],
        custom: Arc<CompiledRules>,
    ) -> Result<Self, String> {
        let mut off = Vec::with_capacity(disabled.len());
        for name in disabled {
            let known = BUILTIN_RULES.iter().find(|rule| **rule == name.as_str());
            let Some(rule) = known else {
                return Err(format!(
                    "no built-in rule is named `{name}`; the rules are {}",
                    BUILTIN_RULES.join(", ")
                ));
            };
            off.push(*rule);
        }
        self.disabled = off;
        self.custom = Some(custom).filter(|custom| !custom.is_empty());
        Ok(self)
    }
}

impl Detector for CreditDetector {
    type Event = Application;
    type Assessment = CreditAssessment;

    const SPEC: ModuleSpec = ModuleSpec {
        module: Module::Credit,
        reference_field: "application_id",
        entity_field: "applicant_id",
        event_time_field: "timestamp",
        windows: &[EntityKind::Applicant],
        model_features: &model::FEATURES,
        learning: Learning::Supervised,
    };

    /// The applicant's applications, each remembered with the monthly income it stated (as the
    /// activity's amount; the amount requested is its quantity, for analysts reading the
    /// window), for as long as the longest credit window.
    fn observations(&self, application: &Application) -> Vec<Observation> {
        let reference = application.application_id.clone().unwrap_or_else(|| {
            format!(
                "{}@{}",
                application.applicant_id,
                application.at.timestamp_micros()
            )
        });
        vec![Observation {
            key: applicant_window(application),
            activity: Activity::new(
                application.at,
                &reference,
                application.monthly_income,
                application.requested_amount.unwrap_or(0.0),
                "",
            ),
            horizon: Duration::days(i64::from(self.config.history_days())),
            mode: WindowMode::Record,
        }]
    }

    fn detect(&self, application: &Application, history: &History) -> CreditAssessment {
        let earlier = history.get(&applicant_window(application));
        let inquiry_since =
            application.at - Duration::days(i64::from(self.config.inquiry_window_days));
        let evidence = Evidence {
            application,
            affordability: Affordability::of(application, &self.config),
            inquiries: Inquiries {
                reported: application.recent_inquiries_6m,
                seen: earlier
                    .iter()
                    .filter(|activity| activity.at >= inquiry_since)
                    .count(),
                window_days: self.config.inquiry_window_days,
            },
        };
        let scorecard = Scorecard::of(&evidence);
        let model_features = model::features(&evidence);
        let probability_of_default = self.probability_of_default(&model_features);
        let on = |finding: &Finding| !self.disabled.contains(&finding.alert.rule.as_str());
        let mut breaches: Vec<Finding> = policy::breaches(&evidence, &self.config)
            .into_iter()
            .filter(on)
            .collect();
        let mut signals: Vec<Finding> =
            referrals::signals(application, earlier, probability_of_default, &self.config)
                .into_iter()
                .filter(on)
                .collect();
        let mut reported = Vec::new();
        if let Some(custom) = &self.custom {
            let facts = Facts {
                application,
                debt_to_income: evidence.affordability.reported_ratio(),
                new_instalment: evidence.affordability.new_instalment,
                credit_score: scorecard.score,
                probability_of_default,
                earlier,
                inquiry_window: Duration::days(i64::from(self.config.inquiry_window_days)),
            };
            for alert in custom.evaluate(&mut |index| facts.value(index)) {
                if alert.is_supporting() {
                    reported.push(alert);
                } else if alert.severity == Severity::Critical {
                    breaches.push(Finding::custom(alert));
                } else {
                    signals.push(Finding::custom(alert));
                }
            }
        }

        let by_score = self.by_score(scorecard.score);
        let decision = if !breaches.is_empty() {
            Decision::Declined
        } else if by_score == Decision::Approved && !signals.is_empty() {
            Decision::Review
        } else {
            by_score
        };
        let risk_tier = RiskTier::of(scorecard.score);

        // The principal reasons: what decided first, then what cost most points.
        let mut deciding: Vec<&Finding> = breaches.iter().collect();
        if by_score == Decision::Approved {
            deciding.extend(&signals);
        }
        let (reasons, characteristic_reasons, strengths) = if decision == Decision::Approved {
            (Vec::new(), Vec::new(), strengths(&scorecard, &evidence))
        } else {
            let room = MAX_REASONS.saturating_sub(deciding.len());
            let costly: Vec<(&Scored, String)> = costliest(&scorecard)
                .into_iter()
                .take(room)
                .map(|scored| (scored, reasons::adverse(scored, &evidence)))
                .collect();
            let reasons = deciding
                .iter()
                .map(|finding| finding.reason())
                .take(MAX_REASONS)
                .chain(costly.iter().map(|(scored, message)| ReasonCode {
                    code: scored.characteristic.code(),
                    message: message.clone(),
                    points_lost: Some(scored.points_lost),
                }))
                .collect();
            (reasons, costly, Vec::new())
        };
        let severity = risk_tier.severity();
        let alerts = breaches
            .iter()
            .chain(&signals)
            .map(|finding| finding.alert.clone())
            .chain(reported)
            .chain(characteristic_reasons.into_iter().map(|(scored, message)| {
                Alert::new(
                    "AdverseActionReason",
                    "reason_code",
                    severity,
                    scored.deficit / scored.characteristic.max_deficit(),
                    message,
                )
                .with_metadata("characteristic", scored.characteristic.code())
                .with_metadata("points_lost", scored.points_lost)
                .with_metadata("assumed", scored.assumed)
            }))
            .collect();
        CreditAssessment {
            credit_score: scorecard.score,
            decision,
            risk_tier,
            factors: scorecard.factors,
            reasons,
            strengths,
            thin_file: thin_file(application),
            assumed_fields: scorecard.assumed_fields(),
            debt_to_income: evidence.affordability.reported_ratio().map(reasons::round3),
            new_instalment: evidence
                .affordability
                .new_instalment
                .map(|instalment| (instalment * 100.0).round() / 100.0),
            model_score: probability_of_default.map(|p| OddsScaling::STANDARD.score(p)),
            probability_of_default,
            characteristics: scorecard.characteristics,
            alerts,
            model_features: model_features.to_vec(),
        }
    }

    /// The referrals on earlier applications (and the inquiries the scorecard counts from them).
    fn history_rules(&self) -> Vec<&'static str> {
        vec![
            referrals::APPLICATION_VELOCITY,
            referrals::INCOME_INCONSISTENCY,
        ]
    }

    fn history_horizon(&self) -> Duration {
        Duration::days(i64::from(self.config.history_days()))
    }
}

/// The characteristics that count as reasons, most costly first: those that lost at least
/// [`MIN_REASON_SHARE`] of the points they can lose.
fn costliest(scorecard: &Scorecard) -> Vec<&Scored> {
    let mut costly: Vec<&Scored> = scorecard
        .characteristics
        .iter()
        .filter(|scored| {
            scored.points_lost > 0.0
                && scored.deficit >= MIN_REASON_SHARE * scored.characteristic.max_deficit()
        })
        .collect();
    costly.sort_by(|a, b| b.points_lost.total_cmp(&a.points_lost));
    costly
}

/// An approval's strengths, most important characteristic first.
fn strengths(scorecard: &Scorecard, evidence: &Evidence<'_>) -> Vec<String> {
    let mut strong: Vec<&Scored> = scorecard.characteristics.iter().collect();
    strong.sort_by(|a, b| importance(b).total_cmp(&importance(a)));
    strong
        .into_iter()
        .filter_map(|scored| reasons::positive(scored, evidence))
        .take(MAX_STRENGTHS)
        .collect()
}

/// The most points a characteristic can cost: strengths are listed most important first.
fn importance(scored: &Scored) -> f64 {
    scored.characteristic.max_deficit() * scored.characteristic.factor().weight()
}

impl Assessment for CreditAssessment {
    /// (850 - score) / 5.5: 0 for a perfect score, 100 for the floor.
    fn risk(&self) -> f64 {
        ((850.0 - f64::from(self.credit_score)) / 5.5 * 10.0).round() / 10.0
    }

    fn flagged(&self) -> bool {
        self.decision != Decision::Approved
    }

    /// The findings an analyst or auditor needs: policy rules, referral signals and the
    /// characteristic reasons. The decision itself is the assessment's `decision`, not an alert.
    fn alerts(&self) -> Vec<Alert> {
        self.alerts.clone()
    }

    fn decision(&self) -> Option<&str> {
        Some(self.decision.as_str())
    }

    fn model_features(&self) -> &[f64] {
        &self.model_features
    }
}
