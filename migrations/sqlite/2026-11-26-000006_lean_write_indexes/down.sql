CREATE INDEX decisions_event_hour ON decisions (event_hour);
CREATE INDEX decisions_module_flagged ON decisions (module, flagged);
CREATE INDEX alerts_rule ON alerts (module, rule);
CREATE INDEX alerts_severity ON alerts (severity);
