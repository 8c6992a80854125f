//! POST /api/<module>/batch/: many events in one request, each decided as the single path decides
//! it (idempotency, event time, windows, audit), answered in order with each event's answer or
//! error in its slot.
//!
//! The events are prepared one after another, in the array's order, so that an entity's windows
//! count them in the order sent; their decisions are then committed together, in the writer's
//! group commits, which is what makes a batch cheaper than as many requests.

use actix_web::{HttpRequest, HttpResponse, web};
use redflag_core::json_type;
use serde::Serialize;
use serde_json::{Value, json};

use super::detect::{Actor, Decided, Endpoint, decide_many};
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
