//! Roles: what a signed-in user may do, carried in the access token.

pub use redflag_service::users::Role;

use super::Authenticated;
use crate::errors::ApiError;

impl Authenticated {
    /// Refuses with 403, in DRF's words, unless the user's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied)
        }
    }
}
