//! Roles: what a signed-in user may do, carried in the access token.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::errors::ApiError;

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

    /// Refuses with 403, in DRF's words, unless this role includes `needed`.
    pub fn require(self, needed: Self) -> Result<(), ApiError> {
        if self == Self::Admin || needed == Self::Analyst {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied)
        }
    }
}
