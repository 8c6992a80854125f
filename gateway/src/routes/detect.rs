//! The one detection pipeline every module's endpoint runs:
//! parse -> idempotency check -> window read-and-update -> detect -> persist -> respond.

use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use redflag_core::{Assessment, Detector, Event, History, Module, ValidationErrors};
use redflag_store::{DecisionToRecord, PartyToRemember, Recorded, StoredDecision, UserId};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::render::object;
use crate::auth::Authenticated;
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::{AppState, Detectors};
use redflag_service::settings::OnUnavailable;

/// What the gateway needs to know about a module's detector to serve it over HTTP.
pub trait Endpoint: Detector + Sized + 'static
where
    Self::Event: Serialize,
{
    fn select(detectors: &Detectors) -> &Self;
    /// Reads the event; a method, because a detector may need its own settings to read it (the
    /// insurance engine hashes contact identifiers with its key).
    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Self::Event, ValidationErrors>;
    /// The business-id field this body may leave out (credit's `application_id`, a market
    /// trade's `trade_id`); none where the id is required (AML, insurance) or the event has none.
    fn optional_reference_field(_body: &Map<String, Value>) -> Option<&'static str> {
        None
    }
    /// Reads back an event as its decision stored it (`request_json`, at its event time): what
    /// windows are warmed with, without the request-time work (screening names, hashing).
    fn read_stored(
        stored: &Value,
        event_time: DateTime<Utc>,
    ) -> Result<Self::Event, ValidationErrors>;
    /// The parties the event names, to remember for screening when a list changes (AML's
    /// named senders and receivers); none by default.
    fn parties(_event: &Self::Event) -> Vec<PartyToRemember> {
        Vec::new()
    }
    /// The response body in the contract's shape, without `id`.
    fn render(
        event: &Self::Event,
        assessment: &Self::Assessment,
        timestamp: String,
    ) -> Map<String, Value>;
}

/// Added to a decision taken without its history (the windows' store unreachable,
/// `windows.on_unavailable = "degrade"`); absent otherwise.
#[derive(Debug, Serialize, ToSchema)]
pub struct Degradation {
    /// Always true when present.
    pub degraded: bool,
    /// The rules that need history and were not checked.
    #[schema(example = json!(["StructuringRule", "VelocityRule"]))]
    pub skipped_rules: Vec<String>,
}

/// Added while the module's anomaly alert is silent because its model is not yet calibrated on
/// the deployment's traffic (see `models.calibration_min_events`); absent otherwise.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarmingUp {
    /// Always true when present.
    pub model_warming_up: bool,
}

/// The contract's timestamp format: RFC 3339, UTC, milliseconds, `Z`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Gives an event read from a stream or a file that left out its optional business id (see
/// [`Endpoint::optional_reference_field`]) the id `key`: the place it was read from, so that
/// reading it again is recognised as the same event.
pub fn fill_reference<D: Endpoint>(body: &mut Value, key: impl FnOnce() -> String)
where
    D::Event: Serialize,
{
    if let Some(fields) = body.as_object_mut()
        && let Some(field) = D::optional_reference_field(fields)
        && fields.get(field).is_none_or(Value::is_null)
    {
        fields.insert(field.to_owned(), Value::String(key()));
    }
}

/// One event's outcome: its response body (with `id`), and whether it was decided now (201) or
/// is the stored decision of a resent business id (200).
pub struct Decided {
    pub created: bool,
    /// The stored decision's id.
    pub id: i64,
    pub body: String,
}

impl Decided {
    /// The answer to a single-event request: 201 for a new decision, 200 for a replay.
    pub fn into_response(self) -> HttpResponse {
        let mut response = if self.created {
            HttpResponse::Created()
        } else {
            HttpResponse::Ok()
        };
        response
            .content_type(actix_web::http::header::ContentType::json())
            .body(self.body)
    }
}

/// Who a decision is recorded as: a signed-in user, or a stream consumer (no user row).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl From<&Authenticated> for Actor {
    fn from(user: &Authenticated) -> Self {
        Self {
            user_id: Some(user.user_id),
            name: user.username.clone(),
        }
    }
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
    state.limits.check_detection(user.user_id)?;
    let body = read_json(&request, payload, &state.settings.server).await?;
    Ok(decide::<D>(&state, &Actor::from(&user), &body, started)
        .await?
        .into_response())
}

/// The detection pipeline for one event read from any transport (a single request, a stream
/// message): parse, idempotency check, window read-and-update, detect, persist. The decision is
/// committed when this returns `Ok`.
pub async fn decide<D>(
    state: &AppState,
    actor: &Actor,
    body: &Value,
    started: std::time::Instant,
) -> Result<Decided, ApiError>
where
    D: Endpoint,
    D::Event: Serialize,
{
    match prepare::<D>(state, actor, body, started, &mut InFlight::default()).await? {
        Prepared::Decided(decided) => Ok(decided),
        Prepared::Record(record) => commit::<D>(state, *record).await,
        Prepared::SameAs { .. } => Err(ApiError::internal("no other event in flight")),
    }
}

/// Decides `events` in order, as [`decide`] decides each, with their decisions
/// committed together: each event's answer or error, in order. A business id sent twice is decided
/// once; its second slot answers the first's decision (or 409 with other data).
pub async fn decide_many<D>(
    state: &AppState,
    actor: &Actor,
    events: &[Value],
) -> Vec<Result<Decided, ApiError>>
where
    D: Endpoint,
    D::Event: Serialize,
{
    let mut in_flight = InFlight::default();
    let mut slots = Vec::with_capacity(events.len());
    let mut commits = Vec::new();
    for event in events {
        let started = std::time::Instant::now();
        let slot = match prepare::<D>(state, actor, event, started, &mut in_flight).await {
            Ok(Prepared::Decided(decided)) => Slot::Done(Ok(decided)),
            Ok(Prepared::Record(record)) => {
                let request_json = record.request_json.clone();
                commits.push(commit::<D>(state, *record));
                Slot::Committing(request_json)
            }
            Ok(Prepared::SameAs {
                first,
                request_json,
                reference,
            }) => Slot::SameAs {
                first,
                request_json,
                reference,
            },
            Err(error) => Slot::Done(Err(error)),
        };
        slots.push(slot);
    }
    let mut committed = futures_util::future::join_all(commits).await.into_iter();

    let mut answers: Vec<Result<Decided, ApiError>> = Vec::with_capacity(slots.len());
    let mut stored_requests: Vec<Option<String>> = Vec::with_capacity(slots.len());
    for slot in slots {
        let (answer, stored) = match slot {
            Slot::Done(answer) => (answer, None),
            Slot::Committing(request_json) => {
                let answer = committed
                    .next()
                    .unwrap_or_else(|| Err(ApiError::internal("a commit went missing")));
                (answer, Some(request_json))
            }
            Slot::SameAs {
                first,
                request_json,
                reference,
            } => {
                let answer = match (&answers[first], &stored_requests[first]) {
                    (Ok(decided), Some(stored)) if *stored == request_json => Ok(Decided {
                        created: false,
                        id: decided.id,
                        body: decided.body.clone(),
                    }),
                    (Ok(_), _) => Err(conflict::<D>(&reference)),
                    (Err(error), _) => Err(error.clone()),
                };
                (answer, None)
            }
        };
        answers.push(answer);
        stored_requests.push(stored);
    }
    answers
}

/// One slot of the answer while the batch is in flight.
enum Slot {
    Done(Result<Decided, ApiError>),
    /// Waiting for its commit; the request as stored, for a later resend in the same batch.
    Committing(String),
    /// A resend, within the batch, of the business id of the slot at this index.
    SameAs {
        first: usize,
        request_json: String,
        reference: String,
    },
}

/// The business ids of the events prepared and not yet committed in one run (a batch): a resend
/// within the run is answered from the first event's outcome instead of being counted twice in
/// the windows.
#[derive(Default)]
pub struct InFlight {
    references: std::collections::HashMap<String, usize>,
    next: usize,
}

/// An event read, checked and decided, up to its decision's commit.
pub enum Prepared {
    /// Answered without a new decision: the stored decision of a resent business id.
    Decided(Decided),
    /// Decided, to be committed with [`commit`].
    Record(Box<DecisionToRecord>),
    /// The same business id as the run's event at index `first`, with this request (as
    /// stored): its answer is that event's, or 409 when the data differ.
    SameAs {
        first: usize,
        request_json: String,
        reference: String,
    },
}

/// Everything of [`decide`] before the commit: parse, idempotency check, window
/// read-and-update, detect. Each call takes the next index of `in_flight`'s run.
pub async fn prepare<D>(
    state: &AppState,
    actor: &Actor,
    body: &Value,
    started: std::time::Instant,
    in_flight: &mut InFlight,
) -> Result<Prepared, ApiError>
where
    D: Endpoint,
    D::Event: Serialize,
{
    let index = in_flight.next;
    in_flight.next += 1;
    let received = Utc::now();
    let detectors = state.detectors();
    let detector = D::select(&detectors);
    let event = detector.parse(body, received)?;
    let request_json = serde_json::to_string(&event).map_err(ApiError::internal)?;

    if let Some(reference) = event.reference() {
        if let Some(first) = in_flight.references.get(reference) {
            return Ok(Prepared::SameAs {
                first: *first,
                request_json,
                reference: reference.to_owned(),
            });
        }
        if let Some(stored) = find_decision(state, D::MODULE, reference).await? {
            return replay::<D>(Some(reference), &request_json, stored).map(Prepared::Decided);
        }
        in_flight.references.insert(reference.to_owned(), index);
    }

    let observations = detector.observations(&event);
    let (history, skipped_rules) = match state.windows.observe(&observations).await {
        Ok(history) => {
            // A plain read on the hot path; the write only when an outage ends.
            if state.windows_unreachable.load(Ordering::Relaxed)
                && state.windows_unreachable.swap(false, Ordering::Relaxed)
            {
                tracing::info!("recent-activity store reachable again; deciding with history");
            }
            for observation in &observations {
                state
                    .telemetry
                    .window_lookup(!history.get(&observation.key).is_empty());
            }
            (history, Vec::new())
        }
        Err(error) => match state.settings.windows.on_unavailable {
            OnUnavailable::Refuse => {
                return Err(ApiError::unavailable(
                    "Recent-activity store unavailable; the event was not recorded.",
                    error,
                ));
            }
            OnUnavailable::Degrade => {
                // One line when the outage starts (and one when it ends), not one per request.
                if !state.windows_unreachable.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "recent-activity store unavailable; deciding without history until it returns");
                }
                crate::telemetry::degraded_decision(D::MODULE);
                let skipped: Vec<String> = detector
                    .history_rules()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                (History::new(), skipped)
            }
        },
    };
    let assessment = detector.detect(&event, &history);
    // A shadowed draft decides on the same history; its outcome is stored, never answered.
    let shadow = detectors.shadow(D::MODULE).map(|run| {
        let decided = D::select(&run.detectors).detect_beside(&event, &history, &assessment);
        redflag_service::shadow::outcome(run, &decided)
    });
    let alerts = assessment.alerts();
    let mut body = D::render(&event, &assessment, format_timestamp(event.event_time()));
    if !skipped_rules.is_empty() {
        body.extend(object(&Degradation {
            degraded: true,
            skipped_rules: skipped_rules.clone(),
        }));
    }
    let ruleset_version = detectors.rule_sets.version(D::MODULE);
    body.insert(
        "ruleset_version".to_owned(),
        serde_json::json!(ruleset_version),
    );
    if detectors.warming_up(D::MODULE) {
        body.extend(object(&WarmingUp {
            model_warming_up: true,
        }));
    }
    let record = DecisionToRecord {
        module: D::MODULE,
        reference: event.reference().map(str::to_owned),
        entity_id: event.entity().to_owned(),
        risk_score: assessment.risk(),
        flagged: assessment.flagged(),
        decision: assessment.decision().map(str::to_owned),
        request_json,
        response_json: serde_json::to_string(&body).map_err(ApiError::internal)?,
        event_time: event.event_time(),
        recorded_at: received,
        created_by: actor.user_id.map(UserId),
        actor: actor.name.clone(),
        alerts,
        model_version: Some(detectors.versions.of(D::MODULE).to_owned()),
        ruleset_version,
        latency: started.elapsed(),
        model_features: assessment.model_features().to_vec(),
        skipped_rules,
        shadow,
        parties: D::parties(&event),
    };
    Ok(Prepared::Record(Box::new(record)))
}

/// Stores a prepared decision (group-committed with others in flight) and answers it; a
/// business id stored meanwhile by another request answers as its replay.
pub async fn commit<D: Endpoint>(
    state: &AppState,
    record: DecisionToRecord,
) -> Result<Decided, ApiError>
where
    D::Event: Serialize,
{
    let (reference, request_json) = (record.reference.clone(), record.request_json.clone());
    let outcome = state.writer.record(record).await.map_err(|error| {
        ApiError::unavailable("Database unavailable; the event was not recorded.", error)
    })?;
    match outcome {
        (Recorded::New(id), record) => {
            state
                .telemetry
                .decision(D::MODULE, record.flagged, &record.alerts);
            Ok(Decided {
                created: true,
                id: id.0,
                body: json_with_id(id.0, &record.response_json),
            })
        }
        (Recorded::Existing(stored), _) => replay::<D>(reference.as_deref(), &request_json, stored),
    }
}

/// The decision already stored under a business id. On SQLite the lookup is an in-process read
/// of a few microseconds, cheaper than any hand-off, so it runs right here; on PostgreSQL it is a
/// round trip, asked together with the other requests' ([`redflag_store::DecisionLookups`]).
async fn find_decision(
    state: &AppState,
    module: Module,
    reference: &str,
) -> Result<Option<StoredDecision>, ApiError> {
    match &state.lookups {
        Some(lookups) => lookups.find(module, reference).await,
        None => state.db.find_decision(module, reference),
    }
    .map_err(ApiError::from)
}

/// Answers a resent business id: the stored decision when the data is the same, 409 otherwise.
fn replay<D: Endpoint>(
    reference: Option<&str>,
    request_json: &str,
    stored: StoredDecision,
) -> Result<Decided, ApiError>
where
    D::Event: Serialize,
{
    if stored.request_json != request_json {
        return Err(conflict::<D>(reference.unwrap_or_default()));
    }
    if !stored.response_json.starts_with('{') {
        return Err(ApiError::internal("stored response is not a JSON object"));
    }
    Ok(Decided {
        created: false,
        id: stored.id.0,
        body: json_with_id(stored.id.0, &stored.response_json),
    })
}

/// 409 for a business id already assessed with other data.
pub fn conflict<D: Endpoint>(reference: &str) -> ApiError
where
    D::Event: Serialize,
{
    ApiError::Conflict(format!(
        "{} `{reference}` was already assessed with different data.",
        D::SPEC.reference_field
    ))
}

/// The response: `id` first, as the contract's examples show it, then the body exactly as stored.
/// The stored text is reused rather than serialised again: it is the same JSON object, and the
/// answer to a resend is then byte for byte the first answer.
fn json_with_id(id: i64, stored_object: &str) -> String {
    let fields = stored_object
        .strip_prefix('{')
        .unwrap_or(stored_object)
        .trim_start();
    if fields.starts_with('}') {
        format!("{{\"id\":{id}}}")
    } else {
        format!("{{\"id\":{id},{fields}")
    }
}
