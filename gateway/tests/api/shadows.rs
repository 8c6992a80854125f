//! Shadow runs over the API: a draft decides beside every live decision, on the live history,
//! its outcome is stored and reported like a backtest's, and no live answer changes.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backtests::history;
use crate::helpers::TestApp;

const MULE_RULE: &str = "Listed mule pass-through";

fn draft_body() -> Value {
    json!({"description": "Mules in, structuring off", "disabled": ["StructuringRule"],
           "rules": [{"name": MULE_RULE, "when": "in_list('mule_accounts', event.receiver_id)",
                      "severity": "critical", "confidence": 0.9,
                      "reason": "{{event.amount}} sent to a listed mule"}]})
}

/// The body without its `id` (the two services number their decisions alike, but say so).
fn without_id(mut body: Value) -> Value {
    if let Some(fields) = body.as_object_mut() {
        fields.remove("id");
    }
    body
}

fn counts(report: &Value, rule: &str) -> (u64, u64) {
    let row = report["alerts"]
        .as_array()
        .expect("alerts per rule")
        .iter()
        .find(|row| row["rule"] == rule)
        .unwrap_or_else(|| panic!("no row for {rule}: {report}"));
    (
        row["before"].as_u64().expect("a count"),
        row["after"].as_u64().expect("a count"),
    )
}

#[actix_web::test]
async fn a_shadowed_draft_decides_beside_every_live_decision_and_never_changes_an_answer() {
    let shadowed_app = TestApp::spawn();
    let plain_app = TestApp::spawn();
    let analyst = shadowed_app.login_as_analyst().await;
    let admin = shadowed_app.login_as_admin().await;
    let plain = plain_app.login_as_analyst().await;
    for (app, client) in [
        (&admin, "shadowed"),
        (&plain_app.login_as_admin().await, "plain"),
    ] {
        let list = app
            .send_json(
                Method::PUT,
                "/api/rules/lists/mule_accounts/",
                &json!({"values": ["MULE-1"]}),
            )
            .await;
        assert_eq!(list.status, StatusCode::OK, "{client}: {}", list.text);
    }
    let draft = analyst.post("/api/rules/aml/drafts/", &draft_body()).await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let draft = draft.json();
    let shadow = format!("/api/rules/aml/drafts/{}/shadow/", draft["id"]);
    assert_eq!(analyst.get(&shadow).await.status, StatusCode::NOT_FOUND);

    // Bad requests name the field.
    let unknown = analyst.post(&shadow, &json!({"action": "pause"})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json(),
        json!({"action": ["\"pause\" is not a valid choice."]})
    );
    let missing = analyst.post(&shadow, &json!({})).await;
    assert_eq!(
        missing.json(),
        json!({"action": ["This field is required."]})
    );
    let not_running = analyst.post(&shadow, &json!({"action": "stop"})).await;
    assert_eq!(
        not_running.status,
        StatusCode::CONFLICT,
        "{}",
        not_running.text
    );

    // Started by an analyst: it changes no answer, so it needs no admin.
    let started = analyst.post(&shadow, &json!({"action": "start"})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let started = started.json();
    assert_eq!(started["status"], "running");
    assert_eq!(started["sha256"], draft["sha256"]);
    assert_eq!(started["started_by"], "analyst");
    assert_eq!(started["report"]["events"], 0);
    let again = analyst.post(&shadow, &json!({"action": "start"})).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "starting it again is no new run"
    );
    assert_eq!(again.json()["id"], started["id"]);
    let other = admin
        .post(
            "/api/rules/aml/drafts/",
            &json!({"disabled": ["VelocityRule"]}),
        )
        .await
        .json();
    let busy = admin
        .post(
            &format!("/api/rules/aml/drafts/{}/shadow/", other["id"]),
            &json!({"action": "start"}),
        )
        .await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    assert_eq!(
        busy.json()["detail"],
        format!(
            "draft {} of this module is shadowing (shadow run {}); stop it first",
            draft["id"], started["id"]
        )
    );

    // The same three days through both services: the answers are the same, the mule rule is in
    // none of them, and StructuringRule (which the draft switches off) is in some.
    let shadowed_answers = history(&analyst).await;
    let plain_answers = history(&plain).await;
    assert!(!shadowed_answers.is_empty());
    assert_eq!(
        shadowed_answers
            .iter()
            .cloned()
            .map(without_id)
            .collect::<Vec<_>>(),
        plain_answers
            .into_iter()
            .map(without_id)
            .collect::<Vec<_>>()
    );
    assert!(
        !Value::from(shadowed_answers.clone())
            .to_string()
            .contains(MULE_RULE)
    );
    // Stored as answered: the decision page shows the live outcome.
    let stored = analyst
        .get(&format!("/api/aml/{}/", shadowed_answers[50]["id"]))
        .await
        .json();
    assert_eq!(stored["risk_score"], shadowed_answers[50]["risk_score"]);
    assert!(!stored.to_string().contains(MULE_RULE));

    // The report: every decision shadowed, what the draft adds and removes.
    let report = analyst.get(&shadow).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let report = report.json()["report"].clone();
    assert_eq!(report["events"], 51, "{report}");
    assert_eq!(report["warm_up_events"], 0);
    assert_eq!(report["unreadable"], 0);
    assert_eq!(counts(&report, MULE_RULE), (0, 3));
    let (structuring_before, structuring_after) = counts(&report, "StructuringRule");
    assert!(structuring_before >= 3, "{report}");
    assert_eq!(structuring_after, 0);
    let changed = report["changed_decisions"].as_array().expect("listed");
    assert_eq!(report["changed"], changed.len());
    let added: Vec<&Value> = changed
        .iter()
        .filter(|decision| decision["rules_added"] == json!([MULE_RULE]))
        .collect();
    assert_eq!(added.len(), 3, "{report}");
    for decision in added {
        assert_eq!(decision["flagged_after"], true);
        let stored = analyst
            .get(decision["decision"].as_str().expect("a link"))
            .await;
        assert_eq!(
            stored.status,
            StatusCode::OK,
            "the link leads to the decision"
        );
        assert_eq!(stored.json()["request"]["receiver_id"], "MULE-1");
    }
    assert!(
        changed
            .iter()
            .any(|decision| decision["rules_removed"] == json!(["StructuringRule"]))
    );

    // Stopped: later decisions are not shadowed; stopping twice is refused.
    let stopped = analyst.post(&shadow, &json!({"action": "stop"})).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.text);
    let stopped = stopped.json();
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["stopped_by"], "analyst");
    analyst
        .detect_aml(
            &json!({"transaction_id": "AFTER", "user_id": "U", "amount": 3_000.0,
                            "sender_id": "ACC-9", "receiver_id": "MULE-1",
                            "timestamp": "2026-03-04T10:00:00Z"}),
        )
        .await;
    assert_eq!(analyst.get(&shadow).await.json()["report"]["events"], 51);
    assert_eq!(
        analyst
            .post(&shadow, &json!({"action": "stop"}))
            .await
            .status,
        StatusCode::CONFLICT
    );

    // Publishing a shadowing draft ends its run: the draft decides live from then on.
    let restarted = analyst.post(&shadow, &json!({"action": "start"})).await;
    assert_eq!(restarted.status, StatusCode::CREATED);
    let published = admin
        .post(
            &format!("/api/rules/aml/drafts/{}/publish/", draft["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    let ended = analyst.get(&shadow).await.json();
    assert_eq!(
        (
            ended["id"].clone(),
            ended["status"].clone(),
            ended["stopped_by"].clone()
        ),
        (
            restarted.json()["id"].clone(),
            json!("stopped"),
            json!("admin")
        )
    );

    // Audited: each start and stop, with the draft's hash.
    shadowed_app.embedded_worker_pass();
    let audited = analyst
        .get(&format!(
            "/api/audit/?entity_id=ruleset:aml:draft:{}",
            draft["id"]
        ))
        .await
        .json();
    let shadow_events: Vec<(String, String)> = audited["results"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| {
            entry["kind"]
                .as_str()
                .is_some_and(|kind| kind.contains("shadow"))
        })
        .map(|entry| {
            assert_eq!(entry["payload"]["details"]["sha256"], draft["sha256"]);
            (
                entry["kind"].as_str().unwrap_or_default().to_owned(),
                entry["actor"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut kinds = shadow_events.clone();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("ruleset.shadow_started".to_owned(), "analyst".to_owned()),
            ("ruleset.shadow_started".to_owned(), "analyst".to_owned()),
            ("ruleset.shadow_stopped".to_owned(), "admin".to_owned()),
            ("ruleset.shadow_stopped".to_owned(), "analyst".to_owned()),
        ],
        "{audited}"
    );
}
