//! Isolated databases for tests: a SQLite file in a temporary directory, or a PostgreSQL database
//! created for the test and dropped after it.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use redflag_store::Database;

/// The PostgreSQL server tests use; `REDFLAG_TEST_POSTGRES_URL` overrides the machine's default.
pub fn postgres_admin_url() -> String {
    std::env::var("REDFLAG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A migrated database that disappears with the value.
pub struct TestDatabase {
    pub database: Database,
    /// Where it is, for tests that must reach under the store (to tamper with it).
    pub url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        let path = dir.path().join("redflag.sqlite3");
        let url = path.to_str().expect("the temp path is UTF-8").to_owned();
        let database = Database::connect(&url, 4).expect("a SQLite file opens");
        database.migrate().expect("migrations apply to SQLite");
        Self {
            database,
            url,
            _sqlite_dir: Some(dir),
            postgres_name: None,
        }
    }

    pub fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("redflag_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|error| panic!("PostgreSQL must answer at {admin_url}: {error}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database can be created");
        let url = replace_database(&admin_url, &name);
        let database = Database::connect(&url, 4).expect("the new PostgreSQL database opens");
        database.migrate().expect("migrations apply to PostgreSQL");
        Self {
            database,
            url,
            _sqlite_dir: None,
            postgres_name: Some(name),
        }
    }
}

impl TestDatabase {
    /// Runs SQL directly, as someone with database access could.
    pub fn raw(&self, sql: &str) {
        if self.postgres_name.is_some() {
            PgConnection::establish(&self.url)
                .expect("PostgreSQL answers")
                .batch_execute(sql)
                .expect("the SQL runs");
        } else {
            diesel::SqliteConnection::establish(&self.url)
                .expect("the SQLite file opens")
                .batch_execute(sql)
                .expect("the SQL runs");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name
            && let Ok(mut admin) = PgConnection::establish(&postgres_admin_url())
        {
            // Best effort: a database left behind only costs disk, never a wrong result.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
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
