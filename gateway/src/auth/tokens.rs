use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::Role;
use crate::errors::ApiError;

/// The two kinds of token of djangorestframework-simplejwt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// simplejwt's claims (`token_type`, `exp`, `iat`, `jti`, `user_id`) plus the username, which the
/// audit log records as the actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenKind,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
    pub username: String,
    /// Tokens issued before roles existed carry none: an analyst's.
    #[serde(default)]
    pub role: Role,
}

/// Issues and verifies HS256 tokens keyed by SECRET_KEY.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
}

/// simplejwt's message for a token that fails verification, whatever the reason: the client gets
/// no hint about which check failed.
const INVALID_TOKEN: &str = "Token is invalid or expired";
/// simplejwt's message when a refresh token is presented as an access token (or the reverse).
const WRONG_TOKEN_TYPE: &str = "Given token not valid for any token type";

impl TokenService {
    pub fn new(secret: &str, access_lifetime_seconds: i64, refresh_lifetime_seconds: i64) -> Self {
        // Only HS256 is accepted: `alg: none` and algorithm-confusion tokens fail to decode. A
        // token carrying `nbf` is refused until then, as PyJWT does for simplejwt.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            access_lifetime: Duration::seconds(access_lifetime_seconds),
            refresh_lifetime: Duration::seconds(refresh_lifetime_seconds),
        }
    }

    /// Signs a token of `kind` for a user.
    pub fn issue(
        &self,
        kind: TokenKind,
        user_id: i64,
        username: &str,
        role: Role,
    ) -> Result<String, ApiError> {
        let now = Utc::now();
        let lifetime = match kind {
            TokenKind::Access => self.access_lifetime,
            TokenKind::Refresh => self.refresh_lifetime,
        };
        let claims = Claims {
            token_type: kind,
            exp: (now + lifetime).timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id,
            username: username.to_owned(),
            role,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Verifies signature, algorithm and expiry, and that the token is of the expected kind.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<Claims, ApiError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::InvalidToken {
                detail: INVALID_TOKEN,
            })?
            .claims;
        if claims.token_type != expected {
            return Err(ApiError::InvalidToken {
                detail: WRONG_TOKEN_TYPE,
            });
        }
        Ok(claims)
    }
}
