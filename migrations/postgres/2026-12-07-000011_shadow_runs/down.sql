DROP TABLE shadow_decisions;
DROP TABLE rule_shadows;
