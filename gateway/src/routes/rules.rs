//! Rule sets as data over HTTP: each module's version in force, its history and features, drafts
//! that analysts write, publishing by a second admin (four eyes), rollback, and the team's lists.
//! Every change is audited; a publish applies here at once and on other gateways within
//! `rules.poll_seconds`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use redflag_core::{FieldReader, Module, ValidationErrors};
use redflag_rules::{Lists, RuleSetDocument};
use redflag_service::backtest::{self, BacktestReport};
use redflag_service::rule_sets::{self, DraftErrors};
use redflag_service::shadow;
use redflag_store::{
    BacktestStartError, Database, DraftContent, RuleSetError, ShadowStartError, Started,
    StoredBacktest, StoredList, StoredRuleSet, StoredShadow,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::detect::format_timestamp;
use crate::auth::{Authenticated, Role};
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::AppState;

/// Longest description of a draft or a list.
const MAX_DESCRIPTION: usize = 500;
/// Most values in one list written at once.
const MAX_LIST_VALUES: usize = 10_000;
/// Largest rule-set or list body: a hundred rules of long conditions, ten thousand list values.
const RULES_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Longest list value (an account id, a name).
pub(super) const MAX_LIST_VALUE: usize = 200;

/// A draft or a published version of a module's rule set.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetBody {
    pub id: i64,
    pub module: String,
    /// The published number; null while a draft.
    pub version: Option<i64>,
    /// `draft`, `in_force` (the highest version) or `superseded`.
    #[schema(example = "in_force")]
    pub status: &'static str,
    pub description: String,
    /// SHA-256 of the rule set's canonical JSON, as the audit log records it.
    pub sha256: String,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub published_by: Option<String>,
    pub published_at: Option<String>,
    /// The version a draft started from (a restored version: the one it copies).
    pub based_on: Option<i64>,
    /// The module's settings used instead of the config file's, by name.
    #[schema(value_type = Object)]
    pub thresholds: Map<String, Value>,
    /// Built-in rules switched off, by name.
    pub disabled: Vec<String>,
    /// Custom rules: `{name, description, when, severity, confidence, reason, supporting}`.
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<Value>,
}

impl RuleSetBody {
    fn of(stored: &StoredRuleSet, in_force: Option<i64>) -> Result<Self, ApiError> {
        let document: RuleSetDocument =
            serde_json::from_str(&stored.document).map_err(ApiError::internal)?;
        let status = match stored.version {
            None => "draft",
            Some(version) if Some(version) == in_force => "in_force",
            Some(_) => "superseded",
        };
        Ok(Self {
            id: stored.id,
            module: stored.module.clone(),
            version: stored.version,
            status,
            description: stored.description.clone(),
            sha256: stored.sha256.clone(),
            author: stored.author.clone(),
            created_at: format_timestamp(stored.created_at()),
            updated_at: format_timestamp(stored.updated_at()),
            published_by: stored.published_by.clone(),
            published_at: stored.published_at().map(format_timestamp),
            based_on: stored.based_on,
            thresholds: document.thresholds,
            disabled: document.disabled,
            rules: document
                .rules
                .iter()
                .map(|rule| serde_json::to_value(rule).map_err(ApiError::internal))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A list custom rules read with `in_list("name", value)`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBody {
    pub name: String,
    pub description: String,
    pub entries: i64,
    pub updated_by: String,
    pub updated_at: String,
    /// The values, sorted (on `GET /api/rules/lists/<name>/` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

impl ListBody {
    pub(super) fn of(list: &StoredList, entries: i64, values: Option<Vec<String>>) -> Self {
        Self {
            name: list.name.clone(),
            description: list.description.clone(),
            entries,
            updated_by: list.updated_by.clone(),
            updated_at: format_timestamp(list.updated_at()),
            values,
        }
    }
}

fn module_of(name: &str) -> Result<Module, ApiError> {
    name.parse().map_err(|_| ApiError::NotFound)
}

/// A path's module and its draft id or version number.
fn module_and_number(path: web::Path<(String, i64)>) -> Result<(Module, i64), ApiError> {
    let (module, number) = path.into_inner();
    Ok((module_of(&module)?, number))
}

impl From<DraftErrors> for ApiError {
    fn from(errors: DraftErrors) -> Self {
        Self::Invalid(errors.0)
    }
}

impl From<RuleSetError> for ApiError {
    fn from(error: RuleSetError) -> Self {
        match error {
            RuleSetError::NoDraft | RuleSetError::NoVersion(_) => Self::NotFound,
            RuleSetError::OwnDraft(_) => Self::Forbidden(
                "A draft is published by an admin other than its author (four eyes).".to_owned(),
            ),
            RuleSetError::Raced => Self::Conflict(error.to_string()),
            RuleSetError::Store(error) => error.into(),
        }
    }
}

/// How large a rule-set or list body may be: [`RULES_BODY_LIMIT`], or the server's limit when
/// larger.
pub(super) fn rules_body_limit(state: &AppState) -> usize {
    state.settings.server.body_limit_bytes.max(RULES_BODY_LIMIT)
}

/// A rule-set or list body, read within [`rules_body_limit`].
async fn read_rules_json(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Value, ApiError> {
    let mut server = state.settings.server.clone();
    server.body_limit_bytes = rules_body_limit(state);
    read_json(request, payload, &server).await
}

/// Runs database work on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(work).await.map_err(ApiError::internal)?
}

/// GET /api/rules/<module>/: the version in force.
#[tracing::instrument(skip_all)]
pub async fn in_force(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = module_of(&path)?;
    let db = state.db.clone();
    let body = blocking(move || {
        let stored = db
            .published_rule_set(module.as_str())?
            .ok_or(ApiError::NotFound)?;
        RuleSetBody::of(&stored, stored.version)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// GET /api/rules/<module>/versions/: every published version, newest first.
#[tracing::instrument(skip_all)]
pub async fn versions(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = module_of(&path)?;
    let db = state.db.clone();
    let body = blocking(move || {
        let versions = db.rule_set_versions(module.as_str())?;
        let in_force = versions.first().and_then(|latest| latest.version);
        versions
            .iter()
            .map(|stored| RuleSetBody::of(stored, in_force))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// GET /api/rules/<module>/features/: what custom rules can read.
#[tracing::instrument(skip_all)]
pub async fn features(
    _user: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = module_of(&path)?;
    Ok(HttpResponse::Ok().json(rule_sets::catalogue(module)))
}

/// GET /api/rules/<module>/drafts/: the drafts, newest first.
#[tracing::instrument(skip_all)]
pub async fn drafts(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = module_of(&path)?;
    let db = state.db.clone();
    let body = blocking(move || {
        db.rule_set_drafts(module.as_str())?
            .iter()
            .map(|stored| RuleSetBody::of(stored, None))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The fields of a draft's body: `description` and the rule set's own fields.
const DRAFT_FIELDS: [&str; 4] = ["description", "thresholds", "disabled", "rules"];

/// A body's fields; 400 in DRF's words when it is not an object.
fn object_fields(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        ApiError::Invalid(
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got a different type."]}),
        )
    })
}

/// The errors of the fields not in `allowed`.
fn unknown_fields(fields: &Map<String, Value>, allowed: &[&str]) -> Map<String, Value> {
    fields
        .keys()
        .filter(|key| !allowed.contains(&key.as_str()))
        .map(|key| (key.clone(), json!(["Unknown field."])))
        .collect()
}

/// The optional `description` (trimmed); `None` when absent, an error when not a short string.
fn read_description(
    fields: &Map<String, Value>,
    errors: &mut Map<String, Value>,
) -> Option<String> {
    match fields.get("description")? {
        Value::String(text) if text.chars().count() <= MAX_DESCRIPTION => {
            Some(text.trim().to_owned())
        }
        _ => {
            errors.insert(
                "description".to_owned(),
                json!([format!("A string of at most {MAX_DESCRIPTION} characters.")]),
            );
            None
        }
    }
}

/// Splits a draft body into its description and its document, overlaying `base` (the draft as it
/// stands, for a PATCH): fields left out keep their value.
fn read_draft(body: &Value, base: Option<(&str, &str)>) -> Result<(String, Value), ApiError> {
    let fields = object_fields(body)?;
    let mut errors = unknown_fields(fields, &DRAFT_FIELDS);
    let description = read_description(fields, &mut errors).unwrap_or_else(|| {
        base.map_or_else(String::new, |(description, _)| description.to_owned())
    });
    if !errors.is_empty() {
        return Err(ApiError::Invalid(Value::Object(errors)));
    }
    let mut document = match base {
        Some((_, document)) => serde_json::from_str(document).map_err(ApiError::internal)?,
        None => Map::new(),
    };
    for key in ["thresholds", "disabled", "rules"] {
        if let Some(value) = fields.get(key) {
            document.insert(key.to_owned(), value.clone());
        }
    }
    Ok((description, Value::Object(document)))
}

/// POST /api/rules/<module>/drafts/: a new draft, started from the version in force.
#[tracing::instrument(skip_all)]
pub async fn create_draft(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let module = module_of(&path)?;
    let body = read_rules_json(&request, payload, &state).await?;
    let (description, document) = read_draft(&body, None)?;
    let state = state.into_inner();
    let body = blocking(move || {
        let (canonical, sha256) = checked(&state, module, &document)?;
        let based_on = state
            .db
            .published_rule_set(module.as_str())?
            .and_then(|stored| stored.version);
        let content = DraftContent {
            document: &canonical,
            sha256: &sha256,
            description: &description,
        };
        let stored = state.db.create_rule_set_draft(
            module.as_str(),
            content,
            based_on,
            &user.username,
            Utc::now(),
        )?;
        RuleSetBody::of(&stored, None)
    })
    .await?;
    Ok(HttpResponse::Created().json(body))
}

/// Checks a draft's document against the settings and lists of now (400 otherwise) and returns
/// it as stored, the parsed rule set written back so that its hash is of one form, with that
/// hash.
fn checked(
    state: &AppState,
    module: Module,
    document: &Value,
) -> Result<(String, String), ApiError> {
    let lists = rule_sets::read_lists(&state.db)?;
    let (parsed, sha256) = rule_sets::check_draft(module, document, &state.settings, &lists)?;
    let canonical = serde_json::to_string(&parsed).map_err(ApiError::internal)?;
    Ok((canonical, sha256))
}

/// GET /api/rules/<module>/drafts/<id>/
#[tracing::instrument(skip_all)]
pub async fn draft(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let db = state.db.clone();
    let body = blocking(move || {
        let stored = db
            .rule_set_draft(module.as_str(), id)?
            .ok_or(ApiError::NotFound)?;
        RuleSetBody::of(&stored, None)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// PATCH /api/rules/<module>/drafts/<id>/: changes the fields given; the author's alone.
#[tracing::instrument(skip_all)]
pub async fn update_draft(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<(String, i64)>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let body = read_rules_json(&request, payload, &state).await?;
    let state = state.into_inner();
    let body = blocking(move || {
        let stored = state
            .db
            .rule_set_draft(module.as_str(), id)?
            .ok_or(ApiError::NotFound)?;
        // Four eyes: whoever publishes a draft must not have written any of it.
        if stored.author != user.username {
            return Err(ApiError::Forbidden(
                "Only a draft's author changes it; write a draft of your own.".to_owned(),
            ));
        }
        let (description, document) =
            read_draft(&body, Some((&stored.description, &stored.document)))?;
        let (canonical, sha256) = checked(&state, module, &document)?;
        let content = DraftContent {
            document: &canonical,
            sha256: &sha256,
            description: &description,
        };
        let stored = state.db.update_rule_set_draft(
            module.as_str(),
            id,
            content,
            &user.username,
            Utc::now(),
        )?;
        RuleSetBody::of(&stored, None)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// POST /api/rules/<module>/drafts/<id>/publish/ (admins other than the author): the draft
/// becomes the next version, in force here at once.
#[tracing::instrument(skip_all)]
pub async fn publish(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (module, id) = module_and_number(path)?;
    let state = state.into_inner();
    let body = blocking(move || {
        // The settings or a list may have changed since the draft was written.
        draft_that_applies(&state, module, id)?;
        let published =
            state
                .db
                .publish_rule_set(module.as_str(), id, &user.username, Utc::now())?;
        swap_in(&state);
        RuleSetBody::of(&published, published.version)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// POST /api/rules/<module>/versions/<n>/restore/ (admins): publishes a copy of version n.
#[tracing::instrument(skip_all)]
pub async fn restore(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let (module, version) = module_and_number(path)?;
    let state = state.into_inner();
    let body = blocking(move || {
        let old = state
            .db
            .rule_set_versions(module.as_str())?
            .into_iter()
            .find(|stored| stored.version == Some(version))
            .ok_or(ApiError::NotFound)?;
        still_applies(&state, module, &old.document)?;
        let restored =
            state
                .db
                .restore_rule_set(module.as_str(), version, &user.username, Utc::now())?;
        swap_in(&state);
        RuleSetBody::of(&restored, restored.version)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The draft, refused with 400 when it no longer checks against the settings and lists of now
/// (they may have changed since it was written): what is published, backtested or shadowed.
fn draft_that_applies(
    state: &AppState,
    module: Module,
    id: i64,
) -> Result<StoredRuleSet, ApiError> {
    let stored = state
        .db
        .rule_set_draft(module.as_str(), id)?
        .ok_or(ApiError::NotFound)?;
    still_applies(state, module, &stored.document)?;
    Ok(stored)
}

/// Refuses with 400 a stored document that no longer checks against the settings and lists.
fn still_applies(state: &AppState, module: Module, document: &str) -> Result<(), ApiError> {
    let document: Value = serde_json::from_str(document).map_err(ApiError::internal)?;
    checked(state, module, &document).map(drop)
}

/// Swaps the detectors with the new rule set or lists in, here and now.
pub(super) fn swap_in(state: &AppState) {
    if let Err(error) = state.reload_models() {
        tracing::error!(%error, "the published rule set did not load here; the detectors in use are kept");
    }
}

/// GET /api/rules/lists/: every list with its size.
#[tracing::instrument(skip_all)]
pub async fn lists(
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let body = blocking(move || {
        Ok(db
            .rule_lists()?
            .iter()
            .map(|(list, entries)| ListBody::of(list, *entries, None))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// A list name as rules quote it: letters, digits, `_` and `-`, up to 64.
pub(super) fn list_name(name: &str) -> Result<&str, ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(name)
    } else {
        Err(ApiError::NotFound)
    }
}

/// GET /api/rules/lists/<name>/: one list and its values.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = list_name(&path)?.to_owned();
    let db = state.db.clone();
    let body = blocking(move || {
        let (list, values) = db.rule_list(&name)?.ok_or(ApiError::NotFound)?;
        let entries = i64::try_from(values.len()).unwrap_or(i64::MAX);
        Ok(ListBody::of(&list, entries, Some(values)))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// PUT /api/rules/lists/<name>/ (admins): creates or replaces the list with exactly these values;
/// rules reading it see them at once here, on other gateways within `rules.poll_seconds`.
#[tracing::instrument(skip_all)]
pub async fn put_list(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let name = list_name(&path)?.to_owned();
    let body = read_rules_json(&request, payload, &state).await?;
    let (description, values) = read_list(&body)?;
    let state = state.into_inner();
    let body = blocking(move || {
        let list =
            state
                .db
                .put_rule_list(&name, &description, &values, &user.username, Utc::now())?;
        swap_in(&state);
        let entries = i64::try_from(values.len()).unwrap_or(i64::MAX);
        Ok(ListBody::of(&list, entries, None))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// A list value as sent, trimmed: text of 1 to [`MAX_LIST_VALUE`] characters without control
/// characters; `None` otherwise.
pub(super) fn list_value(sent: &str) -> Option<&str> {
    let value = sent.trim();
    (!value.is_empty()
        && value.chars().count() <= MAX_LIST_VALUE
        && !value.chars().any(char::is_control))
    .then_some(value)
}

/// `{"description"?: "...", "values": ["...", ...]}`: values trimmed, blanks refused, duplicates
/// kept once.
fn read_list(body: &Value) -> Result<(String, Vec<String>), ApiError> {
    let fields = object_fields(body)?;
    let mut errors = unknown_fields(fields, &["description", "values"]);
    let description = read_description(fields, &mut errors).unwrap_or_default();
    let mut values = Vec::new();
    match fields.get("values") {
        None => {
            errors.insert("values".to_owned(), json!(["This field is required."]));
        }
        Some(Value::Array(items)) if items.len() <= MAX_LIST_VALUES => {
            for item in items {
                match item.as_str().and_then(list_value) {
                    Some(value) => values.push(value.to_owned()),
                    None => {
                        errors.insert(
                            "values".to_owned(),
                            json!([format!(
                                "Each value is text of 1 to {MAX_LIST_VALUE} characters without control characters."
                            )]),
                        );
                        break;
                    }
                }
            }
        }
        Some(_) => {
            errors.insert(
                "values".to_owned(),
                json!([format!("A list of at most {MAX_LIST_VALUES} values.")]),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(Value::Object(errors)));
    }
    values.sort_unstable();
    values.dedup();
    Ok((description, values))
}

/// DELETE /api/rules/lists/<name>/ (admins): refused (409) while the rule set in force of any
/// module reads it.
#[tracing::instrument(skip_all)]
pub async fn delete_list(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let name = list_name(&path)?.to_owned();
    let state = state.into_inner();
    blocking(move || {
        // The rule sets in force, and their lists less this one: what they would compile with.
        let in_force = rule_sets::RuleSets::read(&state.db)?;
        if !in_force.lists.has(&name) {
            return Err(ApiError::NotFound);
        }
        let mut remaining = Lists::clone(&in_force.lists);
        remaining.remove(&name);
        let lists = Arc::new(remaining);
        for published in &in_force.published {
            if rule_sets::compile(published.module, published.version, &published.document, &lists)
                .is_err()
            {
                return Err(ApiError::Conflict(format!(
                    "The {} rule set in force (version {}) reads the list `{name}`; publish one without it first.",
                    published.module, published.version
                )));
            }
        }
        state.db.delete_rule_list(&name, &user.username, Utc::now())?;
        swap_in(&state);
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A backtest of a draft: its progress and, once done, its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct BacktestBody {
    pub id: i64,
    pub module: String,
    pub draft_id: i64,
    pub since: String,
    pub until: String,
    /// `running`, `done`, `cancelled` or `failed`.
    #[schema(example = "done")]
    pub status: String,
    /// Stored decisions replayed so far, the warm-up included.
    pub replayed: i64,
    /// Stored decisions to replay, the warm-up included (known once the replay started).
    pub total: i64,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Once done.
    pub report: Option<BacktestReport>,
    /// Why it failed, once failed.
    pub error: Option<String>,
}

impl BacktestBody {
    fn of(stored: &StoredBacktest) -> Self {
        let (report, error) = match (stored.status.as_str(), &stored.report) {
            ("done", Some(report)) => (serde_json::from_str(report).ok(), None),
            ("failed", reason) => (None, reason.clone()),
            _ => (None, None),
        };
        Self {
            id: stored.id,
            module: stored.module.clone(),
            draft_id: stored.draft_id,
            since: format_timestamp(stored.since()),
            until: format_timestamp(stored.until()),
            status: stored.status.clone(),
            replayed: stored.replayed,
            total: stored.total,
            started_by: stored.started_by.clone(),
            started_at: format_timestamp(stored.started_at()),
            finished_at: stored.finished_at().map(format_timestamp),
            report,
            error,
        }
    }
}

/// The longest period one backtest replays.
const MAX_BACKTEST_DAYS: i64 = 366;

/// `{"since": RFC 3339, "until": RFC 3339}`: the period whose decisions are compared.
pub fn read_backtest_request(
    body: &Value,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ValidationErrors> {
    let now = Utc::now();
    let mut fields = FieldReader::new(body)?;
    let since = fields.required_timestamp("since", now);
    let until = fields.required_timestamp("until", now);
    fields.reject_unknown(&["since", "until"]);
    if let (Some(since), Some(until)) = (since, until) {
        if until <= since {
            fields.reject("until", "Must be after since.");
        } else if until - since > chrono::Duration::days(MAX_BACKTEST_DAYS) {
            fields.reject(
                "until",
                format!("A backtest covers at most {MAX_BACKTEST_DAYS} days."),
            );
        }
    }
    fields.finish(|| (since.unwrap_or(now), until.unwrap_or(now)))
}

/// POST /api/rules/<module>/drafts/<id>/backtest/: replays the period's stored decisions through
/// the draft, in the background (202); one at a time per module.
#[tracing::instrument(skip_all)]
pub async fn start_backtest(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<(String, i64)>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let body = read_json(&request, payload, &state.settings.server).await?;
    let period = read_backtest_request(&body)?;
    let state = state.into_inner();
    let body = blocking(move || {
        let stored = draft_that_applies(&state, module, id)?;
        let document = serde_json::from_str(&stored.document).map_err(ApiError::internal)?;
        let now = Utc::now();
        let started = state
            .db
            .start_backtest(
                module.as_str(),
                (id, &stored.sha256),
                period,
                &user.username,
                now,
                now - chrono::Duration::seconds(60),
            )
            .map_err(|error| match error {
                BacktestStartError::Busy(_) => ApiError::Conflict(error.to_string()),
                BacktestStartError::Store(error) => error.into(),
            })?;
        backtest::spawn(
            state.db.clone(),
            Arc::new(state.settings.clone()),
            state.detectors(),
            (module, started.clone()),
            document,
        )?;
        Ok(BacktestBody::of(&started))
    })
    .await?;
    Ok(HttpResponse::Accepted().json(body))
}

/// GET /api/rules/<module>/drafts/<id>/backtest/: the draft's latest backtest.
#[tracing::instrument(skip_all)]
pub async fn backtest_status(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let db = state.db.clone();
    let body = blocking(move || {
        let stored = db
            .latest_backtest(module.as_str(), id)?
            .ok_or(ApiError::NotFound)?;
        Ok(BacktestBody::of(&stored))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// DELETE /api/rules/<module>/drafts/<id>/backtest/: stops the draft's running backtest (it
/// notices within a page of replayed decisions).
#[tracing::instrument(skip_all)]
pub async fn cancel_backtest(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let db = state.db.clone();
    let asked = blocking(move || Ok(db.cancel_backtest(module.as_str(), id)?)).await?;
    if asked {
        Ok(HttpResponse::Accepted().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// A shadow run of a draft and its report so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowBody {
    pub id: i64,
    pub module: String,
    pub draft_id: i64,
    /// SHA-256 of the draft as it was when the run started: what every outcome was decided by.
    pub sha256: String,
    /// `running` or `stopped`.
    #[schema(example = "running")]
    pub status: &'static str,
    pub started_by: String,
    pub started_at: String,
    pub stopped_by: Option<String>,
    pub stopped_at: Option<String>,
    /// The live decisions shadowed so far against what the draft decided for them, in a
    /// backtest report's form.
    pub report: BacktestReport,
}

impl ShadowBody {
    fn of(stored: &StoredShadow, report: BacktestReport) -> Self {
        Self {
            id: stored.id,
            module: stored.module.clone(),
            draft_id: stored.draft_id,
            sha256: stored.sha256.clone(),
            status: if stored.running() {
                "running"
            } else {
                "stopped"
            },
            started_by: stored.started_by.clone(),
            started_at: format_timestamp(stored.started_at()),
            stopped_by: stored.stopped_by.clone(),
            stopped_at: stored.stopped_at().map(format_timestamp),
            report,
        }
    }

    fn with_report(db: &Database, module: Module, stored: &StoredShadow) -> Result<Self, ApiError> {
        let report = shadow::report(db, module, stored)?;
        Ok(Self::of(stored, report))
    }
}

/// `{"action": "start" | "stop"}`.
pub fn read_shadow_request(body: &Value) -> Result<bool, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let action = fields.required_exact_choice("action", &["start", "stop"]);
    fields.reject_unknown(&["action"]);
    fields.finish(|| action == Some("start"))
}

/// POST /api/rules/<module>/drafts/<id>/shadow/: starts the draft shadowing its module's live
/// decisions (201; 200 when it already does) or stops it (200).
#[tracing::instrument(skip_all)]
pub async fn shadow_action(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<(String, i64)>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let body = read_json(&request, payload, &state.settings.server).await?;
    let start = read_shadow_request(&body)?;
    let state = state.into_inner();
    let (created, body) = blocking(move || {
        let now = Utc::now();
        // Whether a run started or stopped (starting the draft that shadows changes nothing).
        let (created, changed, run) = if start {
            let stored = draft_that_applies(&state, module, id)?;
            let started = state
                .db
                .start_shadow(
                    module.as_str(),
                    id,
                    (&stored.document, &stored.sha256),
                    &user.username,
                    now,
                )
                .map_err(|error| match error {
                    ShadowStartError::Busy { .. } => ApiError::Conflict(error.to_string()),
                    ShadowStartError::Store(error) => error.into(),
                })?;
            match started {
                Started::New(run) => (true, true, run),
                Started::AlreadyRunning(run) => (false, false, run),
            }
        } else {
            let stopped = state
                .db
                .stop_shadow(module.as_str(), id, &user.username, now)?
                .ok_or_else(|| {
                    ApiError::Conflict("The draft is not shadowing; nothing to stop.".to_owned())
                })?;
            (false, true, stopped)
        };
        if changed {
            swap_in(&state);
        }
        Ok((created, ShadowBody::with_report(&state.db, module, &run)?))
    })
    .await?;
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// GET /api/rules/<module>/drafts/<id>/shadow/: the draft's latest shadow run and its report.
#[tracing::instrument(skip_all)]
pub async fn shadow_status(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = module_and_number(path)?;
    let db = state.db.clone();
    let body = blocking(move || {
        let stored = db
            .latest_shadow(module.as_str(), id)?
            .ok_or(ApiError::NotFound)?;
        ShadowBody::with_report(&db, module, &stored)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}
