//! GET /api/audit/: an entity's audit history, newest first, in DRF's page-number pagination.

use actix_web::{HttpRequest, HttpResponse, web};
use redflag_core::{FieldReader, ValidationErrors};
use redflag_service::registry;
use redflag_store::AuditEntry;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use super::pages::{Page, query_object};
use crate::auth::Authenticated;
use crate::errors::ApiError;
use crate::state::AppState;

/// `?entity_id=` (required), `module=`, `page=` (from 1), `page_size=` (1-500, default 50).
#[tracing::instrument(skip_all)]
pub async fn history(
    state: web::Data<AppState>,
    _user: Authenticated,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let HistoryQuery {
        entity_id,
        module,
        page,
    } = read_query(&query_object(&request)?)?;
    let db = state.db.clone();
    let lookup_entity = entity_id.clone();
    let (count, entries) =
        web::block(move || db.audit_history(module, &lookup_entity, page.offset(), page.size))
            .await
            .map_err(ApiError::internal)??;
    let mut filters = vec![("entity_id", entity_id)];
    filters.extend(module.map(|module| ("module", module.to_owned())));
    let (next, previous) = page.links(&request, &filters, count, entries.len())?;
    Ok(HttpResponse::Ok().json(AuditPage {
        count,
        next,
        previous,
        results: entries.iter().map(AuditRecord::of).collect(),
    }))
}

/// What GET /api/audit/ is asked for.
pub struct HistoryQuery {
    pub entity_id: String,
    pub module: Option<&'static str>,
    pub page: Page,
}

/// Reads the query string's parameters (given as a JSON object of strings), DRF-style.
pub fn read_query(query: &Value) -> Result<HistoryQuery, ValidationErrors> {
    let mut fields = FieldReader::new(query)?;
    let entity_id = fields.required_id("entity_id");
    let module = fields.optional_exact_choice("module", &registry::names().collect::<Vec<_>>());
    let (number, size) = Page::read(&mut fields);
    fields.finish(|| HistoryQuery {
        entity_id: entity_id.unwrap_or_default(),
        module,
        page: Page::of(number, size),
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
