DELETE FROM audit_outbox WHERE decision_id IS NULL;
ALTER TABLE audit_outbox ALTER COLUMN decision_id SET NOT NULL;
