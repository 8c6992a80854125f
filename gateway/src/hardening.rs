//! What every response carries and what no request may exceed: security headers and the request
//! time limit.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::web;

use crate::errors::ApiError;
use crate::state::AppState;

/// The headers of Django's SecurityMiddleware and clickjacking protection, plus a content policy
/// for an API that serves no pages: nothing may sniff, frame or load from its responses.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Answers 503 `{"detail": "Request timed out."}` to a request still running after
/// `server.request_timeout_ms`, so that a stuck dependency cannot hold clients indefinitely.
///
/// The answer is an error, turned into the response by actix: the request cannot be kept to build
/// one here (routing needs it unshared), so the layers outside (CORS, security headers) do not add
/// their headers to it.
pub async fn time_limit(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = request
        .app_data::<web::Data<AppState>>()
        .map(|state| Duration::from_millis(state.settings.server.request_timeout_ms));
    let Some(limit) = limit.filter(|limit| !limit.is_zero()) else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let path = request.path().to_owned();
    match actix_web::rt::time::timeout(limit, next.call(request)).await {
        Ok(response) => Ok(response?.map_into_boxed_body()),
        Err(_) => {
            tracing::warn!(%path, ?limit, "request timed out");
            Err(ApiError::Timeout.into())
        }
    }
}
