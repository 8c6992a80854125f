use actix_web::{HttpRequest, HttpResponse, web};
use redflag_audit::AuditEvent;
use redflag_core::{FieldReader, ValidationErrors};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::{Role, TokenKind};
use crate::body::read_json;
use crate::errors::ApiError;
use crate::state::AppState;
use redflag_service::users::verify_password;

/// POST /api/token/ `{"username", "password"}` -> `{"refresh", "access"}`.
#[tracing::instrument(skip_all)]
pub async fn obtain_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&request, payload, &state.settings.server).await?;
    let (username, password) = read_credentials(&body)?;
    let address = client_address(&request, state.settings.server.trust_forwarded_for);
    state.limits.check_login(&username, &address)?;
    let worker_state = state.clone();
    let attempted = username.clone();
    let user = web::block(move || {
        let user = worker_state.db.find_user_by_username(&username)?;
        let hash = user.as_ref().map_or_else(
            || worker_state.dummy_hash(),
            |user| user.password_hash.as_str(),
        );
        let matches = verify_password(&password, hash);
        let user = user.filter(|user| matches && user.is_active);
        if let Some(user) = &user {
            worker_state
                .db
                .record_audit_event(&token_event(AuditEvent::TOKEN_ISSUED, &user.username))?;
        }
        Ok::<_, redflag_store::StoreError>(user)
    })
    .await
    .map_err(ApiError::internal)??;
    let Some(user) = user else {
        state.limits.login_failed(&attempted, &address);
        return Err(ApiError::BadCredentials);
    };
    state.limits.login_succeeded(&attempted);
    let (user_id, role) = (user.id().0, Role::from_stored(&user.role));
    Ok(HttpResponse::Ok().json(TokenPair {
        refresh: state
            .tokens
            .issue(TokenKind::Refresh, user_id, &user.username, role)?,
        access: state
            .tokens
            .issue(TokenKind::Access, user_id, &user.username, role)?,
    }))
}

/// The body of POST /api/token/: `{"username", "password"}`.
pub fn read_credentials(body: &Value) -> Result<(String, String), ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let username = fields.required_id("username");
    let password = fields.required_secret("password");
    fields.finish(|| (username.unwrap_or_default(), password.unwrap_or_default()))
}

/// The body of POST /api/token/refresh/: `{"refresh"}`.
pub fn read_refresh(body: &Value) -> Result<String, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let refresh = fields.required_secret("refresh");
    fields.finish(|| refresh.unwrap_or_default())
}

/// simplejwt's answer to a sign-in: a refresh token (a day) and an access token (minutes).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub refresh: String,
    pub access: String,
}

/// A new access token for a refresh token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    pub access: String,
}

/// POST /api/token/refresh/ `{"refresh"}` -> `{"access"}`, for a user who still exists and is
/// active.
#[tracing::instrument(skip_all)]
pub async fn refresh_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&request, payload, &state.settings.server).await?;
    let refresh = read_refresh(&body)?;
    let claims = state.tokens.verify(&refresh, TokenKind::Refresh)?;
    let worker_state = state.clone();
    let user_id = redflag_store::UserId(claims.user_id);
    let user = web::block(move || {
        let user = worker_state
            .db
            .find_user(user_id)?
            .filter(|user| user.is_active);
        if let Some(user) = &user {
            worker_state
                .db
                .record_audit_event(&token_event(AuditEvent::TOKEN_REFRESHED, &user.username))?;
        }
        Ok::<_, redflag_store::StoreError>(user)
    })
    .await
    .map_err(ApiError::internal)??
    .ok_or(ApiError::InvalidToken {
        detail: "User not found",
    })?;
    Ok(HttpResponse::Ok().json(AccessToken {
        access: state.tokens.issue(
            TokenKind::Access,
            claims.user_id,
            &user.username,
            Role::from_stored(&user.role),
        )?,
    }))
}

/// Who is signing in, for the per-address limit: the peer address, or with `trust_forwarded_for`
/// the first address of `X-Forwarded-For` (what the load balancer saw).
fn client_address(request: &HttpRequest, trust_forwarded_for: bool) -> String {
    let address = if trust_forwarded_for {
        request
            .connection_info()
            .realip_remote_addr()
            .map(str::to_owned)
    } else {
        request.peer_addr().map(|peer| peer.ip().to_string())
    };
    let address = address.unwrap_or_else(|| "unknown".to_owned());
    // `realip_remote_addr` may keep a port: the address alone is the client.
    match address.parse::<std::net::SocketAddr>() {
        Ok(socket) => socket.ip().to_string(),
        Err(_) => address,
    }
}

/// The audit event of a token handed to `username` (never the token itself).
fn token_event(kind: &'static str, username: &str) -> AuditEvent {
    AuditEvent {
        kind,
        module: None,
        entity_id: format!("user:{username}"),
        actor: username.to_owned(),
        details: json!({}),
        recorded_at: chrono::Utc::now(),
    }
}
