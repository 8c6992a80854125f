-- Analysts' investigations: one or more alerts, who works them, where they stand, how they ended.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT,
    assignee TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_status ON cases (status, id);

CREATE TABLE case_alerts (
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    alert_id BIGINT NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (case_id, alert_id)
);
CREATE INDEX case_alerts_alert ON case_alerts (alert_id);

-- Each case's timeline: every change, by whom, when.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    details_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);
