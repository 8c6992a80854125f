//! The one HTTP error type: client errors with DRF-shaped bodies, anything else logged once and
//! answered opaquely.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use redflag_core::ValidationErrors;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Field errors: 400 `{"field": ["message"]}`.
    #[error("invalid fields: {0}")]
    Validation(ValidationErrors),
    /// Errors of a nested body, already in DRF's shape (a rule set's `{"rules": [{}, {"when":
    /// [...]}]}`): 400 as given.
    #[error("invalid body: {0}")]
    Invalid(serde_json::Value),
    /// A body that is not JSON: 400 `{"detail": "JSON parse error - ..."}`.
    #[error("JSON parse error - {0}")]
    MalformedJson(String),
    /// A `multipart/form-data` body that does not read.
    #[error("Multipart form parse error - {0}")]
    MalformedForm(String),
    /// No credentials: 401 with the DRF wording.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// Credentials that do not hold: 401 with the simplejwt wording and code.
    #[error("{detail}")]
    InvalidToken { detail: &'static str },
    /// A Bearer header that is not `Bearer <token>`.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// Wrong username or password, without saying which.
    #[error("No active account found with the given credentials")]
    BadCredentials,
    /// Signed in, but the user's role does not allow it.
    #[error("You do not have permission to perform this action.")]
    PermissionDenied,
    /// Refused for a reason of its own (four eyes): 403 with that reason.
    #[error("{0}")]
    Forbidden(String),
    #[error("Not found.")]
    NotFound,
    /// A page number past the last page, as DRF's paginator words it.
    #[error("Invalid page.")]
    InvalidPage,
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(String),
    /// The same business id with different data.
    #[error("{0}")]
    Conflict(String),
    #[error("Request body exceeds {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    #[error("Invalid HTTP_HOST header: '{0}'.")]
    DisallowedHost(String),
    /// An abuse limit: 429 with `Retry-After`, worded as DRF's throttles.
    #[error("Request was throttled. Expected available in {0} second{plural}.", plural = if *.0 == 1 { "" } else { "s" })]
    Throttled(u64),
    /// The request took longer than `server.request_timeout_ms`.
    #[error("Request timed out.")]
    Timeout,
    /// A dependency (database, Redis) is down; the request was not acknowledged.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A bug or an unexpected failure; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The error's body in DRF's shape: the fields' messages, or `{"detail": ...}`. A batch's
    /// slot holds it in place of the event's answer.
    pub fn body(&self) -> serde_json::Value {
        let detail = |detail: String, code: Option<&'static str>| ErrorDetail { detail, code };
        let rendered = match self {
            Self::Validation(errors) => serde_json::to_value(errors),
            Self::Invalid(body) => Ok(body.clone()),
            Self::InvalidToken { detail: message } => {
                serde_json::to_value(detail((*message).to_owned(), Some("token_not_valid")))
            }
            Self::BadAuthorizationHeader => {
                serde_json::to_value(detail(self.to_string(), Some("bad_authorization_header")))
            }
            Self::Internal(_) => {
                serde_json::to_value(detail("A server error occurred.".to_owned(), None))
            }
            other => serde_json::to_value(detail(other.to_string(), None)),
        };
        // Maps of strings and plain structs always serialise; keep a body should one not.
        rendered.unwrap_or_else(|_| serde_json::json!({"detail": "A server error occurred."}))
    }

    /// Wraps an unexpected failure, logging its cause once here.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed unexpectedly");
        Self::Internal(cause.to_string())
    }

    /// A limit that frees up after `wait`, announced in whole seconds (at least one).
    pub fn throttled(wait: std::time::Duration) -> Self {
        let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self::Throttled(whole.max(1))
    }

    /// A dependency failure: logged once, answered as 503 with a fixed message.
    pub fn unavailable(what: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::Unavailable(what)
    }
}

/// DRF's body for an error that is not about fields: `{"detail": "..."}`, with simplejwt's
/// `code` on token errors.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "Authentication credentials were not provided.")]
    pub detail: String,
    /// `token_not_valid` or `bad_authorization_header`, on 401s about the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// A store failure the handler has no better words for, the cause logged once: an unreachable or
/// busy database answers 503 (nothing was done; try again), a failing query (a bug) 500.
impl From<redflag_store::StoreError> for ApiError {
    fn from(error: redflag_store::StoreError) -> Self {
        if error.is_unavailable() {
            Self::unavailable("Database unavailable.", error)
        } else {
            Self::internal(error)
        }
    }
}

/// The service's work failing: an outage of the database or Redis answers 503, anything else
/// (a bug, an artifact that cannot be written) 500, the cause logged once.
impl From<redflag_service::ServiceError> for ApiError {
    fn from(error: redflag_service::ServiceError) -> Self {
        match error {
            redflag_service::ServiceError::Store(error) => error.into(),
            error if error.is_unavailable() => Self::unavailable("Service unavailable.", error),
            error => Self::internal(error),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_)
            | Self::Invalid(_)
            | Self::MalformedJson(_)
            | Self::MalformedForm(_)
            | Self::DisallowedHost(_) => StatusCode::BAD_REQUEST,
            Self::NotAuthenticated
            | Self::InvalidToken { .. }
            | Self::BadAuthorizationHeader
            | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::InvalidPage => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            ));
        }
        if let Self::Throttled(seconds) = self {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        let mut rendered = response.json(self.body());
        crate::hardening::protect(rendered.headers_mut(), crate::hardening::API_POLICY);
        rendered
    }
}
