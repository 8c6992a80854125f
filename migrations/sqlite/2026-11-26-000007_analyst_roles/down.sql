DROP INDEX decisions_entity;
ALTER TABLE users DROP COLUMN role;
