/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database connection unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("{0} already exists")]
    Conflict(String),
    /// The decision writer thread is gone (it could not start, or the process is stopping).
    #[error("the decision writer is not running")]
    WriterStopped,
    /// The idempotency lookup thread is gone (as [`StoreError::WriterStopped`]).
    #[error("the decision lookups are not running")]
    LookupsStopped,
    /// A query asked on behalf of several requests failed; each of them gets this copy of its
    /// error, and whether the database was unavailable then.
    #[error("{message}")]
    Shared { message: String, unavailable: bool },
}

impl StoreError {
    /// Whether the database could not be reached or could not serve the request now (a pool
    /// timeout, a lost connection, a lock or serialization conflict, the writer stopping): the
    /// request may succeed later, and the service answers 503. What is left are bugs (a query
    /// that cannot be built or its rows read, a constraint broken, a missing row the code was
    /// sure of), which answer 500. An error not known to be a bug counts as unavailability, so
    /// that an outage is never reported as a bug.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match self {
            Self::Pool(_) | Self::WriterStopped | Self::LookupsStopped => true,
            Self::Shared { unavailable, .. } => *unavailable,
            Self::Migration(_) | Self::Url(_) | Self::Conflict(_) => false,
            Self::Query(error) => !matches!(
                error,
                Error::NotFound
                    | Error::QueryBuilderError(_)
                    | Error::DeserializationError(_)
                    | Error::SerializationError(_)
                    | Error::InvalidCString(_)
                    | Error::AlreadyInTransaction
                    | Error::NotInTransaction
                    | Error::DatabaseError(
                        Kind::UniqueViolation
                            | Kind::ForeignKeyViolation
                            | Kind::RestrictViolation
                            | Kind::NotNullViolation
                            | Kind::CheckViolation
                            | Kind::ExclusionViolation,
                        _
                    )
            ),
        }
    }
}
