-- When an outbox record was handed to the audit queue (Redis Streams), so that the relay hands
-- over each record once; NULL while it waits (or when the worker reads the outbox directly).
ALTER TABLE audit_outbox ADD COLUMN relayed_at TIMESTAMP;
