//! The HTTP side of the metrics: the request middleware. Names, the recorder, the counters and
//! the gauges are the service crate's ([`redflag_service::telemetry`]), re-exported here.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics::{counter, histogram};
pub use redflag_service::telemetry::*;

/// Counts every request and its latency by route pattern (never the raw path, which would let
/// clients create unbounded series), method and status.
pub async fn record_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let result = next.call(request).await;
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    let elapsed = started.elapsed();
    let labels = [
        ("route", route),
        ("method", method),
        ("status", status.to_string()),
    ];
    counter!(names::HTTP_REQUESTS, &labels).increment(1);
    histogram!(names::HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
    tracing::debug!(route = %labels[0].1, method = %labels[1].1, status, duration_ms = elapsed.as_secs_f64() * 1000.0, "request");
    result
}
