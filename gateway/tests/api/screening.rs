//! Sanctions screening over the API: lists imported as versions (the demo list of our own, and
//! the real OFAC publications in `../shared/data/sanctions/`), names screened with the parts of
//! their scores, AML parties screened inline and remembered hashed, list updates raising
//! alerts of module `screening`, and false positives resolved per party and entry.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp};
use crate::rules::kinds;

const BOUNDARY: &str = "redflag-test-boundary";

fn demo_list() -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/sanctions-demo.csv"))
        .expect("the demo list is in config/")
}

pub(crate) fn shared(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/sanctions")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "the shared list data is needed at {}: {error}",
            path.display()
        )
    })
}

/// A `multipart/form-data` body of these parts.
pub(crate) fn form(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

async fn import<S, B>(
    client: &Client<S>,
    name: &str,
    format: &str,
    parts: &[(&str, &[u8])],
) -> (StatusCode, Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let reply = client
        .post_raw(
            &format!("/api/screening/lists/{name}/versions/?format={format}"),
            &content_type(),
            form(parts),
        )
        .await;
    let body = serde_json::from_str(&reply.text).unwrap_or(Value::Null);
    (reply.status, body)
}

#[actix_web::test]
async fn a_list_imported_by_an_admin_screens_names_with_the_parts_of_each_score() {
    let app = TestApp::spawn();
    let admin = app.login_as_admin().await;
    let analyst = app.login_as_analyst().await;
    let demo = demo_list();
    let (status, _) = import(&analyst, "demo", "csv", &[("file", &demo)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, imported) = import(&admin, "demo", "csv", &[("file", &demo)]).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(
        (
            &imported["name"],
            &imported["version"],
            &imported["format"],
            &imported["entries"],
            &imported["added"],
            &imported["changed"],
            &imported["removed"],
            &imported["imported_by"],
        ),
        (
            &json!("demo"),
            &json!(1),
            &json!("csv"),
            &json!(8),
            &json!(8),
            &json!(0),
            &json!(0),
            &json!("admin")
        )
    );
    assert_eq!(imported["sha256"].as_str().map(str::len), Some(64));

    let screened = analyst
        .post(
            "/api/screening/",
            &json!({"name": "Ivan Petrovich Dragomirov", "entity_type": "individual",
                    "date_of_birth": "1961", "country": "RU"}),
        )
        .await;
    assert_eq!(screened.status, StatusCode::OK, "{}", screened.text);
    let body = screened.json();
    assert_eq!(body["lists"], json!([{"name": "demo", "version": 1}]));
    assert_eq!(body["threshold"], json!(0.85));
    let best = &body["matches"][0];
    assert_eq!(
        (
            &best["list"],
            &best["entry_id"],
            &best["name"],
            &best["matched_name"]
        ),
        (
            &json!("demo"),
            &json!("RF-001"),
            &json!("DRAGOMIROV, Ivan Petrovich"),
            &json!("DRAGOMIROV, Ivan Petrovich")
        )
    );
    assert_eq!(
        (
            &best["parts"]["date_of_birth"],
            &best["parts"]["country"],
            &best["parts"]["kind"],
            &best["parts"]["alias"]
        ),
        (
            &json!("agrees"),
            &json!("agrees"),
            &json!("agrees"),
            &json!(false)
        )
    );
    assert!(
        best["score"]
            .as_f64()
            .is_some_and(|score| (0.85..=1.0).contains(&score))
    );
    assert_eq!(best["programs"], json!(["DEMO-FINANCE"]));

    let alias = analyst
        .post(
            "/api/screening/",
            &json!({"name": "Golden Crescent General Trading Co."}),
        )
        .await
        .json();
    assert_eq!(alias["matches"][0]["entry_id"], "RF-003");
    assert_eq!(alias["matches"][0]["parts"]["alias"], true);
    let common = analyst
        .post("/api/screening/", &json!({"name": "General Trading LLC"}))
        .await
        .json();
    assert_eq!(
        common["matches"],
        json!([]),
        "stopwords do not carry a match"
    );
    let other_person = analyst
        .post(
            "/api/screening/",
            &json!({"name": "Ivan Dragomirov", "date_of_birth": "1990-01-01"}),
        )
        .await
        .json();
    assert_eq!(
        other_person["matches"],
        json!([]),
        "a different date of birth lowers the score under the threshold"
    );

    let refused = analyst
        .post(
            "/api/screening/",
            &json!({"name": "\u{7}", "entity_type": "ship", "date_of_birth": "17/04/1961"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json(),
        json!({"name": ["Control characters are not allowed."],
               "entity_type": ["\"ship\" is not a valid choice."],
               "date_of_birth": ["Enter a date of birth as YYYY or YYYY-MM-DD."]})
    );
    let long = analyst
        .post("/api/screening/", &json!({"name": "x".repeat(201)}))
        .await;
    assert_eq!(
        long.json(),
        json!({"name": ["Ensure this field has no more than 200 characters."]})
    );

    let lists = analyst.get("/api/screening/lists/").await.json();
    assert_eq!(lists["lists"][0]["name"], "demo");
    assert_eq!(lists["lists"][0]["version"], 1);
    assert_eq!(lists["lists"][0]["versions"][0]["entries"], 8);
    assert!(
        lists["names_indexed"]
            .as_u64()
            .is_some_and(|names| names >= 8 + 14)
    );
    assert_eq!(lists["remembered_parties"], 0);

    app.embedded_worker_pass();
    let imports = analyst
        .get("/api/audit/?entity_id=screening_list:demo")
        .await
        .json();
    assert_eq!(kinds(&imports), ["screening.list_imported"]);
    assert_eq!(
        imports["results"][0]["payload"]["details"]["sha256"],
        imported["sha256"]
    );
    let hash = app
        .state
        .detectors
        .screening
        .hasher
        .name_hash("Ivan Petrovich Dragomirov")
        .expect("a name");
    let searched = analyst
        .get(&format!("/api/audit/?entity_id=name:{hash}"))
        .await;
    assert_eq!(kinds(&searched.json()), ["screening.searched"]);
    assert!(
        !searched.text.contains("Dragomirov"),
        "the audit keeps the name's hash, never the name"
    );
}

#[actix_web::test]
async fn a_file_that_does_not_read_is_refused_with_its_line_and_the_list_in_use_stays() {
    let app = TestApp::spawn();
    let admin = app.login_as_admin().await;
    let demo = demo_list();
    assert_eq!(
        import(&admin, "demo", "csv", &[("file", &demo)]).await.0,
        StatusCode::CREATED
    );
    let broken = b"id,name\nX-1,Someone\nX-2,\n";
    let (status, body) = import(&admin, "demo", "csv", &[("file", broken)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["file"][0]
            .as_str()
            .is_some_and(|message| message.starts_with("CSV list, line 3:")),
        "{body}"
    );
    let (status, body) = import(&admin, "demo", "ofac-csv", &[("sdn", b"1,\"X\",-0-\n")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (&body["alt"], &body["add"]),
        (
            &json!(["This file is required."]),
            &json!(["This file is required."])
        )
    );
    let (status, body) = import(&admin, "demo", "xlsx", &[("file", &demo)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["format"].is_array(), "{body}");
    let (status, body) = import(&admin, "bad%20name!", "csv", &[("file", &demo)]).await;
    assert_eq!(
        (status, &body["name"][0]),
        (
            StatusCode::BAD_REQUEST,
            &json!("A list name is 1 to 64 letters, digits, '-', '_' or '.'.")
        )
    );
    let not_a_form = admin
        .post_raw(
            "/api/screening/lists/demo/versions/?format=csv",
            "text/csv",
            demo.clone(),
        )
        .await;
    assert_eq!(not_a_form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let no_boundary = admin
        .post_raw(
            "/api/screening/lists/demo/versions/?format=csv",
            "multipart/form-data",
            demo.clone(),
        )
        .await;
    assert_eq!(no_boundary.status, StatusCode::BAD_REQUEST);
    assert!(
        no_boundary.json()["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Multipart form parse error"))
    );

    let lists = admin.get("/api/screening/lists/").await.json();
    assert_eq!(
        lists["lists"][0]["versions"].as_array().map(Vec::len),
        Some(1)
    );
    let still = admin
        .post("/api/screening/", &json!({"name": "Carla Moreno Valdez"}))
        .await
        .json();
    assert_eq!(still["matches"][0]["entry_id"], "RF-005");
}

fn transfer(id: &str, sender_name: &str, receiver_name: &str) -> Value {
    json!({"transaction_id": id, "user_id": "U-1", "amount": 250.0,
           "sender_id": format!("S-{id}"), "receiver_id": format!("R-{id}"),
           "timestamp": "2026-03-02T10:00:00Z",
           "sender_name": sender_name, "receiver_name": receiver_name,
           "receiver_country": "PA", "receiver_date_of_birth": "1982-11-03"})
}

fn rules_of(body: &Value) -> Vec<String> {
    body["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|alert| {
            alert["rule"]
                .as_str()
                .or(alert["type"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

#[actix_web::test]
async fn aml_parties_named_in_a_transfer_are_screened_inline_and_stored_only_hashed() {
    let app = TestApp::spawn();
    let admin = app.login_as_admin().await;
    let demo = demo_list();
    assert_eq!(
        import(&admin, "demo", "csv", &[("file", &demo)]).await.0,
        StatusCode::CREATED
    );
    let analyst = app.login_as_analyst().await;

    let hit = analyst
        .detect_aml(&transfer(
            "T-1",
            "Jane Ordinary",
            "Carla Beatriz Moreno-Valdez",
        ))
        .await;
    assert_eq!(hit.status, StatusCode::CREATED, "{}", hit.text);
    let body = hit.json();
    assert_eq!(body["flagged"], true, "{body}");
    let alert = body["alerts"]
        .as_array()
        .and_then(|alerts| alerts.iter().find(|a| a["metadata"]["matches"].is_array()))
        .unwrap_or_else(|| panic!("a sanctions alert: {body}"));
    assert_eq!(alert["severity"], "critical");
    let found = &alert["metadata"]["matches"][0];
    assert_eq!(
        (
            &found["role"],
            &found["list"],
            &found["entry_id"],
            &found["screened_name"]
        ),
        (
            &json!("receiver"),
            &json!("demo"),
            &json!("RF-005"),
            &json!("Carla Beatriz Moreno-Valdez")
        )
    );
    assert_eq!(
        (&found["parts"]["date_of_birth"], &found["parts"]["country"]),
        (&json!("agrees"), &json!("agrees"))
    );
    let id = body["id"].as_i64().expect("an id");
    let detail = analyst.get(&format!("/api/aml/{id}/")).await.json();
    let request = &detail["request"];
    assert!(request.get("receiver_name").is_none() && request.get("sender_name").is_none());
    assert_eq!(
        request["receiver_name_hash"].as_str().map(str::len),
        Some(32)
    );
    assert_eq!(request["receiver_date_of_birth"], "1982-11-03");
    assert_eq!(
        detail["alerts"]
            .as_array()
            .map(|a| a.iter().any(|a| a["rule"] == "SanctionsMatchRule")),
        Some(true)
    );

    let clear = analyst
        .detect_aml(&transfer("T-2", "Jane Ordinary", "Peter Plain"))
        .await
        .json();
    assert!(
        !rules_of(&clear)
            .iter()
            .any(|rule| rule == "SanctionsMatchRule"),
        "{clear}"
    );
    let again = analyst
        .detect_aml(&transfer(
            "T-1",
            "Jane Ordinary",
            "Carla Beatriz Moreno-Valdez",
        ))
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a resend with the same names is the stored decision"
    );
    assert_eq!(
        app.state.db.screening_party_count().expect("counts"),
        3,
        "Jane, Carla, Peter"
    );

    let refused = analyst
        .detect_aml(&json!({"transaction_id": "T-3", "user_id": "U", "amount": 10.0,
                            "sender_id": "S", "receiver_id": "R", "sender_name": "--",
                            "receiver_name": "x".repeat(201), "sender_date_of_birth": "1961-02-30"}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json(),
        json!({"sender_name": ["Enter a name with at least one letter or digit."],
               "receiver_name": ["Ensure this field has no more than 200 characters."],
               "sender_date_of_birth": ["Enter a date of birth as YYYY or YYYY-MM-DD."]})
    );
}

#[actix_web::test]
async fn a_list_update_raises_screening_alerts_for_remembered_parties_until_resolved() {
    let app = TestApp::spawn();
    let admin = app.login_as_admin().await;
    let analyst = app.login_as_analyst().await;
    let demo = demo_list();
    assert_eq!(
        import(&admin, "demo", "csv", &[("file", &demo)]).await.0,
        StatusCode::CREATED
    );
    let seen = analyst
        .detect_aml(&transfer("T-1", "Olga Smirnova", "Peter Plain"))
        .await
        .json();
    assert!(
        !rules_of(&seen)
            .iter()
            .any(|rule| rule == "SanctionsMatchRule")
    );

    let mut updated = demo.clone();
    updated.extend_from_slice(b"RF-009,\"SMIRNOVA, Olga\",individual,,,,DEMO-FINANCE\n");
    let (status, imported) = import(&admin, "demo", "csv", &[("file", &updated)]).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(
        (
            &imported["version"],
            &imported["added"],
            &imported["changed"]
        ),
        (&json!(2), &json!(1), &json!(0))
    );
    assert_eq!(
        (&imported["rescreened_parties"], &imported["alerts"]),
        (&json!(2), &json!(1))
    );

    let queue = analyst.get("/api/alerts/?module=screening").await.json();
    assert_eq!(queue["count"], 1, "{queue}");
    let alert = &queue["results"][0];
    assert_eq!(
        (&alert["rule"], &alert["severity"], &alert["module"]),
        (
            &json!("SanctionsMatchRule"),
            &json!("critical"),
            &json!("screening")
        )
    );
    let found = &alert["details"]["metadata"]["matches"][0];
    assert_eq!(
        (&found["entry_id"], &found["role"]),
        (&json!("RF-009"), &json!("party"))
    );
    assert!(
        found.get("screened_name").is_none(),
        "a remembered party's name is not kept"
    );
    let decision = analyst
        .get(alert["decision"].as_str().expect("a link"))
        .await;
    assert_eq!(decision.status, StatusCode::OK, "{}", decision.text);
    assert_eq!(decision.json()["module"], "screening");

    let (_, unchanged) = import(&admin, "demo", "csv", &[("file", &updated)]).await;
    assert_eq!(
        (
            &unchanged["version"],
            &unchanged["added"],
            &unchanged["alerts"]
        ),
        (&json!(3), &json!(0), &json!(0))
    );

    let party_id = found["party_id"].as_str().expect("the party").to_owned();
    let resolved = analyst
        .post("/api/screening/suppressions/", &json!({"alert_id": alert["id"], "party_id": party_id,
                                                       "list": "demo", "entry_id": "RF-009",
                                                       "note": "Another Olga Smirnova: KYC date of birth 1990"}))
        .await;
    assert_eq!(resolved.status, StatusCode::CREATED, "{}", resolved.text);
    assert_eq!(resolved.json()["resolved_by"], "analyst");
    let wrong = analyst
        .post(
            "/api/screening/suppressions/",
            &json!({"alert_id": alert["id"], "party_id": party_id,
                                                       "list": "demo", "entry_id": "RF-001"}),
        )
        .await;
    assert_eq!(
        wrong.json(),
        json!({"entry_id": ["The alert has no match of this party with this entry."]})
    );
    let shown = analyst.get("/api/alerts/?module=screening").await.json();
    assert_eq!(
        shown["results"][0]["resolved_matches"][0]["entry_id"],
        "RF-009"
    );
    let inline = analyst
        .detect_aml(&transfer("T-2", "Olga Smirnova", "Peter Plain"))
        .await
        .json();
    assert!(
        !rules_of(&inline)
            .iter()
            .any(|rule| rule == "SanctionsMatchRule"),
        "suppressed for this party: {inline}"
    );

    let mut relisted = demo.clone();
    relisted
        .extend_from_slice(b"RF-009,\"SMIRNOVA, Olga\",individual,,,,DEMO-FINANCE;DEMO-CYBER\n");
    let (_, changed) = import(&admin, "demo", "csv", &[("file", &relisted)]).await;
    assert_eq!(
        (&changed["changed"], &changed["alerts"]),
        (&json!(1), &json!(1)),
        "a changed entry matches again"
    );
    let inline = analyst
        .detect_aml(&transfer("T-3", "Olga Smirnova", "Peter Plain"))
        .await
        .json();
    assert!(
        rules_of(&inline)
            .iter()
            .any(|rule| rule == "SanctionsMatchRule"),
        "{inline}"
    );
    app.embedded_worker_pass();
    let audited = analyst
        .get(&format!("/api/audit/?entity_id=party:{party_id}"))
        .await
        .json();
    assert_eq!(
        kinds(&audited),
        [
            "screening.match",
            "screening.match_suppressed",
            "screening.match"
        ],
        "newest first: raised, resolved, raised again"
    );
}

#[actix_web::test]
async fn the_ofac_update_from_2019_to_2021_raises_exactly_the_added_entries_against_remembered_parties()
 {
    use redflag_screening::ofac;
    let app = TestApp::spawn();
    let admin = app.login_as_admin().await;
    let analyst = app.login_as_analyst().await;
    let files =
        |year: u32| ["sdn", "alt", "add"].map(|part| shared(&format!("ofac_{part}_{year}.csv")));
    let (old, new) = (files(2019), files(2021));
    let read = |files: &[Vec<u8>; 3]| {
        ofac::parse(&ofac::OfacFiles {
            sdn: &files[0],
            alt: &files[1],
            add: &files[2],
        })
        .expect("reads")
    };
    let (before, after) = (read(&old), read(&new));
    let known: std::collections::HashSet<&str> = before.iter().map(|e| e.id.as_str()).collect();
    // Parties named as five individuals the 2021 list adds, and as five it kept unchanged.
    let distinctive = |entry: &&redflag_screening::Entry| {
        entry.kind == redflag_screening::PartyKind::Individual
            && entry.name.split([' ', ',']).filter(|t| t.len() > 3).count() >= 3
    };
    let added: Vec<&redflag_screening::Entry> = after
        .iter()
        .filter(|e| !known.contains(e.id.as_str()))
        .filter(distinctive)
        .take(5)
        .collect();
    let unchanged: Vec<&redflag_screening::Entry> = after
        .iter()
        .filter(|e| before.iter().any(|b| b == *e))
        .filter(distinctive)
        .take(5)
        .collect();
    assert_eq!((added.len(), unchanged.len()), (5, 5));
    let parts = |files: &[Vec<u8>; 3]| {
        [
            ("sdn", files[0].clone()),
            ("alt", files[1].clone()),
            ("add", files[2].clone()),
        ]
    };
    let first = parts(&old);
    let first: Vec<(&str, &[u8])> = first.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let (status, imported) = import(&admin, "ofac-sdn", "ofac-csv", &first).await;
    assert_eq!(
        (status, &imported["entries"]),
        (StatusCode::CREATED, &json!(7_379)),
        "{imported}"
    );

    for (n, entry) in added.iter().chain(&unchanged).enumerate() {
        let transfer = json!({"transaction_id": format!("P-{n}"), "user_id": "U", "amount": 90.0,
                              "sender_id": format!("S-{n}"), "receiver_id": format!("R-{n}"),
                              "timestamp": "2026-03-02T10:00:00Z", "receiver_name": entry.name});
        let answer = analyst.detect_aml(&transfer).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    let second = parts(&new);
    let second: Vec<(&str, &[u8])> = second.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let (status, updated) = import(&admin, "ofac-sdn", "ofac-csv", &second).await;
    assert_eq!(status, StatusCode::CREATED, "{updated}");
    let expected_added = after
        .iter()
        .filter(|e| !known.contains(e.id.as_str()))
        .count();
    assert_eq!(
        (&updated["version"], &updated["entries"], &updated["added"]),
        (&json!(2), &json!(8_976), &json!(expected_added))
    );
    assert_eq!(updated["rescreened_parties"], 10);

    let queue = analyst
        .get("/api/alerts/?module=screening&page_size=100")
        .await
        .json();
    let raised: Vec<(String, String)> = queue["results"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| {
            let found = &alert["details"]["metadata"]["matches"][0];
            (
                found["entry_id"].as_str().unwrap_or_default().to_owned(),
                alert["entity_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for entry in &added {
        assert!(
            raised.iter().any(|(id, _)| *id == entry.id),
            "{} ({}) raised: {raised:?}",
            entry.name,
            entry.id
        );
    }
    let updated_ids: std::collections::HashSet<&str> = after
        .iter()
        .filter(|e| !before.iter().any(|b| b == *e))
        .map(|e| e.id.as_str())
        .collect();
    assert!(
        raised
            .iter()
            .all(|(id, _)| updated_ids.contains(id.as_str())),
        "only added or changed entries raise: {raised:?}"
    );
    let unchanged_ids: Vec<&str> = unchanged.iter().map(|e| e.id.as_str()).collect();
    assert!(
        raised
            .iter()
            .all(|(id, _)| !unchanged_ids.contains(&id.as_str()))
    );
}
