-- Who may do what: `analyst` (read, work the alert queue) or `admin` (also users and models).
-- Users created before roles existed are analysts.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'analyst';
