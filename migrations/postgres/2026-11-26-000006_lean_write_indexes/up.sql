-- Every decision updates each index of its tables, and decisions are the hot write path. The
-- statistics read the roll-ups and the decisions above their watermark (by id) now, so these four
-- indexes, made for the statistics' full scans, only cost writes.
DROP INDEX decisions_event_hour;
DROP INDEX decisions_module_flagged;
DROP INDEX alerts_rule;
DROP INDEX alerts_severity;
