//! POST /api/credit/assess/ end to end: the contract's shape, the decision and its reasons, the
//! applicant's history in the shared windows, and what is kept.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_timestamp, post, send, shape};

const PATH: &str = "/api/credit/assess/";

/// The (type, message) of every alert in a response.
fn alerts(body: &Value) -> Vec<(String, String)> {
    body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| {
            (
                alert["type"].as_str().expect("type").to_owned(),
                alert["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn the_seed_request_is_approved_in_the_documented_shape() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request =
        json!({"applicant_id": "USER-101", "monthly_income": 4200, "employment_length": 24});
    let reply = client.post(PATH, &request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    let points = |names: &[&str]| -> Value {
        names
            .iter()
            .map(|name| ((*name).to_owned(), json!("float")))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert_eq!(
        shape(&body),
        json!({"id": "integer", "applicant_id": "string", "risk_score": "integer", "decision": "string",
               "timestamp": "string", "alerts": [{"type": "string", "message": "string", "severity": "string"}],
               "credit_score": "integer", "risk_tier": "string",
               "factors": {"payment_history": "float", "amounts_owed": "float", "length_of_credit": "float",
                           "new_credit": "float", "credit_mix": "float"},
               "reason_codes": [],
               "points_lost": points(&["late_payments", "delinquencies", "bankruptcies", "utilization",
                                       "debt_to_income", "credit_history_length", "employment_length",
                                       "inquiries", "account_mix"]),
               "thin_file": "boolean", "assumed_fields": vec!["string"; 8],
               "probability_of_default": "float", "model_score": "integer", "ruleset_version": "integer"})
    );
    assert_eq!(body["decision"], "APPROVED");
    assert_eq!(body["risk_score"], 738);
    assert_eq!(body["credit_score"], 738);
    assert_eq!(body["risk_tier"], "MEDIUM");
    assert_eq!(
        body["alerts"],
        json!([{"type": "reason_code", "message": "APPROVED", "severity": "medium"}])
    );
    assert_eq!(body["thin_file"], json!(true));
    assert_timestamp(&body["timestamp"]);
}

#[actix_web::test]
async fn a_risky_applicant_is_declined_with_policy_and_ranked_reasons_all_kept() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"applicant_id": "A-7", "application_id": "APP-7", "monthly_income": 2500,
                         "employment_length": 2, "late_payments_12m": 4, "revolving_balance": 4850,
                         "revolving_limit": 5000, "credit_history_months": 8, "recent_inquiries_6m": 5,
                         "monthly_debt_payments": 1400, "account_types": {"revolving": 2}});
    let reply = client.post(PATH, &request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["decision"], "DECLINED");
    assert_eq!(body["risk_tier"], "VERY_HIGH");
    assert_eq!(body["application_id"], "APP-7");
    assert_eq!(body["debt_to_income"], 0.56);
    let mut found = alerts(&body);
    let model = found.remove(2);
    assert_eq!(
        model.0, "model_risk",
        "the model agrees, and says so: {}",
        model.1
    );
    assert_eq!(
        found,
        [
            ("reason_code".to_owned(), "DECLINED".to_owned()),
            ("policy_rule".to_owned(), "Excessive obligations in relation to income: debt-to-income 56% ($1400.00 existing debt payments on $2500.00 monthly income) exceeds the 43% maximum".to_owned()),
            ("reason_code".to_owned(), "Delinquent past or present credit obligations: 4 late payments in the last 12 months".to_owned()),
            ("reason_code".to_owned(), "Proportion of balances to credit limits is too high: 97% revolving utilisation (points are lost above 30%)".to_owned()),
            ("reason_code".to_owned(), "Excessive obligations in relation to income: debt-to-income 56%".to_owned()),
        ]
    );
    assert_eq!(body["alerts"][1]["severity"], "high");
    assert_eq!(body["alerts"][3]["severity"], "critical");
    let codes: Vec<&str> = body["reason_codes"]
        .as_array()
        .expect("reason codes")
        .iter()
        .map(|reason| reason["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "debt_to_income_limit",
            "late_payments",
            "utilization",
            "debt_to_income"
        ]
    );
    assert_eq!(body["reason_codes"][0]["points_lost"], Value::Null);

    // Every finding is kept with the decision; the decision line itself is not an alert.
    let stats = test_app
        .state
        .db
        .statistics(chrono::Utc::now(), 10)
        .expect("query");
    let kept: Vec<(&str, i64)> = stats
        .top_rules
        .iter()
        .map(|rule| (rule.rule.as_str(), rule.count))
        .collect();
    assert_eq!(
        kept,
        [
            ("AdverseActionReason", 3),
            ("DebtToIncomePolicy", 1),
            ("DefaultModelRule", 1)
        ]
    );
    let stored = test_app
        .state
        .db
        .find_decision(redflag_core::Module::Credit, "APP-7")
        .expect("query")
        .expect("stored");
    let mut response: Value = serde_json::from_str(&stored.response_json).expect("JSON");
    response["id"] = body["id"].clone();
    assert_eq!(response, body, "the stored response is the one answered");
}

#[actix_web::test]
async fn an_approval_lists_its_strengths_and_the_model_opinion() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"applicant_id": "GOOD-1", "monthly_income": 9000, "employment_length": 96,
                         "credit_history_months": 180, "late_payments_12m": 0, "delinquencies_24m": 0,
                         "bankruptcies": 0, "credit_utilization": 0.08, "recent_inquiries_6m": 0,
                         "monthly_debt_payments": 600, "requested_amount": 15000, "loan_term_months": 48,
                         "account_types": {"revolving": 3, "installment": 2, "mortgage": 1}});
    let body = client.post(PATH, &request).await.json();
    assert_eq!(body["decision"], "APPROVED");
    assert_eq!(body["risk_tier"], "LOW");
    assert_eq!(
        alerts(&body),
        [
            ("reason_code".to_owned(), "APPROVED".to_owned()),
            (
                "positive_factor".to_owned(),
                "No late payments in the last 12 months".to_owned()
            ),
            (
                "positive_factor".to_owned(),
                "No delinquencies in the last 24 months".to_owned()
            ),
            (
                "positive_factor".to_owned(),
                "No bankruptcies on file".to_owned()
            ),
            (
                "positive_factor".to_owned(),
                "Low revolving utilisation: 8%".to_owned()
            ),
        ]
    );
    assert_eq!(body["new_instalment"], 395.01);
    assert_eq!(body["thin_file"], json!(false));
    assert_eq!(body["assumed_fields"], json!([]));
    let probability = body["probability_of_default"].as_f64().expect("a model");
    assert!(probability < 0.1, "{probability}");
    assert_eq!(
        body["model_score"],
        redflag_credit::OddsScaling::STANDARD.score(probability)
    );
}

#[actix_web::test]
async fn repeated_applications_with_a_changing_income_are_referred() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let application = |id: &str, income: u32, day: u32| {
        json!({"applicant_id": "SHOPPER-1", "application_id": id, "monthly_income": income,
               "employment_length": 96, "credit_history_months": 180, "late_payments_12m": 0,
               "credit_utilization": 0.1, "recent_inquiries_6m": 0, "monthly_debt_payments": 500,
               "account_types": {"revolving": 2, "installment": 1, "mortgage": 1},
               "timestamp": format!("2026-03-{day:02}T10:00:00Z")})
    };
    let first = send(
        &client.app,
        post(PATH, Some(&client.token), &application("S-1", 6000, 1)),
    )
    .await
    .json();
    assert_eq!(first["decision"], "APPROVED");
    let second = send(
        &client.app,
        post(PATH, Some(&client.token), &application("S-2", 6100, 5)),
    )
    .await
    .json();
    assert_eq!(second["decision"], "APPROVED", "{second}");
    let third = send(
        &client.app,
        post(PATH, Some(&client.token), &application("S-3", 9500, 9)),
    )
    .await
    .json();
    assert_eq!(third["decision"], "REVIEW");
    assert_eq!(
        alerts(&third),
        [
            ("reason_code".to_owned(), "REVIEW".to_owned()),
            ("application_velocity".to_owned(), "3 applications by SHOPPER-1 in 30 days (referral from 3)".to_owned()),
            ("income_inconsistency".to_owned(), "Stated monthly income $9500.00 differs by 58% from $6000.00 stated 8 days earlier (application S-1); tolerance 25%".to_owned()),
            ("reason_code".to_owned(), "Too many recent credit applications: 2 earlier applications in the last 180 days".to_owned()),
        ]
    );
    let codes: Vec<&str> = third["reason_codes"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|reason| reason["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        ["application_velocity", "income_inconsistency", "inquiries"]
    );
    assert_eq!(
        third["factors"]["new_credit"], 0.76,
        "two earlier applications seen"
    );

    // A resend of the third is the same decision, not a fourth application.
    let resent = client.post(PATH, &application("S-3", 9500, 9)).await;
    assert_eq!(resent.status, StatusCode::OK);
    assert_eq!(resent.json(), third);
}

#[actix_web::test]
async fn bad_figures_are_refused_in_drf_words() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"applicant_id": "A", "monthly_income": -4200, "employment_length": 721,
                         "credit_utilization": 1.2, "revolving_balance": 300,
                         "account_types": {"revolving": "two"}});
    let reply = client.post(PATH, &request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({
            "monthly_income": ["Ensure this value is greater than 0."],
            "employment_length": ["Ensure this value is less than or equal to 720."],
            "credit_utilization": ["Ensure this value is less than or equal to 1."],
            "revolving_limit": ["This field is required when revolving_balance is given."],
            "account_types": ["revolving: A valid integer is required."],
        })
    );
}
