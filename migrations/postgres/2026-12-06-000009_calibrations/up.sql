-- What the worker learned from the deployment's own traffic (the AML peer groups, ...): one JSON
-- document per name, replaced whole by each learning, so that every gateway judges with the same
-- figures.
CREATE TABLE calibrations (
    name TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    learned_at TIMESTAMP NOT NULL
);
