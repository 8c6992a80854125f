//! The model lifecycle: each module's artifact is loaded from the models directory, or trained on
//! the module's synthetic defaults and written there; `redflag train` replaces one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use redflag_audit::AuditEvent;
use redflag_core::{Learning, Module};
use redflag_credit::CreditDetector;
use redflag_ml_core::metrics::LabelAgreement;
use redflag_ml_core::{
    Artifact, ArtifactError, Classifier, FeatureValue, IsolationForest, IsolationForestParams,
    LogisticModel, SYNTHETIC_SOURCE, Scorecard, ScorecardParams, TrainingError, TrainingSet,
    train_isolation_forest, train_scorecard,
};
use redflag_store::{Database, LabelledDecision};

use crate::ServiceError;
use crate::registry;
use crate::settings::{ModelSettings, TaskSettings};

/// Where an Isolation Forest score reads as anomalous when an artifact records no threshold.
const ANOMALY_SCORE_CUTOFF: f64 = 0.5;
/// Fewest labelled decisions the supervised credit model is trained on.
pub const MIN_LABELLED_DECISIONS: usize = 10;

/// The four modules' models, ready for the detectors.
pub struct Models {
    pub aml: Artifact<IsolationForest>,
    pub credit: CreditModel,
    pub insurance: Artifact<IsolationForest>,
    pub market: Artifact<IsolationForest>,
    /// Each module's model as the audit log names it ([`Artifact::version`]), with its training
    /// report (an anomaly model's training threshold among its metrics).
    pub versions: ModelVersions,
}

/// The credit default model: a scorecard, or a team's earlier logistic regression.
pub enum CreditModel {
    Scorecard(Artifact<Scorecard>),
    Logistic(Artifact<LogisticModel>),
}

impl CreditModel {
    /// The credit engine scoring with this model.
    pub fn install(self, detector: CreditDetector) -> CreditDetector {
        match self {
            Self::Scorecard(artifact) => detector.with_model(artifact),
            Self::Logistic(artifact) => detector.with_model(artifact),
        }
    }
}

/// The artifact kind of the anomaly models (aml, insurance, market).
const ANOMALY_KIND: &str = "isolation_forest";
/// The artifact kind of the credit default model trained now.
const SCORECARD_KIND: &str = "scorecard";
/// The artifact kind of the credit default model before the scorecard: still read.
const LOGISTIC_KIND: &str = "logistic";

/// A trained model with its artifact metadata.
pub enum ModuleModel {
    Anomaly(Artifact<IsolationForest>),
    /// The credit default model: it measured better than logistic regression on three of four
    /// public credit data sets (EVALUATION.md), and explains itself in points.
    Scorecard(Artifact<Scorecard>),
    /// A credit default model trained before the scorecard: it keeps scoring until retrained.
    Logistic(Artifact<LogisticModel>),
}

/// `$body` with `$artifact` bound to the model's artifact, whatever its kind.
macro_rules! each_artifact {
    ($model:expr, $artifact:ident => $body:expr) => {
        match $model {
            ModuleModel::Anomaly($artifact) => $body,
            ModuleModel::Scorecard($artifact) => $body,
            ModuleModel::Logistic($artifact) => $body,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The artifact predates the module's current features (an upgrade changed them).
    #[error(
        "{source}; retrain it with `redflag train {module}` (or delete it to train on synthetic \
         defaults at the next start)"
    )]
    Outdated {
        module: Module,
        source: ArtifactError,
    },
    #[error("training the {module} model failed: {source}")]
    Training {
        module: Module,
        source: TrainingError,
    },
}

/// The features a module's model takes, in order.
pub fn features(module: Module) -> &'static [&'static str] {
    registry::of(module).spec.model_features
}

/// The module's synthetic training data.
pub fn synthetic(module: Module, rows: usize, seed: u64) -> TrainingSet {
    (registry::of(module).synthetic)(rows, seed)
}

/// Where a module's artifact lives.
pub fn artifact_path(settings: &ModelSettings, module: Module) -> PathBuf {
    Path::new(&settings.directory).join(format!("{module}.json"))
}

/// Trains a module's model: a supervised one is a scorecard (the credit default model), one that
/// learns from traffic an Isolation Forest.
pub fn train(module: Module, set: &TrainingSet, seed: u64) -> Result<ModuleModel, ModelError> {
    match registry::of(module).spec.learning {
        Learning::Supervised => train_scorecard(set, &ScorecardParams::default(), seed)
            .map(ModuleModel::Scorecard)
            .map_err(|source| ModelError::Training { module, source }),
        Learning::Anomaly => train_anomaly(module, set, seed).map(ModuleModel::Anomaly),
    }
}

fn train_anomaly(
    module: Module,
    set: &TrainingSet,
    seed: u64,
) -> Result<Artifact<IsolationForest>, ModelError> {
    let params = IsolationForestParams {
        seed,
        ..IsolationForestParams::default()
    };
    train_isolation_forest(set, params).map_err(|source| ModelError::Training { module, source })
}

impl ModuleModel {
    /// The artifact installed for `module`, if there is one that still fits its features.
    pub fn installed(settings: &ModelSettings, module: Module) -> Result<Option<Self>, ModelError> {
        let path = artifact_path(settings, module);
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(Self::read(&path, module)?))
    }

    /// The artifact at `path` as `module`'s model: credit's of either supervised kind.
    fn read(path: &Path, module: Module) -> Result<Self, ArtifactError> {
        let features = features(module);
        if module != Module::Credit {
            return Ok(Self::Anomaly(Artifact::load(path, ANOMALY_KIND, features)?));
        }
        match Artifact::load(path, SCORECARD_KIND, features) {
            Err(ArtifactError::Kind { found, .. }) if found == LOGISTIC_KIND => Ok(Self::Logistic(
                Artifact::load(path, LOGISTIC_KIND, features)?,
            )),
            read => read.map(Self::Scorecard),
        }
    }

    /// The supervised model, for the credit engine; `None` for an anomaly model.
    fn classifier(&self) -> Option<&dyn Classifier> {
        match self {
            Self::Anomaly(_) => None,
            Self::Scorecard(artifact) => Some(&artifact.model),
            Self::Logistic(artifact) => Some(&artifact.model),
        }
    }

    /// How this model's flags agree with analysts' labels: an anomaly model flags at its
    /// training threshold, the default model at even odds.
    pub fn agreement(&self, labelled: &[LabelledDecision]) -> LabelAgreement {
        let labels: Vec<bool> = labelled.iter().map(|decision| decision.fraud).collect();
        let (scores, threshold): (Vec<f64>, f64) = match self {
            Self::Anomaly(artifact) => (
                labelled
                    .iter()
                    .map(|decision| artifact.model.score(&decision.features).unwrap_or(f64::NAN))
                    .collect(),
                artifact
                    .metrics
                    .get("threshold")
                    .copied()
                    .unwrap_or(ANOMALY_SCORE_CUTOFF),
            ),
            supervised => (
                labelled
                    .iter()
                    .map(|decision| {
                        let row: Vec<FeatureValue> = decision
                            .features
                            .iter()
                            .copied()
                            .map(FeatureValue::Number)
                            .collect();
                        supervised
                            .classifier()
                            .and_then(|model| model.probability(&row).ok())
                            .unwrap_or(f64::NAN)
                    })
                    .collect(),
                0.5,
            ),
        };
        LabelAgreement::measure(&labels, &scores, threshold)
    }

    pub fn card(&self) -> ModelCard {
        each_artifact!(self, artifact => ModelCard::of(artifact))
    }

    pub fn save(&self, path: &Path) -> Result<(), ArtifactError> {
        each_artifact!(self, artifact => artifact.save(path))
    }

    pub fn kind(&self) -> &str {
        each_artifact!(self, artifact => &artifact.kind)
    }

    pub fn training_rows(&self) -> usize {
        each_artifact!(self, artifact => artifact.training_rows)
    }

    pub fn metrics(&self) -> &BTreeMap<String, f64> {
        each_artifact!(self, artifact => &artifact.metrics)
    }

    fn set_source(&mut self, source: &str) {
        each_artifact!(self, artifact => artifact.source = source.to_owned())
    }

    /// Records `source` in the artifact, writes it to the module's place in the models
    /// directory and records a `model.trained` audit event naming what it was trained on;
    /// returns where it went.
    pub fn install(
        &mut self,
        settings: &ModelSettings,
        db: &Database,
        module: Module,
        source: &str,
        seed: u64,
        trained_by: Trainer<'_>,
    ) -> Result<PathBuf, ServiceError> {
        let path = artifact_path(settings, module);
        self.set_source(source);
        self.save(&path)?;
        let mut details = serde_json::json!({
            "model": self.kind(),
            "source": source,
            "training_rows": self.training_rows(),
            "seed": seed,
            "metrics": self.metrics(),
            "artifact": path.display().to_string(),
        });
        if let Some(labels) = trained_by.labels {
            details["labels"] = serde_json::json!(labels);
        }
        db.record_audit_event(&AuditEvent {
            kind: AuditEvent::MODEL_TRAINED,
            module: Some(module.as_str().to_owned()),
            entity_id: format!("model:{module}"),
            actor: trained_by.actor.to_owned(),
            details,
            recorded_at: Utc::now(),
        })?;
        Ok(path)
    }
}

/// Who trained a model, for its `model.trained` audit event: `system` (start-up, the worker,
/// the command line) or the admin who asked, with the label figures when labels were used.
#[derive(Clone, Copy)]
pub struct Trainer<'a> {
    pub actor: &'a str,
    pub labels: Option<&'a LabelReport>,
}

impl Trainer<'_> {
    pub const SYSTEM: Trainer<'static> = Trainer {
        actor: "system",
        labels: None,
    };
}

/// What a model in use is: the name decisions and the audit log give it, and its training report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelCard {
    /// [`Artifact::version`].
    pub version: String,
    pub kind: String,
    pub training_rows: usize,
    pub created_at: DateTime<Utc>,
    pub metrics: BTreeMap<String, f64>,
    /// What it was trained on ([`Artifact::source`]).
    pub source: String,
}

impl ModelCard {
    fn of<M>(artifact: &Artifact<M>) -> Self {
        Self {
            version: artifact.version(),
            kind: artifact.kind.clone(),
            training_rows: artifact.training_rows,
            created_at: artifact.created_at,
            metrics: artifact.metrics.clone(),
            source: artifact.source.clone(),
        }
    }
}

/// Which model each module's decisions are scored with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelVersions {
    pub aml: ModelCard,
    pub credit: ModelCard,
    pub insurance: ModelCard,
    pub market: ModelCard,
}

impl ModelVersions {
    /// The model's name, as each decision's audit record gives it.
    pub fn of(&self, module: Module) -> &str {
        &self.card(module).version
    }

    pub fn card(&self, module: Module) -> &ModelCard {
        match module {
            Module::Aml => &self.aml,
            Module::Credit => &self.credit,
            Module::Insurance => &self.insurance,
            Module::Market => &self.market,
        }
    }
}

/// Loads every module's artifact, training and writing the missing ones.
pub fn load_or_train(settings: &ModelSettings) -> Result<Models, ModelError> {
    let anomaly = |module| match load_or_train_one(settings, module)? {
        ModuleModel::Anomaly(artifact) => Ok(artifact),
        other => Err(wrong_kind(settings, module, other.kind(), ANOMALY_KIND)),
    };
    let aml = anomaly(Module::Aml)?;
    let insurance = anomaly(Module::Insurance)?;
    let market = anomaly(Module::Market)?;
    let credit = load_or_train_one(settings, Module::Credit)?;
    let versions = ModelVersions {
        aml: ModelCard::of(&aml),
        credit: credit.card(),
        insurance: ModelCard::of(&insurance),
        market: ModelCard::of(&market),
    };
    let credit = match credit {
        ModuleModel::Scorecard(artifact) => CreditModel::Scorecard(artifact),
        ModuleModel::Logistic(artifact) => CreditModel::Logistic(artifact),
        ModuleModel::Anomaly(artifact) => {
            return Err(wrong_kind(
                settings,
                Module::Credit,
                &artifact.kind,
                SCORECARD_KIND,
            ));
        }
    };
    Ok(Models {
        versions,
        aml,
        credit,
        insurance,
        market,
    })
}

fn wrong_kind(settings: &ModelSettings, module: Module, found: &str, expected: &str) -> ModelError {
    ModelError::Artifact(ArtifactError::Kind {
        path: artifact_path(settings, module),
        found: found.to_owned(),
        expected: expected.to_owned(),
    })
}

/// The module's artifact; when there is none yet, one trained on the module's synthetic defaults
/// and written there.
fn load_or_train_one(settings: &ModelSettings, module: Module) -> Result<ModuleModel, ModelError> {
    let path = artifact_path(settings, module);
    if path.exists() {
        match ModuleModel::read(&path, module) {
            Ok(model) => return Ok(model),
            // An anomaly model learns from unlabelled traffic: one that predates the features
            // is set aside, the synthetic defaults take its place, and the module warms up and
            // relearns from the decisions scored on the new features (see `calibrate`).
            Err(source @ ArtifactError::Features { .. })
                if registry::learns_from_traffic(module) =>
            {
                let aside = path.with_extension("outdated.json");
                match std::fs::rename(&path, &aside) {
                    Ok(()) => tracing::warn!(
                        %module, %source, set_aside = %aside.display(),
                        "the anomaly model predates this version's features: set aside; the \
                         synthetic defaults replace it until the module has warmed up again"
                    ),
                    // Another process sharing the directory set it aside first.
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(ModelError::Artifact(ArtifactError::Write {
                            path: aside,
                            source,
                        }));
                    }
                }
                if path.exists() {
                    return Ok(ModuleModel::read(&path, module)?);
                }
            }
            // A supervised model needs its labels again: that is the team's call.
            Err(source @ ArtifactError::Features { .. }) => {
                return Err(ModelError::Outdated { module, source });
            }
            Err(other) => return Err(ModelError::Artifact(other)),
        }
    }
    let mut model = train(
        module,
        &synthetic(module, settings.synthetic_rows, settings.seed),
        settings.seed,
    )?;
    model.set_source(SYNTHETIC_SOURCE);
    model.save(&path)?;
    tracing::info!(%module, path = %path.display(), rows = model.training_rows(), "trained the model on synthetic defaults");
    Ok(model)
}

/// What a scheduled retraining did for one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retraining {
    /// Trained on this many stored decisions and installed.
    Trained { rows: usize },
    /// Fewer usable decisions than `tasks.retrain_min_rows`; the model in use stays.
    TooFewDecisions { rows: usize },
    /// The artifact is younger than `tasks.retrain_hours` (another worker, or `redflag train`,
    /// made it): nothing to do yet.
    Fresh,
    /// A supervised model: it learns from analysts' labels, on demand (`redflag train credit
    /// --with-labels`), not on a timer.
    NeedsLabels,
}

/// Retrains `module`'s anomaly model on the figures its most recent decisions were scored on
/// (less those analysts confirmed as fraud), when its artifact is older than the retraining
/// interval, and installs it (the gateways swap it in; see `models.reload_seconds`).
pub fn retrain_on_decisions(
    models: &ModelSettings,
    tasks: &TaskSettings,
    db: &Database,
    module: Module,
    now: DateTime<Utc>,
) -> Result<Retraining, ServiceError> {
    if module == Module::Credit {
        return Ok(Retraining::NeedsLabels);
    }
    let interval = chrono::Duration::hours(i64::try_from(tasks.retrain_hours).unwrap_or(i64::MAX));
    if let Ok(Some(current)) = ModuleModel::installed(models, module)
        && now - current.card().created_at < interval
    {
        return Ok(Retraining::Fresh);
    }
    train_on_decisions(
        models,
        db,
        module,
        tasks.retrain_rows,
        tasks.retrain_min_rows,
        Trainer::SYSTEM,
    )
}

/// Trains `module`'s anomaly model on the figures of its `rows` most recent decisions, less those
/// analysts confirmed as fraud, and installs it as `trained_by`'s; at least `min_rows` are
/// needed.
pub fn train_on_decisions(
    models: &ModelSettings,
    db: &Database,
    module: Module,
    rows: i64,
    min_rows: usize,
    trained_by: Trainer<'_>,
) -> Result<Retraining, ServiceError> {
    let labelled = db.labelled_decisions(module)?;
    let normal = normal_decisions(db, rows, module, &labelled)?;
    let rows = normal.set.rows.nrows();
    if rows < min_rows.max(2) {
        return Ok(Retraining::TooFewDecisions { rows });
    }
    let mut model = train(module, &normal.set, models.seed)?;
    model.install(models, db, module, &normal.source, models.seed, trained_by)?;
    Ok(Retraining::Trained { rows })
}

/// The rows an anomaly model learns "normal" from: the module's most recent decisions, leaving
/// out those analysts confirmed as fraud (a forest that learns fraud as normal stops flagging it).
struct NormalDecisions {
    set: TrainingSet,
    source: String,
}

fn normal_decisions(
    db: &Database,
    rows: i64,
    module: Module,
    labelled: &[LabelledDecision],
) -> Result<NormalDecisions, redflag_store::StoreError> {
    let fraud: std::collections::HashSet<i64> = labelled
        .iter()
        .filter(|decision| decision.fraud)
        .map(|decision| decision.decision_id)
        .collect();
    let recent = db.recent_model_features(module, rows)?;
    let read = recent.len();
    let rows: Vec<Vec<f64>> = recent
        .into_iter()
        .filter(|decision| !fraud.contains(&decision.decision_id))
        .map(|decision| decision.features)
        .collect();
    let excluded = read - rows.len();
    let mut source = format!("the {read} most recent {module} decisions");
    if excluded > 0 {
        source.push_str(&format!(", less {excluded} confirmed fraud"));
    }
    Ok(NormalDecisions {
        set: TrainingSet::from_rows(features(module), &rows),
        source,
    })
}

/// What `redflag train <module> --with-labels` did: the model it installed and how the previous
/// and the new model agree with analysts' labels.
pub struct LabelledTraining {
    pub model: ModuleModel,
    pub source: String,
    /// Rows in the training set (the model holds some out for its report).
    pub rows: usize,
    pub labels: LabelReport,
    pub path: PathBuf,
}

/// The labels a training used and how models fared on them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LabelReport {
    /// Decisions closed cases labelled `confirmed_fraud`.
    pub confirmed_fraud: usize,
    /// Decisions closed cases labelled `false_positive`.
    pub false_positive: usize,
    /// The model in use before, on the labels; null when there was none (or it no longer
    /// loads).
    pub previous: Option<LabelAgreement>,
    /// The new model on the same labels (in-sample for the supervised credit model).
    pub new: LabelAgreement,
}

/// Trains `module`'s model with what analysts' closed cases say: the supervised credit model on
/// the labelled decisions themselves (confirmed fraud as the bad outcome), an anomaly model on
/// recent decisions without the confirmed fraud; installs it and reports the previous model's
/// precision on the labels.
pub fn train_with_labels(
    models: &ModelSettings,
    tasks: &TaskSettings,
    db: &Database,
    module: Module,
    seed: u64,
    actor: &str,
) -> Result<LabelledTraining, ServiceError> {
    let labelled = db.labelled_decisions(module)?;
    let confirmed_fraud = labelled.iter().filter(|decision| decision.fraud).count();
    let false_positive = labelled.len() - confirmed_fraud;
    let (set, source) = if module == Module::Credit {
        if labelled.len() < MIN_LABELLED_DECISIONS || confirmed_fraud == 0 || false_positive == 0 {
            return Err(ServiceError::TooFewDecisions(format!(
                "the credit model learns from labelled decisions and needs at least \
                 {MIN_LABELLED_DECISIONS} with both outcomes; closed cases label \
                 {confirmed_fraud} confirmed fraud and {false_positive} false positive(s)"
            )));
        }
        let rows: Vec<(Vec<f64>, bool)> = labelled
            .iter()
            .map(|decision| (decision.features.clone(), decision.fraud))
            .collect();
        (
            TrainingSet::from_labelled_rows(features(module), &rows),
            format!(
                "{} credit decisions labelled by closed cases",
                labelled.len()
            ),
        )
    } else {
        let normal = normal_decisions(db, tasks.retrain_rows, module, &labelled)?;
        let rows = normal.set.rows.nrows();
        if rows < tasks.retrain_min_rows.max(2) {
            return Err(ServiceError::TooFewDecisions(format!(
                "{rows} usable {module} decisions; retraining needs tasks.retrain_min_rows = {}",
                tasks.retrain_min_rows
            )));
        }
        (normal.set, normal.source)
    };
    let previous = ModuleModel::installed(models, module)
        .ok()
        .flatten()
        .map(|model| model.agreement(&labelled));
    let mut model = train(module, &set, seed)?;
    let labels = LabelReport {
        confirmed_fraud,
        false_positive,
        previous,
        new: model.agreement(&labelled),
    };
    let trained_by = Trainer {
        actor,
        labels: Some(&labels),
    };
    let path = model.install(models, db, module, &source, seed, trained_by)?;
    // A new anomaly model is measured on the traffic at once, not left silent until the next
    // calibration.
    crate::anomaly_calibration::calibrate(db, models, tasks, module, actor, Utc::now())?;
    Ok(LabelledTraining {
        model,
        source,
        rows: set.rows.nrows(),
        labels,
        path,
    })
}
