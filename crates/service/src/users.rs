//! The people who may obtain tokens: their roles, their argon2 passwords, and the account changes
//! the `redflag user` commands make (each audited). Tokens and sign-in are the gateway's.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use redflag_audit::AuditEvent;
use redflag_store::{Database, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Shortest password a user may have (Django's default minimum).
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// `analyst` reads decisions and alerts and works cases; `admin` may also manage users and
/// models. Detections are open to both (services sign in as analysts).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Analyst,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Analyst => "analyst",
            Self::Admin => "admin",
        }
    }

    /// A role as the database stores it; anything unknown grants no more than an analyst's.
    pub fn from_stored(text: &str) -> Self {
        if text == Self::Admin.as_str() {
            Self::Admin
        } else {
            Self::Analyst
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn includes(self, needed: Self) -> bool {
        self == Self::Admin || needed == Self::Analyst
    }
}

/// Why an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the password must have at least {MIN_PASSWORD_LENGTH} characters")]
    PasswordTooShort,
    #[error("could not hash the password: {0}")]
    Hashing(String),
    #[error("the username may not be blank")]
    BlankUsername,
    #[error("no user `{0}`")]
    NoUser(String),
}

/// Hashes a password with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(UserError::PasswordTooShort);
    }
    PasswordHasher::<PasswordHash>::hash_password(&Argon2::default(), password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| UserError::Hashing(error.to_string()))
}

/// Whether `password` matches the stored PHC string; an unreadable hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Creates a user (the username trimmed) and audits it.
pub fn create(
    db: &Database,
    username: &str,
    password: &str,
    role: Role,
) -> Result<User, crate::ServiceError> {
    let (username, hash) = (checked_username(username)?, hash_password(password)?);
    let user = db.create_user(username, &hash, role.as_str())?;
    audit(db, AuditEvent::USER_CREATED, &user)?;
    Ok(user)
}

/// Replaces an existing user's password and audits it.
pub fn set_password(
    db: &Database,
    username: &str,
    password: &str,
) -> Result<User, crate::ServiceError> {
    let (username, hash) = (checked_username(username)?, hash_password(password)?);
    let user = db
        .find_user_by_username(username)?
        .ok_or_else(|| UserError::NoUser(username.to_owned()))?;
    db.set_password(username, &hash)?;
    audit(db, AuditEvent::PASSWORD_SET, &user)?;
    Ok(user)
}

fn checked_username(username: &str) -> Result<&str, UserError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(UserError::BlankUsername);
    }
    Ok(username)
}

/// Audits a change to a user's account, made from the command line.
fn audit(db: &Database, kind: &'static str, user: &User) -> Result<(), crate::ServiceError> {
    Ok(db.record_audit_event(&AuditEvent {
        kind,
        module: None,
        entity_id: format!("user:{}", user.username),
        actor: "system".to_owned(),
        details: serde_json::json!({"user_id": user.id().0}),
        recorded_at: chrono::Utc::now(),
    })?)
}
