//! GET /api/audit/: an entity's audit history, newest first, in DRF's page-number pagination.

use actix_web::{HttpRequest, HttpResponse, web};
use redflag_core::{FieldReader, Module, NumberBounds, ValidationErrors};
use redflag_store::AuditEntry;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::detect::format_timestamp;
use crate::auth::Authenticated;
use crate::errors::ApiError;
use crate::state::AppState;

const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;

/// `?entity_id=` (required), `module=`, `page=` (from 1), `page_size=` (1-500, default 50).
#[tracing::instrument(skip_all)]
pub async fn history(
    state: web::Data<AppState>,
    _user: Authenticated,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query: Map<String, Value> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
            .map_err(|_| ValidationErrors::non_field("Invalid query string."))?
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect();
    let query = Value::Object(query);
    let HistoryQuery {
        entity_id,
        module,
        page,
        page_size,
    } = read_query(&query)?;
    let db = state.db.clone();
    let lookup_entity = entity_id.clone();
    let (count, entries) = web::block(move || {
        db.audit_history(module, &lookup_entity, (page - 1) * page_size, page_size)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::unavailable("Database unavailable.", error))?;
    if entries.is_empty() && page > 1 {
        return Err(ApiError::InvalidPage);
    }
    let link = |page: i64| -> String {
        let mut pairs = vec![("entity_id", entity_id.clone())];
        if let Some(module) = module {
            pairs.push(("module", module.to_owned()));
        }
        pairs.push(("page", page.to_string()));
        if page_size != DEFAULT_PAGE_SIZE {
            pairs.push(("page_size", page_size.to_string()));
        }
        let connection = request.connection_info();
        format!(
            "{}://{}{}?{}",
            connection.scheme(),
            connection.host(),
            request.path(),
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let has_next = page * page_size < count;
    Ok(HttpResponse::Ok().json(AuditPage {
        count,
        next: has_next.then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
        results: entries.iter().map(AuditRecord::of).collect(),
    }))
}

/// What GET /api/audit/ is asked for.
pub struct HistoryQuery {
    pub entity_id: String,
    pub module: Option<&'static str>,
    pub page: i64,
    pub page_size: i64,
}

/// Reads the query string's parameters (given as a JSON object of strings), DRF-style.
pub fn read_query(query: &Value) -> Result<HistoryQuery, ValidationErrors> {
    let mut fields = FieldReader::new(query)?;
    let entity_id = fields.required_id("entity_id");
    let module = fields.optional_choice("module", &Module::ALL.map(Module::as_str));
    let page = fields.optional_integer(
        "page",
        NumberBounds {
            min: 1.0,
            exclusive_min: false,
            max: 1e9,
        },
    );
    let page_size = fields.optional_integer(
        "page_size",
        NumberBounds {
            min: 1.0,
            exclusive_min: false,
            max: MAX_PAGE_SIZE as f64,
        },
    );
    fields.finish(|| HistoryQuery {
        entity_id: entity_id.unwrap_or_default(),
        module,
        page: page.unwrap_or(1),
        page_size: page_size.unwrap_or(DEFAULT_PAGE_SIZE),
    })
}

/// One page of an entity's audit history, newest first, in DRF's page-number pagination.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries in the whole history (all pages).
    pub count: i64,
    /// The next page's URL; null on the last.
    pub next: Option<String>,
    /// The previous page's URL; null on the first.
    pub previous: Option<String>,
    pub results: Vec<AuditRecord>,
}

/// One entry of the hash-chained audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    /// The entry's place in the chain.
    pub id: i64,
    pub event_id: String,
    /// `decision.recorded`, `token.issued`, `token.refreshed`, `user.created`, `model.trained`.
    #[schema(example = "decision.recorded")]
    pub kind: String,
    pub module: Option<String>,
    pub entity_id: Option<String>,
    pub actor: String,
    pub occurred_at: String,
    pub applied_at: String,
    /// The event's record: for a decision, the figures and findings, the request's SHA-256,
    /// the model version and the latency.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The hash of the entry before, and this entry's (SHA-256, hex): the chain.
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    fn of(entry: &AuditEntry) -> Self {
        Self {
            id: entry.id,
            event_id: entry.event_id.clone(),
            kind: entry.kind.clone(),
            module: entry.module.clone(),
            entity_id: entry.entity_id.clone(),
            actor: entry.actor.clone(),
            occurred_at: format_timestamp(entry.occurred_at.and_utc()),
            applied_at: format_timestamp(entry.applied_at.and_utc()),
            payload: serde_json::from_str::<Value>(&entry.payload)
                .unwrap_or_else(|_| Value::String(entry.payload.clone())),
            prev_hash: entry.prev_hash.clone(),
            hash: entry.hash.clone(),
        }
    }
}
