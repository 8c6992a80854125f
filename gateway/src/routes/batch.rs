//! POST /api/<module>/batch/: many events in one request, each decided as the single path decides
//! it (idempotency, event time, windows, audit), answered in order with each event's answer or
//! error in its slot.
//!
//! The events are prepared one after another, in the array's order, so that an entity's windows
//! count them in the order sent; their decisions are then committed together, in the writer's
//! group commits, which is what makes a batch cheaper than as many requests.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use super::detect::{Actor, Decided, Endpoint, InFlight, Prepared, commit, conflict, prepare};
use crate::auth::Authenticated;
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::AppState;

/// The most events one batch may carry: enough to amortise a request, small enough that its
/// answer comes within the request timeout.
pub const MAX_BATCH_EVENTS: usize = 1000;

/// How large a batch body may be (or the server's limit when larger): a thousand events of a few
/// hundred bytes each, with room to spare.
pub const BATCH_BODY_LIMIT: usize = 8 << 20;

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

pub async fn batch<D>(
    state: web::Data<AppState>,
    user: Authenticated,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError>
where
    D: Endpoint,
    D::Event: Serialize,
{
    let mut server = state.settings.server.clone();
    server.body_limit_bytes = server.body_limit_bytes.max(BATCH_BODY_LIMIT);
    let events = match read_json(&request, payload, &server).await? {
        Value::Array(events) => events,
        other => {
            return Err(not_a_batch(format!(
                "Expected a list of events but got type \"{}\".",
                json_type(&other)
            )));
        }
    };
    if events.is_empty() {
        return Err(not_a_batch("This list may not be empty.".to_owned()));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(not_a_batch(format!(
            "Ensure this list has no more than {MAX_BATCH_EVENTS} events (it has {}).",
            events.len()
        )));
    }
    state.limits.check_detections(user.user_id, events.len())?;

    let answers = decide_many::<D>(&state, &Actor::from(&user), &events).await;
    Ok(respond(answers))
}

/// Decides `events` in order, as [`super::detect::decide`] decides each, with their decisions
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

/// The answer: a JSON array of the slots' bodies, in order, written from the stored texts.
fn respond(answers: Vec<Result<Decided, ApiError>>) -> HttpResponse {
    let mut body = String::with_capacity(answers.len() * 512);
    body.push('[');
    for (index, answer) in answers.into_iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        match answer {
            Ok(decided) => body.push_str(&decided.body),
            Err(error) => body.push_str(&error.body().to_string()),
        }
    }
    body.push(']');
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body)
}

/// A body that is not a batch, worded as DRF's list serializer words it.
fn not_a_batch(message: String) -> ApiError {
    ApiError::Invalid(json!({ "non_field_errors": [message] }))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}
