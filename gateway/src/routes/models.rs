//! The models behind the detections: GET /api/models/ shows the one scoring each module;
//! POST /api/models/<module>/train/ (admins) retrains it with analysts' labels, as
//! `redflag train <module> --with-labels` does, and swaps it in at once.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use redflag_core::{FieldReader, Module, NumberBounds, ValidationErrors};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use crate::auth::{Authenticated, Role};
use crate::body::read_json;
use crate::errors::ApiError;
use crate::models::{LabelReport, LabelledTrainingError, ModelCard, train_with_labels};
use crate::state::AppState;

/// GET /api/models/: the model scoring each module's events in this gateway now.
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, _user: Authenticated) -> HttpResponse {
    let detectors = state.detectors();
    let models: BTreeMap<String, InstalledModel> = Module::ALL
        .into_iter()
        .map(|module| {
            let card = detectors.versions.card(module);
            (module.as_str().to_owned(), InstalledModel::from(card))
        })
        .collect();
    HttpResponse::Ok().json(models)
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
    user.role.require(Role::Admin)?;
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
                LabelledTrainingError::TooFewDecisions(detail) => ApiError::Conflict(detail),
                LabelledTrainingError::Store(error) => error.into(),
                LabelledTrainingError::Failed(reason) => ApiError::internal(reason),
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
    /// `isolation_forest` or `logistic`.
    pub model: String,
    /// The name decisions and the audit log give it.
    #[schema(example = "isolation_forest 2026-11-26T15:25:46Z (2400 rows, seed 42)")]
    pub version: String,
    pub training_rows: usize,
    pub trained_at: String,
    /// The held-out report (ROC AUC, average precision, ...) and, for anomaly models, the score
    /// threshold.
    pub metrics: BTreeMap<String, f64>,
}

impl From<&ModelCard> for InstalledModel {
    fn from(card: &ModelCard) -> Self {
        Self {
            model: card.kind.clone(),
            version: card.version.clone(),
            training_rows: card.training_rows,
            trained_at: format_timestamp(card.created_at),
            metrics: card.metrics.clone(),
        }
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
