-- Shadow runs: while a draft shadows, every live decision of its module is also decided by it,
-- on the history read for the live decision, and the outcome is stored beside the live one.
-- The document is the draft as it was when the run started, so the outcomes match one version
-- of it (its sha256 is audited). At most one run per module is running (no stopped_at).
CREATE TABLE rule_shadows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module TEXT NOT NULL,
    draft_id BIGINT NOT NULL,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    stopped_by TEXT,
    stopped_at TIMESTAMP
);
CREATE UNIQUE INDEX rule_shadows_running ON rule_shadows (module) WHERE stopped_at IS NULL;
CREATE INDEX rule_shadows_draft ON rule_shadows (module, draft_id, id);

-- What the shadowed draft decided, one row per live decision, written in the decision's own
-- transaction. alerts_json holds the draft's alerts: [{"rule", "severity", "confidence", "reason"}].
CREATE TABLE shadow_decisions (
    shadow_id BIGINT NOT NULL,
    decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    risk_score DOUBLE NOT NULL,
    flagged BOOLEAN NOT NULL,
    alerts_json TEXT NOT NULL,
    PRIMARY KEY (shadow_id, decision_id)
);
