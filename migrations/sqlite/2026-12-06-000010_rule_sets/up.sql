-- Rule sets as data: each module's thresholds, switches and custom rules. A draft has no version;
-- publishing gives it the module's next version number, and the highest version is the one in
-- force. Rows are never deleted: the history is the published rows, in version order.
CREATE TABLE rule_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module TEXT NOT NULL,
    version BIGINT,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    description TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_by TEXT,
    published_at TIMESTAMP,
    based_on BIGINT
);
-- Two publishes at once cannot take the same number (drafts, with no version, are not counted).
CREATE UNIQUE INDEX rule_sets_module_version ON rule_sets (module, version);

-- The team's lists that rules read with in_list("name", value).
CREATE TABLE rule_lists (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE rule_list_entries (
    list_name TEXT NOT NULL REFERENCES rule_lists (name) ON DELETE CASCADE,
    value TEXT NOT NULL,
    PRIMARY KEY (list_name, value)
);

-- Backtests of drafts: progress and report, readable from any gateway. At most one runs per
-- module at a time.
CREATE TABLE rule_backtests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module TEXT NOT NULL,
    draft_id BIGINT NOT NULL,
    since TIMESTAMP NOT NULL,
    until TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    replayed BIGINT NOT NULL,
    total BIGINT NOT NULL,
    report TEXT,
    started_by TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    cancel_requested BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX rule_backtests_running ON rule_backtests (module) WHERE status = 'running';
CREATE INDEX rule_backtests_draft ON rule_backtests (module, draft_id, id);
