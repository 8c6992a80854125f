//! The rule sets' paths and request bodies in the API document.

use redflag_core::request_schema::describe;
use redflag_service::registry;

use crate::routes::read_import_query;
use serde_json::{Map, Value, json};

use super::{json_content, operation, reference, response, responses};

/// The request bodies and the nested error body of the rule-set endpoints.
pub(super) fn add_schemas(schemas: &mut Map<String, Value>) {
    let rule = json!({
        "type": "object",
        "required": ["name", "when", "severity", "confidence", "reason"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100,
                     "description": "Unique in the rule set; alerts carry it as their rule"},
            "description": {"type": "string", "maxLength": 1000},
            "when": {"type": "string", "minLength": 1, "maxLength": 2000,
                     "description": "A CEL condition over the module's features \
                                     (GET /api/rules/<module>/features/): event fields as \
                                     `event.<field>`, window figures by name, \
                                     `in_list(\"list\", value)`; no loops, nesting at most 32"},
            "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string", "minLength": 1, "maxLength": 1000,
                       "description": "The alert's sentence; `{{feature}}` shows the \
                                       feature's value"},
            "supporting": {"type": "boolean", "default": false,
                           "description": "A supporting signal ranks but never flags alone"}
        }
    });
    schemas.insert(
        "RuleSetDraft".to_owned(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "description": "A draft: fields left out are empty (POST) or keep their value (PATCH). \
                            Rule-set and list bodies may be up to 16 MiB.",
            "properties": {
                "description": {"type": "string", "maxLength": 500},
                "thresholds": {"type": "object", "maxProperties": 100,
                               "description": "The module's settings (as in its config-file \
                                               section, except files and keys) to use instead \
                                               of the config file's, by name"},
                "disabled": {"type": "array", "maxItems": 50,
                             "items": {"type": "string", "maxLength": 100},
                             "description": "Built-in rules switched off, by name"},
                "rules": {"type": "array", "maxItems": 100, "items": rule}
            }
        }),
    );
    schemas.insert(
        "RuleSetErrors".to_owned(),
        json!({
            "type": "object",
            "description": "What is wrong with a rule set, in DRF's nested shape: `thresholds`, \
                            `disabled` and `non_field_errors` hold messages; `rules` holds one \
                            object per rule, in order (empty for a rule without mistakes), each \
                            field with its messages, an expression's starting with its line and \
                            column.",
            "additionalProperties": {"type": "array"},
            "example": {"rules": [{}, {"when": ["line 1, column 17: syntax error: extraneous input '&&'"]}]}
        }),
    );
    schemas.insert(
        "ListValues".to_owned(),
        json!({
            "type": "object",
            "required": ["values"],
            "additionalProperties": false,
            "properties": {
                "description": {"type": "string", "maxLength": 500},
                "values": {"type": "array", "maxItems": 10_000,
                           "items": {"type": "string", "minLength": 1, "maxLength": 200}}
            }
        }),
    );
}

/// POST /api/rules/lists/<name>/import/: a CSV body, read as its query parameters say.
fn import_operation(name: &Value) -> Value {
    let mut operation = operation(
        "Rules",
        "Import a list from a CSV file",
        "Admins only. The body is a CSV file (`text/csv`, UTF-8) whose first row names its \
         columns; the values are the cells of `column` (the first column when absent), trimmed, \
         blank cells skipped, each value once. `mode=replace` (the default) makes the list hold \
         exactly them; `mode=append` adds them to its values. A list holds at most 100,000 \
         values; the file may be up to 16 MiB. Mistakes name the row (`{\"csv\": [\"row 17: \
         ...\"]}`) or the column. Rules reading the list see it at once on this gateway, on \
         others within `rules.poll_seconds`. Audited (`list.updated`, with the mode and the \
         values imported).",
        true,
        None,
        responses(&[
            (
                "200",
                response("What was read, and the list as stored", Some("ListImport")),
            ),
            (
                "403",
                response("The user is not an admin", Some("ErrorDetail")),
            ),
        ]),
    );
    let mut parameters = vec![name.clone()];
    if let Value::Array(query) = super::query_parameters(&describe(|query| {
        drop(read_import_query(query));
    })) {
        parameters.extend(query);
    }
    operation["parameters"] = Value::Array(parameters);
    operation["requestBody"] = json!({
        "required": true,
        "content": {"text/csv": {"schema": {"type": "string"},
                                 "example": "account_id,note\nACC-991,confirmed 2026-03-02\nACC-1204,\n"}}
    });
    if let Some(responses) = operation["responses"].as_object_mut() {
        super::body_errors(responses);
        responses.insert(
            "400".to_owned(),
            json!({"description": "A mistake in the file or the parameters, by row or column",
                   "content": json_content(reference("FieldErrors"))}),
        );
        responses.insert(
            "415".to_owned(),
            response(
                "A media type other than CSV or plain text",
                Some("ErrorDetail"),
            ),
        );
    }
    operation
}

fn with_parameters(mut operation: Value, parameters: &Value) -> Value {
    operation["parameters"] = parameters.clone();
    operation
}

/// The rule-set and list paths.
pub(super) fn paths() -> Value {
    let module = json!({"name": "module", "in": "path", "required": true,
                        "schema": {"type": "string", "enum": registry::names().collect::<Vec<_>>()}});
    let id = json!({"name": "id", "in": "path", "required": true,
                    "schema": {"type": "integer", "minimum": 1}});
    let version = json!({"name": "version", "in": "path", "required": true,
                         "schema": {"type": "integer", "minimum": 1}});
    let name = json!({"name": "name", "in": "path", "required": true,
                      "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}});
    let one = |description: &str| response(description, Some("RuleSetBody"));
    let many = |description: &str| {
        json!({"description": description,
               "content": json_content(json!({"type": "array", "items": reference("RuleSetBody")}))})
    };
    let invalid = json!({
        "description": "The rule set does not check (every mistake at once), or a body that is \
                        not JSON (`{\"detail\": \"JSON parse error - ...\"}`)",
        "content": json_content(json!({"oneOf": [reference("RuleSetErrors"), reference("ErrorDetail")]}))
    });
    let not_found = response("No such module, draft or version", Some("ErrorDetail"));
    let admins = response("The user is not an admin", Some("ErrorDetail"));
    let draft_example = json!({
        "description": "Mule accounts passing money on",
        "thresholds": {"structuring_min_transactions": 4},
        "disabled": ["RoundAmountRule"],
        "rules": [{"name": "Listed mule pass-through",
                   "when": "in_list('mule_accounts', event.receiver_id) && sender_received_24h >= 0.8 * event.amount",
                   "severity": "critical", "confidence": 0.9,
                   "reason": "{{event.amount}} sent to a listed mule after receiving {{sender_received_24h}} in 24h"}]
    });
    // An empty body is an empty draft (POST) or no change (PATCH).
    let with_body = |mut operation: Value| {
        operation["responses"]["400"] = invalid.clone();
        operation["requestBody"]["required"] = json!(false);
        operation
    };
    let module_only = json!([module]);
    let module_and_id = json!([module, id]);
    json!({
        "/api/rules/lists/": {"get": operation(
            "Rules",
            "The team's lists",
            "Every list custom rules can read with `in_list(\"name\", value)`, with its size.",
            true,
            None,
            responses(&[("200", json!({"description": "The lists, by name",
                "content": json_content(json!({"type": "array", "items": reference("ListBody")}))}))]),
        )},
        "/api/rules/lists/{name}/": {
            "get": with_parameters(operation(
                "Rules",
                "One list and its values",
                "The list with its values, sorted.",
                true,
                None,
                responses(&[("200", response("The list", Some("ListBody"))),
                            ("404", response("No such list", Some("ErrorDetail")))]),
            ), &json!([name])),
            "put": with_parameters(operation(
                "Rules",
                "Create or replace a list",
                "Admins only. The list holds exactly these values (trimmed; duplicates once); rules \
                 reading it see them at once on this gateway, on others within \
                 `rules.poll_seconds`. Audited (`list.updated`).",
                true,
                Some(("ListValues", json!({"description": "Accounts confirmed as mules",
                                           "values": ["ACC-991", "ACC-1204"]}))),
                responses(&[("200", response("The list as stored", Some("ListBody"))),
                            ("403", admins.clone())]),
            ), &json!([name])),
            "delete": with_parameters(operation(
                "Rules",
                "Delete a list",
                "Admins only; refused while a rule set in force reads it. Audited \
                 (`list.deleted`).",
                true,
                None,
                responses(&[("204", json!({"description": "Deleted"})),
                            ("403", admins.clone()),
                            ("404", response("No such list", Some("ErrorDetail"))),
                            ("409", response("A rule set in force reads it", Some("ErrorDetail")))]),
            ), &json!([name])),
        },
        "/api/rules/lists/{name}/import/": {"post": import_operation(&name)},
        "/api/rules/{module}/": {"get": with_parameters(operation(
            "Rules",
            "The rule set in force",
            "The module's published version that decides its events now: its thresholds \
             (settings used instead of the config file's), the built-in rules switched off and \
             the custom rules. Version 1 is the config file's settings.",
            true,
            None,
            responses(&[("200", one("The version in force")), ("404", not_found.clone())]),
        ), &module_only)},
        "/api/rules/{module}/versions/": {"get": with_parameters(operation(
            "Rules",
            "The published versions",
            "Every published version, newest (in force) first; each with who wrote and who \
             published it, and the SHA-256 the audit log records.",
            true,
            None,
            responses(&[("200", many("The versions")), ("404", not_found.clone())]),
        ), &module_only)},
        "/api/rules/{module}/features/": {"get": with_parameters(operation(
            "Rules",
            "What custom rules can read",
            "The module's features: the event's fields (`event.<field>`) and the figures its \
             detector computes from the event's windows and model, each with its kind (`number`, \
             `count`, `text`, `flag`) and unit.",
            true,
            None,
            responses(&[("200", json!({"description": "The features, in catalogue order",
                "content": json_content(json!({"type": "array", "items": reference("FeatureSpec")}))})),
                        ("404", not_found.clone())]),
        ), &module_only)},
        "/api/rules/{module}/drafts/": {
            "get": with_parameters(operation(
                "Rules",
                "The drafts",
                "Drafts not yet published, newest first.",
                true,
                None,
                responses(&[("200", many("The drafts")), ("404", not_found.clone())]),
            ), &module_only),
            "post": with_parameters(with_body(operation(
                "Rules",
                "Write a draft",
                "Any signed-in user. The draft is checked as it would be published: thresholds \
                 must make valid settings, switched-off rules must exist, custom rules must \
                 compile (400 names each mistake, and for an expression its line and column). \
                 It starts from the version in force (`based_on`). Audited (`ruleset.drafted`).",
                true,
                Some(("RuleSetDraft", draft_example.clone())),
                responses(&[("201", one("The draft")), ("404", not_found.clone())]),
            )), &module_only),
        },
        "/api/rules/{module}/drafts/{id}/": {
            "get": with_parameters(operation(
                "Rules",
                "One draft",
                "A draft not yet published.",
                true,
                None,
                responses(&[("200", one("The draft")), ("404", not_found.clone())]),
            ), &module_and_id),
            "patch": with_parameters(with_body(operation(
                "Rules",
                "Change a draft",
                "The draft's author only (403 for anyone else: whoever publishes a draft must \
                 not have written any of it). The fields given replace the draft's; checked as a \
                 new draft is. A published version never changes (404).",
                true,
                Some(("RuleSetDraft", json!({"disabled": []}))),
                responses(&[("200", one("The draft as changed")),
                            ("403", response("Not the draft's author", Some("ErrorDetail"))),
                            ("404", not_found.clone())]),
            )), &module_and_id),
        },
        "/api/rules/{module}/drafts/{id}/publish/": {"post": with_parameters(operation(
            "Rules",
            "Publish a draft (four eyes)",
            "Admins other than the draft's author only. The draft, checked again against the \
             settings and lists of now, becomes the module's next version: in force on this \
             gateway at once and on the others within `rules.poll_seconds`; every decision names \
             it (`ruleset_version`). Audited (`ruleset.published`, with its SHA-256). No body.",
            true,
            None,
            responses(&[("200", one("The version published")),
                        ("400", invalid.clone()),
                        ("403", response("Not an admin, or the draft's author", Some("ErrorDetail"))),
                        ("404", not_found.clone()),
                        ("409", response("Another version was published at the same moment", Some("ErrorDetail")))]),
        ), &module_and_id)},
        "/api/rules/{module}/drafts/{id}/backtest/": {
            "get": with_parameters(operation(
                "Rules",
                "The draft's latest backtest",
                "Its progress while it runs (`replayed` of `total` stored decisions), then its \
                 report: decisions and alerts per rule flagged before (as decided) and after (the \
                 draft), the changed decisions with links, precision and recall against closed \
                 cases' labels, and the time it took.",
                true,
                None,
                responses(&[("200", response("The backtest", Some("BacktestBody"))),
                            ("404", response("No such draft, or never backtested", Some("ErrorDetail")))]),
            ), &module_and_id),
            "post": with_parameters(operation(
                "Rules",
                "Backtest a draft",
                "Replays the stored decisions of the period through the draft, in event-time \
                 order, into fresh in-process windows warmed on the module's longest window (at least \
                 `rules.backtest_warm_up_days`) \
                 before it; nothing live is touched. Runs in the background (202): read it with \
                 GET. One backtest at a time per module (409). Audited (`ruleset.backtest_started`, with \
                 the draft's SHA-256 and the period).",
                true,
                Some(("BacktestRequest", json!({"since": "2026-03-01T00:00:00Z",
                                                "until": "2026-04-01T00:00:00Z"}))),
                responses(&[("202", response("Started", Some("BacktestBody"))),
                            ("404", not_found.clone()),
                            ("409", response("A backtest of the module runs", Some("ErrorDetail")))]),
            ), &module_and_id),
            "delete": with_parameters(operation(
                "Rules",
                "Cancel the draft's running backtest",
                "It stops within a page of replayed decisions and ends `cancelled`.",
                true,
                None,
                responses(&[("202", json!({"description": "Asked to stop"})),
                            ("404", response("No backtest of the draft runs", Some("ErrorDetail")))]),
            ), &module_and_id),
        },
        "/api/rules/{module}/drafts/{id}/shadow/": {
            "get": with_parameters(operation(
                "Rules",
                "The draft's latest shadow run",
                "Whether it runs, and its report so far in a backtest's form: the live decisions \
                 it shadowed, flagged and alerts per rule as decided (before) and as the draft \
                 decided them (after), the changed decisions with links, precision and recall \
                 against closed cases' labels.",
                true,
                None,
                responses(&[("200", response("The shadow run", Some("ShadowBody"))),
                            ("404", response("No such draft, or never shadowed", Some("ErrorDetail")))]),
            ), &module_and_id),
            "post": with_parameters(operation(
                "Rules",
                "Start or stop shadowing",
                "`start`: from now on every live decision of the module is also decided by the \
                 draft (as it is now; its SHA-256 is kept), on the history the live decision \
                 read, and the outcome stored beside it; answers never change. Every gateway \
                 starts within `rules.poll_seconds`. One draft shadows a module at a time (409); \
                 starting the one that shadows answers 200. `stop` ends it (409 when it is not \
                 shadowing); publishing the draft ends it too. Audited \
                 (`ruleset.shadow_started`, `ruleset.shadow_stopped`).",
                true,
                Some(("ShadowRequest", json!({"action": "start"}))),
                responses(&[("200", response("Already shadowing, or stopped", Some("ShadowBody"))),
                            ("201", response("Started", Some("ShadowBody"))),
                            ("400", invalid.clone()),
                            ("404", not_found.clone()),
                            ("409", response("Another draft shadows the module, or this one is not shadowing", Some("ErrorDetail")))]),
            ), &module_and_id),
        },
        "/api/rules/{module}/versions/{version}/restore/": {"post": with_parameters(operation(
            "Rules",
            "Roll back to a version",
            "Admins only. Publishes a copy of the version as the next one (the history is kept), \
             in force at once. Audited (`ruleset.published`, `how`: `restored`). No body.",
            true,
            None,
            responses(&[("200", one("The version published")),
                        ("400", invalid),
                        ("403", admins),
                        ("404", not_found),
                        ("409", response("Another version was published at the same moment", Some("ErrorDetail")))]),
        ), &json!([module, version]))},
    })
}
