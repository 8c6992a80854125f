//! The models behind the detections: GET /api/models/ shows the one scoring each module and its
//! anomaly alert's calibration; POST /api/models/<module>/train/ (admins) retrains it with
//! analysts' labels, as `redflag train <module> --with-labels` does, and swaps it in at once;
//! POST /api/models/calibrate/ (admins) calibrates the anomaly alerts now.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use redflag_core::{FieldReader, Module, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use redflag_service::ServiceError;

use crate::auth::{Authenticated, Role};
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::{AppState, Detectors};
use redflag_service::anomaly_calibration::{self, FeatureDrift};
use redflag_service::models::{LabelReport, ModelCard, train_with_labels};
use redflag_service::settings::ModelSettings;

/// GET /api/models/: the model scoring each module's events in this gateway now, with its
/// anomaly alert's calibration.
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, _user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(installed_models(&state))
}

/// POST /api/models/calibrate/ (admins): calibrates every anomaly module's alert now, as the
/// worker's `calibrate-anomaly` task does, and swaps the result in here at once.
#[tracing::instrument(skip_all)]
pub async fn calibrate(
    state: web::Data<AppState>,
    user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (db, models, tasks) = (
        state.db.clone(),
        state.settings.models.clone(),
        state.settings.tasks.clone(),
    );
    let actor = user.username.clone();
    web::block(move || {
        redflag_service::registry::anomaly_modules()
            .into_iter()
            .try_for_each(|module| {
                anomaly_calibration::calibrate(&db, &models, &tasks, module, &actor, Utc::now())
                    .map(drop)
            })
    })
    .await
    .map_err(ApiError::internal)??;
    if let Err(error) = state.reload_models() {
        tracing::error!(%error, "the calibrated models did not load; the ones in use are kept");
    }
    Ok(HttpResponse::Ok().json(installed_models(&state)))
}

fn installed_models(state: &AppState) -> BTreeMap<String, InstalledModel> {
    let detectors = state.detectors();
    Module::ALL
        .into_iter()
        .map(|module| {
            let mut installed = InstalledModel::from(detectors.versions.card(module));
            installed.anomaly_alert = AnomalyAlert::of(&detectors, &state.settings.models, module);
            (module.as_str().to_owned(), installed)
        })
        .collect()
}

/// The body of POST /api/models/<module>/train/: `{}`, or `{"seed": n}` to train with another
/// seed than `models.seed`.
pub struct TrainingRequest {
    pub seed: Option<u64>,
}

pub fn read_training_request(body: &Value) -> Result<TrainingRequest, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let seed = fields.optional_integer("seed", NumberBounds::COUNT);
    fields.reject_unknown(&["seed"]);
    fields.finish(|| TrainingRequest {
        seed: seed.and_then(|seed| u64::try_from(seed).ok()),
    })
}

#[tracing::instrument(skip_all, fields(module = %path.as_str()))]
pub async fn train(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let module: Module = path.parse().map_err(|_| ApiError::NotFound)?;
    let body = read_json(&request, payload, &state.settings.server).await?;
    let asked = read_training_request(&body)?;
    let (models, tasks, db) = (
        state.settings.models.clone(),
        state.settings.tasks.clone(),
        state.db.clone(),
    );
    let seed = asked.seed.unwrap_or(models.seed);
    let trained =
        web::block(move || train_with_labels(&models, &tasks, &db, module, seed, &user.username))
            .await
            .map_err(ApiError::internal)?
            .map_err(|error| match error {
                ServiceError::TooFewDecisions(detail) => ApiError::Conflict(detail),
                error => error.into(),
            })?;
    if let Err(error) = state.reload_models() {
        tracing::error!(%error, "the new model did not load; the models in use are kept");
    }
    let held_out = trained.rows - trained.model.training_rows();
    Ok(HttpResponse::Created().json(TrainingReport {
        module: module.as_str().to_owned(),
        installed: InstalledModel::from(&trained.model.card()),
        source: trained.source,
        held_out,
        labels: trained.labels,
    }))
}

/// A module's model as its artifact describes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalledModel {
    /// `isolation_forest`; for credit `scorecard` (or `logistic`, a model trained before the
    /// scorecard).
    pub model: String,
    /// The name decisions and the audit log give it.
    #[schema(example = "isolation_forest 2026-11-26T15:25:46Z (2400 rows, seed 42)")]
    pub version: String,
    pub training_rows: usize,
    pub trained_at: String,
    /// The held-out report (ROC AUC, average precision, ...) and, for anomaly models, the score
    /// threshold on its training data.
    pub metrics: BTreeMap<String, f64>,
    /// What it was trained on: `synthetic defaults`, the deployment's recent decisions, a file
    /// (empty for artifacts written before it was kept).
    pub source: String,
    /// The anomaly alert as this gateway applies it (anomaly models only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly_alert: Option<AnomalyAlert>,
}

impl From<&ModelCard> for InstalledModel {
    fn from(card: &ModelCard) -> Self {
        Self {
            model: card.kind.clone(),
            version: card.version.clone(),
            training_rows: card.training_rows,
            trained_at: format_timestamp(card.created_at),
            metrics: card.metrics.clone(),
            source: card.source.clone(),
            anomaly_alert: None,
        }
    }
}

/// Where a module's anomaly alert fires from, and how the traffic compares with the model's
/// training data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnomalyAlert {
    /// `calibrated` (from the deployment's recent traffic), `warming_up` (silent: too few events
    /// stored, or a new model not measured on them yet) or `training_threshold` (calibration off,
    /// `models.anomaly_alert_rate` 0).
    #[schema(example = "calibrated")]
    pub status: &'static str,
    /// The score from which the alert fires; absent while warming up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The share of recent events the threshold was set to flag (`models.anomaly_alert_rate`).
    pub alert_rate: f64,
    /// Stored decisions the last calibration read.
    pub events: usize,
    /// Decisions needed before the alert speaks (`models.calibration_min_events`).
    pub min_events: usize,
    /// When it was last calibrated; absent before the first calibration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibrated_at: Option<String>,
    /// Each feature's population stability index between the training data and the events of
    /// the last calibration: below 0.1 stable, 0.1-0.25 shifted, above 0.25 a different
    /// population (empty under 50 events).
    pub drift: Vec<FeatureDrift>,
}

impl AnomalyAlert {
    fn of(detectors: &Detectors, models: &ModelSettings, module: Module) -> Option<Self> {
        if !redflag_service::registry::learns_from_traffic(module) {
            return None;
        }
        let calibration = detectors.learned.anomaly(module);
        let calibrating = models.anomaly_alert_rate > 0.0;
        let threshold = detectors.anomaly_threshold(module);
        let status = match (calibrating, detectors.warming_up(module)) {
            (false, _) => "training_threshold",
            (true, true) => "warming_up",
            (true, false) => "calibrated",
        };
        Some(Self {
            status,
            threshold,
            alert_rate: models.anomaly_alert_rate,
            events: calibration.map_or(0, |calibration| calibration.events),
            min_events: models.calibration_min_events,
            calibrated_at: calibration
                .map(|calibration| format_timestamp(calibration.calibrated_at)),
            drift: calibration.map_or_else(Vec::new, |calibration| calibration.drift.clone()),
        })
    }
}

/// POST /api/models/<module>/train/: what was trained, on what, and how the previous and the new
/// model agree with analysts' labels.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingReport {
    pub module: String,
    pub installed: InstalledModel,
    /// What it learnt from, e.g. "the 27 most recent aml decisions, less 1 confirmed fraud".
    pub source: String,
    /// Rows kept out of training for the held-out report.
    pub held_out: usize,
    #[serde(flatten)]
    pub labels: LabelReport,
}
