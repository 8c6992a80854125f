//! /api/webhooks/: admins subscribe URLs to events, see each subscription's delivery log and
//! resend a delivery. The workers send the deliveries (`redflag_service::webhooks`).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use redflag_core::{FieldReader, ValidationErrors, json_type, messages};
use redflag_service::webhooks::{check_url, new_secret};
use redflag_store::{
    NewSubscription, StoredDelivery, StoredSubscription, SubscriptionChange, webhook_event_types,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use super::pages::{Page, query_object};
use super::rules::blocking;
use crate::auth::{Authenticated, Role};
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::AppState;

/// Longest URL accepted: browsers' practical limit.
const MAX_URL_LENGTH: usize = 2000;

/// A subscription as admins see it; the secret only when it is made or rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionBody {
    pub id: i64,
    #[schema(example = "https://hooks.example.com/redflag")]
    pub url: String,
    #[schema(example = json!(["decision.flagged", "case.closed"]))]
    pub event_types: Vec<String>,
    pub description: String,
    /// False once disabled by an admin, or by the service when the endpoint answered 410.
    pub active: bool,
    /// Why the service disabled it, when it did.
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// The `whsec_` signing secret: in the answer to its creation or rotation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl SubscriptionBody {
    fn of(stored: &StoredSubscription, secret: Option<String>) -> Self {
        Self {
            id: stored.id,
            url: stored.url.clone(),
            event_types: stored.event_types(),
            description: stored.description.clone(),
            active: stored.active,
            disabled_reason: stored.disabled_reason.clone(),
            created_by: stored.created_by.clone(),
            created_at: format_timestamp(stored.created_at()),
            updated_at: format_timestamp(stored.updated_at()),
            secret,
        }
    }
}

/// One delivery in a subscription's log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: i64,
    /// The `webhook-id` header, the same on every attempt.
    #[schema(example = "msg_5f0c8c1e9a3b4d2f8e6a7b9c0d1e2f3a")]
    pub message_id: String,
    #[schema(example = "decision.flagged")]
    pub event_type: String,
    /// `pending` (waiting, or to be retried at `next_attempt_at`), `delivered` or `failed`
    /// (attempts used up, or the endpoint answered 410).
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    /// The body sent (the same on every attempt).
    #[schema(value_type = Object)]
    pub payload: Value,
}

impl DeliveryBody {
    fn of(stored: &StoredDelivery) -> Self {
        Self {
            id: stored.id,
            message_id: stored.message_id.clone(),
            event_type: stored.event_type.clone(),
            status: stored.status.clone(),
            attempts: stored.attempts,
            last_status_code: stored.last_status_code,
            last_error: stored.last_error.clone(),
            created_at: format_timestamp(stored.created_at()),
            next_attempt_at: (stored.status == StoredDelivery::PENDING)
                .then(|| format_timestamp(stored.next_attempt_at())),
            delivered_at: stored.delivered_at().map(format_timestamp),
            payload: serde_json::from_str(&stored.payload).unwrap_or(Value::Null),
        }
    }
}

/// A page of a subscription's deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<DeliveryBody>,
}

/// A subscription's fields as sent: all of them to create one, any of them to change one.
#[derive(Debug, Default)]
pub struct SubscriptionFields {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// Reads a subscription body; `creating` requires `url` and `event_types`.
pub fn read_subscription(
    body: &Value,
    creating: bool,
) -> Result<SubscriptionFields, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let description = fields.optional_text("description");
    let mut errors = match fields.finish(|| ()) {
        Ok(()) => ValidationErrors::new(),
        Err(errors) => errors,
    };
    let mut read = SubscriptionFields {
        description,
        ..SubscriptionFields::default()
    };
    match body.get("url") {
        None | Some(Value::Null) if creating => errors.add("url", messages::REQUIRED),
        None => {}
        Some(Value::String(url)) if url.trim().is_empty() => errors.add("url", messages::BLANK),
        Some(Value::String(url)) if url.chars().count() > MAX_URL_LENGTH => errors.add(
            "url",
            format!("Ensure this field has no more than {MAX_URL_LENGTH} characters."),
        ),
        Some(Value::String(url)) => read.url = Some(url.trim().to_owned()),
        Some(_) => errors.add("url", "Enter a valid URL."),
    }
    match body.get("event_types") {
        None | Some(Value::Null) if creating => errors.add("event_types", messages::REQUIRED),
        None => {}
        Some(Value::Array(types)) if types.is_empty() => {
            errors.add("event_types", "This list may not be empty.")
        }
        Some(Value::Array(types)) => {
            let mut chosen = Vec::with_capacity(types.len());
            for value in types {
                match value.as_str() {
                    Some(name) if webhook_event_types().any(|known| known == name) => {
                        if !chosen.iter().any(|known: &String| known == name) {
                            chosen.push(name.to_owned());
                        }
                    }
                    _ => errors.add(
                        "event_types",
                        format!(
                            "\"{}\" is not a valid choice: {}.",
                            value
                                .as_str()
                                .map_or_else(|| value.to_string(), str::to_owned),
                            webhook_event_types().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
            read.event_types = Some(chosen);
        }
        Some(other) => errors.add(
            "event_types",
            format!(
                "Expected a list of items but got type \"{}\".",
                json_type(other)
            ),
        ),
    }
    match body.get("active") {
        None => {}
        Some(Value::Bool(active)) => read.active = Some(*active),
        Some(_) => errors.add("active", "Must be a valid boolean."),
    }
    if errors.is_empty() {
        Ok(read)
    } else {
        Err(errors)
    }
}

/// The URL checked against the operator's address policy: 400 `{"url": [...]}` when refused.
async fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    check_url(url, state.settings.webhooks.allow_private_addresses)
        .await
        .map(|_| url.to_owned())
        .map_err(|refused| ValidationErrors::on_field("url", refused.to_string()).into())
}

/// POST /api/webhooks/: subscribes a URL; the answer holds its secret (shown once).
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    user: Authenticated,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let body = read_json(&request, payload, &state.settings.server).await?;
    let fields = read_subscription(&body, true)?;
    let url = checked_url(&state, fields.url.as_deref().unwrap_or_default()).await?;
    let secret = new_secret()?;
    let (db, stored_secret, actor) = (state.db.clone(), secret.clone(), user.username.clone());
    let stored = blocking(move || {
        Ok(db.create_webhook_subscription(
            &NewSubscription {
                url: &url,
                event_types: &fields.event_types.unwrap_or_default(),
                description: &fields.description.unwrap_or_default(),
                secret: &stored_secret,
                created_by: &actor,
            },
            Utc::now(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(SubscriptionBody::of(&stored, Some(secret))))
}

/// GET /api/webhooks/: every subscription, oldest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let db = state.db.clone();
    let stored = blocking(move || Ok(db.webhook_subscriptions()?)).await?;
    Ok(HttpResponse::Ok().json(
        stored
            .iter()
            .map(|subscription| SubscriptionBody::of(subscription, None))
            .collect::<Vec<_>>(),
    ))
}

/// GET /api/webhooks/<id>/.
#[tracing::instrument(skip_all)]
pub async fn show(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (db, id) = (state.db.clone(), id.into_inner());
    let stored = blocking(move || Ok(db.webhook_subscription(id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(SubscriptionBody::of(&stored, None)))
}

/// PATCH /api/webhooks/<id>/: changes the URL, event types, description or `active`.
#[tracing::instrument(skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<i64>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let body = read_json(&request, payload, &state.settings.server).await?;
    let fields = read_subscription(&body, false)?;
    let url = match &fields.url {
        Some(url) => Some(checked_url(&state, url).await?),
        None => None,
    };
    let change = SubscriptionChange {
        url,
        event_types: fields.event_types,
        description: fields.description,
        active: fields.active,
    };
    let (db, id) = (state.db.clone(), id.into_inner());
    let stored = blocking(move || Ok(db.change_webhook_subscription(id, &change, Utc::now())?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(SubscriptionBody::of(&stored, None)))
}

/// DELETE /api/webhooks/<id>/: removes the subscription and its delivery log.
#[tracing::instrument(skip_all)]
pub async fn delete(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (db, id) = (state.db.clone(), id.into_inner());
    if blocking(move || Ok(db.delete_webhook_subscription(id)?)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// POST /api/webhooks/<id>/rotate-secret/: a new secret; the one before keeps signing (beside
/// it) for `webhooks.rotation_grace_hours`.
#[tracing::instrument(skip_all)]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let secret = new_secret()?;
    let now = Utc::now();
    let grace = chrono::Duration::hours(
        i64::try_from(state.settings.webhooks.rotation_grace_hours).unwrap_or(i64::MAX / 3600),
    );
    let (db, id, stored_secret) = (state.db.clone(), id.into_inner(), secret.clone());
    let stored =
        blocking(move || Ok(db.rotate_webhook_secret(id, &stored_secret, now + grace, now)?))
            .await?
            .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(SubscriptionBody::of(&stored, Some(secret))))
}

/// GET /api/webhooks/<id>/deliveries/: the delivery log, newest first, paginated.
#[tracing::instrument(skip_all)]
pub async fn deliveries(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<i64>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let query = query_object(&request)?;
    let mut fields = FieldReader::new(&query)?;
    let (number, size) = Page::read(&mut fields);
    let page = fields.finish(|| Page::of(number, size))?;
    let (db, id) = (state.db.clone(), id.into_inner());
    let (subscription, (stored, count)) = blocking(move || {
        Ok((
            db.webhook_subscription(id)?,
            db.webhook_deliveries(id, page.offset(), page.size)?,
        ))
    })
    .await?;
    if subscription.is_none() {
        return Err(ApiError::NotFound);
    }
    let (next, previous) = page.links(&request, &[], count, stored.len())?;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        count,
        next,
        previous,
        results: stored.iter().map(DeliveryBody::of).collect(),
    }))
}

/// POST /api/webhooks/<id>/deliveries/<delivery_id>/resend/: sends a delivery again now, with
/// its message id and body; its attempts start over.
#[tracing::instrument(skip_all)]
pub async fn resend(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (subscription, delivery) = path.into_inner();
    let db = state.db.clone();
    let stored =
        blocking(move || Ok(db.resend_webhook_delivery(subscription, delivery, Utc::now())?))
            .await?
            .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Accepted().json(DeliveryBody::of(&stored)))
}
