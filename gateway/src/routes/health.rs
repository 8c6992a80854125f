//! GET /api/health/: public; whether the database and the windows answer. `ok` and `degraded`
//! (deciding without history while Redis is away) answer 200, `unavailable` 503.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::settings::OnUnavailable;
use crate::state::AppState;

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let database = match web::block(move || db.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health: database unavailable");
            "unavailable".to_owned()
        }
        Err(error) => {
            tracing::warn!(%error, "health: database check did not run");
            "unavailable".to_owned()
        }
    };
    let redis = if state.settings.redis_configured() {
        match state.windows.ping().await {
            Ok(()) => "ok",
            Err(error) => {
                tracing::warn!(%error, "health: redis unavailable");
                "unavailable"
            }
        }
    } else {
        "not configured"
    };
    // Without Redis a degrading service still decides (without history): degraded, not down.
    let status = match (
        database.as_str(),
        redis,
        state.settings.windows.on_unavailable,
    ) {
        ("ok", "unavailable", OnUnavailable::Degrade) => "degraded",
        ("ok", "unavailable", OnUnavailable::Refuse) => "unavailable",
        ("ok", _, _) => "ok",
        _ => "unavailable",
    };
    let healthy = status != "unavailable";
    let body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "database": {"status": database, "backend": state.db.backend().as_str()},
        "redis": {"status": redis},
        "windows": state.windows.kind(),
    });
    if healthy {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
