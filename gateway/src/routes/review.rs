//! What analysts work from: GET /api/alerts/ (the queue) and GET /api/<module>/<id>/ (one
//! decision with its evidence and its entity's recent decisions).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use std::collections::HashMap;

use redflag_core::{FieldReader, Severity, ValidationErrors};
use redflag_screening::SANCTIONS_MATCH_RULE;
use redflag_service::registry;
use redflag_store::{AlertFilter, DecisionId, DecisionSummary, SCREENING_MODULE, StoredAlert};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use super::pages::{Page, query_object};
use crate::auth::Authenticated;
use crate::errors::ApiError;
use crate::state::AppState;

/// Where an alert stands: in no case yet, or in a case of that status.
const ALERT_STATUSES: [&str; 4] = ["new", "open", "investigating", "closed"];

/// How many of the entity's latest decisions the decision page shows.
const HISTORY_LENGTH: i64 = 20;

/// `?module=&severity=&rule=&since=&until=&status=&page=&page_size=`: the alerts, newest first;
/// `status` is `new` (in no case yet) or the status of a case holding the alert.
#[tracing::instrument(skip_all)]
pub async fn alert_queue(
    state: web::Data<AppState>,
    _user: Authenticated,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let AlertQuery { filter, page } = read_alert_query(&query_object(&request)?)?;
    let db = state.db.clone();
    let query = filter.clone();
    let (count, alerts, mut resolved) = web::block(move || {
        let (count, alerts) = db.alert_queue(&query, page.offset(), page.size)?;
        let resolved = resolutions(
            &db,
            &alerts
                .iter()
                .map(|queued| &queued.alert)
                .collect::<Vec<_>>(),
        )?;
        Ok::<_, redflag_store::StoreError>((count, alerts, resolved))
    })
    .await
    .map_err(ApiError::internal)??;
    let mut filters: Vec<(&str, String)> = Vec::new();
    filters.extend(filter.module.clone().map(|m| ("module", m)));
    filters.extend(filter.severity.map(|s| ("severity", s)));
    filters.extend(filter.rule.map(|r| ("rule", r)));
    filters.extend(filter.since.map(|t| ("since", format_timestamp(t))));
    filters.extend(filter.until.map(|t| ("until", format_timestamp(t))));
    filters.extend(filter.status.map(|s| ("status", s)));
    let (next, previous) = page.links(&request, &filters, count, alerts.len())?;
    Ok(HttpResponse::Ok().json(AlertPage {
        count,
        next,
        previous,
        results: alerts
            .into_iter()
            .map(|queued| {
                let resolved = resolved.remove(&queued.alert.id);
                AlertItem::of(&queued.alert, Some(queued.entity_id), resolved)
            })
            .collect(),
    }))
}

/// What GET /api/alerts/ is asked for.
pub struct AlertQuery {
    pub filter: AlertFilter,
    pub page: Page,
}

/// Reads the queue's query parameters (given as a JSON object of strings), DRF-style.
pub fn read_alert_query(query: &Value) -> Result<AlertQuery, ValidationErrors> {
    // A filter may name any time, the future included: only event times are held to the clock.
    let horizon = Utc::now() + chrono::Duration::days(36_500);
    let mut fields = FieldReader::new(query)?;
    let module = fields.optional_exact_choice("module", &alert_modules());
    let severity = fields.optional_exact_choice("severity", &Severity::ALL.map(Severity::as_str));
    let rule = fields.optional_id("rule");
    let since = fields.optional_timestamp("since", horizon);
    let until = fields.optional_timestamp("until", horizon);
    let status = fields.optional_exact_choice("status", &ALERT_STATUSES);
    let (number, size) = Page::read(&mut fields);
    fields.finish(|| AlertQuery {
        filter: AlertFilter {
            module: module.map(str::to_owned),
            severity: severity.map(str::to_owned),
            rule,
            since,
            until,
            status: status.map(str::to_owned),
        },
        page: Page::of(number, size),
    })
}

/// The modules alerts come from: the detection modules, and screening (list updates matching
/// remembered parties).
fn alert_modules() -> Vec<&'static str> {
    registry::names()
        .chain(std::iter::once(SCREENING_MODULE))
        .collect()
}

/// The false positives resolved from each of these alerts.
pub(super) fn resolutions(
    db: &redflag_store::Database,
    alerts: &[&StoredAlert],
) -> Result<HashMap<i64, Vec<ResolvedMatch>>, redflag_store::StoreError> {
    let ids: Vec<i64> = alerts
        .iter()
        .filter(|alert| alert.rule == SANCTIONS_MATCH_RULE)
        .map(|alert| alert.id)
        .collect();
    let mut resolved: HashMap<i64, Vec<ResolvedMatch>> = HashMap::new();
    for suppression in db.screening_suppressions_of_alerts(&ids)? {
        if let Some(alert_id) = suppression.alert_id {
            resolved
                .entry(alert_id)
                .or_default()
                .push(ResolvedMatch::of(&suppression));
        }
    }
    Ok(resolved)
}

/// GET /api/<module>/<id>/: the stored decision, whole.
#[tracing::instrument(skip_all)]
pub async fn decision_detail(
    state: web::Data<AppState>,
    _user: Authenticated,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (module, id) = path.into_inner();
    let module = alert_modules()
        .into_iter()
        .find(|known| *known == module)
        .ok_or(ApiError::NotFound)?;
    let db = state.db.clone();
    let found = web::block(move || {
        let Some(record) = db.decision(module, DecisionId(id))? else {
            return Ok(None);
        };
        let alerts = db.decision_alerts(DecisionId(id))?;
        let resolved = resolutions(&db, &alerts.iter().collect::<Vec<_>>())?;
        let model_version = db.decision_model_version(DecisionId(id))?;
        let history =
            db.entity_history(module, &record.entity_id, DecisionId(id), HISTORY_LENGTH)?;
        Ok::<_, redflag_store::StoreError>(Some((
            record,
            (alerts, resolved),
            model_version,
            history,
        )))
    })
    .await
    .map_err(ApiError::internal)??;
    let (record, (alerts, mut resolved), model_version, history) =
        found.ok_or(ApiError::NotFound)?;
    let json = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
    let response = json(&record.response_json);
    Ok(HttpResponse::Ok().json(DecisionDetail {
        id: record.id,
        module: record.module.clone(),
        reference: record.reference.clone(),
        entity_id: record.entity_id.clone(),
        risk_score: record.risk_score,
        flagged: record.flagged,
        decision: record.decision.clone(),
        event_time: format_timestamp(record.event_time()),
        recorded_at: format_timestamp(record.recorded_at()),
        model_version,
        ruleset_version: response["ruleset_version"].as_i64(),
        request: json(&record.request_json),
        response,
        alerts: alerts
            .iter()
            .map(|alert| AlertItem::of(alert, None, resolved.remove(&alert.id)))
            .collect(),
        history: history
            .iter()
            .map(|earlier| HistoryItem::of(module, earlier))
            .collect(),
    }))
}

/// One page of the alert queue, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<AlertItem>,
}

/// An alert as analysts work it, linked to its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertItem {
    pub id: i64,
    pub decision_id: i64,
    /// The decision's page: GET it for the request, every alert and the entity's history.
    #[schema(example = "/api/aml/42/")]
    pub decision: String,
    pub module: String,
    /// The entity the decision is about (sender, applicant, policy, symbol); only in the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    pub rule: String,
    /// The typology's stable code, e.g. `structuring`.
    pub alert_type: String,
    pub severity: String,
    pub confidence: f64,
    pub reason: String,
    /// The figures and evidence behind the alert, as the decision's response gave them.
    #[schema(value_type = Object)]
    pub details: Value,
    pub raised_at: String,
    /// The sanctions matches of this alert that analysts resolved as false positives (only on
    /// `SanctionsMatchRule` alerts that have some).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved_matches: Vec<ResolvedMatch>,
}

/// A sanctions match resolved as a false positive for a party and an entry: suppressed until
/// the entry changes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResolvedMatch {
    pub party_id: String,
    pub list: String,
    pub entry_id: String,
    /// The entry as it was when resolved (SHA-256): a changed entry matches again.
    pub entry_sha256: String,
    pub note: String,
    pub alert_id: Option<i64>,
    pub resolved_by: String,
    pub resolved_at: String,
}

impl ResolvedMatch {
    pub(super) fn of(stored: &redflag_store::StoredSuppression) -> Self {
        Self {
            party_id: stored.party_id.clone(),
            list: stored.list_name.clone(),
            entry_id: stored.entry_id.clone(),
            entry_sha256: stored.entry_sha256.clone(),
            note: stored.note.clone(),
            alert_id: stored.alert_id,
            resolved_by: stored.resolved_by.clone(),
            resolved_at: format_timestamp(stored.resolved_at()),
        }
    }
}

impl AlertItem {
    pub(super) fn of(
        alert: &StoredAlert,
        entity_id: Option<String>,
        resolved_matches: Option<Vec<ResolvedMatch>>,
    ) -> Self {
        Self {
            id: alert.id,
            decision_id: alert.decision_id,
            decision: format!("/api/{}/{}/", alert.module, alert.decision_id),
            module: alert.module.clone(),
            entity_id,
            rule: alert.rule.clone(),
            alert_type: alert.code.clone(),
            severity: alert.severity.clone(),
            confidence: alert.confidence,
            reason: alert.reason.clone(),
            details: serde_json::from_str(&alert.details_json).unwrap_or(Value::Null),
            raised_at: format_timestamp(alert.created_at()),
            resolved_matches: resolved_matches.unwrap_or_default(),
        }
    }
}

/// One stored decision with its evidence, its model and its entity's latest decisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionDetail {
    pub id: i64,
    pub module: String,
    /// The business id (`transaction_id`, `claim_id`, ...), when the event had one.
    pub reference: Option<String>,
    pub entity_id: String,
    pub risk_score: f64,
    pub flagged: bool,
    /// The module's decision word (credit: APPROVED, REVIEW, DECLINED).
    pub decision: Option<String>,
    pub event_time: String,
    pub recorded_at: String,
    /// The model that scored the event, as its artifact names it.
    pub model_version: Option<String>,
    /// The module's rule-set version that made it (absent before rule sets).
    pub ruleset_version: Option<i64>,
    /// The validated request, as stored (contact identifiers only as hashes).
    #[schema(value_type = Object)]
    pub request: Value,
    /// The answer given, without its `id`.
    #[schema(value_type = Object)]
    pub response: Value,
    pub alerts: Vec<AlertItem>,
    /// The entity's latest decisions of the module up to this one (included), newest first,
    /// among the 100,000 decisions before it.
    pub history: Vec<HistoryItem>,
}

/// A decision in the entity's history, in brief.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryItem {
    pub id: i64,
    pub decision: String,
    pub reference: Option<String>,
    pub risk_score: f64,
    pub flagged: bool,
    pub event_time: String,
}

impl HistoryItem {
    fn of(module: &str, summary: &DecisionSummary) -> Self {
        Self {
            id: summary.id,
            decision: format!("/api/{module}/{}/", summary.id),
            reference: summary.reference.clone(),
            risk_score: summary.risk_score,
            flagged: summary.flagged,
            event_time: format_timestamp(summary.event_time()),
        }
    }
}
