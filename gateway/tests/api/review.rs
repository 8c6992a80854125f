//! The analyst's reads: the alert queue with its filters and pages, one decision whole, and the
//! admin-only user list.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, get, post, rules_of, send, structuring_run};

fn transfer(id: &str, sender: &str, amount: f64, minute: u32) -> Value {
    json!({"transaction_id": id, "user_id": "U", "amount": amount, "sender_id": sender,
           "receiver_id": "BANK", "timestamp": format!("2026-02-09T09:{minute:02}:00Z")})
}

#[actix_web::test]
async fn the_queue_lists_alerts_newest_first_filters_them_and_links_each_to_its_decision() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let mut replies = structuring_run(&client.app, &client.token, "Q").await;
    let large = send(
        &client.app,
        post(
            "/api/aml/detect/",
            Some(&client.token),
            &transfer("Q9", "WHALE", 25_000.0, 9),
        ),
    )
    .await
    .json();
    assert!(rules_of(&replies[2]).contains(&"StructuringRule".to_owned()));
    replies.push(large.clone());

    let queue = client.get("/api/alerts/").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let queue = queue.json();
    let results = queue["results"].as_array().expect("results");
    assert_eq!(queue["count"], json!(results.len()));
    let rules: Vec<&str> = results.iter().filter_map(|a| a["rule"].as_str()).collect();
    // Newest first: every alert of every decision, the last one raised first.
    let expected: Vec<String> = replies.iter().flat_map(rules_of).rev().collect();
    assert_eq!(rules, expected);
    let first = &results[0];
    assert_eq!(first["entity_id"], "WHALE");
    assert_eq!(
        first["decision"],
        json!(format!("/api/aml/{}/", large["id"]))
    );
    assert_eq!(first["module"], "aml");
    assert!(
        first["raised_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );

    let only = |query: &'static str| {
        let client = &client;
        async move {
            let reply = client.get(&format!("/api/alerts/?{query}")).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
            reply.json()
        }
    };
    let structuring = only("rule=StructuringRule").await;
    assert_eq!(structuring["count"], 1);
    assert_eq!(structuring["results"][0]["entity_id"], "SMURF");
    assert_eq!(
        structuring["results"][0]["details"]["metadata"]["num_transactions"],
        json!(3)
    );
    assert_eq!(only("module=credit").await["count"], 0);
    let high = only("severity=high").await;
    assert!(
        high["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|alert| alert["severity"] == "high")
    );
    assert_eq!(only("until=2000-01-01T00:00:00Z").await["count"], 0);
    assert_eq!(
        only("until=2100-01-01T00:00:00Z").await["count"],
        queue["count"],
        "a bound in the future is a bound"
    );
    assert_eq!(
        only("since=2000-01-01T00:00:00Z").await["count"],
        queue["count"]
    );

    // Pages of one, with links that keep the filter.
    let page = only("module=aml&page_size=1").await;
    assert_eq!(page["results"].as_array().map(Vec::len), Some(1));
    let next = page["next"].as_str().expect("a next page");
    assert!(
        next.ends_with("/api/alerts/?module=aml&page=2&page_size=1"),
        "{next}"
    );
    assert_eq!(page["previous"], Value::Null);

    let bad = send(
        &client.app,
        get(
            "/api/alerts/?severity=urgent&since=yesterday&status=NEW",
            Some(&client.token),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json(),
        json!({"severity": ["\"urgent\" is not a valid choice."],
               "since": [redflag_core::messages::DATETIME_FORMAT],
               "status": ["\"NEW\" is not a valid choice."]})
    );
    let past_the_end = client.get("/api/alerts/?page=99").await;
    assert_eq!(past_the_end.status, StatusCode::NOT_FOUND);
    assert_eq!(past_the_end.json(), json!({"detail": "Invalid page."}));
    let anonymous = send(&client.app, get("/api/alerts/", None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_decision_page_has_the_request_the_answer_the_alerts_the_model_and_the_history() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let answers = structuring_run(&client.app, &client.token, "D").await;
    let last = &answers[2];
    let id = last["id"].as_i64().expect("an id");
    let page = client.get(&format!("/api/aml/{id}/")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let page = page.json();
    assert_eq!(page["id"], json!(id));
    assert_eq!(page["module"], "aml");
    assert_eq!(page["reference"], "D2");
    assert_eq!(page["entity_id"], "SMURF");
    assert_eq!(page["risk_score"], last["risk_score"]);
    assert_eq!(page["flagged"], last["flagged"]);
    assert_eq!(page["event_time"], "2026-02-09T09:02:00.000Z");
    assert_eq!(page["request"]["amount"], json!(9700.0));
    let mut answered = last.clone();
    answered.as_object_mut().map(|body| body.remove("id"));
    assert_eq!(page["response"], answered, "the answer as given");
    let alert_rules: Vec<&str> = page["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|alert| alert["rule"].as_str())
        .collect();
    assert_eq!(alert_rules, rules_of(last));
    assert!(
        page["model_version"]
            .as_str()
            .is_some_and(|version| version.starts_with("isolation_forest")),
        "{}",
        page["model_version"]
    );
    let history: Vec<&str> = page["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|item| item["reference"].as_str())
        .collect();
    assert_eq!(
        history,
        ["D2", "D1", "D0"],
        "newest first, this one included"
    );
    let earlier = answers[1]["id"].as_i64().expect("an id");
    let earlier = send(
        &client.app,
        get(&format!("/api/aml/{earlier}/"), Some(&client.token)),
    )
    .await
    .json();
    let history: Vec<&str> = earlier["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|item| item["reference"].as_str())
        .collect();
    assert_eq!(history, ["D1", "D0"], "up to the decision shown");

    for path in [
        format!("/api/credit/{id}/"),
        "/api/aml/999999/".to_owned(),
        format!("/api/forex/{id}/"),
    ] {
        let reply = client.get(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json(), json!({"detail": "Not found."}), "{path}");
    }
    let anonymous = send(&client.app, get(&format!("/api/aml/{id}/"), None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn only_admins_list_users_and_their_roles() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;

    let refused = analyst.get("/api/users/").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({"detail": "You do not have permission to perform this action."})
    );
    let listed = admin.get("/api/users/").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let users: Vec<(String, String)> = listed
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|user| {
            assert!(user.get("password_hash").is_none());
            (
                user["username"].as_str().unwrap_or_default().to_owned(),
                user["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [
            ("analyst".to_owned(), "analyst".to_owned()),
            ("admin".to_owned(), "admin".to_owned())
        ]
    );
}
