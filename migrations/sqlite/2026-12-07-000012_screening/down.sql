DROP TABLE screening_suppressions;
DROP TABLE screening_parties;
DROP TABLE screening_list_versions;
