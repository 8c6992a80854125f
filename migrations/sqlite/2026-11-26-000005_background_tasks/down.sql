DROP TABLE rollup_watermark;
DROP TABLE alert_rollups;
DROP TABLE decision_rollups;
ALTER TABLE decisions DROP COLUMN model_features;
