DROP TABLE case_events;
DROP TABLE case_alerts;
DROP TABLE cases;
