//! The Redflag HTTP service: the Django backend's API over the domain detectors.
//!
//! `build_app` is the whole service as an actix `App`, used both by `redflag serve` and by the
//! integration tests, so that tests exercise exactly what runs.

pub mod auth;
pub mod background;
mod body;
pub mod errors;
mod hardening;
mod hosts;
pub mod limits;
pub mod openapi;
mod routes;
pub mod score;
pub mod state;
pub mod stream;
pub mod telemetry;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::errors::ApiError;
use crate::state::AppState;
use redflag_service::settings::Settings;

/// The service: routes, authentication, the request time limit, the Host check, CORS, security
/// headers and request metrics.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.settings);
    let openapi = state.openapi.clone();
    App::new()
        .app_data(state)
        // A path segment that is not the route's kind of id (`/api/cases/abc/`, or a number
        // beyond any id) names nothing: 404 in DRF's words, not actix's plain text.
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .configure(routes::configure)
        .service(
            SwaggerUi::new("/api/docs/{_:.*}")
                .external_url_unchecked("/api/schema/", openapi.as_ref().clone()),
        )
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(hardening::time_limit))
        .wrap(from_fn(hosts::check_allowed_host))
        .wrap(cors)
        .wrap(from_fn(hardening::security_headers))
        .wrap(from_fn(telemetry::record_requests))
}

/// CORS for the dashboard's origins.
fn cors(settings: &Settings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(3600);
    for origin in &settings.server.cors_allowed_origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}
