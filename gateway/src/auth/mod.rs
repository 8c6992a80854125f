//! Authentication: simplejwt-compatible tokens, and the extractor that puts the
//! authenticated user into handlers.

mod extractor;
mod roles;
mod routes;
mod tokens;

pub use extractor::Authenticated;
pub use roles::Role;
pub use routes::{
    AccessToken, TokenPair, obtain_token, read_credentials, read_refresh, refresh_token,
};
pub use tokens::{Claims, TokenKind, TokenService};
