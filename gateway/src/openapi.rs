//! The OpenAPI 3.1 document of the API, served at GET /api/schema/ with Swagger UI at /api/docs/.
//!
//! Nothing in it is written twice. Response bodies are the types the handlers serialise (their
//! `ToSchema` derives); request bodies and query parameters are described by the parsers that read
//! them (`redflag_core::request_schema`). Only the paths, status codes and prose are written here.

use chrono::Utc;
use redflag_core::request_schema::describe;
use redflag_service::registry;
use serde_json::{Map, Value, json};
use utoipa::{PartialSchema, ToSchema};

mod rules;
mod screening;
mod webhooks;

use crate::auth::{AccessToken, TokenPair, read_credentials, read_refresh};
use crate::errors::ErrorDetail;
use crate::routes::{
    AlertPage, AmlDecision, AuditPage, BacktestBody, CaseBody, CasePage, CreditDecision,
    DecisionDetail, Degradation, Health, InstalledModel, InsuranceDecision, ListBody, ListImport,
    ListImportResult, MAX_BATCH_EVENTS, MarketDecision, MetricsSnapshot, PeerGroupReport,
    ResolvedMatch, RuleSetBody, ScreeningLists, ScreeningResult, ShadowBody, StatisticsReport,
    SuppressionList, TrainingReport, UserItem, WarmingUp, read_alert_query, read_backtest_request,
    read_case_patch, read_case_query, read_history_query, read_new_case, read_shadow_request,
    read_training_request,
};

/// The document, as served and as checked in (`cargo xtask openapi`).
pub fn document() -> Value {
    let mut schemas = Map::new();
    add::<TokenPair>(&mut schemas);
    add::<AccessToken>(&mut schemas);
    add::<ErrorDetail>(&mut schemas);
    add::<AmlDecision>(&mut schemas);
    add::<CreditDecision>(&mut schemas);
    add::<InsuranceDecision>(&mut schemas);
    add::<MarketDecision>(&mut schemas);
    add::<Degradation>(&mut schemas);
    add::<WarmingUp>(&mut schemas);
    add::<StatisticsReport>(&mut schemas);
    add::<AuditPage>(&mut schemas);
    add::<MetricsSnapshot>(&mut schemas);
    add::<Health>(&mut schemas);
    add::<AlertPage>(&mut schemas);
    add::<DecisionDetail>(&mut schemas);
    add::<UserItem>(&mut schemas);
    add::<CasePage>(&mut schemas);
    add::<CaseBody>(&mut schemas);
    add::<InstalledModel>(&mut schemas);
    add::<TrainingReport>(&mut schemas);
    add::<PeerGroupReport>(&mut schemas);
    add::<RuleSetBody>(&mut schemas);
    add::<redflag_rules::FeatureSpec>(&mut schemas);
    add::<ListBody>(&mut schemas);
    add::<BacktestBody>(&mut schemas);
    add::<ShadowBody>(&mut schemas);
    add::<ListImport>(&mut schemas);
    add::<ScreeningResult>(&mut schemas);
    add::<ScreeningLists>(&mut schemas);
    add::<ListImportResult>(&mut schemas);
    add::<SuppressionList>(&mut schemas);
    add::<ResolvedMatch>(&mut schemas);
    rules::add_schemas(&mut schemas);
    screening::add_schemas(&mut schemas);
    webhooks::add_schemas(&mut schemas);
    schemas.insert(
        "FieldErrors".to_owned(),
        json!({
            "type": "object",
            "description": "DRF's field errors: each invalid field with its messages, every one at \
                            once; `non_field_errors` when the body is not an object.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"amount": ["Ensure this value is greater than 0."]}
        }),
    );
    let now = Utc::now();
    let requests = [
        ("Credentials", describe(|body| drop(read_credentials(body)))),
        ("RefreshRequest", describe(|body| drop(read_refresh(body)))),
        (
            "AmlTransaction",
            describe(|body| drop(redflag_aml::Transaction::parse(body, now))),
        ),
        (
            "CreditApplication",
            describe(|body| drop(redflag_credit::Application::parse(body, now))),
        ),
        (
            "InsuranceClaim",
            describe(|body| {
                let hasher = redflag_insurance::IdentifierHasher::new(b"schema");
                drop(redflag_insurance::Claim::parse(body, now, &hasher));
            }),
        ),
        (
            "MarketEvent",
            describe(|body| drop(redflag_market::MarketEvent::parse(body, now))),
        ),
        ("NewCase", describe(|body| drop(read_new_case(body)))),
        ("CaseChange", describe(|body| drop(read_case_patch(body)))),
        (
            "TrainingRequest",
            describe(|body| drop(read_training_request(body))),
        ),
        (
            "BacktestRequest",
            describe(|body| drop(read_backtest_request(body))),
        ),
        (
            "ShadowRequest",
            describe(|body| drop(read_shadow_request(body))),
        ),
    ];
    for (name, schema) in requests {
        schemas.insert(name.to_owned(), schema);
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Redflag",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Real-time fraud detection: AML transaction monitoring, credit risk, \
                            insurance claims and market-abuse surveillance. Every decision is \
                            stored with its alerts and audited in a hash-chained log. Sign in at \
                            POST /api/token/ and send the access token as `Authorization: Bearer \
                            <token>`. Errors are Django REST framework's: `{\"field\": [\"message\"]}` \
                            or `{\"detail\": \"...\"}`.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": all_paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "jwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        }
    })
}

/// A parser's description of a query string, as OpenAPI query parameters.
fn query_parameters(query: &Value) -> Value {
    let required: Vec<Value> = query["required"].as_array().cloned().unwrap_or_default();
    let parameters: Vec<Value> = query["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .map(|(name, schema)| {
                    json!({"name": name, "in": "query", "schema": schema,
                           "required": required.contains(&json!(name))})
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Array(parameters)
}

/// A response type and every type it refers to, under their names.
fn add<T: ToSchema>(schemas: &mut Map<String, Value>) {
    schemas.insert(T::name().into_owned(), to_json(T::schema()));
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    for (name, schema) in referenced {
        schemas.insert(name, to_json(schema));
    }
}

fn to_json(schema: impl serde::Serialize) -> Value {
    // utoipa's schema types are plain data: serialising them cannot fail.
    serde_json::to_value(schema).unwrap_or_default()
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// A response described by `schema` (a component name), or without a body.
fn response(description: &str, schema: Option<&str>) -> Value {
    match schema {
        Some(name) => json!({"description": description, "content": json_content(reference(name))}),
        None => json!({"description": description}),
    }
}

/// What every operation may answer besides its success (unless it says otherwise itself).
fn common_errors(responses: &mut Map<String, Value>, secured: bool) {
    let detail = Some("ErrorDetail");
    let mut add = |status: &str, answer: Value| {
        responses.entry(status.to_owned()).or_insert(answer);
    };
    if secured {
        add(
            "401",
            response(
                "No credentials, or a token that is expired, tampered with, of another key or a \
                 refresh token",
                detail,
            ),
        );
    }
    add(
        "405",
        response("Another method than the documented ones", detail),
    );
    add(
        "503",
        response(
            "The database (or, failing closed, Redis) is unavailable, or the request ran past \
             `server.request_timeout_ms`: nothing was recorded unless said otherwise",
            detail,
        ),
    );
}

/// The errors of a request with a JSON body.
fn body_errors(responses: &mut Map<String, Value>) {
    responses.entry("400").or_insert(
        json!({
            "description": "Invalid fields (every one at once), or a body that is not JSON or \
                            nests too deeply (`{\"detail\": \"JSON parse error - ...\"}`)",
            "content": json_content(json!({"oneOf": [reference("FieldErrors"), reference("ErrorDetail")]}))
        }));
    responses.insert(
        "413".to_owned(),
        response("A body over `server.body_limit_bytes`", Some("ErrorDetail")),
    );
    responses.insert(
        "415".to_owned(),
        response("A media type other than JSON", Some("ErrorDetail")),
    );
}

fn operation(
    tag: &str,
    summary: &str,
    description: &str,
    secured: bool,
    request: Option<(&str, Value)>,
    mut responses: Map<String, Value>,
) -> Value {
    common_errors(&mut responses, secured);
    let mut operation = json!({
        "tags": [tag],
        "summary": summary,
        "description": description,
        "responses": responses,
    });
    if secured {
        operation["security"] = json!([{"jwtAuth": []}]);
    } else {
        operation["security"] = json!([]);
    }
    if let Some((schema, example)) = request {
        body_errors(
            operation["responses"]
                .as_object_mut()
                .expect("responses were built as an object above"),
        );
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": reference(schema), "example": example}}
        });
    }
    operation
}

fn responses(entries: &[(&str, Value)]) -> Map<String, Value> {
    entries
        .iter()
        .map(|(status, body)| ((*status).to_owned(), body.clone()))
        .collect()
}

/// A stored decision as every detection answer carries it: `id`, the module's decision, the
/// rule-set version, and the optional degradation and warm-up markers.
fn decided_schema(decision: &str) -> Value {
    // Present on degraded decisions and while the model warms up only: the types' fields, none
    // of them required.
    let optional = |schema: Value| {
        let mut schema = schema;
        if let Some(object) = schema.as_object_mut() {
            object.remove("required");
        }
        schema
    };
    json!({
        "allOf": [
            {"type": "object", "required": ["id"],
             "properties": {"id": {"type": "integer", "description": "The stored decision's id"}}},
            reference(decision),
            {"type": "object", "required": ["ruleset_version"],
             "properties": {"ruleset_version": {"type": ["integer", "null"],
                 "description": "The module's rule-set version that made the decision (see \
                                 GET /api/rules/<module>/versions/); version 1 is the config \
                                 file's settings"}}},
            optional(to_json(Degradation::schema())),
            optional(to_json(WarmingUp::schema()))
        ]
    })
}

/// A module's batch endpoint: up to [`MAX_BATCH_EVENTS`] of its events in, each one's answer (or
/// error) out, in order.
fn batch(tag: &str, event: &str, decision: &str, single: &str, example: Value) -> Value {
    let slot = json!({"oneOf": [decided_schema(decision), reference("FieldErrors"), reference("ErrorDetail")]});
    let answers = responses(&[
        (
            "200",
            json!({"description": "Each event's answer in its slot, in the order sent: the \
                                   decision (new, or stored for a resent business id), or the \
                                   event's error body (its fields' errors; a 409's or a 503's \
                                   `detail`). One bad event does not fail the others.",
                   "content": json_content(json!({"type": "array", "items": slot}))}),
        ),
        (
            "429",
            response(
                "Over the user's `limits.detections_per_second`, counting each event (see \
                 Retry-After)",
                Some("ErrorDetail"),
            ),
        ),
    ]);
    let mut operation = operation(
        tag,
        &format!(
            "Assess up to {MAX_BATCH_EVENTS} {} events at once",
            tag.to_lowercase()
        ),
        &format!(
            "Each event is decided exactly as {single} decides it (idempotency by business id, \
             event time, windows, audit record), in the array's order; the decisions are \
             committed together. A body that is not a non-empty array of at most \
             {MAX_BATCH_EVENTS} events is 400 `{{\"non_field_errors\": [...]}}`. The body may be \
             up to 8 MiB (or `server.body_limit_bytes` when larger)."
        ),
        true,
        Some((event, example.clone())),
        answers,
    );
    operation["requestBody"] = json!({
        "required": true,
        "content": {"application/json": {
            "schema": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_EVENTS,
                       // Any JSON per slot: an event that does not read (not an object, a field
                       // missing or wrong) is answered in its slot, not by refusing the batch.
                       "items": {"description": format!(
                           "A {event} body (see that schema). An event that is not one gets \
                            its errors in its slot of the answer; the others are decided."
                       )}},
            "example": [example]
        }}
    });
    json!({ "post": operation })
}

/// A detection endpoint: the module's event in, its decision out; the examples are the seed
/// backend's, completed with the fields this contract always has.
fn detection(tag: &str, event: &str, decision: &str, example: Value, answer: Value) -> Value {
    let decided = decided_schema(decision);
    let answers = responses(&[
        (
            "201",
            json!({"description": "Decided and stored (with its alerts and audit record)",
                   "content": {"application/json": {"schema": decided.clone(), "example": answer}}}),
        ),
        (
            "200",
            json!({"description": "The same business id with the same data was already decided: \
                                   the stored decision",
                   "content": json_content(decided)}),
        ),
        (
            "409",
            response(
                "The same business id was decided with different data",
                Some("ErrorDetail"),
            ),
        ),
        (
            "429",
            response(
                "Over the user's `limits.detections_per_second` (see Retry-After)",
                Some("ErrorDetail"),
            ),
        ),
    ]);
    json!({"post": operation(
        tag,
        &format!("Assess one {}", tag.to_lowercase()),
        "Runs the module's rules over the event and its recent history (windows shared through \
         Redis when configured), scores it with the module's model, stores the decision and its \
         alerts and answers with them. Resending the same business id answers the stored \
         decision. Without Redis the decision may be `degraded` (see `skipped_rules`).",
        true,
        Some((event, example)),
        answers,
    )})
}

/// Every path: the contract's, then the rule sets' and screening's.
fn all_paths() -> Value {
    let mut all = paths();
    for more in [rules::paths(), screening::paths(), webhooks::paths()] {
        if let (Some(all), Value::Object(more)) = (all.as_object_mut(), more) {
            all.extend(more);
        }
    }
    all
}

fn paths() -> Value {
    let token_answers = responses(&[
        ("200", response("Signed in", Some("TokenPair"))),
        (
            "401",
            response(
                "No active account with these credentials",
                Some("ErrorDetail"),
            ),
        ),
        (
            "429",
            response(
                "Too many failed sign-ins for this username or address (see Retry-After)",
                Some("ErrorDetail"),
            ),
        ),
    ]);
    let refresh_answers = responses(&[
        ("200", response("A new access token", Some("AccessToken"))),
        (
            "401",
            response(
                "The refresh token is invalid or expired, or its user is gone",
                Some("ErrorDetail"),
            ),
        ),
    ]);
    let mut history = operation(
        "Audit",
        "An entity's audit history",
        "The hash-chained audit log's entries about one entity (a sender, an applicant, a \
         policy, a symbol, `user:<name>`), newest first, 50 a page.",
        true,
        None,
        responses(&[
            ("200", response("One page of entries", Some("AuditPage"))),
            ("400", response("Invalid parameters", Some("FieldErrors"))),
            (
                "404",
                response(
                    "A page past the last (`Invalid page.`)",
                    Some("ErrorDetail"),
                ),
            ),
        ]),
    );
    history["parameters"] = query_parameters(&describe(|query| drop(read_history_query(query))));
    let mut queue = operation(
        "Review",
        "The alert queue",
        "Every alert raised, newest first, 50 a page, each linking to its decision; filtered by \
         module, severity, rule, time raised (`since` inclusive, `until` exclusive) and status \
         (`new`: in no case yet, or the status of a case holding it).",
        true,
        None,
        responses(&[
            ("200", response("One page of alerts", Some("AlertPage"))),
            ("400", response("Invalid parameters", Some("FieldErrors"))),
            (
                "404",
                response(
                    "A page past the last (`Invalid page.`)",
                    Some("ErrorDetail"),
                ),
            ),
        ]),
    );
    queue["parameters"] = query_parameters(&describe(|query| drop(read_alert_query(query))));
    let mut decision = operation(
        "Review",
        "One stored decision",
        "The request as validated and stored, the answer, every alert with its figures, the model \
         that scored it and the entity's latest 20 decisions of the module up to this one (among \
         the 100,000 decisions before it).",
        true,
        None,
        responses(&[
            ("200", response("The decision", Some("DecisionDetail"))),
            (
                "404",
                response("No such decision in this module", Some("ErrorDetail")),
            ),
        ]),
    );
    let decision_modules: Vec<&str> = registry::names()
        .chain(std::iter::once(redflag_store::SCREENING_MODULE))
        .collect();
    decision["parameters"] = json!([
        {"name": "module", "in": "path", "required": true,
         "description": "A detection module, or `screening` for the alerts list updates raise",
         "schema": {"type": "string", "enum": decision_modules}},
        {"name": "id", "in": "path", "required": true,
         "schema": {"type": "integer", "minimum": 1}}
    ]);

    let module_names = json!(registry::names().collect::<Vec<_>>());
    let in_use = json!({"type": "object", "required": module_names,
        "properties": module_names.as_array().map(|names| names.iter()
            .filter_map(|name| name.as_str())
            .map(|name| (name.to_owned(), reference("InstalledModel")))
            .collect::<Map<String, Value>>()),
        "additionalProperties": false});
    let models = operation(
        "Models",
        "The models in use",
        "The model scoring each module's events in this gateway: its kind, the name decisions \
         give it, what it was trained on and its training report; for aml, insurance and market \
         its anomaly alert (`anomaly_alert`): calibrated to the deployment's recent traffic, \
         warming up, or on the training threshold, and each feature's drift (PSI).",
        true,
        None,
        responses(&[(
            "200",
            json!({"description": "By module name", "content": json_content(in_use.clone())}),
        )]),
    );
    let calibration = operation(
        "Models",
        "Calibrate the anomaly alerts now",
        "Admins only; as the worker's `calibrate-anomaly` task (`tasks.calibrate_anomaly_seconds`). \
         For aml, insurance and market: the score that `models.anomaly_alert_rate` of the most \
         recent decisions (at most `tasks.retrain_rows`) reach becomes the alert threshold; with \
         fewer than `models.calibration_min_events` decisions stored the alert stays silent \
         (warming up); at the first calibration past that, a model still trained on synthetic \
         defaults is retrained on those decisions (less confirmed fraud) first. Stored, swapped \
         in here at once (other gateways within `models.reload_seconds`) and, when the model or \
         threshold changed, audited (`anomaly.calibrated`, actor the admin). No body; the answer \
         is the models in use, as GET /api/models/ gives them.",
        true,
        None,
        responses(&[
            (
                "200",
                json!({"description": "The models in use, by module name", "content": json_content(in_use)}),
            ),
            (
                "403",
                response("The user is not an admin", Some("ErrorDetail")),
            ),
        ]),
    );
    let mut model_training = operation(
        "Models",
        "Retrain a module's model with analysts' labels",
        "Admins only; as `redflag train <module> --with-labels`. Credit learns the decisions \
         closed cases labelled (`confirmed_fraud` as the bad outcome, `false_positive` as good; \
         at least 10 with both); aml, insurance and market learn their `tasks.retrain_rows` \
         most recent decisions less the confirmed fraud. The artifact is installed, swapped in \
         here at once (other gateways within `models.reload_seconds`) and audited \
         (`model.trained`, actor the admin). The answer says how the previous and the new model \
         agree with the labels.",
        true,
        Some(("TrainingRequest", json!({}))),
        responses(&[
            (
                "201",
                response("Trained and installed", Some("TrainingReport")),
            ),
            (
                "403",
                response("The user is not an admin", Some("ErrorDetail")),
            ),
            ("404", response("No such module", Some("ErrorDetail"))),
            (
                "409",
                response(
                    "Too few labelled (credit) or usable decisions yet: nothing was trained",
                    Some("ErrorDetail"),
                ),
            ),
        ]),
    );
    model_training["parameters"] = json!([{"name": "module", "in": "path", "required": true,
                                           "schema": {"type": "string", "enum": module_names}}]);

    let mut case_list = operation(
        "Cases",
        "Cases",
        "Cases, newest first, 50 a page, optionally of one status or assignee.",
        true,
        None,
        responses(&[
            ("200", response("One page of cases", Some("CasePage"))),
            ("400", response("Invalid parameters", Some("FieldErrors"))),
            (
                "404",
                response(
                    "A page past the last (`Invalid page.`)",
                    Some("ErrorDetail"),
                ),
            ),
        ]),
    );
    case_list["parameters"] = query_parameters(&describe(|query| drop(read_case_query(query))));
    let case_id = json!([{"name": "id", "in": "path", "required": true,
                          "schema": {"type": "integer", "minimum": 1}}]);
    let mut case_show = operation(
        "Cases",
        "One case",
        "The case with its alerts and its timeline, oldest entry first.",
        true,
        None,
        responses(&[
            ("200", response("The case", Some("CaseBody"))),
            ("404", response("No such case", Some("ErrorDetail"))),
        ]),
    );
    case_show["parameters"] = case_id.clone();
    let mut case_change = operation(
        "Cases",
        "Assign, move, resolve or annotate a case",
        "Any of `assignee` (a username; null unassigns), `status` (`open`, `investigating`, \
         `closed`), `resolution` (`confirmed_fraud`, `false_positive`, `inconclusive`: needed to \
         close, and only given to a closed case; reopening clears it) and `note`. Each change \
         enters the timeline and the audit log.",
        true,
        Some((
            "CaseChange",
            json!({"status": "closed", "resolution": "false_positive",
                                   "note": "Payroll split by the employer, not structuring."}),
        )),
        responses(&[
            ("200", response("The case as changed", Some("CaseBody"))),
            ("404", response("No such case", Some("ErrorDetail"))),
        ]),
    );
    case_change["parameters"] = case_id;

    json!({
        "/api/token/": {"post": operation(
            "Authentication",
            "Sign in",
            "simplejwt's token pair for a username and password. Failed sign-ins are limited per \
             username and per client address.",
            false,
            Some(("Credentials", json!({"username": "analyst", "password": "correct-horse-battery"}))),
            token_answers,
        )},
        "/api/token/refresh/": {"post": operation(
            "Authentication",
            "Refresh the access token",
            "A new access token for a refresh token, while its user exists and is active.",
            false,
            Some(("RefreshRequest", json!({"refresh": "<refresh token>"}))),
            refresh_answers,
        )},
        "/api/aml/detect/": detection(
            "AML",
            "AmlTransaction",
            "AmlDecision",
            json!({"transaction_id": "TXN-1001", "user_id": "U-1", "amount": 9800,
                   "sender_id": "S-1", "receiver_id": "R-1"}),
            json!({"id": 1, "transaction_id": "TXN-1001", "user_id": "U-1", "amount": 9800.0,
                   "sender_id": "S-1", "receiver_id": "R-1", "risk_score": 78.5, "flagged": true,
                   "timestamp": "2026-02-09T09:12:33.221Z",
                   "alerts": [{"rule": "StructuringRule", "severity": "high", "confidence": 0.78,
                               "reason": "Structuring detected: 3 transactions totaling $29500.00 in 24h, all below $10000.0 threshold",
                               "metadata": {"num_transactions": 3, "total_amount": 29500.0}}]}),
        ),
        "/api/credit/assess/": detection(
            "Credit",
            "CreditApplication",
            "CreditDecision",
            json!({"applicant_id": "USER-101", "monthly_income": 4200, "employment_length": 24}),
            json!({"id": 5, "applicant_id": "USER-101", "risk_score": 712, "decision": "APPROVED",
                   "timestamp": "2026-02-09T09:14:11.004Z",
                   "alerts": [{"type": "reason_code", "message": "APPROVED", "severity": "medium"}],
                   "credit_score": 712, "risk_tier": "MEDIUM",
                   "factors": {"payment_history": 0.92, "amounts_owed": 0.74,
                               "length_of_credit": 0.61, "new_credit": 0.9, "credit_mix": 0.8},
                   "reason_codes": [], "points_lost": {"debt_to_income": 12.5},
                   "thin_file": false, "assumed_fields": ["credit_history_months"]}),
        ),
        "/api/insurance/detect/": detection(
            "Insurance",
            "InsuranceClaim",
            "InsuranceDecision",
            json!({"claim_id": "CLM-001", "policy_id": "POL-9", "claim_amount": 45000,
                   "estimated_value": 52000}),
            json!({"id": 3, "claim_id": "CLM-001", "policy_id": "POL-9", "claim_amount": 45000.0,
                   "fraud_risk": 62.0, "timestamp": "2026-02-09T09:16:45.876Z",
                   "alerts": [{"rule": "PropertyInflationRule", "severity": "medium", "confidence": 0.62,
                               "reason": "Property claim inflation suspected (score: 0.62)",
                               "evidence": ["Estimated value $52000.00 is 1.6x higher than market value $32000.00"]}],
                   "fraud_probability": 0.62, "flagged": true}),
        ),
        "/api/market/detect/": detection(
            "Market",
            "MarketEvent",
            "MarketDecision",
            json!({"symbol": "MSFT", "price": 425.5, "volume": 12000, "trader_id": "TR-99"}),
            json!({"id": 7, "symbol": "MSFT", "price": 425.5, "volume": 12000.0,
                   "trader_id": "TR-99", "manipulation_risk": 71.0, "flagged": true,
                   "timestamp": "2026-02-09T09:18:20.112Z", "event_type": "trade",
                   "alerts": [{"rule": "Pump And Dump", "alert_type": "pump_and_dump",
                               "severity": "HIGH", "confidence": 0.71,
                               "reason": "Pump and dump pattern detected (score: 0.71)",
                               "evidence": ["Trading volume 5.2x higher than 30-day average",
                                            "Price surged 25.0% in 24 hours"]}]}),
        ),
        "/api/aml/batch/": batch(
            "AML",
            "AmlTransaction",
            "AmlDecision",
            "POST /api/aml/detect/",
            json!({"transaction_id": "TXN-1001", "user_id": "U-1", "amount": 9800, "sender_id": "S-1", "receiver_id": "R-1"}),
        ),
        "/api/credit/batch/": batch(
            "Credit",
            "CreditApplication",
            "CreditDecision",
            "POST /api/credit/assess/",
            json!({"applicant_id": "USER-101", "monthly_income": 4200, "employment_length": 24}),
        ),
        "/api/insurance/batch/": batch(
            "Insurance",
            "InsuranceClaim",
            "InsuranceDecision",
            "POST /api/insurance/detect/",
            json!({"claim_id": "CLM-001", "policy_id": "POL-9", "claim_amount": 45000, "estimated_value": 52000}),
        ),
        "/api/market/batch/": batch(
            "Market",
            "MarketEvent",
            "MarketDecision",
            "POST /api/market/detect/",
            json!({"symbol": "MSFT", "price": 425.5, "volume": 12000, "trader_id": "TR-99"}),
        ),
        "/api/statistics/": {"get": operation(
            "Dashboard",
            "Aggregates of what was decided",
            "Totals, flag rates and average risk per module, alerts by severity, the rules that \
             fired most and the last 24 hours by hour; cached for `statistics.cache_seconds`.",
            true,
            None,
            responses(&[("200", response("The aggregates", Some("StatisticsReport")))]),
        )},
        "/api/audit/": {"get": history},
        "/api/alerts/": {"get": queue},
        "/api/{module}/{id}/": {"get": decision},
        "/api/cases/": {
            "get": case_list,
            "post": operation(
                "Cases",
                "Open a case",
                "A case on one or more alerts (up to 100), status `open`, optionally assigned; \
                 the title defaults to the alerts' ids.",
                true,
                Some(("NewCase", json!({"alert_ids": [41, 42], "title": "Smurfing by S-1",
                                        "assignee": "analyst"}))),
                responses(&[("201", response("The case opened", Some("CaseBody")))]),
            ),
        },
        "/api/cases/{id}/": {"get": case_show, "patch": case_change},
        "/api/users/": {"get": operation(
            "Administration",
            "Users and their roles",
            "Admins only: every user who may sign in, with their role (`analyst` or `admin`).",
            true,
            None,
            responses(&[
                ("200", json!({"description": "The users, by id",
                    "content": json_content(json!({"type": "array", "items": reference("UserItem")}))})),
                ("403", response("The user is not an admin", Some("ErrorDetail"))),
            ]),
        )},
        "/api/models/": {"get": models},
        "/api/models/calibrate/": {"post": calibration},
        "/api/models/{module}/train/": {"post": model_training},
        "/api/aml/peer-groups/": {"get": operation(
            "AML",
            "The learned peer groups",
            "What a sender too new for a profile of its own (fewer than \
             `aml.baseline_min_active_days` active days or `aml.baseline_min_transfers` transfers) \
             is judged against: its `sender_segment`'s group, learned by the worker's \
             `learn-peer-groups` task from the stored transfers of the last \
             `aml.velocity_baseline_days` (the `quantile` of what the segment's established \
             senders do in an hour and a day, each counting once), or the configured limits while \
             its segment has fewer than `min_members` established senders.",
            true,
            None,
            responses(&[("200", response("The peer groups", Some("PeerGroupReport")))]),
        )},
        "/api/aml/peer-groups/learn/": {"post": operation(
            "AML",
            "Learn the peer groups now",
            "Admins only; as the worker's `learn-peer-groups` task (`tasks.peer_groups_seconds`). \
             The groups are stored, swapped in here at once (other gateways within \
             `models.reload_seconds`) and, when they changed, audited (`peer_groups.learned`, \
             actor the admin). No body.",
            true,
            None,
            responses(&[
                ("200", response("The peer groups as learned", Some("PeerGroupReport"))),
                ("403", response("The user is not an admin", Some("ErrorDetail"))),
            ]),
        )},
        "/api/metrics/": {"get": operation(
            "Operations",
            "This process's counters",
            "Window lookups, statistics cache, decisions by module and the audit pipeline.",
            true,
            None,
            responses(&[("200", response("The counters", Some("MetricsSnapshot")))]),
        )},
        "/api/prometheus/": {"get": operation(
            "Operations",
            "Prometheus metrics",
            "The text exposition format, public so that Prometheus can scrape it.",
            false,
            None,
            responses(&[("200", json!({"description": "Metrics",
                "content": {"text/plain": {"schema": {"type": "string"}}}}))]),
        )},
        "/api/health/": {"get": operation(
            "Operations",
            "Whether the service can decide",
            "Public. `ok`; `degraded` while Redis is away and detections decide without history \
             (still 200); `unavailable` (503) when the database, or Redis when failing closed, \
             does not answer.",
            false,
            None,
            responses(&[
                ("200", response("Up (`ok` or `degraded`)", Some("Health"))),
                ("503", response("Unavailable", Some("Health"))),
            ]),
        )},
    })
}
