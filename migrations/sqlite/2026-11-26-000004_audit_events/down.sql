DELETE FROM audit_outbox WHERE decision_id IS NULL;
CREATE TABLE audit_outbox_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TIMESTAMP,
    last_error TEXT,
    relayed_at TIMESTAMP
);
INSERT INTO audit_outbox_old
    (id, decision_id, kind, payload, created_at, attempts, delivered_at, last_error, relayed_at)
SELECT id, decision_id, kind, payload, created_at, attempts, delivered_at, last_error, relayed_at
FROM audit_outbox;
DROP TABLE audit_outbox;
ALTER TABLE audit_outbox_old RENAME TO audit_outbox;
CREATE INDEX audit_outbox_pending ON audit_outbox (delivered_at, id);
