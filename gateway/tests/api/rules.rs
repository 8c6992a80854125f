//! Rule sets as data over the API: an analyst writes a rule, a second admin publishes it, it
//! fires on the next transfer with its figures, every decision names its version, and a rollback
//! and the audit log keep the history. Mistakes answer 400 with where they are.

use actix_web::http::{Method, StatusCode};
use redflag_service::users::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, rules_of};

fn mule_rule() -> Value {
    json!({
        "name": "Listed mule pass-through",
        "description": "Money received and sent on within a day to a listed mule",
        "when": "in_list('mule_accounts', event.receiver_id) && sender_received_24h >= 0.8 * event.amount",
        "severity": "critical",
        "confidence": 0.9,
        "reason": "{{event.amount}} sent to a listed mule after receiving {{sender_received_24h}} in 24h"
    })
}

/// A victim pays `account`, which passes 3,900 on to `to` two hours later: the second reply.
fn pass_through(prefix: &str, account: &str, to: &str) -> [Value; 2] {
    [
        json!({"transaction_id": format!("{prefix}-1"), "user_id": "U", "amount": 4_000.0,
               "sender_id": format!("{prefix}-VICTIM"), "receiver_id": account,
               "timestamp": "2026-03-02T09:00:00Z"}),
        json!({"transaction_id": format!("{prefix}-2"), "user_id": "U", "amount": 3_900.0,
               "sender_id": account, "receiver_id": to, "timestamp": "2026-03-02T11:00:00Z"}),
    ]
}

pub(crate) fn kinds(audited: &Value) -> Vec<String> {
    audited["results"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["kind"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn an_analyst_writes_a_rule_a_second_admin_publishes_it_and_it_fires_with_its_figures() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;

    // Version 1 is the config file's settings, and decisions name it.
    let in_force = analyst.get("/api/rules/aml/").await;
    assert_eq!(in_force.status, StatusCode::OK, "{}", in_force.text);
    let in_force = in_force.json();
    assert_eq!(in_force["version"], 1);
    assert_eq!(in_force["status"], "in_force");
    assert_eq!(in_force["author"], "system");
    assert_eq!(in_force["rules"], json!([]));
    let [first, second] = pass_through("A", "ACC-A", "MULE-1");
    assert_eq!(analyst.detect_aml(&first).await.status, StatusCode::CREATED);
    let before = analyst.detect_aml(&second).await.json();
    assert_eq!(before["ruleset_version"], 1);
    assert!(!rules_of(&before).contains(&"Listed mule pass-through".to_owned()));

    // The list, then the draft, written by the analyst.
    let list = admin
        .send_json(
            Method::PUT,
            "/api/rules/lists/mule_accounts/",
            &json!({"description": "Confirmed mules", "values": [" MULE-1 ", "MULE-2", "MULE-1"]}),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json()["entries"], 2, "trimmed, duplicates once");
    let draft = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({"description": "Mules", "rules": [mule_rule()]}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let draft = draft.json();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], Value::Null);
    assert_eq!(draft["based_on"], 1);
    assert_eq!(draft["author"], "analyst");
    assert_eq!(draft["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(draft["rules"][0]["supporting"], false);
    let publish = format!("/api/rules/aml/drafts/{}/publish/", draft["id"]);

    // Only the author changes a draft, so that its publisher has written none of it.
    let edit = format!("/api/rules/aml/drafts/{}/", draft["id"]);
    let refused = admin
        .send_json(Method::PATCH, &edit, &json!({"description": "mine now"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({"detail": "Only a draft's author changes it; write a draft of your own."})
    );
    let edited = analyst
        .send_json(
            Method::PATCH,
            &edit,
            &json!({"description": "Mules, listed"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(
        edited.json()["rules"],
        draft["rules"],
        "fields left out keep their value"
    );

    // Analysts may not publish; nor may an admin publish a draft of their own.
    assert_eq!(
        analyst.post(&publish, &json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let own = admin
        .post(
            "/api/rules/aml/drafts/",
            &json!({"disabled": ["RoundAmountRule"]}),
        )
        .await
        .json();
    let refused = admin
        .post(
            &format!("/api/rules/aml/drafts/{}/publish/", own["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({"detail": "A draft is published by an admin other than its author (four eyes)."})
    );

    let published = admin.post(&publish, &json!({})).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    let published = published.json();
    assert_eq!(published["version"], 2);
    assert_eq!(published["status"], "in_force");
    assert_eq!(published["published_by"], "admin");
    assert_eq!(published["sha256"], draft["sha256"]);

    // In force at once: the next pass-through to a listed mule flags, with its figures.
    let [first, second] = pass_through("B", "ACC-B", "MULE-2");
    analyst.detect_aml(&first).await;
    let after = analyst.detect_aml(&second).await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.text);
    let after = after.json();
    assert_eq!(after["ruleset_version"], 2);
    assert_eq!(after["flagged"], true, "{after}");
    let alert = after["alerts"]
        .as_array()
        .and_then(|alerts| {
            alerts
                .iter()
                .find(|a| a["rule"] == "Listed mule pass-through")
        })
        .expect("the custom rule fired");
    assert_eq!(
        alert["reason"],
        "3900 sent to a listed mule after receiving 4000 in 24h"
    );
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["metadata"]["sender_received_24h"], 4000.0);
    // The stored decision shows the version too.
    let stored = analyst
        .get(&format!("/api/aml/{}/", after["id"]))
        .await
        .json();
    assert_eq!(stored["ruleset_version"], 2, "{stored}");
    assert_eq!(stored["response"]["ruleset_version"], 2);

    // The history, then a rollback by publishing a copy of version 1.
    let versions = analyst.get("/api/rules/aml/versions/").await.json();
    let listed: Vec<(Value, Value)> = versions
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| (v["version"].clone(), v["status"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (json!(2), json!("in_force")),
            (json!(1), json!("superseded"))
        ]
    );
    let restored = admin
        .post("/api/rules/aml/versions/1/restore/", &json!({}))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    let restored = restored.json();
    assert_eq!(
        (restored["version"].clone(), restored["based_on"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(restored["rules"], json!([]));
    let [first, second] = pass_through("C", "ACC-C", "MULE-1");
    analyst.detect_aml(&first).await;
    let rolled_back = analyst.detect_aml(&second).await.json();
    assert_eq!(rolled_back["ruleset_version"], 3);
    assert!(!rules_of(&rolled_back).contains(&"Listed mule pass-through".to_owned()));

    // Audited: the draft, the publish (with its hash) and the rollback.
    test_app.embedded_worker_pass();
    let drafted = analyst
        .get(&format!(
            "/api/audit/?entity_id=ruleset:aml:draft:{}",
            draft["id"]
        ))
        .await
        .json();
    assert_eq!(
        kinds(&drafted),
        ["ruleset.drafted", "ruleset.drafted"],
        "written, then changed"
    );
    let audited = analyst
        .get("/api/audit/?entity_id=ruleset:aml:2")
        .await
        .json();
    assert_eq!(kinds(&audited), ["ruleset.published"]);
    let details = &audited["results"][0]["payload"]["details"];
    assert_eq!(details["sha256"], draft["sha256"], "{audited}");
    assert_eq!(details["author"], "analyst");
    assert_eq!(audited["results"][0]["actor"], "admin");
    let rollback = analyst
        .get("/api/audit/?entity_id=ruleset:aml:3")
        .await
        .json();
    assert_eq!(
        rollback["results"][0]["payload"]["details"]["how"], "restored",
        "{rollback}"
    );
    let listed = analyst
        .get("/api/audit/?entity_id=list:mule_accounts")
        .await
        .json();
    assert_eq!(kinds(&listed), ["list.updated"]);
}

#[actix_web::test]
async fn mistakes_answer_400_naming_the_rule_the_field_and_the_position_and_nothing_is_written() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let mut broken = mule_rule();
    broken["when"] = json!("event.amount >= && 3");
    let mut unknown = mule_rule();
    unknown["name"] = json!("Typo");
    unknown["when"] = json!("event.amount > 1.0 &&\n  sender_cnt_24h > 3");
    let reply = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({
                "thresholds": {"flag_risk_score": 60, "nope": 1, "watchlist_file": "x.csv"},
                "disabled": ["StructuringRul"],
                "rules": [mule_rule(), broken, unknown]
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let errors = reply.json();
    assert_eq!(
        errors["thresholds"],
        json!([
            "`nope` is not a setting of this module",
            "`watchlist_file` is set in the config file only"
        ])
    );
    // No list named mule_accounts yet: the first rule is refused where it names it.
    assert_eq!(
        errors["rules"][0]["when"],
        json!(["line 1, column 9: no list is named `mule_accounts` (there are no lists yet)"])
    );
    assert_eq!(
        errors["rules"][1]["when"][0]
            .as_str()
            .map(|m| m.starts_with("line 1, column 17: syntax error")),
        Some(true),
        "{errors}"
    );
    assert_eq!(
        errors["rules"][2]["when"],
        json!(["line 2, column 3: unknown feature `sender_cnt_24h`"])
    );
    // With valid thresholds, an unknown switch is named with the rules there are.
    let reply = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({"thresholds": {"flag_risk_score": 150}, "disabled": ["StructuringRul"]}),
        )
        .await;
    let errors = reply.json();
    assert_eq!(
        errors["thresholds"],
        json!(["aml.flag_risk_score must lie in 0..=100"]),
        "{errors}"
    );
    let reply = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({"disabled": ["StructuringRul"]}),
        )
        .await;
    assert!(
        reply.json()["disabled"][0]
            .as_str()
            .is_some_and(|m| m.starts_with(
                "no built-in rule is named `StructuringRul`; the rules are StructuringRule, "
            )),
        "{}",
        reply.text
    );
    // Bodies that are not rule sets.
    for (body, expected) in [
        (
            json!([]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got a different type."]}),
        ),
        (json!({"rule": []}), json!({"rule": ["Unknown field."]})),
        (
            json!({"rules": [{"name": "x"}]}),
            json!({"non_field_errors": ["missing field `when`"]}),
        ),
        (
            json!({"rules": [{"name": "x", "when": "sender_count_24h > 3", "severity": "high",
                              "confidence": 0.5, "reason": "r"}]}),
            json!({"rules": [{"when": ["line 1, column 1: unknown feature `sender_count_24h`"]}]}),
        ),
    ] {
        // Each module checks against its own catalogue: credit has no transfer windows.
        let reply = analyst.post("/api/rules/credit/drafts/", &body).await;
        assert_eq!(reply.json(), expected, "{body}");
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        analyst.get("/api/rules/aml/drafts/").await.json(),
        json!([]),
        "nothing written"
    );
    assert_eq!(
        analyst.get("/api/rules/nope/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        analyst
            .post("/api/rules/aml/drafts/999/publish/", &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn switches_thresholds_and_failing_rules_change_the_live_engine_but_never_fail_a_request() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let boss = test_app.client("boss", Role::Admin).await;
    let draft = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({
                "thresholds": {"structuring_min_transactions": 2},
                "disabled": ["VelocityRule"],
                "rules": [{"name": "ATM", "when": "event.channel == 'atm'", "severity": "low",
                           "confidence": 0.2, "reason": "cash at {{event.channel}}", "supporting": true}]
            }),
        )
        .await
        .json();
    let published = boss
        .post(
            &format!("/api/rules/aml/drafts/{}/publish/", draft["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    // Two transfers under the threshold are now structuring (the setting says 2, not 3).
    let sender = "S-TWO";
    let mut last = Value::Null;
    for (n, amount) in [9_100.0, 9_200.0].into_iter().enumerate() {
        last = analyst
            .detect_aml(
                &json!({"transaction_id": format!("T2-{n}"), "user_id": "U", "amount": amount,
                                "sender_id": sender, "receiver_id": format!("R-{n}"),
                                "timestamp": format!("2026-03-03T{:02}:00:00Z", 9 + n)}),
            )
            .await
            .json();
    }
    assert!(
        rules_of(&last).contains(&"StructuringRule".to_owned()),
        "{last}"
    );
    // A transfer without a channel: the ATM rule cannot read it, does not fire, and the
    // request is decided.
    assert!(!rules_of(&last).contains(&"ATM".to_owned()));
    let atm = analyst
        .detect_aml(
            &json!({"transaction_id": "T2-atm", "user_id": "U", "amount": 200.0,
                            "sender_id": "S-ATM", "receiver_id": "R", "channel": "atm",
                            "timestamp": "2026-03-03T12:00:00Z"}),
        )
        .await;
    assert_eq!(atm.status, StatusCode::CREATED, "{}", atm.text);
    let atm = atm.json();
    let alert = atm["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["rule"] == "ATM"))
        .expect("fires");
    assert_eq!(alert["reason"], "cash at atm");
    assert_eq!(alert["metadata"]["supporting"], true);
    assert_eq!(atm["flagged"], false, "a supporting rule never flags alone");
    let features = analyst.get("/api/rules/aml/features/").await.json();
    assert!(
        features.as_array().is_some_and(|f| f.iter().any(|f| f
            == &json!({
        "name": "sender_count_24h", "kind": "count", "unit": "transfers",
        "description": "Transfers the sender made in the 24 hours before."}))),
        "{features}"
    );
    // Every module publishes its own catalogue.
    for (module, feature) in [
        ("credit", "income_change"),
        ("insurance", "bank_account_shared_by"),
        ("market", "volume_to_median_daily"),
    ] {
        let features = analyst
            .get(&format!("/api/rules/{module}/features/"))
            .await
            .json();
        assert!(
            features
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["name"] == feature)),
            "{module}: {features}"
        );
    }
}

#[actix_web::test]
async fn a_list_read_by_the_rule_set_in_force_cannot_be_deleted() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;
    admin
        .send_json(
            Method::PUT,
            "/api/rules/lists/mule_accounts/",
            &json!({"values": ["MULE-1"]}),
        )
        .await;
    assert_eq!(
        analyst
            .send_json(
                Method::PUT,
                "/api/rules/lists/other/",
                &json!({"values": []})
            )
            .await
            .status,
        StatusCode::FORBIDDEN,
        "lists change live detection: admins only"
    );
    let draft = analyst
        .post("/api/rules/aml/drafts/", &json!({"rules": [mule_rule()]}))
        .await
        .json();
    admin
        .post(
            &format!("/api/rules/aml/drafts/{}/publish/", draft["id"]),
            &json!({}),
        )
        .await;
    let refused = admin.delete("/api/rules/lists/mule_accounts/").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.json(),
        json!({"detail": "The aml rule set in force (version 2) reads the list `mule_accounts`; publish one without it first."})
    );
    let shown = analyst.get("/api/rules/lists/mule_accounts/").await.json();
    assert_eq!(shown["values"], json!(["MULE-1"]));
    admin
        .post("/api/rules/aml/versions/1/restore/", &json!({}))
        .await;
    assert_eq!(
        admin.delete("/api/rules/lists/mule_accounts/").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(analyst.get("/api/rules/lists/").await.json(), json!([]));
    assert_eq!(
        admin.delete("/api/rules/lists/mule_accounts/").await.status,
        StatusCode::NOT_FOUND
    );
    let bad = admin
        .send_json(
            Method::PUT,
            "/api/rules/lists/x/",
            &json!({"values": ["ok", ""], "extra": 1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json(),
        json!({"extra": ["Unknown field."], "values": ["Each value is text of 1 to 200 characters without control characters."]})
    );
}

#[actix_web::test]
async fn a_list_is_imported_from_a_csv_file_replaced_or_appended_and_rules_read_it_at_once() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;
    let import = "/api/rules/lists/mule_accounts/import/";
    let csv = "account_id,note\n MULE-7 ,confirmed 2026-03-02\n,no account\n\"MULE-8\",\"cash out, twice\"\nMULE-7,again\n";

    // Admins only; and only CSV or plain text.
    let refused = analyst
        .post_raw(import, "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let json_body = admin
        .post_raw(import, "application/json", b"{}".to_vec())
        .await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let imported = admin
        .post_raw(
            &format!("{import}?column=account_id&description=Confirmed%20mules"),
            "text/csv; charset=utf-8",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let imported = imported.json();
    assert_eq!(
        (
            imported["rows"].clone(),
            imported["blank"].clone(),
            imported["values"].clone()
        ),
        (json!(4), json!(1), json!(2)),
        "{imported}"
    );
    assert_eq!(imported["list"]["entries"], 2);
    assert_eq!(imported["list"]["description"], "Confirmed mules");
    let stored = analyst.get("/api/rules/lists/mule_accounts/").await.json();
    assert_eq!(stored["values"], json!(["MULE-7", "MULE-8"]));

    // A rule reading the list, published, fires on an imported value.
    let draft = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({"rules": [{"name": "Paid a listed mule",
                               "when": "in_list('mule_accounts', event.receiver_id)",
                               "severity": "high", "confidence": 0.8,
                               "reason": "{{event.receiver_id}} is a listed mule"}]}),
        )
        .await
        .json();
    let published = admin
        .post(
            &format!("/api/rules/aml/drafts/{}/publish/", draft["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    let paid = |id: &str, to: &str| {
        json!({"transaction_id": id, "user_id": "U", "amount": 250.0, "sender_id": "PAYER",
               "receiver_id": to, "timestamp": "2026-03-05T10:00:00Z"})
    };
    let answer = analyst.detect_aml(&paid("IMP-1", "MULE-8")).await.json();
    assert!(rules_of(&answer).contains(&"Paid a listed mule".to_owned()));

    // Appended: the first column by default, the description kept; the rule sees the new value.
    let appended = admin
        .post_raw(
            &format!("{import}?mode=append"),
            "text/csv",
            b"account\nMULE-9\nMULE-7\n".to_vec(),
        )
        .await;
    assert_eq!(appended.status, StatusCode::OK, "{}", appended.text);
    let appended = appended.json();
    assert_eq!(appended["list"]["entries"], 3);
    assert_eq!(appended["list"]["description"], "Confirmed mules");
    let answer = analyst.detect_aml(&paid("IMP-2", "MULE-9")).await.json();
    assert!(rules_of(&answer).contains(&"Paid a listed mule".to_owned()));
    // Replaced (the default): only the file's values remain.
    let replaced = admin
        .post_raw(import, "text/csv", b"account\nMULE-9\n".to_vec())
        .await;
    assert_eq!(replaced.json()["list"]["entries"], 1);
    let answer = analyst.detect_aml(&paid("IMP-3", "MULE-8")).await.json();
    assert!(!rules_of(&answer).contains(&"Paid a listed mule".to_owned()));

    // Mistakes name the row or the column, and change nothing.
    for (query, body, errors) in [
        (
            "?column=iban",
            b"account\nMULE-1\n".to_vec(),
            json!({"column": ["The file has no column `iban`; its columns are account."]}),
        ),
        (
            "",
            b"account\n\xff\xfe\n".to_vec(),
            json!({"csv": ["The file is not UTF-8 text."]}),
        ),
        (
            "",
            b"account\nMULE-1\nbad\tvalue\n".to_vec(),
            json!({"csv": ["row 3: each value is text of 1 to 200 characters without control characters."]}),
        ),
        (
            "?mode=merge",
            b"account\nMULE-1\n".to_vec(),
            json!({"mode": ["\"merge\" is not a valid choice."]}),
        ),
        (
            "",
            Vec::new(),
            json!({"csv": ["The file is empty: its first row names the columns."]}),
        ),
    ] {
        let reply = admin
            .post_raw(&format!("{import}{query}"), "text/csv", body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.json(), errors, "{query}");
    }
    let unchanged = analyst.get("/api/rules/lists/mule_accounts/").await.json();
    assert_eq!(unchanged["values"], json!(["MULE-9"]));

    // Audited, with how each import went.
    test_app.embedded_worker_pass();
    let audited = analyst
        .get("/api/audit/?entity_id=list:mule_accounts")
        .await
        .json();
    let mut imports: Vec<(Value, Value, Value)> = audited["results"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            let details = &entry["payload"]["details"];
            (
                details["mode"].clone(),
                details["imported"].clone(),
                details["entries"].clone(),
            )
        })
        .collect();
    imports.sort_by_key(|(_, _, entries)| entries.as_i64());
    assert_eq!(
        imports,
        [
            (json!("replace"), json!(1), json!(1)),
            (json!("replace"), json!(2), json!(2)),
            (json!("append"), json!(2), json!(3)),
        ]
    );
}
