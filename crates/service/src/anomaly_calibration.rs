//! Anomaly alerts calibrated to the deployment. A model's training threshold describes the data
//! it was trained on; on a deployment's own traffic a synthetic model finds nearly everything
//! unusual. So the worker's `calibrate-anomaly` task scores each anomaly module's most recent
//! decisions (the figures stored with them) and stores the score that `models.anomaly_alert_rate`
//! of them reach: every gateway reads it back and fires the alert from there.
//!
//! Until a module has `models.calibration_min_events` stored decisions its alert stays silent
//! (warming up). At the first calibration after that, a model still trained on synthetic
//! defaults is retrained on the traffic (less confirmed fraud) before it is calibrated. Each
//! calibration also measures each feature's drift from the model's training data (PSI).

use chrono::{DateTime, Utc};
use redflag_audit::AuditEvent;
use redflag_core::Module;
use redflag_ml_core::{SYNTHETIC_SOURCE, contamination_threshold};
use redflag_store::{Database, ScoredDecision};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ServiceError;
use crate::models::{ModuleModel, Retraining, Trainer, train_on_decisions};
use crate::settings::{ModelSettings, TaskSettings};

/// Fewest events drift is measured on: under five per decile bin, the index is noise.
const MIN_DRIFT_EVENTS: usize = 50;

/// Where a module's calibration is stored.
pub fn calibration_name(module: Module) -> String {
    format!("{module}.anomaly")
}

/// A module's anomaly alert as last calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyCalibration {
    /// The model it was measured for; while another model scores, the alert is silent until the
    /// next calibration.
    pub model_version: String,
    /// The score from which the alert fires; absent while the model is warming up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The share of recent events the threshold lets the alert fire on
    /// (`models.anomaly_alert_rate`).
    pub alert_rate: f64,
    /// Stored decisions it was measured on (while warming up: those stored so far).
    pub events: usize,
    /// Decisions needed before the alert speaks (`models.calibration_min_events`).
    pub min_events: usize,
    /// Whether this calibration first retrained a model trained on synthetic defaults on the
    /// deployment's traffic.
    pub retrained: bool,
    /// Each feature's population stability index between the model's training data and these
    /// events: below 0.1 stable, 0.1-0.25 shifted, above 0.25 a different population (none under
    /// 50 events, where it is noise).
    pub drift: Vec<FeatureDrift>,
    /// When it was measured.
    pub calibrated_at: DateTime<Utc>,
}

/// One feature's drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeatureDrift {
    pub feature: String,
    pub psi: f64,
}

impl AnomalyCalibration {
    /// The threshold to fire the alert from when `version` scores: none while warming up or
    /// when it was measured for another model.
    pub fn threshold_for(&self, version: &str) -> Option<f64> {
        self.threshold.filter(|_| self.model_version == version)
    }
}

/// Calibrates `module`'s anomaly alert on its most recent decisions (at most
/// `tasks.retrain_rows`) and stores the result; a change of which events the alert fires on is
/// audited as `anomaly.calibrated` under `actor`, as is the retraining that ends a warm-up
/// (`model.trained`). Returns `None` when calibration is off (`models.anomaly_alert_rate` 0) or
/// the module has no anomaly model (credit), so a caller that has just installed any model may
/// call it.
pub fn calibrate(
    db: &Database,
    models: &ModelSettings,
    tasks: &TaskSettings,
    module: Module,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<AnomalyCalibration>, ServiceError> {
    if models.anomaly_alert_rate <= 0.0 || !crate::registry::learns_from_traffic(module) {
        return Ok(None);
    }
    let mut recent = usable(
        module,
        db.recent_model_features(module, tasks.retrain_rows)?,
    );
    let warm = recent.len() >= models.calibration_min_events.max(1);
    let mut model = installed(models, module)?;
    let mut retrained = false;
    if warm && model.card().source == SYNTHETIC_SOURCE {
        let rows = tasks.retrain_rows;
        let trained_by = Trainer {
            actor,
            labels: None,
        };
        if let Retraining::Trained { .. } = train_on_decisions(
            models,
            db,
            module,
            rows,
            models.calibration_min_events,
            trained_by,
        )? {
            model = installed(models, module)?;
            retrained = true;
            // Retraining read the same decisions; reading them again keeps any that arrived.
            recent = usable(module, db.recent_model_features(module, rows)?);
        }
    }
    let ModuleModel::Anomaly(artifact) = &model else {
        return Err(ServiceError::NotAnomaly(module));
    };
    let threshold = if warm {
        let scores: Vec<f64> = recent
            .iter()
            .filter_map(|decision| artifact.model.score(&decision.features).ok())
            .collect();
        Some(contamination_threshold(&scores, models.anomaly_alert_rate)?)
    } else {
        None
    };
    let drift = artifact
        .profile
        .iter()
        .filter(|_| recent.len() >= MIN_DRIFT_EVENTS)
        .enumerate()
        .filter_map(|(j, profile)| {
            let values = recent
                .iter()
                .filter_map(|decision| decision.features.get(j).copied());
            Some(FeatureDrift {
                feature: profile.feature.clone(),
                psi: (profile.stability(values)? * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    let calibration = AnomalyCalibration {
        model_version: artifact.version(),
        threshold,
        alert_rate: models.anomaly_alert_rate,
        events: recent.len(),
        min_events: models.calibration_min_events,
        retrained,
        drift,
        calibrated_at: now,
    };
    // One that no longer reads (written by another version) is replaced, not a reason to stop.
    let before = stored(db, module).ok().flatten();
    let body = serde_json::to_string(&calibration)
        .map_err(ServiceError::json(format!("{module} calibration")))?;
    db.put_calibration(&calibration_name(module), &body, now)?;
    if changed(before.as_ref(), &calibration) {
        db.record_audit_event(&AuditEvent {
            kind: AuditEvent::ANOMALY_CALIBRATED,
            module: Some(module.as_str().to_owned()),
            entity_id: calibration_name(module),
            actor: actor.to_owned(),
            details: serde_json::to_value(&calibration)
                .map_err(ServiceError::json(format!("{module} calibration")))?,
            recorded_at: now,
        })?;
    }
    Ok(Some(calibration))
}

/// The module's calibration as last stored; `None` before the first.
pub fn stored(db: &Database, module: Module) -> Result<Option<AnomalyCalibration>, ServiceError> {
    let name = calibration_name(module);
    let Some((body, _)) = db.calibration(&name)? else {
        return Ok(None);
    };
    serde_json::from_str(&body)
        .map(Some)
        .map_err(ServiceError::json(format!("stored {name} calibration")))
}

/// Whether the alert now fires on other events than before: a threshold set, removed, moved by
/// 0.01 or more (scores run 0-1), or set for another model. A warm-up that goes on changes
/// nothing: the alert was silent and stays so.
fn changed(before: Option<&AnomalyCalibration>, now: &AnomalyCalibration) -> bool {
    let firing = |calibration: &AnomalyCalibration| {
        calibration
            .threshold
            .map(|threshold| (calibration.model_version.clone(), threshold))
    };
    match (before.and_then(firing), firing(now)) {
        (None, None) => false,
        (Some((was, old)), Some((is, new))) => was != is || (old - new).abs() >= 0.01,
        _ => true,
    }
}

/// The decisions whose stored figures the module's model can read now (one stored before an
/// upgrade changed the features, or with a missing figure, is left out).
fn usable(module: Module, decisions: Vec<ScoredDecision>) -> Vec<ScoredDecision> {
    let width = crate::models::features(module).len();
    decisions
        .into_iter()
        .filter(|decision| {
            decision.features.len() == width
                && decision.features.iter().all(|value| value.is_finite())
        })
        .collect()
}

fn installed(models: &ModelSettings, module: Module) -> Result<ModuleModel, ServiceError> {
    ModuleModel::installed(models, module)?.ok_or(ServiceError::NotInstalled(module))
}
