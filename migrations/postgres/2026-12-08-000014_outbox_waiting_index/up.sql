-- The audit worker asks for the oldest undelivered outbox rows. Over the index on
-- (delivered_at, id), PostgreSQL cannot take `delivered_at IS NULL` as an equality, so it read every
-- waiting row and sorted them for each batch of 100: the slower the worker, the longer the
-- backlog, the slower each batch (32 ms at 27,000 waiting, most of PostgreSQL's time under load).
-- An index of the waiting rows alone, by id, hands them over in order and stops at the batch's
-- size; rows written delivered (the embedded writer's) no longer enter any index but the key's.
CREATE INDEX IF NOT EXISTS audit_outbox_waiting ON audit_outbox (id) WHERE delivered_at IS NULL;
DROP INDEX audit_outbox_pending;
