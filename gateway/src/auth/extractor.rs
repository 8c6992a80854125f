use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::Header;
use actix_web::{FromRequest, HttpRequest, web};
use actix_web_httpauth::headers::authorization::{Authorization, Bearer};

use crate::auth::{Role, TokenKind};
use crate::errors::ApiError;
use crate::state::AppState;

/// The user an access token vouches for; taking it as a handler argument makes the route
/// authenticated.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

fn authenticate(request: &HttpRequest) -> Result<Authenticated, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    // As simplejwt: no header, or another scheme (Basic, ...), is "not provided"; a Bearer header
    // that is not exactly `Bearer <token>` is malformed.
    let scheme = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_whitespace().next())
        .unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::NotAuthenticated);
    }
    let bearer =
        Authorization::<Bearer>::parse(request).map_err(|_| ApiError::BadAuthorizationHeader)?;
    let claims = state
        .tokens
        .verify(bearer.as_ref().token(), TokenKind::Access)?;
    Ok(Authenticated {
        user_id: claims.user_id,
        username: claims.username,
        role: claims.role,
    })
}
