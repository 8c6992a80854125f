//! The Host header check of Django's ALLOWED_HOSTS, against Host-header poisoning.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::errors::ApiError;
use crate::state::AppState;

/// Answers 400 to a request whose Host is not allowed; requests without a Host header (HTTP/1.0)
/// pass, as in Django.
pub async fn check_allowed_host(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|host| host.to_str().unwrap_or("<non-ASCII>").to_owned());
    if let (Some(host), Some(state)) = (host, request.app_data::<web::Data<AppState>>())
        && !is_allowed(&host, &state.settings.allowed_hosts)
    {
        let response = ApiError::DisallowedHost(host).error_response();
        return Ok(request.into_response(response));
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// Django's matching: the port is ignored; `*` allows all; `.example.com` allows the domain and
/// its subdomains; anything else must match exactly, ignoring case.
pub fn is_allowed(host: &str, allowed: &[String]) -> bool {
    let name = strip_port(host).to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        pattern == "*"
            || pattern == name
            || pattern
                .strip_prefix('.')
                .is_some_and(|domain| name == domain || name.ends_with(&pattern))
    })
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8000 -> [::1]
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|h| (*h).to_owned()).collect()
    }

    #[test]
    fn matches_like_django() {
        let allowed = hosts(&["localhost", "127.0.0.1", "[::1]", ".example.com"]);
        assert!(is_allowed("localhost:8000", &allowed));
        assert!(is_allowed("LOCALHOST", &allowed));
        assert!(is_allowed("[::1]:8000", &allowed));
        assert!(is_allowed("example.com", &allowed));
        assert!(is_allowed("api.example.com:443", &allowed));
        assert!(!is_allowed("evil.com", &allowed));
        assert!(!is_allowed("notexample.com", &allowed));
        assert!(is_allowed("anything", &hosts(&["*"])));
    }
}
