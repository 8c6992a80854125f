//! GET /api/audit/: an entity's audit history, newest first, in DRF's page-number pagination.

use actix_web::{HttpRequest, HttpResponse, web};
use redflag_core::{FieldReader, Module, NumberBounds, ValidationErrors};
use redflag_store::AuditEntry;
use serde_json::{Map, Value, json};

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
    let mut fields = FieldReader::new(&query)?;
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
    let (entity_id, page, page_size) = fields.finish(|| {
        (
            entity_id.unwrap_or_default(),
            page.unwrap_or(1),
            page_size.unwrap_or(DEFAULT_PAGE_SIZE),
        )
    })?;
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
    let link = |page: i64| -> Value {
        let mut pairs = vec![("entity_id", entity_id.clone())];
        if let Some(module) = module {
            pairs.push(("module", module.to_owned()));
        }
        pairs.push(("page", page.to_string()));
        if page_size != DEFAULT_PAGE_SIZE {
            pairs.push(("page_size", page_size.to_string()));
        }
        let connection = request.connection_info();
        json!(format!(
            "{}://{}{}?{}",
            connection.scheme(),
            connection.host(),
            request.path(),
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        ))
    };
    let has_next = page * page_size < count;
    Ok(HttpResponse::Ok().json(json!({
        "count": count,
        "next": if has_next { link(page + 1) } else { Value::Null },
        "previous": if page > 1 { link(page - 1) } else { Value::Null },
        "results": entries.iter().map(render).collect::<Vec<_>>(),
    })))
}

fn render(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id,
        "event_id": entry.event_id,
        "kind": entry.kind,
        "module": entry.module,
        "entity_id": entry.entity_id,
        "actor": entry.actor,
        "occurred_at": format_timestamp(entry.occurred_at.and_utc()),
        "applied_at": format_timestamp(entry.applied_at.and_utc()),
        "payload": serde_json::from_str::<Value>(&entry.payload)
            .unwrap_or_else(|_| Value::String(entry.payload.clone())),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    })
}
