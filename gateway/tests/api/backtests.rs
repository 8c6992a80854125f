//! Backtests over the API: replaying a period through a draft, exactly, into fresh windows, and
//! the report of what it would change.

use std::time::{Duration, Instant};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, rules_of};

/// Three days of March 2026: ordinary payments, a structuring run, and a victim's money passed
/// on to the listed mule MULE-1 two hours later; returns every answer, in the order sent.
pub(crate) async fn history<S, B>(client: &Client<S>) -> Vec<Value>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut answers = Vec::new();
    for day in 1..=3 {
        let at = |hour: u32| format!("2026-03-0{day}T{hour:02}:{:02}:00Z", day * 7 % 60);
        let mut bodies = Vec::new();
        for n in 0..12_u32 {
            bodies.push(json!({"transaction_id": format!("D{day}-P{n}"), "user_id": "U",
                               "amount": 40.0 + f64::from(n * 37 % 500),
                               "sender_id": format!("PAYER-{}", n % 5), "receiver_id": format!("SHOP-{}", n % 3),
                               "timestamp": at(8 + n % 10)}));
        }
        for (n, hour) in [9, 11, 13].into_iter().enumerate() {
            bodies.push(json!({"transaction_id": format!("D{day}-S{n}"), "user_id": "U",
                               "amount": 9_400.0 + 100.0 * n as f64, "sender_id": format!("SMURF-{day}"),
                               "receiver_id": "BANK", "timestamp": at(hour)}));
        }
        bodies.push(json!({"transaction_id": format!("D{day}-IN"), "user_id": "U", "amount": 4_000.0,
                           "sender_id": format!("VICTIM-{day}"), "receiver_id": format!("ACC-{day}"),
                           "timestamp": at(9)}));
        bodies.push(
            json!({"transaction_id": format!("D{day}-OUT"), "user_id": "U", "amount": 3_900.0,
                           "sender_id": format!("ACC-{day}"), "receiver_id": "MULE-1",
                           "timestamp": at(11)}),
        );
        for body in bodies {
            let answer = client.detect_aml(&body).await;
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
            answers.push(answer.json());
        }
    }
    answers
}

/// The answers to the transfers passed on to the mule, one a day.
fn passed_on(answers: &[Value]) -> Vec<Value> {
    answers
        .iter()
        .filter(|answer| answer["receiver_id"] == "MULE-1")
        .cloned()
        .collect()
}

async fn finished<S, B>(client: &Client<S>, path: &str) -> Value
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let started = Instant::now();
    loop {
        let reply = client.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let body = reply.json();
        if body["status"] != "running" {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the backtest did not finish: {body}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn a_backtest_replays_a_period_exactly_and_reports_what_a_draft_changes() {
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
    let passed_on = passed_on(&history(&analyst).await);
    // An analyst confirmed the first pass-through as fraud.
    let stored = analyst
        .get(&format!("/api/aml/{}/", passed_on[0]["id"]))
        .await
        .json();
    let first_alert = stored["alerts"][0]["id"].clone();
    assert!(first_alert.is_i64(), "the pass-through alerted: {stored}");
    let case = analyst
        .post("/api/cases/", &json!({"alert_ids": [first_alert]}))
        .await
        .json();
    let closed = analyst
        .send_json(
            Method::PATCH,
            &format!("/api/cases/{}/", case["id"]),
            &json!({"status": "closed", "resolution": "confirmed_fraud"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);

    // The rule set in force, replayed: every stored risk, flag and alert comes back exactly.
    let unchanged = analyst
        .post("/api/rules/aml/drafts/", &json!({}))
        .await
        .json();
    let path = format!("/api/rules/aml/drafts/{}/backtest/", unchanged["id"]);
    let period = json!({"since": "2026-03-01T00:00:00Z", "until": "2026-03-04T00:00:00Z"});
    let started = analyst.post(&path, &period).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    assert_eq!(started.json()["started_by"], "analyst");
    let done = finished(&analyst, &path).await;
    assert_eq!(done["status"], "done", "{done}");
    let report = &done["report"];
    assert_eq!(report["events"], 3 * 17, "{report}");
    assert_eq!(
        report["changed"], 0,
        "an exact replay changes nothing: {report}"
    );
    assert_eq!(report["flagged"]["before"], report["flagged"]["after"]);
    assert!(report["flagged"]["before"].as_u64() > Some(0));
    for rule in report["alerts"].as_array().expect("alerts") {
        assert_eq!(rule["before"], rule["after"], "{rule}");
    }
    assert_eq!(
        (done["replayed"].clone(), done["total"].clone()),
        (json!(51), json!(51))
    );

    // The mule rule: the three pass-throughs gain its alert, and nothing else changes.
    let mule = analyst
        .post(
            "/api/rules/aml/drafts/",
            &json!({"rules": [{"name": "Listed mule pass-through",
                "when": "in_list('mule_accounts', event.receiver_id) && sender_received_24h >= 0.8 * event.amount",
                "severity": "critical", "confidence": 0.9, "reason": "{{event.amount}} to a listed mule"}]}),
        )
        .await
        .json();
    let path = format!("/api/rules/aml/drafts/{}/backtest/", mule["id"]);
    // Days 2 and 3, the first day warming the windows.
    let period = json!({"since": "2026-03-02T00:00:00Z", "until": "2026-03-04T00:00:00Z"});
    assert_eq!(
        analyst.post(&path, &period).await.status,
        StatusCode::ACCEPTED
    );
    let report = finished(&analyst, &path).await["report"].clone();
    assert_eq!(report["events"], 2 * 17);
    assert_eq!(report["warm_up_events"], 17);
    assert_eq!(report["changed"], 2, "{report}");
    let changed: Vec<(Value, Value)> = report["changed_decisions"]
        .as_array()
        .expect("listed")
        .iter()
        .map(|d| (d["decision"].clone(), d["rules_added"].clone()))
        .collect();
    assert_eq!(
        changed,
        passed_on[1..]
            .iter()
            .map(|out| (
                json!(format!("/api/aml/{}/", out["id"])),
                json!(["Listed mule pass-through"])
            ))
            .collect::<Vec<_>>()
    );
    let mule_counts = report["alerts"]
        .as_array()
        .and_then(|rules| {
            rules
                .iter()
                .find(|r| r["rule"] == "Listed mule pass-through")
        })
        .expect("counted");
    assert_eq!(
        (mule_counts["before"].clone(), mule_counts["after"].clone()),
        (json!(0), json!(2))
    );
    assert!(
        rules_of(&passed_on[1])
            .iter()
            .all(|rule| rule != "Listed mule pass-through"),
        "nothing live changed"
    );
    // The confirmed fraud is on day 1, outside this period.
    assert_eq!(report["labels"]["confirmed_fraud"], 0);

    // Over all three days the labelled fraud counts: flagged before and after.
    let started = analyst
        .post(
            &path,
            &json!({"since": "2026-03-01T00:00:00Z", "until": "2026-03-04T00:00:00Z"}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let labels = finished(&analyst, &path).await["report"]["labels"].clone();
    assert_eq!(labels["confirmed_fraud"], 1, "{labels}");
    assert_eq!(labels["after"]["recall"], 1.0, "{labels}");

    // Audited: who backtested which version of the draft, over which period.
    test_app.embedded_worker_pass();
    let audited = analyst
        .get(&format!(
            "/api/audit/?entity_id=ruleset:aml:draft:{}",
            mule["id"]
        ))
        .await
        .json();
    let started: Vec<&Value> = audited["results"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["kind"] == "ruleset.backtest_started")
        .collect();
    assert_eq!(started.len(), 2, "{audited}");
    for entry in started {
        assert_eq!(entry["actor"], "analyst");
        assert_eq!(entry["payload"]["details"]["sha256"], mule["sha256"]);
    }

    // Mistakes and the absent.
    let reply = analyst
        .post(
            &path,
            &json!({"since": "2026-03-04T00:00:00Z", "until": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json(), json!({"until": ["Must be after since."]}));
    let reply = analyst.post(&path, &json!({"since": "yesterday"})).await;
    assert_eq!(
        reply.json(),
        json!({"since": ["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm:ss[.uuuuuu]Z or YYYY-MM-DDThh:mm:ss[.uuuuuu]+HH:MM."],
               "until": ["This field is required."]})
    );
    assert_eq!(
        analyst.delete(&path).await.status,
        StatusCode::NOT_FOUND,
        "none runs"
    );
    assert_eq!(
        analyst
            .get("/api/rules/aml/drafts/999/backtest/")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Twenty ordinary days of a thin stock in March 2026 (five trades a day around $10), then a
/// promoter's heavy trade at a price 15% up; returns every answer.
async fn thin_stock<S, B>(client: &Client<S>) -> Vec<Value>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut answers = Vec::new();
    for day in 1..=20_u32 {
        for i in 0..5_u32 {
            let wobble = f64::from((day * 7 + i * 3) % 9) - 4.0;
            let body = json!({"trade_id": format!("T-{day}-{i}"), "symbol": "THIN",
                              "price": 10.0 + wobble * 0.02, "volume": 400.0 + wobble * 5.0,
                              "trader_id": format!("MM-{i}"),
                              "timestamp": format!("2026-03-{day:02}T{:02}:00:00Z", 14 + 2 * i)});
            let answer = client.detect_market(&body).await;
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
            answers.push(answer.json());
        }
    }
    let pushed = json!({"trade_id": "T-PUSH", "symbol": "THIN", "price": 11.5, "volume": 12_000.0,
                        "trader_id": "PROMOTER", "timestamp": "2026-03-21T15:00:00Z"});
    answers.push(client.detect_market(&pushed).await.json());
    answers
}

#[actix_web::test]
async fn a_market_backtest_replays_exactly_and_a_custom_surveillance_rule_finds_the_pushed_trade() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;
    let features = analyst.get("/api/rules/market/features/").await.json();
    assert!(
        features
            .as_array()
            .expect("the catalogue")
            .iter()
            .any(|feature| feature["name"] == "volume_to_median_daily"
                && feature["kind"] == "number"),
        "{features}"
    );
    let answers = thin_stock(&analyst).await;
    let pushed = answers.last().expect("the pushed trade").clone();
    assert!(!rules_of(&pushed).contains(&"Thin stock, heavy day".to_owned()));

    // The rule set in force, replayed over the last ten days (the first ten warm the windows).
    let unchanged = analyst
        .post("/api/rules/market/drafts/", &json!({}))
        .await
        .json();
    let path = format!("/api/rules/market/drafts/{}/backtest/", unchanged["id"]);
    let period = json!({"since": "2026-03-12T00:00:00Z", "until": "2026-03-22T00:00:00Z"});
    let started = analyst.post(&path, &period).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let report = finished(&analyst, &path).await["report"].clone();
    assert_eq!(report["events"], 9 * 5 + 1, "{report}");
    assert_eq!(report["warm_up_events"], 11 * 5);
    assert_eq!(
        report["changed"], 0,
        "an exact replay changes nothing: {report}"
    );

    // A surveillance team's rule, switching Unusual Activity off: the pushed trade changes.
    let draft = analyst
        .post(
            "/api/rules/market/drafts/",
            &json!({"disabled": ["Unusual Activity"],
                    "rules": [{"name": "Thin stock, heavy day",
                               "when": "volume_to_median_daily > 5.0 && symbol_price_change_24h > 0.1",
                               "severity": "high", "confidence": 0.8,
                               "reason": "{{volume_to_median_daily}} times the median daily volume"}]}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let draft = draft.json();
    let path = format!("/api/rules/market/drafts/{}/backtest/", draft["id"]);
    assert_eq!(
        analyst.post(&path, &period).await.status,
        StatusCode::ACCEPTED
    );
    let report = finished(&analyst, &path).await["report"].clone();
    let changed = report["changed_decisions"].as_array().expect("listed");
    let pushed_change = changed
        .iter()
        .find(|change| change["id"] == pushed["id"])
        .unwrap_or_else(|| panic!("the pushed trade changed: {report}"));
    assert_eq!(
        pushed_change["rules_added"],
        json!(["Thin stock, heavy day"])
    );

    // Published by an admin, it decides the next heavy trade live.
    let published = admin
        .post(
            &format!("/api/rules/market/drafts/{}/publish/", draft["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    let live = analyst
        .detect_market(
            &json!({"trade_id": "T-PUSH-2", "symbol": "THIN", "price": 11.9,
                               "volume": 6_000.0, "trader_id": "PROMOTER",
                               "timestamp": "2026-03-21T16:00:00Z"}),
        )
        .await
        .json();
    assert_eq!(live["ruleset_version"], 2);
    assert!(
        rules_of(&live).contains(&"Thin stock, heavy day".to_owned()),
        "{live}"
    );
    assert!(
        !rules_of(&live).contains(&"Unusual Activity".to_owned()),
        "{live}"
    );
}

#[actix_web::test]
async fn an_insurance_backtest_replays_hashed_contacts_exactly_and_a_custom_rule_reads_them_as_counts()
 {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    // Six claimants a month apart; three of them give one bank account (a ring), the first
    // four months before the last.
    let mut answers = Vec::new();
    let first = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z").expect("a time");
    for (n, name) in ["ALICE", "BOB", "CAROL", "DAN", "ERIN", "FRANK"]
        .into_iter()
        .enumerate()
    {
        let account = if n % 2 == 0 {
            "GB29 NWBK 6016 1331 9268 19".to_owned()
        } else {
            format!("GB82 WEST 1234 5698 7654 3{n}")
        };
        let claim = json!({"claim_id": format!("CLM-{n}"), "policy_id": format!("POL-{n}"),
                           "claim_amount": 2_400.0, "claimant_id": name,
                           "claimant_bank_account": account,
                           "timestamp": (first + chrono::Duration::days(30 * n as i64)).to_rfc3339()});
        let answer = analyst.detect_insurance(&claim).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answers.push(answer.json());
    }
    assert!(
        rules_of(&answers[4]).contains(&"SharedIdentifierRule".to_owned()),
        "the ring's third claim"
    );
    let stored = analyst
        .get(&format!("/api/insurance/{}/", answers[4]["id"]))
        .await
        .json();
    assert!(
        !stored.to_string().to_lowercase().contains("nwbk"),
        "stored hashed: {stored}"
    );

    let unchanged = analyst
        .post("/api/rules/insurance/drafts/", &json!({}))
        .await
        .json();
    let path = format!("/api/rules/insurance/drafts/{}/backtest/", unchanged["id"]);
    // The last two claims: the windows warm on the year before (the repeat-claims window), so the
    // ring's first claim, four months earlier, is in them.
    let period = json!({"since": "2026-04-15T00:00:00Z", "until": "2026-06-05T00:00:00Z"});
    assert_eq!(
        analyst.post(&path, &period).await.status,
        StatusCode::ACCEPTED
    );
    let report = finished(&analyst, &path).await["report"].clone();
    assert_eq!(
        (
            report["events"].clone(),
            report["warm_up_events"].clone(),
            report["unreadable"].clone()
        ),
        (json!(2), json!(4), json!(0)),
        "{report}"
    );
    assert_eq!(
        report["changed"], 0,
        "hashed contacts replay exactly: {report}"
    );

    let draft = analyst
        .post(
            "/api/rules/insurance/drafts/",
            &json!({"rules": [{"name": "Account given by another claimant",
                               "when": "bank_account_shared_by >= 1",
                               "severity": "high", "confidence": 0.75,
                               "reason": "given by {{bank_account_shared_by}} other claimant(s)"}]}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let path = format!(
        "/api/rules/insurance/drafts/{}/backtest/",
        draft.json()["id"]
    );
    assert_eq!(
        analyst.post(&path, &period).await.status,
        StatusCode::ACCEPTED
    );
    let report = finished(&analyst, &path).await["report"].clone();
    let changed: Vec<Value> = report["changed_decisions"]
        .as_array()
        .expect("listed")
        .iter()
        .map(|change| change["id"].clone())
        .collect();
    assert_eq!(changed, [answers[4]["id"].clone()], "{report}");
}

#[actix_web::test]
async fn a_credit_backtest_replays_exactly_and_a_custom_policy_rule_would_decline() {
    let test_app = TestApp::spawn();
    let analyst = test_app.login_as_analyst().await;
    let mut answers = Vec::new();
    for n in 0..6_u32 {
        let application = json!({"application_id": format!("APP-{n}"), "applicant_id": format!("A-{}", n % 3),
                                 "monthly_income": 6_000.0 - 1_500.0 * f64::from(n / 3),
                                 "employment_length": 48, "credit_history_months": 120,
                                 "open_accounts": 5, "late_payments_12m": 0,
                                 "requested_amount": 10_000.0 + 4_000.0 * f64::from(n),
                                 "loan_term_months": 36,
                                 "timestamp": format!("2026-03-0{}T10:00:00Z", n + 1)});
        let answer = analyst.assess_credit(&application).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answers.push(answer.json());
    }
    let unchanged = analyst
        .post("/api/rules/credit/drafts/", &json!({}))
        .await
        .json();
    let path = format!("/api/rules/credit/drafts/{}/backtest/", unchanged["id"]);
    let period = json!({"since": "2026-03-01T00:00:00Z", "until": "2026-03-07T00:00:00Z"});
    assert_eq!(
        analyst.post(&path, &period).await.status,
        StatusCode::ACCEPTED
    );
    let report = finished(&analyst, &path).await["report"].clone();
    assert_eq!(
        (report["events"].clone(), report["unreadable"].clone()),
        (json!(6), json!(0)),
        "{report}"
    );
    assert_eq!(
        report["changed"], 0,
        "an exact replay changes nothing: {report}"
    );

    // A critical custom rule is a policy rule: the second applications, whose income fell,
    // would have been declined.
    let draft = analyst
        .post(
            "/api/rules/credit/drafts/",
            &json!({"rules": [{"name": "Income fell since the last application",
                               "when": "income_change < -0.2",
                               "severity": "critical", "confidence": 0.9,
                               "reason": "income {{income_change}} against the last application"}]}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let path = format!("/api/rules/credit/drafts/{}/backtest/", draft.json()["id"]);
    assert_eq!(
        analyst.post(&path, &period).await.status,
        StatusCode::ACCEPTED
    );
    let report = finished(&analyst, &path).await["report"].clone();
    let changed: Vec<(Value, Value)> = report["changed_decisions"]
        .as_array()
        .expect("listed")
        .iter()
        .map(|change| (change["id"].clone(), change["flagged_after"].clone()))
        .collect();
    assert_eq!(
        changed,
        answers[3..]
            .iter()
            .map(|answer| (answer["id"].clone(), json!(true)))
            .collect::<Vec<_>>(),
        "{report}"
    );
}
