//! Labels: analysts' closed cases feed the models: `train --with-labels` keeps confirmed fraud
//! out of what an anomaly model learns as normal, trains the credit model on the outcomes, and
//! reports how the previous model's flags agree with the analysts.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use redflag_core::Module;
use redflag_service::models::{MIN_LABELLED_DECISIONS, ModuleModel, train_with_labels};
use serde_json::{Value, json};

use crate::cli::redflag;
use crate::helpers::{
    Sandbox, TestApp, get, ordinary_transfers, post, send, shape, structuring_run, transfer,
};

/// Opens a case on `alert_ids` and closes it with `resolution`; returns the case's id.
async fn close_case<S, B>(app: &S, token: &str, alert_ids: &[i64], resolution: &str) -> i64
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let opened = send(
        app,
        post("/api/cases/", Some(token), &json!({"alert_ids": alert_ids})),
    )
    .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let id = opened.json()["id"].as_i64().expect("a case id");
    let closed = send(
        app,
        TestRequest::patch()
            .uri(&format!("/api/cases/{id}/"))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_payload(json!({"status": "closed", "resolution": resolution}).to_string()),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    id
}

/// The ids of the alerts a decision raised, from the queue.
async fn alerts_of<S, B>(app: &S, token: &str, module: &str, decision_id: i64) -> Vec<i64>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let queue = send(
        app,
        get(
            &format!("/api/alerts/?module={module}&page_size=500"),
            Some(token),
        ),
    )
    .await
    .json();
    let ids: Vec<i64> = queue["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|alert| alert["decision_id"] == decision_id)
        .filter_map(|alert| alert["id"].as_i64())
        .collect();
    assert!(
        !ids.is_empty(),
        "decision {decision_id} raised alerts: {queue}"
    );
    ids
}

/// Ordinary transfers, then a structuring run by SMURF (ids `<prefix>0..2`) that an analyst
/// closes as confirmed fraud; the structuring decision's id.
async fn confirmed_structuring<S, B>(app: &S, token: &str, ordinary: usize, prefix: &str) -> i64
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    ordinary_transfers(app, token, ordinary).await;
    let smurf = structuring_run(app, token, prefix).await[2]["id"]
        .as_i64()
        .expect("an id");
    close_case(
        app,
        token,
        &alerts_of(app, token, "aml", smurf).await,
        "confirmed_fraud",
    )
    .await;
    smurf
}

#[actix_web::test]
async fn confirmed_fraud_is_left_out_of_the_anomaly_model_and_the_old_model_is_measured() {
    let test_app = TestApp::spawn_with(|settings| settings.tasks.retrain_min_rows = 20);
    let client = test_app.login_as_analyst().await;
    ordinary_transfers(&client.app, &client.token, 30).await;
    let structuring = structuring_run(&client.app, &client.token, "L").await;
    let smurf = structuring[2]["id"].as_i64().expect("an id");
    let mut large = Vec::new();
    for (i, amount) in [(100, 25_000.0), (101, 30_000.0)] {
        let reply = send(
            &client.app,
            post(
                "/api/aml/detect/",
                Some(&client.token),
                &transfer(i, amount),
            ),
        )
        .await;
        large.push(reply.json()["id"].as_i64().expect("an id"));
    }
    let decisions = 30 + 3 + 2;

    let smurf_alerts = alerts_of(&client.app, &client.token, "aml", smurf).await;
    close_case(&client.app, &client.token, &smurf_alerts, "confirmed_fraud").await;
    let first_large = alerts_of(&client.app, &client.token, "aml", large[0]).await;
    close_case(&client.app, &client.token, &first_large, "false_positive").await;
    // The second large transfer was first cleared, then a later case found it was fraud after
    // all: the later finding is its label.
    let second_large = alerts_of(&client.app, &client.token, "aml", large[1]).await;
    close_case(&client.app, &client.token, &second_large, "false_positive").await;
    close_case(&client.app, &client.token, &second_large, "confirmed_fraud").await;
    // An inconclusive case labels nothing and leaves an earlier finding standing.
    close_case(&client.app, &client.token, &smurf_alerts, "inconclusive").await;

    let state = &test_app.state;
    let (models, tasks, db) = (&state.settings.models, &state.settings.tasks, &state.db);
    let trained = train_with_labels(models, tasks, db, Module::Aml, 11, "system").expect("trained");
    assert_eq!(trained.model.kind(), "isolation_forest");
    assert_eq!(
        trained.rows,
        decisions - 2,
        "the two confirmed frauds are left out"
    );
    assert_eq!(
        trained.source,
        format!("the {decisions} most recent aml decisions, less 2 confirmed fraud")
    );
    let labels = &trained.labels;
    assert_eq!((labels.confirmed_fraud, labels.false_positive), (2, 1));
    let previous = labels
        .previous
        .as_ref()
        .expect("the synthetic model was installed");
    assert_eq!((previous.labelled, previous.fraud), (3, 2));
    assert!(previous.true_positives <= previous.flagged);
    assert_eq!(
        previous.precision,
        (previous.flagged > 0).then(|| previous.true_positives as f64 / previous.flagged as f64)
    );
    assert_eq!((labels.new.labelled, labels.new.fraud), (3, 2));

    // The training is in the audit log with the figures it reported.
    test_app.embedded_worker_pass();
    let history = send(
        &client.app,
        get("/api/audit/?entity_id=model:aml", Some(&client.token)),
    )
    .await
    .json();
    let trained_event = &history["results"][0];
    assert_eq!(trained_event["kind"], "model.trained", "{history}");
    let details = &trained_event["payload"]["details"];
    assert_eq!(details["source"], trained.source.as_str());
    assert_eq!(details["labels"]["confirmed_fraud"], 2);
    assert_eq!(details["labels"]["false_positive"], 1);
    assert_eq!(details["labels"]["previous"]["labelled"], 3);
    assert_eq!(details["labels"]["new"]["fraud"], 2);
}

/// An application whose figures make it declined with alerts; `strain` worsens them.
fn application(i: usize, strain: u32) -> Value {
    json!({"applicant_id": format!("LAB-{i}"), "application_id": format!("LAB-APP-{i}"),
           "monthly_income": 2500, "employment_length": 2 + strain,
           "late_payments_12m": 1 + strain % 5, "revolving_balance": 4000 + 100 * strain,
           "revolving_limit": 5000, "credit_history_months": 8 + strain,
           "recent_inquiries_6m": 5, "monthly_debt_payments": 1100 + 50 * strain,
           "account_types": {"revolving": 2}})
}

#[actix_web::test]
async fn the_credit_model_learns_from_labelled_outcomes_once_there_are_enough_of_both() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let state = &test_app.state;
    let (models, tasks, db) = (&state.settings.models, &state.settings.tasks, &state.db);
    let mut decisions = Vec::new();
    for i in 0..MIN_LABELLED_DECISIONS + 2 {
        let reply = send(
            &client.app,
            post(
                "/api/credit/assess/",
                Some(&client.token),
                &application(i, i as u32),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        decisions.push(reply.json()["id"].as_i64().expect("an id"));
    }

    // Only one outcome so far: refused, naming what is missing, and nothing is installed.
    for id in &decisions[..4] {
        let alerts = alerts_of(&client.app, &client.token, "credit", *id).await;
        close_case(&client.app, &client.token, &alerts, "false_positive").await;
    }
    let installed = || {
        ModuleModel::installed(models, Module::Credit)
            .expect("readable")
            .expect("the synthetic model")
            .card()
            .version
    };
    let synthetic = installed();
    let refused = train_with_labels(models, tasks, db, Module::Credit, 5, "system")
        .err()
        .expect("refused");
    assert_eq!(installed(), synthetic, "nothing was installed");
    assert_eq!(
        refused.to_string(),
        format!(
            "the credit model learns from labelled decisions and needs at least \
             {MIN_LABELLED_DECISIONS} with both outcomes; closed cases label 0 confirmed fraud \
             and 4 false positive(s)"
        )
    );

    // The riskier half turn out to be fraud.
    let half = decisions.len() / 2;
    for id in &decisions[4..half] {
        close_case(
            &client.app,
            &client.token,
            &alerts_of(&client.app, &client.token, "credit", *id).await,
            "false_positive",
        )
        .await;
    }
    let fraud: Vec<i64> = {
        let mut ids = Vec::new();
        for id in &decisions[half..] {
            ids.extend(alerts_of(&client.app, &client.token, "credit", *id).await);
        }
        ids
    };
    close_case(&client.app, &client.token, &fraud, "confirmed_fraud").await;

    let trained =
        train_with_labels(models, tasks, db, Module::Credit, 5, "system").expect("trained");
    assert_eq!(trained.model.kind(), "scorecard");
    assert_eq!(trained.rows, decisions.len());
    assert_eq!(
        trained.source,
        format!(
            "{} credit decisions labelled by closed cases",
            decisions.len()
        )
    );
    let labels = &trained.labels;
    assert_eq!(
        (labels.confirmed_fraud, labels.false_positive),
        (decisions.len() - half, half)
    );
    let previous = labels.previous.as_ref().expect("the synthetic model");
    assert_eq!(previous.labelled, decisions.len());
    assert!(previous.roc_auc.is_some(), "both outcomes are labelled");
    assert_eq!(labels.new.labelled, decisions.len());
}

#[actix_web::test]
async fn train_with_labels_on_the_command_line_reports_the_previous_models_precision() {
    let test_app = TestApp::spawn_in(Sandbox::new(), |_| {});
    let client = test_app.login_as_analyst().await;
    let (ok, _, stderr) = redflag(
        &test_app.sandbox,
        &["train", "credit", "--with-labels"],
        "",
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("closed cases label 0 confirmed fraud and 0 false positive(s)"),
        "{stderr}"
    );

    confirmed_structuring(&client.app, &client.token, 24, "CLI").await;

    let (ok, stdout, stderr) = redflag(
        &test_app.sandbox,
        &["train", "aml", "--with-labels", "--seed", "3"],
        "",
        &[("REDFLAG__TASKS__RETRAIN_MIN_ROWS", "20")],
    );
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "trained isolation_forest for aml on 21 rows of the 27 most recent aml decisions, \
             less 1 confirmed fraud (5 held out)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("labels from closed cases: 1 confirmed fraud, 0 false positive\n"),
        "{stdout}"
    );
    let previous = lines
        .iter()
        .find(|line| line.trim_start().starts_with("previous model"))
        .expect("the previous model's line");
    // One labelled decision, fraud: flagged or not, precision and recall follow from it.
    assert!(
        previous.ends_with("flagged 1 of 1, precision 1.0000, recall 1.0000, roc_auc n/a")
            || previous.ends_with("flagged 0 of 1, precision n/a, recall 0.0000, roc_auc n/a"),
        "{previous}"
    );
    assert!(stdout.contains("  new model       flagged "), "{stdout}");
    assert!(
        test_app.sandbox.path().join("ml_models/aml.json").exists(),
        "{stdout}"
    );
}

fn train_request(module: &str, token: &str, body: &Value) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/api/models/{module}/train/"))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn admins_retrain_over_http_with_labels_and_the_new_model_scores_at_once() {
    let test_app = TestApp::spawn_with(|settings| settings.tasks.retrain_min_rows = 20);
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;

    // Everyone may see what scores each module.
    let models = analyst.get("/api/models/").await;
    assert_eq!(models.status, StatusCode::OK, "{}", models.text);
    let models = models.json();
    let card = json!({"model": "string", "version": "string", "training_rows": "integer",
                      "trained_at": "string", "metrics": {"contamination": "float", "threshold": "float",
                                                          "roc_auc": "float", "average_precision": "float"},
                      "source": "string",
                      "anomaly_alert": {"status": "string", "alert_rate": "float", "events": "integer",
                                        "min_events": "integer", "drift": []}});
    assert_eq!(shape(&models["aml"]), card);
    assert_eq!(models["aml"]["source"], "synthetic defaults");
    // Nothing stored yet: the anomaly alert is warming up, never calibrated.
    assert_eq!(
        models["aml"]["anomaly_alert"],
        json!({"status": "warming_up", "alert_rate": 0.005, "events": 0, "min_events": 1000, "drift": []})
    );
    assert_eq!(models["credit"]["model"], "scorecard");
    assert!(models["credit"].get("anomaly_alert").is_none());
    let synthetic = models["aml"]["version"]
        .as_str()
        .expect("a version")
        .to_owned();
    assert!(synthetic.starts_with("isolation_forest "), "{synthetic}");

    // Only admins train; bad bodies and unknown modules are refused before any work.
    let refused = send(
        &analyst.app,
        train_request("aml", &analyst.token, &json!({})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({"detail": "You do not have permission to perform this action."})
    );
    let unknown = send(
        &analyst.app,
        train_request("crypto", &admin.token, &json!({})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json(), json!({"detail": "Not found."}));
    let bad = send(
        &analyst.app,
        train_request("aml", &admin.token, &json!({"seed": -1, "rows": 5})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let errors = bad.json();
    assert!(
        errors["seed"].is_array() && errors["rows"].is_array(),
        "{errors}"
    );
    let too_few = send(&analyst.app, train_request("aml", &admin.token, &json!({}))).await;
    assert_eq!(too_few.status, StatusCode::CONFLICT);
    assert_eq!(
        too_few.json(),
        json!({"detail": "0 usable aml decisions; retraining needs tasks.retrain_min_rows = 20"})
    );

    confirmed_structuring(&analyst.app, &analyst.token, 24, "HTTP").await;

    let trained = send(
        &analyst.app,
        train_request("aml", &admin.token, &json!({"seed": 5})),
    )
    .await;
    assert_eq!(trained.status, StatusCode::CREATED, "{}", trained.text);
    let trained = trained.json();
    assert_eq!(trained["module"], "aml");
    assert_eq!(
        trained["source"],
        "the 27 most recent aml decisions, less 1 confirmed fraud"
    );
    assert_eq!(trained["installed"]["training_rows"], 21);
    assert_eq!(trained["held_out"], 5);
    assert_eq!(
        (
            trained["confirmed_fraud"].clone(),
            trained["false_positive"].clone()
        ),
        (json!(1), json!(0))
    );
    let figures = json!({"labelled": "integer", "fraud": "integer", "flagged": "integer",
                         "true_positives": "integer", "precision": "null", "recall": "float",
                         "roc_auc": "null"});
    let previous = &trained["previous"];
    assert_eq!(
        (previous["labelled"].clone(), previous["fraud"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(trained["new"]["labelled"], 1);
    if previous["flagged"] == 0 {
        assert_eq!(shape(previous), figures, "{previous}");
    }
    let version = trained["installed"]["version"]
        .as_str()
        .expect("a version")
        .to_owned();
    assert!(version.ends_with("(21 rows, seed 5)"), "{version}");

    // This gateway scores with it from the next request, and says so.
    let models = analyst.get("/api/models/").await.json();
    assert_eq!(models["aml"]["version"], version.as_str());
    let next = send(
        &analyst.app,
        post(
            "/api/aml/detect/",
            Some(&analyst.token),
            &transfer(500, 420.0),
        ),
    )
    .await
    .json();
    let id = next["id"].as_i64().expect("an id");
    let detail = send(
        &analyst.app,
        get(&format!("/api/aml/{id}/"), Some(&analyst.token)),
    )
    .await
    .json();
    assert_eq!(detail["model_version"], version.as_str());

    // The training is audited as the admin's.
    test_app.embedded_worker_pass();
    let history = send(
        &analyst.app,
        get("/api/audit/?entity_id=model:aml", Some(&analyst.token)),
    )
    .await
    .json();
    assert_eq!(history["results"][0]["kind"], "model.trained");
    assert_eq!(history["results"][0]["actor"], "admin");
}
