//! What every response carries and what no request may exceed: security headers and the request
//! time limit.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::errors::ApiError;
use crate::state::AppState;

/// The content policy of the API's JSON: nothing may load from it or frame it.
pub(crate) const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// Swagger UI's page at /api/docs/ loads its own scripts, styles and images, and nothing else.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
/// The dashboard loads its own files and calls this origin's API; no inline script or style runs.
const DASHBOARD_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The headers of Django's SecurityMiddleware and clickjacking protection, plus a content policy:
/// on every response, error or not.
pub async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = request.path();
    let policy = if path.starts_with("/api/docs/") {
        DOCS_POLICY
    } else if path == "/" || path.starts_with("/dashboard/") {
        DASHBOARD_POLICY
    } else {
        API_POLICY
    };
    let mut response = next.call(request).await?.map_into_boxed_body();
    protect(response.headers_mut(), policy);
    Ok(response)
}

/// Puts the security headers and `policy` on a response. Error responses get them from
/// [`ApiError`]'s rendering too, since an error raised inside the middleware stack (the time
/// limit's) is rendered by actix outside [`security_headers`].
pub(crate) fn protect(headers: &mut HeaderMap, policy: &'static str) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("content-security-policy", policy),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

/// Answers 503 `{"detail": "Request timed out."}` to a request still running after
/// `server.request_timeout_ms`, so that a stuck dependency cannot hold clients indefinitely.
///
/// The answer is an error, turned into the response by actix: the request cannot be kept to build
/// one here (routing needs it unshared), so the layers outside do not see it. The security
/// headers come with every rendered [`ApiError`]; CORS headers are missing from this one answer
/// (a cross-origin caller sees a network error instead of the 503).
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
    // A shared handle on the URI (no copy of the path on every request), for the log line.
    let uri = request.uri().clone();
    match actix_web::rt::time::timeout(limit, next.call(request)).await {
        Ok(response) => Ok(response?.map_into_boxed_body()),
        Err(_) => {
            tracing::warn!(path = %uri.path(), ?limit, "request timed out");
            Err(ApiError::Timeout.into())
        }
    }
}
