use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::schema::users;
use crate::{Database, StoreError};

/// A user's row id, as carried in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// Someone allowed to obtain tokens.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct User {
    id: i64,
    pub username: String,
    /// argon2 PHC string.
    pub password_hash: String,
    pub is_active: bool,
    created_at: NaiveDateTime,
    /// `analyst` or `admin` (see the gateway's roles).
    pub role: String,
}

impl User {
    pub fn id(&self) -> UserId {
        UserId(self.id)
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    username: &'a str,
    password_hash: &'a str,
    is_active: bool,
    created_at: NaiveDateTime,
    role: &'a str,
}

impl Database {
    /// Creates an active user with a role; a taken username is a [`StoreError::Conflict`].
    pub fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<User, StoreError> {
        let row = NewUser {
            username,
            password_hash,
            is_active: true,
            created_at: Utc::now().naive_utc(),
            role,
        };
        diesel::insert_into(users::table)
            .values(&row)
            .returning(users::all_columns)
            .get_result(&mut *self.write()?)
            .map_err(|error| match error {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    StoreError::Conflict(format!("user `{username}`"))
                }
                other => other.into(),
            })
    }

    /// Replaces a user's password hash; false when there is no such user.
    pub fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        let updated = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::password_hash.eq(password_hash))
            .execute(&mut *self.write()?)?;
        Ok(updated > 0)
    }

    pub fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(users::table
            .filter(users::username.eq(username))
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// Every user, by id.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(users::table
            .order(users::id.asc())
            .load(&mut *self.read()?)?)
    }

    pub fn find_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(users::table
            .find(id.0)
            .first(&mut *self.read()?)
            .optional()?)
    }
}
