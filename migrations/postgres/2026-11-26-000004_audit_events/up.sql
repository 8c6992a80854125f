-- Audit events that are not decisions (tokens issued, users created, models trained) have no
-- decision row.
ALTER TABLE audit_outbox ALTER COLUMN decision_id DROP NOT NULL;
