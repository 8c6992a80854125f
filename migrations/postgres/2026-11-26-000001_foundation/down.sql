DROP TABLE audit_outbox;
DROP TABLE alerts;
DROP TABLE decisions;
DROP TABLE users;
