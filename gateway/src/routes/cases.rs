//! Cases: POST /api/cases/ opens one on alerts, PATCH /api/cases/<id>/ assigns, moves, resolves and
//! annotates it, GET lists them and shows one with its alerts and timeline. Every change is in the
//! case's timeline and the audit log.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use redflag_core::{FieldReader, ValidationErrors};
use redflag_store::{
    CaseChange, CaseError, CaseEvent, CaseFile, CaseRecord, CaseStatus, Database, Resolution,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use super::pages::{Page, query_object};
use super::review::AlertItem;
use crate::auth::Authenticated;
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::AppState;

/// Most alerts one case opens on.
const MAX_ALERTS: usize = 100;

/// The body of POST /api/cases/.
pub struct NewCase {
    pub alert_ids: Vec<i64>,
    pub title: Option<String>,
    pub assignee: Option<String>,
}

pub fn read_new_case(body: &Value) -> Result<NewCase, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let alert_ids = fields.required_id_list("alert_ids", MAX_ALERTS);
    let title = fields.optional_text("title");
    let assignee = fields.optional_id("assignee");
    fields.finish(|| NewCase {
        alert_ids: alert_ids.unwrap_or_default(),
        title,
        assignee,
    })
}

/// The body of PATCH /api/cases/<id>/: any of the fields; `assignee: null` unassigns.
pub struct CasePatch {
    pub assignee: Option<Option<String>>,
    pub status: Option<CaseStatus>,
    pub resolution: Option<Resolution>,
    pub note: Option<String>,
}

pub fn read_case_patch(body: &Value) -> Result<CasePatch, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let assignee = fields.optional_id("assignee");
    let unassign = body.get("assignee").is_some_and(Value::is_null);
    let status = fields
        .optional_choice("status", CaseStatus::NAMES)
        .and_then(CaseStatus::parse);
    let resolution = fields
        .optional_choice("resolution", Resolution::NAMES)
        .and_then(Resolution::parse);
    let note = fields.optional_text("note");
    if assignee.is_none()
        && !unassign
        && status.is_none()
        && resolution.is_none()
        && note.is_none()
        && !["assignee", "status", "resolution", "note"]
            .iter()
            .any(|field| fields.has_error(field))
    {
        fields.reject(
            "non_field_errors",
            "Give at least one of assignee, status, resolution, note.",
        );
    }
    fields.finish(|| CasePatch {
        assignee: if unassign {
            Some(None)
        } else {
            assignee.map(Some)
        },
        status,
        resolution,
        note,
    })
}

#[tracing::instrument(skip_all)]
pub async fn open(
    state: web::Data<AppState>,
    user: Authenticated,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&request, payload, &state.settings.server).await?;
    let new = read_new_case(&body)?;
    let db = state.db.clone();
    let file = web::block(move || {
        if let Some(assignee) = &new.assignee {
            check_assignee(&db, assignee)?;
        }
        let title = new.title.clone().unwrap_or_else(|| {
            let ids: Vec<String> = new.alert_ids.iter().map(i64::to_string).collect();
            format!("Alerts {}", ids.join(", "))
        });
        let file = db
            .open_case(
                &title,
                &new.alert_ids,
                new.assignee.as_deref(),
                &user.username,
                Utc::now(),
            )
            .map_err(|error| match error {
                CaseError::UnknownAlerts(ids) => {
                    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                    ApiError::from(ValidationErrors::on_field(
                        "alert_ids",
                        format!("No alert with id {}.", ids.join(", ")),
                    ))
                }
                CaseError::Store(error) => error.into(),
            })?;
        CaseBody::of(&db, &file)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(HttpResponse::Created().json(file))
}

#[tracing::instrument(skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<i64>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = read_json(&request, payload, &state.settings.server).await?;
    let patch = read_case_patch(&body)?;
    let db = state.db.clone();
    let file = web::block(move || {
        // Read before the case's row is held; reported only for a case that exists (404 first).
        let unknown_assignee = match &patch.assignee {
            Some(Some(assignee)) => check_assignee(&db, assignee).err(),
            _ => None,
        };
        let file = db
            .update_case(id, &user.username, Utc::now(), |case| {
                unknown_assignee.map_or_else(|| plan(case, patch), Err)
            })?
            .ok_or(ApiError::NotFound)?;
        CaseBody::of(&db, &file)
    })
    .await
    .map_err(ApiError::internal)??;
    state.forget_statistics();
    Ok(HttpResponse::Ok().json(file))
}

/// The change a patch makes to a case as it stands: a case is closed with a resolution (given
/// now, or kept from before) and only then has one; reopening it clears it.
fn plan(case: &CaseRecord, patch: CasePatch) -> Result<CaseChange, ApiError> {
    let status = patch.status.unwrap_or(case.status);
    let mut change = CaseChange {
        assignee: patch.assignee,
        status: patch.status.filter(|status| *status != case.status),
        resolution: None,
        note: patch.note,
    };
    match (status, patch.resolution) {
        (CaseStatus::Closed, Some(resolution)) => change.resolution = Some(Some(resolution)),
        (CaseStatus::Closed, None) if case.resolution.is_none() => {
            return Err(ValidationErrors::on_field(
                "resolution",
                format!(
                    "Closing a case needs a resolution: one of {}.",
                    Resolution::NAMES.join(", ")
                ),
            )
            .into());
        }
        (CaseStatus::Closed, None) => {}
        (_, Some(_)) => {
            return Err(ValidationErrors::on_field(
                "resolution",
                "A resolution is only given to a closed case.",
            )
            .into());
        }
        (_, None) if case.resolution.is_some() => change.resolution = Some(None),
        (_, None) => {}
    }
    Ok(change)
}

fn check_assignee(db: &Database, username: &str) -> Result<(), ApiError> {
    let known = db
        .find_user_by_username(username)?
        .is_some_and(|user| user.is_active);
    if known {
        Ok(())
    } else {
        Err(ValidationErrors::on_field("assignee", format!("No active user `{username}`.")).into())
    }
}

/// `?status=&assignee=&page=&page_size=`: cases, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _user: Authenticated,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let CaseQuery {
        status,
        assignee,
        page,
    } = read_case_query(&query_object(&request)?)?;
    let db = state.db.clone();
    let wanted = assignee.clone();
    let (count, cases) =
        web::block(move || db.cases(status, wanted.as_deref(), page.offset(), page.size))
            .await
            .map_err(ApiError::internal)??;
    let mut filters: Vec<(&str, String)> = Vec::new();
    filters.extend(status.map(|status| ("status", status.as_str().to_owned())));
    filters.extend(assignee.map(|assignee| ("assignee", assignee)));
    let (next, previous) = page.links(&request, &filters, count, cases.len())?;
    Ok(HttpResponse::Ok().json(CasePage {
        count,
        next,
        previous,
        results: cases.iter().map(CaseSummary::of).collect(),
    }))
}

/// What GET /api/cases/ is asked for.
pub struct CaseQuery {
    pub status: Option<CaseStatus>,
    pub assignee: Option<String>,
    pub page: Page,
}

pub fn read_case_query(query: &Value) -> Result<CaseQuery, ValidationErrors> {
    let mut fields = FieldReader::new(query)?;
    let status = fields
        .optional_exact_choice("status", CaseStatus::NAMES)
        .and_then(CaseStatus::parse);
    let assignee = fields.optional_id("assignee");
    let (number, size) = Page::read(&mut fields);
    fields.finish(|| CaseQuery {
        status,
        assignee,
        page: Page::of(number, size),
    })
}

#[tracing::instrument(skip_all)]
pub async fn show(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let db = state.db.clone();
    let body = web::block(move || {
        let file = db.case(id)?.ok_or(ApiError::NotFound)?;
        CaseBody::of(&db, &file)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok().json(body))
}

/// One page of cases, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<CaseSummary>,
}

/// A case in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: i64,
    pub title: String,
    /// `open`, `investigating` or `closed`.
    pub status: String,
    /// `confirmed_fraud`, `false_positive` or `inconclusive` once closed; null before.
    pub resolution: Option<String>,
    pub assignee: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl CaseSummary {
    fn of(case: &CaseRecord) -> Self {
        Self {
            id: case.id,
            title: case.title.clone(),
            status: case.status.as_str().to_owned(),
            resolution: case
                .resolution
                .map(|resolution| resolution.as_str().to_owned()),
            assignee: case.assignee.clone(),
            created_by: case.created_by.clone(),
            created_at: format_timestamp(case.created_at()),
            updated_at: format_timestamp(case.updated_at()),
        }
    }
}

/// A case with its alerts and its timeline, oldest entry first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseBody {
    #[serde(flatten)]
    pub case: CaseSummary,
    pub alerts: Vec<AlertItem>,
    pub timeline: Vec<TimelineEntry>,
}

impl CaseBody {
    fn of(db: &Database, file: &CaseFile) -> Result<Self, ApiError> {
        let alerts = db.alerts_by_ids(&file.alert_ids)?;
        Ok(Self {
            case: CaseSummary::of(&file.case),
            alerts: alerts
                .iter()
                .map(|alert| AlertItem::of(alert, None, None))
                .collect(),
            timeline: file.timeline.iter().map(TimelineEntry::of).collect(),
        })
    }
}

/// One change to a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub actor: String,
    /// `opened`, `assigned`, `status`, `resolved` or `noted`.
    pub action: String,
    /// What changed (`{"status": "closed"}`, `{"note": "..."}`, ...).
    #[schema(value_type = Object)]
    pub details: Value,
    pub at: String,
}

impl TimelineEntry {
    fn of(event: &CaseEvent) -> Self {
        Self {
            actor: event.actor.clone(),
            action: event.action.clone(),
            details: serde_json::from_str(&event.details_json).unwrap_or(Value::Null),
            at: format_timestamp(event.created_at()),
        }
    }
}
