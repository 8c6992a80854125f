//! A migrated scratch database of either backend, connected.

use redflag_store::Database;
use redflag_store::scratch::ScratchDatabase;

/// A migrated database that disappears with the value.
pub struct TestDatabase {
    pub database: Database,
    scratch: ScratchDatabase,
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        Self::migrated(ScratchDatabase::sqlite())
    }

    pub fn postgres() -> Self {
        Self::migrated(ScratchDatabase::postgres())
    }

    fn migrated(scratch: ScratchDatabase) -> Self {
        let database = Database::connect(scratch.url(), 4).expect("the scratch database opens");
        database.migrate().expect("migrations apply");
        Self { database, scratch }
    }

    /// Runs SQL directly, as someone with database access could.
    pub fn raw(&self, sql: &str) {
        self.scratch.execute(sql);
    }
}
