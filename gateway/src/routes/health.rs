//! GET /api/health/: public; whether the database and the windows answer. `ok` and `degraded`
//! (deciding without history while Redis is away) answer 200, `unavailable` 503.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;
use redflag_service::settings::OnUnavailable;

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let database = match web::block(move || db.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(error)) => {
            tracing::warn!(%error, "health: database unavailable");
            "unavailable"
        }
        Err(error) => {
            tracing::warn!(%error, "health: database check did not run");
            "unavailable"
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
    let status = match (database, redis, state.settings.windows.on_unavailable) {
        ("ok", "unavailable", OnUnavailable::Degrade) => "degraded",
        ("ok", "unavailable", OnUnavailable::Refuse) => "unavailable",
        ("ok", _, _) => "ok",
        _ => "unavailable",
    };
    let healthy = status != "unavailable";
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        database: DatabaseHealth {
            status: database,
            backend: state.db.backend().as_str(),
        },
        redis: RedisHealth { status: redis },
        windows: state.windows.kind(),
    };
    if healthy {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Whether the service can decide: `ok`, `degraded` (deciding without history while Redis is
/// away) or `unavailable`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub version: &'static str,
    pub database: DatabaseHealth,
    pub redis: RedisHealth,
    /// Where the recent-activity windows live: `in-process` or `redis`.
    pub windows: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseHealth {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub backend: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedisHealth {
    /// `ok`, `unavailable` or `not configured`.
    pub status: &'static str,
}
