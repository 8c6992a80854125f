ALTER TABLE audit_outbox DROP COLUMN relayed_at;
