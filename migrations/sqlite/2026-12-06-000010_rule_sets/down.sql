DROP TABLE rule_backtests;
DROP TABLE rule_list_entries;
DROP TABLE rule_lists;
DROP TABLE rule_sets;
