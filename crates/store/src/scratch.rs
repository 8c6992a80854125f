//! Throwaway databases for tests, on either backend: a SQLite file in a temporary directory, or a
//! PostgreSQL database created on the test server and dropped with the value.
//!
//! Every test that touches the database takes one, so tests never see each other's rows, and the
//! whole suite can be pointed at PostgreSQL with `REDFLAG_TEST_DATABASE=postgres` (the two
//! backends bucket time, store JSON and upsert differently; the suite must hold on both). Failing
//! to create one panics: it is only ever called from tests, where a panic is the failure report.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::Backend;

/// The variable that picks the backend of [`ScratchDatabase::from_env`]: `sqlite` or `postgres`.
pub const BACKEND_VARIABLE: &str = "REDFLAG_TEST_DATABASE";
/// The variable naming the PostgreSQL server (any database on it) tests create databases on.
pub const POSTGRES_VARIABLE: &str = "REDFLAG_TEST_POSTGRES_URL";
/// The PostgreSQL of the development machine and CI, trust auth, when the variable is unset.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// An empty, unmigrated database that disappears with the value.
pub struct ScratchDatabase {
    url: String,
    place: Place,
}

enum Place {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl ScratchDatabase {
    /// The backend `REDFLAG_TEST_DATABASE` names; SQLite when it is unset.
    pub fn from_env() -> Self {
        match std::env::var(BACKEND_VARIABLE).as_deref() {
            Err(_) | Ok("" | "sqlite") => Self::sqlite(),
            Ok("postgres" | "postgresql") => Self::postgres(),
            Ok(other) => panic!("{BACKEND_VARIABLE}={other}: expected `sqlite` or `postgres`"),
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory can be created for SQLite");
        let url = dir
            .path()
            .join("redflag.sqlite3")
            .to_str()
            .expect("the temporary directory's path is UTF-8")
            .to_owned();
        Self {
            url,
            place: Place::Sqlite(dir),
        }
    }

    pub fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("redflag_test_{}", uuid::Uuid::new_v4().simple());
        PgConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("PostgreSQL must answer at {admin_url}: {error}"))
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        Self {
            url: replace_database(&admin_url, &name),
            place: Place::Postgres { admin_url, name },
        }
    }

    /// What `DATABASE_URL` should say to reach it.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        match self.place {
            Place::Sqlite(_) => Backend::Sqlite,
            Place::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs SQL under the store, as someone with database access could: for tests that tamper
    /// with rows or hold locks.
    pub fn execute(&self, sql: &str) {
        let result = match self.place {
            Place::Sqlite(_) => SqliteConnection::establish(&self.url)
                .expect("the SQLite file opens")
                .batch_execute(sql),
            Place::Postgres { .. } => PgConnection::establish(&self.url)
                .expect("the PostgreSQL database answers")
                .batch_execute(sql),
        };
        result.unwrap_or_else(|error| panic!("`{sql}` failed: {error}"));
    }
}

impl ScratchDatabase {
    /// Everything stored, as text: the SQLite files' bytes, or PostgreSQL's `database_to_xml`.
    /// For tests that check what does (and what must not) reach the disk.
    pub fn contents(&self) -> String {
        match &self.place {
            Place::Sqlite(dir) => {
                let mut bytes = Vec::new();
                // The database file, its write-ahead log and shared memory index.
                for entry in std::fs::read_dir(dir.path()).expect("the SQLite directory lists") {
                    let path = entry.expect("a directory entry").path();
                    bytes.extend(std::fs::read(&path).unwrap_or_default());
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Place::Postgres { .. } => {
                #[derive(diesel::QueryableByName)]
                struct Dump {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    xml: String,
                }
                let mut connection =
                    PgConnection::establish(&self.url).expect("the PostgreSQL database answers");
                diesel::sql_query("SELECT database_to_xml(true, false, '')::text AS xml")
                    .get_result::<Dump>(&mut connection)
                    .expect("PostgreSQL dumps the database as XML")
                    .xml
            }
        }
    }
}

impl ScratchDatabase {
    /// Takes the write lock the audit log's writers need and holds it until the value is dropped:
    /// SQLite's whole-file lock, or an EXCLUSIVE lock on PostgreSQL's `audit_log` (reads still
    /// pass). For tests of what a worker does while it cannot write.
    pub fn hold_audit_writes(&self) -> HeldWrites {
        let mut held = match self.place {
            Place::Sqlite(_) => HeldWrites::Sqlite(
                SqliteConnection::establish(&self.url).expect("the SQLite file opens"),
            ),
            Place::Postgres { .. } => HeldWrites::Postgres(
                PgConnection::establish(&self.url).expect("the PostgreSQL database answers"),
            ),
        };
        let sql = match held {
            HeldWrites::Sqlite(_) => "BEGIN EXCLUSIVE",
            HeldWrites::Postgres(_) => "BEGIN; LOCK TABLE audit_log IN EXCLUSIVE MODE",
        };
        held.execute(sql).expect("the write lock is taken");
        held
    }
}

impl ScratchDatabase {
    /// Makes a PostgreSQL database refuse new connections and drops the open ones (`false`), or
    /// lets connections in again (`true`): a database outage and its end, without stopping the
    /// server other tests share. Panics on SQLite, which has no server to lose.
    pub fn set_reachable(&self, reachable: bool) {
        let Place::Postgres { admin_url, name } = &self.place else {
            panic!("only a PostgreSQL database can become unreachable");
        };
        let mut admin = PgConnection::establish(admin_url).expect("the PostgreSQL server answers");
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}"
            ))
            .expect("connections to the database can be switched");
        if !reachable {
            admin
                .batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .expect("the database's sessions can be ended");
        }
    }
}

/// A connection in a transaction that holds a write lock; rolled back when dropped.
pub enum HeldWrites {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl HeldWrites {
    fn execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        match self {
            Self::Sqlite(connection) => connection.batch_execute(sql),
            Self::Postgres(connection) => connection.batch_execute(sql),
        }
    }
}

impl Drop for HeldWrites {
    fn drop(&mut self) {
        // Closing the connection would end the transaction too; this only makes it prompt.
        let _ = self.execute("ROLLBACK");
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Place::Postgres { admin_url, name } = &self.place
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            // Best effort: a database left behind only costs disk, never a wrong result.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The PostgreSQL server tests use: `REDFLAG_TEST_POSTGRES_URL`, or the machine's own.
pub fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_VARIABLE).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// The same server URL with another database name.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            replace_database("postgres://u@h:5432/test", "other"),
            "postgres://u@h:5432/other"
        );
        assert_eq!(
            replace_database("postgres://u@h/test?sslmode=disable", "other"),
            "postgres://u@h/other?sslmode=disable"
        );
    }
}
