//! The documented endpoints.

mod aml;
mod audit;
mod batch;
mod cases;
mod credit;
mod dashboard;
mod detect;
mod health;
mod insurance;
mod list_import;
mod market;
mod metrics;
mod models;
mod pages;
mod render;
mod review;
mod rules;
mod screening;
mod statistics;
mod users;
mod webhooks;

use actix_web::{ResponseError, web};

use crate::auth::{obtain_token, refresh_token};
use crate::errors::ApiError;

pub use aml::{AmlDecision, PeerGroupReport};
pub use audit::{AuditPage, read_query as read_history_query};
pub use batch::MAX_BATCH_EVENTS;
pub use cases::{CaseBody, CasePage, read_case_patch, read_case_query, read_new_case};
pub use credit::CreditDecision;
pub use detect::{
    Actor, Degradation, Endpoint, WarmingUp, decide_many, fill_reference, format_timestamp,
};
pub use health::Health;
pub use insurance::InsuranceDecision;
pub use list_import::{ListImport, read_import_query};
pub use market::MarketDecision;
pub use metrics::MetricsSnapshot;
pub use models::{InstalledModel, TrainingReport, read_training_request};
pub use review::{AlertPage, DecisionDetail, ResolvedMatch, read_alert_query};
pub use rules::{
    BacktestBody, ListBody, RuleSetBody, ShadowBody, read_backtest_request, read_shadow_request,
};
pub use screening::{
    ListImportResult, ScreeningLists, ScreeningResult, SuppressionList, read_screening_request,
    read_suppression,
};
pub use statistics::StatisticsReport;
pub use users::UserItem;
pub use webhooks::{DeliveryBody, DeliveryPage, SubscriptionBody};

/// Registers every route. Each resource answers other methods with 405 in the DRF shape.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/health/", "GET").route(web::get().to(health::health)))
        .service(resource("/api/token/", "POST").route(web::post().to(obtain_token)))
        .service(resource("/api/token/refresh/", "POST").route(web::post().to(refresh_token)))
        .service(
            resource("/api/aml/detect/", "POST")
                .route(web::post().to(detect::detect::<redflag_aml::AmlDetector>)),
        )
        .service(
            resource("/api/aml/batch/", "POST")
                .route(web::post().to(batch::batch::<redflag_aml::AmlDetector>)),
        )
        .service(resource("/api/aml/peer-groups/", "GET").route(web::get().to(aml::peer_groups)))
        .service(
            resource("/api/aml/peer-groups/learn/", "POST")
                .route(web::post().to(aml::learn_peer_groups)),
        )
        .service(
            resource("/api/credit/assess/", "POST")
                .route(web::post().to(detect::detect::<redflag_credit::CreditDetector>)),
        )
        .service(
            resource("/api/credit/batch/", "POST")
                .route(web::post().to(batch::batch::<redflag_credit::CreditDetector>)),
        )
        .service(
            resource("/api/insurance/detect/", "POST")
                .route(web::post().to(detect::detect::<redflag_insurance::InsuranceDetector>)),
        )
        .service(
            resource("/api/insurance/batch/", "POST")
                .route(web::post().to(batch::batch::<redflag_insurance::InsuranceDetector>)),
        )
        .service(
            resource("/api/market/detect/", "POST")
                .route(web::post().to(detect::detect::<redflag_market::MarketDetector>)),
        )
        .service(
            resource("/api/market/batch/", "POST")
                .route(web::post().to(batch::batch::<redflag_market::MarketDetector>)),
        )
        .service(resource("/api/statistics/", "GET").route(web::get().to(statistics::statistics)))
        .service(resource("/api/audit/", "GET").route(web::get().to(audit::history)))
        .service(resource("/api/metrics/", "GET").route(web::get().to(metrics::snapshot)))
        .service(resource("/api/prometheus/", "GET").route(web::get().to(metrics::prometheus)))
        .service(resource("/api/alerts/", "GET").route(web::get().to(review::alert_queue)))
        .service(resource("/api/users/", "GET").route(web::get().to(users::list)))
        .service(resource("/api/models/", "GET").route(web::get().to(models::list)))
        .service(
            resource("/api/models/calibrate/", "POST").route(web::post().to(models::calibrate)),
        )
        .service(
            resource("/api/models/{module}/train/", "POST").route(web::post().to(models::train)),
        )
        .service(
            resource("/api/cases/", "GET, POST")
                .route(web::get().to(cases::list))
                .route(web::post().to(cases::open)),
        )
        .service(
            resource("/api/cases/{id:\\d+}/", "GET, PATCH")
                .route(web::get().to(cases::show))
                .route(web::patch().to(cases::update)),
        )
        .service(resource("/api/rules/lists/", "GET").route(web::get().to(rules::lists)))
        .service(
            resource("/api/rules/lists/{name}/", "GET, PUT, DELETE")
                .route(web::get().to(rules::list))
                .route(web::put().to(rules::put_list))
                .route(web::delete().to(rules::delete_list)),
        )
        .service(
            resource("/api/rules/lists/{name}/import/", "POST")
                .route(web::post().to(list_import::import_list)),
        )
        .service(
            resource("/api/webhooks/", "GET, POST")
                .route(web::get().to(webhooks::list))
                .route(web::post().to(webhooks::create)),
        )
        .service(
            resource("/api/webhooks/{id:\\d+}/", "GET, PATCH, DELETE")
                .route(web::get().to(webhooks::show))
                .route(web::patch().to(webhooks::update))
                .route(web::delete().to(webhooks::delete)),
        )
        .service(
            resource("/api/webhooks/{id:\\d+}/rotate-secret/", "POST")
                .route(web::post().to(webhooks::rotate_secret)),
        )
        .service(
            resource("/api/webhooks/{id:\\d+}/deliveries/", "GET")
                .route(web::get().to(webhooks::deliveries)),
        )
        .service(
            resource(
                "/api/webhooks/{id:\\d+}/deliveries/{delivery:\\d+}/resend/",
                "POST",
            )
            .route(web::post().to(webhooks::resend)),
        )
        .service(resource("/api/screening/", "POST").route(web::post().to(screening::screen)))
        .service(resource("/api/screening/lists/", "GET").route(web::get().to(screening::lists)))
        .service(
            resource("/api/screening/lists/{name}/versions/", "POST")
                .route(web::post().to(screening::import_version)),
        )
        .service(
            resource("/api/screening/suppressions/", "GET, POST")
                .route(web::get().to(screening::suppressions))
                .route(web::post().to(screening::suppress)),
        )
        .service(resource("/api/rules/{module}/", "GET").route(web::get().to(rules::in_force)))
        .service(
            resource("/api/rules/{module}/versions/", "GET").route(web::get().to(rules::versions)),
        )
        .service(
            resource("/api/rules/{module}/features/", "GET").route(web::get().to(rules::features)),
        )
        .service(
            resource("/api/rules/{module}/drafts/", "GET, POST")
                .route(web::get().to(rules::drafts))
                .route(web::post().to(rules::create_draft)),
        )
        .service(
            resource("/api/rules/{module}/drafts/{id:\\d+}/", "GET, PATCH")
                .route(web::get().to(rules::draft))
                .route(web::patch().to(rules::update_draft)),
        )
        .service(
            resource("/api/rules/{module}/drafts/{id:\\d+}/publish/", "POST")
                .route(web::post().to(rules::publish)),
        )
        .service(
            resource(
                "/api/rules/{module}/drafts/{id:\\d+}/backtest/",
                "GET, POST, DELETE",
            )
            .route(web::get().to(rules::backtest_status))
            .route(web::post().to(rules::start_backtest))
            .route(web::delete().to(rules::cancel_backtest)),
        )
        .service(
            resource("/api/rules/{module}/drafts/{id:\\d+}/shadow/", "GET, POST")
                .route(web::get().to(rules::shadow_status))
                .route(web::post().to(rules::shadow_action)),
        )
        .service(
            resource(
                "/api/rules/{module}/versions/{version:\\d+}/restore/",
                "POST",
            )
            .route(web::post().to(rules::restore)),
        )
        // After every fixed path: /api/aml/detect/ and the like are theirs.
        .service(
            resource("/api/{module}/{id:\\d+}/", "GET")
                .route(web::get().to(review::decision_detail)),
        )
        .service(resource("/api/echo/", "POST").route(web::post().to(echo)))
        // Routes are tried in order: the dashboard's files come after every API path, so that
        // no API request (nor the echo baseline) is matched against them first.
        .service(resource("/", "GET").route(web::get().to(dashboard::index)))
        .service(resource("/dashboard/{name}", "GET").route(web::get().to(dashboard::asset)));
}

/// The load tests' baseline: the body read and parsed as the detection endpoints read it, and
/// written back, with nothing else; 404 unless `server.echo_route` is on.
async fn echo(
    state: web::Data<crate::state::AppState>,
    request: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<actix_web::HttpResponse, ApiError> {
    if !state.settings.server.echo_route {
        return Err(ApiError::NotFound);
    }
    let body = crate::body::read_json(&request, payload, &state.settings.server).await?;
    Ok(actix_web::HttpResponse::Ok().json(body))
}

/// A route answering any other method than `allow` with 405 and an `Allow` header (RFC 9110).
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(
        move |request: actix_web::HttpRequest| async move {
            let mut response =
                ApiError::MethodNotAllowed(request.method().to_string()).error_response();
            response.headers_mut().insert(
                actix_web::http::header::ALLOW,
                actix_web::http::header::HeaderValue::from_static(allow),
            );
            response
        },
    ))
}

/// Any path that no route matches.
pub async fn not_found() -> actix_web::HttpResponse {
    ApiError::NotFound.error_response()
}
