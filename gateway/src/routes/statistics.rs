//! GET /api/statistics/: the dashboard aggregates, cached for a few seconds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use chrono::Utc;
use redflag_store::{RuleLabels, Statistics};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

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
    let (statistics, labels) = web::block(move || {
        Ok::<_, redflag_store::StoreError>((db.statistics(now, top)?, db.rule_labels()?))
    })
    .await
    .map_err(ApiError::internal)??;
    let body = render(&statistics, &labels, now);
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

fn render(statistics: &Statistics, labels: &[RuleLabels], now: chrono::DateTime<Utc>) -> Value {
    let total: i64 = statistics.modules.iter().map(|m| m.total).sum();
    let flagged: i64 = statistics.modules.iter().map(|m| m.flagged).sum();
    let report = StatisticsReport {
        total_detections: total,
        total_flagged: flagged,
        flag_rate: rate(flagged, total),
        modules: statistics
            .modules
            .iter()
            .map(|m| {
                let figures = ModuleFigures {
                    total: m.total,
                    flagged: m.flagged,
                    flag_rate: rate(m.flagged, m.total),
                    average_risk: m.average_risk.map(|risk| (risk * 10.0).round() / 10.0),
                };
                (m.module.as_str().to_owned(), figures)
            })
            .collect(),
        alerts_by_severity: statistics
            .alerts_by_severity
            .iter()
            .map(|s| (s.severity.as_str().to_owned(), json!(s.count)))
            .collect(),
        top_rules: statistics
            .top_rules
            .iter()
            .map(|r| TopRule {
                module: r.module.clone(),
                rule: r.rule.clone(),
                count: r.count,
            })
            .collect(),
        hourly: statistics
            .hourly
            .iter()
            .map(|h| HourFigures {
                hour: format_timestamp(h.start),
                total: h.total,
                flagged: h.flagged,
                modules: h
                    .modules
                    .iter()
                    .map(|m| {
                        let figures = HourModuleFigures {
                            total: m.total,
                            flagged: m.flagged,
                        };
                        (m.module.as_str().to_owned(), figures)
                    })
                    .collect(),
            })
            .collect(),
        rule_precision: labels
            .iter()
            .map(|rule| RulePrecision {
                module: rule.module.clone(),
                rule: rule.rule.clone(),
                confirmed_fraud: rule.confirmed_fraud,
                false_positive: rule.false_positive,
                inconclusive: rule.inconclusive,
                precision: rule.precision().map(|p| (p * 10_000.0).round() / 10_000.0),
            })
            .collect(),
        generated_at: format_timestamp(now),
    };
    serde_json::to_value(report).unwrap_or_default()
}

/// GET /api/statistics/: what was decided, overall, per module, per severity, per rule and per
/// hour of the last day.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsReport {
    pub total_detections: i64,
    pub total_flagged: i64,
    /// Flagged over total, four decimals (0 without detections).
    pub flag_rate: f64,
    /// By module name (`aml`, `credit`, `insurance`, `market`).
    pub modules: BTreeMap<String, ModuleFigures>,
    /// Alerts by severity (`low` ... `critical`), in severity order.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub alerts_by_severity: Map<String, Value>,
    /// The rules that fired most, most first (`statistics.top_rules` of them).
    pub top_rules: Vec<TopRule>,
    /// Hour by hour over the last 24 hours.
    pub hourly: Vec<HourFigures>,
    /// What analysts' closed cases say of each rule's alerts, the most false positives first.
    pub rule_precision: Vec<RulePrecision>,
    #[schema(example = "2026-02-09T09:00:00.000Z")]
    pub generated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleFigures {
    pub total: i64,
    pub flagged: i64,
    pub flag_rate: f64,
    /// Mean risk on the common 0-100 scale, one decimal; null without detections.
    pub average_risk: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopRule {
    pub module: String,
    pub rule: String,
    pub count: i64,
}

/// One rule's alerts as closed cases resolved them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulePrecision {
    pub module: String,
    pub rule: String,
    pub confirmed_fraud: i64,
    pub false_positive: i64,
    pub inconclusive: i64,
    /// confirmed_fraud / (confirmed_fraud + false_positive), four decimals; null while neither.
    pub precision: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HourFigures {
    /// The hour's start, RFC 3339 UTC.
    pub hour: String,
    pub total: i64,
    pub flagged: i64,
    /// The same hour by module name, every module present (the dashboard's per-module series).
    pub modules: BTreeMap<String, HourModuleFigures>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HourModuleFigures {
    pub total: i64,
    pub flagged: i64,
}
