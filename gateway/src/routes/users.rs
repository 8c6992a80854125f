//! GET /api/users/: who may sign in, and with which role; admins only.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::detect::format_timestamp;
use crate::auth::{Authenticated, Role};
use crate::errors::ApiError;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let db = state.db.clone();
    let users = web::block(move || db.users())
        .await
        .map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok().json(
        users
            .iter()
            .map(|user| UserItem {
                id: user.id().0,
                username: user.username.clone(),
                role: Role::from_stored(&user.role),
                is_active: user.is_active,
                created_at: format_timestamp(user.created_at()),
            })
            .collect::<Vec<_>>(),
    ))
}

/// A user as admins see them (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserItem {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub is_active: bool,
    pub created_at: String,
}
