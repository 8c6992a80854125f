use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a request waits for a pooled connection before giving up, unless the caller says
/// ([`Database::connect_with_timeout`]).
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite settings for every new connection. `busy_timeout` comes first: on a fresh file, switching
/// to WAL while another pooled connection opens otherwise fails with "database is locked".
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// How long a checkpoint that restarts the write-ahead log waits for the writer and the readers
/// (new writes wait meanwhile), in milliseconds.
const RESTART_WAIT_MS: u32 = 20;

/// Rows (or ids in an `IN` list) per statement on PostgreSQL: far below its 65,535 bound
/// parameters at ten columns.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// Inserts `rows` into `table` inside the caller's transaction, on the backend's own connection.
///
/// PostgreSQL takes many rows per statement: each statement is a round trip. SQLite has no round
/// trips to save, and Diesel prepares a multi-row statement afresh every time (its SQL depends on
/// the row count), which measured 5% of the service's time; there each row goes through one
/// single-row statement that is prepared once and cached.
macro_rules! insert_rows {
    ($connection:expr, $table:expr, $rows:expr) => {
        match $connection {
            $crate::connection::DbConnection::Sqlite(sqlite) => {
                for row in $rows.iter() {
                    diesel::insert_into($table).values(row).execute(sqlite)?;
                }
            }
            $crate::connection::DbConnection::Postgresql(pg) => {
                for chunk in $rows.chunks($crate::connection::ROWS_PER_STATEMENT) {
                    diesel::insert_into($table).values(chunk).execute(pg)?;
                }
            }
        }
    };
}
pub(crate) use insert_rows;

/// Inserts one row into `table` and returns its `id` column, on the backend's own connection: its
/// statement cache recognises the statement by type, where the backend-neutral connection builds
/// the SQL text on every call to look it up.
macro_rules! insert_returning_id {
    ($connection:expr, $table:expr, $row:expr, $id:expr) => {{
        let insert = diesel::insert_into($table).values($row).returning($id);
        match $connection {
            $crate::connection::DbConnection::Sqlite(sqlite) => insert.get_result::<i64>(sqlite),
            $crate::connection::DbConnection::Postgresql(pg) => insert.get_result::<i64>(pg),
        }
    }};
}
pub(crate) use insert_returning_id;

/// One connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// The database engine in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL's scheme: `postgres://` and `postgresql://` are PostgreSQL;
    /// `sqlite://PATH`, `sqlite:PATH` or a bare path are a SQLite file. Returns the backend and the
    /// connection target its driver expects.
    pub fn from_url(url: &str) -> Result<(Self, String), StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok((Self::Postgres, url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::Url(format!(
                "`{url}`: give a SQLite file path (an in-memory database is not shared between \
                 pooled connections) or a postgres:// URL"
            )));
        }
        Ok((Self::Sqlite, path.to_owned()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
        }
    }
}

/// Opens connections of the configured backend only, so that a PostgreSQL outage is reported as
/// such instead of falling through to SQLite.
#[derive(Debug)]
pub(crate) struct Manager {
    backend: Backend,
    target: String,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut connection = SqliteConnection::establish(&self.target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                connection
                    .batch_execute(SQLITE_PRAGMAS)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), Self::Error> {
        connection.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        connection.is_broken()
    }
}

pub(crate) type Conn = PooledConnection<Manager>;

/// The database: a writer pool and a reader pool over one backend.
///
/// SQLite allows one writer at a time, and a pool of writers only queues on its lock (measured
/// here: p99 89-139 ms with 8 writers, 22 ms with one), so writes go through a single connection
/// while reads use the pool. On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Database {
    backend: Backend,
    writer: Pool<Manager>,
    reader: Pool<Manager>,
}

impl Database {
    /// Connects to `url` with up to `pool_size` connections, failing fast when the database cannot
    /// be reached.
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, StoreError> {
        Self::connect_with_timeout(url, pool_size, CHECKOUT_TIMEOUT)
    }

    /// As [`Database::connect`], waiting at most `checkout_timeout` for a connection: while the
    /// database is unreachable, what a request waits before its 503.
    pub fn connect_with_timeout(
        url: &str,
        pool_size: u32,
        checkout_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let (backend, target) = Backend::from_url(url)?;
        let build = |size: u32| {
            Pool::builder()
                .max_size(size.max(1))
                .min_idle(Some(1))
                .test_on_check_out(false)
                .connection_timeout(checkout_timeout)
                .build(Manager {
                    backend,
                    target: target.clone(),
                })
        };
        let reader = build(pool_size)?;
        let writer = match backend {
            Backend::Sqlite => build(1)?,
            Backend::Postgres => reader.clone(),
        };
        Ok(Self {
            backend,
            writer,
            reader,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn write(&self) -> Result<Conn, StoreError> {
        Ok(self.writer.get()?)
    }

    pub(crate) fn read(&self) -> Result<Conn, StoreError> {
        Ok(self.reader.get()?)
    }

    /// Applies every pending migration of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let mut connection = self.write()?;
        let applied = match &mut *connection {
            DbConnection::Postgresql(pg) => pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.len()),
            DbConnection::Sqlite(sqlite) => sqlite
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|versions| versions.len()),
        };
        applied.map_err(|error| StoreError::Migration(error.to_string()))
    }

    /// Reverts every migration; used to prove that each `down.sql` works.
    pub fn revert_all_migrations(&self) -> Result<usize, StoreError> {
        let mut connection = self.write()?;
        let reverted = match &mut *connection {
            DbConnection::Postgresql(pg) => pg
                .revert_all_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.len()),
            DbConnection::Sqlite(sqlite) => sqlite
                .revert_all_migrations(SQLITE_MIGRATIONS)
                .map(|versions| versions.len()),
        };
        reverted.map_err(|error| StoreError::Migration(error.to_string()))
    }

    /// SQLite only: copies the write-ahead log into the database file, from whichever thread
    /// calls it, so that the writer never pays for a checkpoint's fsync. With `take_over`, the
    /// writer connection stops checkpointing by itself (`wal_autocheckpoint = 0`) and the caller
    /// must keep calling this.
    ///
    /// First without waiting for anyone (`PASSIVE`): the bulk of the copy, beside the writer.
    /// Then `RESTART`, which copies the little written meanwhile and has the log start again from
    /// its beginning: under steady writes a passive checkpoint never finds the log all copied,
    /// so the log never restarted and grew by gigabytes a minute (each new page of it zeroed by
    /// the file system, which slowed every commit). The restart holds new writes back while it
    /// runs, so it waits at most [`RESTART_WAIT_MS`] for readers and writer and otherwise gives up
    /// until the next call.
    pub(crate) fn checkpoint_wal(&self, take_over: bool) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        if take_over {
            self.write()?
                .batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
        }
        let mut connection = self.read()?;
        connection.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")?;
        let restarted = connection.batch_execute(&format!(
            "PRAGMA busy_timeout = {RESTART_WAIT_MS}; PRAGMA wal_checkpoint(RESTART);"
        ));
        // Back to the connection's own settings (its busy timeout) whatever happened: it goes
        // back to the pool.
        connection.batch_execute(SQLITE_PRAGMAS)?;
        Ok(restarted?)
    }

    /// Checks that the database answers, for the health endpoint.
    pub fn ping(&self) -> Result<(), StoreError> {
        Ok(self.read()?.ping()?)
    }
}
