//! GET /api/metrics/ (JSON snapshot for the dashboard) and GET /api/prometheus/ (text exposition).

use actix_web::{HttpResponse, web};
use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::errors::ApiError;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn snapshot(
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let (outbox, progress) = web::block(move || {
        Ok::<_, redflag_store::StoreError>((
            db.outbox_counts()?,
            db.audit_progress(chrono::Utc::now())?,
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    let counters = state.telemetry.snapshot();
    let lookups = counters.window_hits + counters.window_misses;
    Ok(HttpResponse::Ok().json(MetricsSnapshot {
        cache: WindowCache {
            backend: state.windows.kind(),
            hits: counters.window_hits,
            misses: counters.window_misses,
            hit_rate: if lookups == 0 {
                0.0
            } else {
                counters.window_hits as f64 / lookups as f64
            },
        },
        statistics_cache: CacheCounts {
            hits: counters.statistics_hits,
            misses: counters.statistics_misses,
        },
        detections: counters
            .detections
            .iter()
            .map(|(module, total, flagged)| {
                let figures = DetectionCounts {
                    total: *total,
                    flagged: *flagged,
                };
                (module.as_str().to_owned(), figures)
            })
            .collect(),
        audits: AuditCounts {
            queued: outbox.queued,
            pending: outbox.pending,
            delivered: outbox.delivered,
            applied: progress.applied,
            retried: outbox.retried,
            dead_lettered: progress.dead_lettered,
            lag_seconds: progress.lag_seconds,
        },
        uptime_seconds: state.started.elapsed().as_secs(),
    }))
}

/// GET /api/metrics/: this process's counters since it started, and the audit pipeline's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsSnapshot {
    /// Recent-activity window lookups: a hit when the entity had prior activity.
    pub cache: WindowCache,
    pub statistics_cache: CacheCounts,
    /// Decisions by module.
    pub detections: BTreeMap<String, DetectionCounts>,
    pub audits: AuditCounts,
    pub uptime_seconds: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowCache {
    /// `in-process` or `redis`.
    pub backend: &'static str,
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DetectionCounts {
    pub total: u64,
    pub flagged: u64,
}

/// The audit outbox and log (see README: every decision is audited).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditCounts {
    pub queued: i64,
    pub pending: i64,
    pub delivered: i64,
    pub applied: i64,
    pub retried: i64,
    pub dead_lettered: i64,
    /// Age of the oldest record waiting for the log, in seconds.
    pub lag_seconds: f64,
}

/// Public, like the Django exporter, so that Prometheus can scrape it without a token. The audit
/// gauges are read from the store at each scrape; if it does not answer, the rest still is served.
pub async fn prometheus(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    if let Ok(Ok((outbox, progress, webhooks))) = web::block(move || {
        Ok::<_, redflag_store::StoreError>((
            db.outbox_counts()?,
            db.audit_progress(chrono::Utc::now())?,
            db.webhook_delivery_counts()?,
        ))
    })
    .await
    {
        crate::telemetry::audit_state(&outbox, &progress);
        crate::telemetry::webhook_state(&webhooks);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.prometheus.render())
}
