//! GET /api/statistics/: the dashboard aggregates, cached for a few seconds.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use chrono::Utc;
use redflag_store::Statistics;
use serde_json::{Map, Value, json};

use super::detect::format_timestamp;
use crate::auth::Authenticated;
use crate::errors::ApiError;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn statistics(
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ttl = Duration::from_secs(state.settings.statistics.cache_seconds);
    if let Some(body) = cached(&state, ttl) {
        state.telemetry.statistics_lookup(true);
        return Ok(HttpResponse::Ok().json(body));
    }
    state.telemetry.statistics_lookup(false);
    let now = Utc::now();
    let db = state.db.clone();
    let top = state.settings.statistics.top_rules;
    let statistics = web::block(move || db.statistics(now, top))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::unavailable("Database unavailable.", error))?;
    let body = render(&statistics, now);
    if !ttl.is_zero()
        && let Ok(mut cache) = state.statistics_cache.lock()
    {
        *cache = Some((Instant::now(), body.clone()));
    }
    Ok(HttpResponse::Ok().json(body))
}

fn cached(state: &AppState, ttl: Duration) -> Option<Value> {
    let cache = state.statistics_cache.lock().ok()?;
    cache
        .as_ref()
        .filter(|(computed, _)| computed.elapsed() < ttl)
        .map(|(_, body)| body.clone())
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

fn render(statistics: &Statistics, now: chrono::DateTime<Utc>) -> Value {
    let total: i64 = statistics.modules.iter().map(|m| m.total).sum();
    let flagged: i64 = statistics.modules.iter().map(|m| m.flagged).sum();
    let modules: Map<String, Value> = statistics
        .modules
        .iter()
        .map(|m| {
            let body = json!({
                "total": m.total,
                "flagged": m.flagged,
                "flag_rate": rate(m.flagged, m.total),
                "average_risk": m.average_risk.map(|risk| (risk * 10.0).round() / 10.0),
            });
            (m.module.as_str().to_owned(), body)
        })
        .collect();
    let severities: Map<String, Value> = statistics
        .alerts_by_severity
        .iter()
        .map(|s| (s.severity.as_str().to_owned(), json!(s.count)))
        .collect();
    let top_rules: Vec<Value> = statistics
        .top_rules
        .iter()
        .map(|r| json!({"module": r.module, "rule": r.rule, "count": r.count}))
        .collect();
    let hourly: Vec<Value> = statistics
        .hourly
        .iter()
        .map(|h| json!({"hour": format_timestamp(h.start), "total": h.total, "flagged": h.flagged}))
        .collect();
    json!({
        "total_detections": total,
        "total_flagged": flagged,
        "flag_rate": rate(flagged, total),
        "modules": modules,
        "alerts_by_severity": severities,
        "top_rules": top_rules,
        "hourly": hourly,
        "generated_at": format_timestamp(now),
    })
}
