-- Sanctions and PEP lists, one row per imported version of a list: the entries as JSON (the
-- redflag-screening entry model), what changed from the version before, and when the parties
-- remembered were screened against those changes. The latest version of each list is in use.
CREATE TABLE screening_list_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_name TEXT NOT NULL,
    version BIGINT NOT NULL,
    format TEXT NOT NULL,
    entries_json TEXT NOT NULL,
    entry_count BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- Entry ids added, changed and removed against the version before, as JSON arrays.
    delta_json TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    rescreened_at TIMESTAMP,
    UNIQUE (list_name, version)
);

-- Parties seen with names in the flow, remembered as keyed hashes of their name's tokens plus
-- the facts they came with (redflag-screening's PartyPrint as JSON): never the name in clear.
-- Append-only, in the order seen: each process writes a party once, and a party written by
-- several processes is read once (by party_id) when a list update is screened. A key on the
-- party's hash would place every insert on a random page of an index, which the decisions'
-- writer measured as its largest cost.
CREATE TABLE screening_parties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    party_id TEXT NOT NULL,
    print_json TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL
);

-- A match an analyst resolved as a false positive, for one party and one entry: suppressed while
-- the entry stays as it was (its sha256 when resolved).
CREATE TABLE screening_suppressions (
    party_id TEXT NOT NULL,
    list_name TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    entry_sha256 TEXT NOT NULL,
    note TEXT NOT NULL,
    alert_id BIGINT,
    resolved_by TEXT NOT NULL,
    resolved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (party_id, list_name, entry_id)
);
