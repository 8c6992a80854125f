CREATE INDEX audit_outbox_pending ON audit_outbox (delivered_at, id);
DROP INDEX audit_outbox_waiting;
