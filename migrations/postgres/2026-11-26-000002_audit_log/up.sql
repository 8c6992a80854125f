-- The audit log: append-only, each row chained to the one before by its hash.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    module TEXT,
    entity_id TEXT,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (module, entity_id, id);

-- The head of the chain, one row: every append locks it first, so appends from any number of
-- workers are serialised and the chain never forks.
CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    head TEXT NOT NULL,
    length BIGINT NOT NULL
);
INSERT INTO audit_chain (id, head, length)
VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000', 0);
