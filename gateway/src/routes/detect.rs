//! The one detection pipeline every module's endpoint runs:
//! parse -> idempotency check -> window read-and-update -> detect -> persist -> respond.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use redflag_core::{Assessment, Detector, ValidationErrors};
use redflag_store::{DecisionToRecord, Recorded, StoredDecision, UserId};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::{AppState, Detectors};

/// What the gateway needs to know about a module's detector to serve it over HTTP.
pub trait Endpoint: Detector + Sized + 'static
where
    Self::Event: Serialize,
{
    /// The name of the business-id field, for conflict messages.
    const REFERENCE_FIELD: &'static str;

    fn select(detectors: &Detectors) -> &Self;
    /// Reads the event; a method, because a detector may need its own settings to read it (the
    /// insurance engine hashes contact identifiers with its key).
    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Self::Event, ValidationErrors>;
    /// The business id, when the event has one: it makes resends idempotent.
    fn reference(event: &Self::Event) -> Option<&str>;
    /// The entity the decision is about, for the audit log.
    fn entity(event: &Self::Event) -> &str;
    fn event_time(event: &Self::Event) -> DateTime<Utc>;
    /// The response body in the contract's shape, without `id`.
    fn render(
        event: &Self::Event,
        assessment: &Self::Assessment,
        timestamp: String,
    ) -> Map<String, Value>;
}

/// The contract's timestamp format: RFC 3339, UTC, milliseconds, `Z`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// POST /api/<module>/...: scores one event and records the decision before answering.
#[tracing::instrument(skip_all, fields(module = %D::MODULE))]
pub async fn detect<D>(
    state: web::Data<AppState>,
    user: Authenticated,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError>
where
    D: Endpoint,
    D::Event: Serialize,
{
    let started = std::time::Instant::now();
    let body = read_json(&request, payload, state.settings.server.body_limit_bytes).await?;
    let received = Utc::now();
    let detectors = state.detectors();
    let detector = D::select(&detectors);
    let event = detector.parse(&body, received)?;
    let request_json = serde_json::to_string(&event).map_err(ApiError::internal)?;

    if let Some(reference) = D::reference(&event) {
        let db = state.db.clone();
        let reference = reference.to_owned();
        let stored = web::block(move || db.find_decision(D::MODULE, &reference))
            .await
            .map_err(ApiError::internal)?
            .map_err(|error| ApiError::unavailable("Database unavailable.", error))?;
        if let Some(stored) = stored {
            return replay::<D>(&event, &request_json, stored);
        }
    }

    let observations = detector.observations(&event);
    let history = state
        .windows
        .observe(&observations)
        .await
        .map_err(|error| {
            ApiError::unavailable(
                "Recent-activity store unavailable; the event was not recorded.",
                error,
            )
        })?;
    for observation in &observations {
        state
            .telemetry
            .window_lookup(!history.get(&observation.key).is_empty());
    }
    let assessment = detector.detect(&event, &history);
    let alerts = assessment.alerts();
    let body = D::render(&event, &assessment, format_timestamp(D::event_time(&event)));
    let record = DecisionToRecord {
        module: D::MODULE,
        reference: D::reference(&event).map(str::to_owned),
        entity_id: D::entity(&event).to_owned(),
        risk_score: assessment.risk(),
        flagged: assessment.flagged(),
        decision: assessment.decision().map(str::to_owned),
        request_json: request_json.clone(),
        response_json: serde_json::to_string(&body).map_err(ApiError::internal)?,
        event_time: D::event_time(&event),
        recorded_at: received,
        created_by: Some(UserId(user.user_id)),
        actor: user.username.clone(),
        alerts,
        model_version: Some(detectors.versions.of(D::MODULE).to_owned()),
        latency: started.elapsed(),
        model_features: assessment.model_features().to_vec(),
    };
    let db = state.db.clone();
    let outcome = web::block(move || db.record_decision(&record).map(|outcome| (outcome, record)))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| {
            ApiError::unavailable("Database unavailable; the event was not recorded.", error)
        })?;
    match outcome {
        (Recorded::New(id), record) => {
            state
                .telemetry
                .decision(D::MODULE, record.flagged, &record.alerts);
            Ok(HttpResponse::Created().json(with_id(id.0, body)))
        }
        (Recorded::Existing(stored), _) => replay::<D>(&event, &request_json, stored),
    }
}

/// Answers a resent business id: the stored decision when the data is the same, 409 otherwise.
fn replay<D: Endpoint>(
    event: &D::Event,
    request_json: &str,
    stored: StoredDecision,
) -> Result<HttpResponse, ApiError>
where
    D::Event: Serialize,
{
    if stored.request_json != request_json {
        return Err(ApiError::Conflict(format!(
            "{} `{}` was already assessed with different data.",
            D::REFERENCE_FIELD,
            D::reference(event).unwrap_or_default()
        )));
    }
    let body = match serde_json::from_str(&stored.response_json).map_err(ApiError::internal)? {
        Value::Object(body) => body,
        _ => return Err(ApiError::internal("stored response is not a JSON object")),
    };
    Ok(HttpResponse::Ok().json(with_id(stored.id.0, body)))
}

/// Puts `id` first, as the contract's examples show it.
fn with_id(id: i64, body: Map<String, Value>) -> Value {
    let mut response = Map::with_capacity(body.len() + 1);
    response.insert("id".to_owned(), Value::from(id));
    response.extend(body);
    Value::Object(response)
}
