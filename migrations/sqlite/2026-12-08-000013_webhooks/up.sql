-- Webhook subscriptions: where to send which events, signed with the subscription's secret (a
-- Standard Webhooks `whsec_` string). While a secret is rotated, the one before it signs too,
-- until it expires. Events of the audit log after `starts_after` (its last entry when the
-- subscription was made) are sent.
CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    description TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    active BOOLEAN NOT NULL,
    disabled_reason TEXT,
    starts_after BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One message to one subscription: its Standard Webhooks id (the same on every attempt), the body
-- as first written (each attempt sends it byte for byte), and where its delivery stands. A
-- delivery being attempted has its next_attempt_at moved past the attempt's timeout first, so
-- that one whose worker died is attempted again.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    audit_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    UNIQUE (subscription_id, audit_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- How far the audit log has been turned into deliveries: one row.
CREATE TABLE webhook_cursor (
    id INTEGER PRIMARY KEY,
    audit_id BIGINT NOT NULL
);
INSERT INTO webhook_cursor (id, audit_id) VALUES (1, 0);
