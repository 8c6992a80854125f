-- Users who may obtain tokens; passwords are argon2 PHC strings.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

-- One row per acknowledged decision of any module.
CREATE TABLE decisions (
    id BIGSERIAL PRIMARY KEY,
    module TEXT NOT NULL,
    reference TEXT,
    entity_id TEXT NOT NULL,
    risk_score DOUBLE PRECISION NOT NULL,
    flagged BOOLEAN NOT NULL,
    decision TEXT,
    request_json TEXT NOT NULL,
    response_json TEXT NOT NULL,
    event_time TIMESTAMP NOT NULL,
    event_hour BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id)
);
CREATE UNIQUE INDEX decisions_module_reference ON decisions (module, reference);
CREATE INDEX decisions_event_hour ON decisions (event_hour);
CREATE INDEX decisions_module_flagged ON decisions (module, flagged);

-- The alerts of each decision, one row each, for queues and statistics.
CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    module TEXT NOT NULL,
    rule TEXT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    details_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX alerts_decision ON alerts (decision_id);
CREATE INDEX alerts_rule ON alerts (module, rule);
CREATE INDEX alerts_severity ON alerts (severity);

-- Audit records written with their decision, awaiting delivery to the audit log.
CREATE TABLE audit_outbox (
    id BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX audit_outbox_pending ON audit_outbox (delivered_at, id);
