//! GET /api/metrics/ (JSON snapshot for the dashboard) and GET /api/prometheus/ (text exposition).

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

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
    .map_err(ApiError::internal)?
    .map_err(|error| ApiError::unavailable("Database unavailable.", error))?;
    let counters = state.telemetry.snapshot();
    let lookups = counters.window_hits + counters.window_misses;
    let detections: Map<String, Value> = counters
        .detections
        .iter()
        .map(|(module, total, flagged)| {
            (
                module.as_str().to_owned(),
                json!({"total": total, "flagged": flagged}),
            )
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "cache": {
            "backend": state.windows.kind(),
            "hits": counters.window_hits,
            "misses": counters.window_misses,
            "hit_rate": if lookups == 0 { 0.0 } else { counters.window_hits as f64 / lookups as f64 },
        },
        "statistics_cache": {
            "hits": counters.statistics_hits,
            "misses": counters.statistics_misses,
        },
        "detections": detections,
        "audits": {
            "queued": outbox.queued,
            "pending": outbox.pending,
            "delivered": outbox.delivered,
            "applied": progress.applied,
            "retried": outbox.retried,
            "dead_lettered": progress.dead_lettered,
            "lag_seconds": progress.lag_seconds,
        },
        "uptime_seconds": state.started.elapsed().as_secs(),
    })))
}

/// Public, like the Django exporter, so that Prometheus can scrape it without a token. The audit
/// gauges are read from the store at each scrape; if it does not answer, the rest still is served.
pub async fn prometheus(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    if let Ok(Ok((outbox, progress))) = web::block(move || {
        Ok::<_, redflag_store::StoreError>((
            db.outbox_counts()?,
            db.audit_progress(chrono::Utc::now())?,
        ))
    })
    .await
    {
        crate::telemetry::audit_state(&outbox, &progress);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.prometheus.render())
}
