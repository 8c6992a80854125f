-- The figures each decision's model read, as a JSON array in the model's feature order, so that
-- the worker can retrain the anomaly models on real traffic. NULL for decisions stored before.
ALTER TABLE decisions ADD COLUMN model_features TEXT;

-- Decisions rolled up per module and event hour by the worker's statistics task; the statistics
-- endpoint adds the decisions above the watermark to them.
CREATE TABLE decision_rollups (
    module TEXT NOT NULL,
    event_hour BIGINT NOT NULL,
    total BIGINT NOT NULL,
    flagged BIGINT NOT NULL,
    risk_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (module, event_hour)
);

-- Their alerts, per rule and severity.
CREATE TABLE alert_rollups (
    module TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (module, rule, severity)
);

-- The last decision id included in the roll-ups, one row: each roll-up locks it first, so
-- workers in any number of processes never count a decision twice.
CREATE TABLE rollup_watermark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    decision_id BIGINT NOT NULL,
    rolled_at TIMESTAMP
);
INSERT INTO rollup_watermark (id, decision_id, rolled_at) VALUES (1, 0, NULL);
