//! The screening paths and request bodies in the API document.

use redflag_core::request_schema::describe;
use redflag_screening::ListFormat;
use serde_json::{Map, Value, json};

use crate::routes::{read_screening_request, read_suppression};

use super::{operation, reference, response, responses};

/// The request bodies of the screening endpoints.
pub(super) fn add_schemas(schemas: &mut Map<String, Value>) {
    schemas.insert(
        "ScreeningRequest".to_owned(),
        describe(|body| drop(read_screening_request(body))),
    );
    schemas.insert(
        "SuppressionRequest".to_owned(),
        describe(|body| drop(read_suppression(body))),
    );
    let file = json!({"type": "string", "format": "binary"});
    schemas.insert(
        "ListFiles".to_owned(),
        json!({
            "type": "object",
            "description": "The list's files as form parts: `sdn`, `alt` and `add` (OFAC's \
                            sdn.csv, alt.csv and add.csv) for `ofac-csv`; `file` for `un-xml`, \
                            `senzing-json` and `csv` (a header row, then `id`, `name`, and \
                            optionally `kind`, `aliases`, `dates_of_birth`, `countries`, \
                            `programs`, several values separated by `;`).",
            "properties": {"sdn": file, "alt": file, "add": file, "file": file}
        }),
    );
}

/// The screening paths.
pub(super) fn paths() -> Value {
    let name = json!({"name": "name", "in": "path", "required": true,
                      "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}});
    let format = json!({"name": "format", "in": "query", "required": true,
                        "schema": {"type": "string", "enum": ListFormat::NAMES}});
    let mut import = operation(
        "Screening",
        "Import a new version of a list",
        "Admins only. The body is `multipart/form-data` with the format's files (see \
         ListFiles); up to 64 MiB. Each import is the list's next version; entry ids are the \
         list's own (OFAC `ent_num`, UN `DATAID`, senzing `RECORD_ID`); aliases, dates of birth, \
         nationalities, addresses and programs are kept. A file that does not read answers 400 \
         `{\"file\": [\"sdn.csv, line 17: ...\"]}` and the list in use does not change. The \
         version screens names at once on this gateway, on others within `rules.poll_seconds`; \
         before the answer, the parties remembered from AML traffic are screened against the \
         added and changed entries, and new matches raise alerts of module `screening`. \
         Audited (`screening.list_imported`).",
        true,
        None,
        responses(&[
            (
                "201",
                response(
                    "The version written, and what its re-screen raised",
                    Some("ListImportResult"),
                ),
            ),
            (
                "400",
                response(
                    "A file that does not read, a missing or unexpected part, a bad name or format",
                    Some("FieldErrors"),
                ),
            ),
            (
                "403",
                response("The user is not an admin", Some("ErrorDetail")),
            ),
            (
                "409",
                response(
                    "Another import of the list committed first",
                    Some("ErrorDetail"),
                ),
            ),
            ("413", response("A body over 64 MiB", Some("ErrorDetail"))),
            (
                "415",
                response(
                    "A media type other than multipart/form-data",
                    Some("ErrorDetail"),
                ),
            ),
        ]),
    );
    import["parameters"] = json!([name, format]);
    import["requestBody"] = json!({
        "required": true,
        "content": {"multipart/form-data": {"schema": reference("ListFiles")}}
    });
    json!({
        "/api/screening/": {"post": operation(
            "Screening",
            "Screen a name against the lists",
            "The listed entries the name matches at the threshold (default: \
             `screening.threshold`, 0.85) or above, best first, one per entry, each with its \
             score in 0..1 and its parts: the names' similarity, whether an alias (and a weak \
             one) matched, and whether the date of birth, the country and the kind agree. \
             Names are compared transliterated (accents, Cyrillic, Greek, Arabic and Chinese \
             romanised), in any order, with typos, initials, glued or split tokens and legal \
             forms (Ltd, LLC, OOO) set apart; common words carry little. Every search is audited \
             (`screening.searched`, with the name's keyed hash).",
            true,
            Some(("ScreeningRequest", json!({"name": "Manuel Antonio Noriega",
                                             "entity_type": "individual",
                                             "date_of_birth": "1934-02-11", "country": "PA"}))),
            responses(&[("200", response("The matches and the list versions screened", Some("ScreeningResult")))]),
        )},
        "/api/screening/lists/": {"get": operation(
            "Screening",
            "The lists and their versions",
            "Every list with its version in use (the latest) and every version, newest first: \
             format, entries, SHA-256, who imported it when, what changed, and when the \
             remembered parties were screened against the changes.",
            true,
            None,
            responses(&[("200", response("The lists", Some("ScreeningLists")))]),
        )},
        "/api/screening/lists/{name}/versions/": {"post": import},
        "/api/screening/suppressions/": {
            "get": operation(
                "Screening",
                "Matches resolved as false positives",
                "Every match an analyst resolved, oldest first.",
                true,
                None,
                responses(&[("200", response("The resolutions", Some("SuppressionList")))]),
            ),
            "post": operation(
                "Screening",
                "Resolve a match as a false positive",
                "For one party and one entry of a `SanctionsMatchRule` alert (its \
                 `details.metadata.matches`): the match is not raised for that party again, in \
                 the flow or on list updates, until the entry changes. Audited \
                 (`screening.match_suppressed`) and shown on the alert (`resolved_matches`).",
                true,
                Some(("SuppressionRequest", json!({"alert_id": 42, "party_id": "3f2c…",
                                                   "list": "ofac-sdn", "entry_id": "306",
                                                   "note": "Different person: KYC date of birth 1971"}))),
                responses(&[("201", response("The resolution", Some("ResolvedMatch")))]),
            ),
        },
    })
}
