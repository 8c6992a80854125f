//! The model lifecycle: trained and written at first start, loaded after, refused when broken.

use actix_web::http::StatusCode;
use redflag_gateway::state::AppState;
use redflag_service::settings::Settings;
use serde_json::json;

use crate::helpers::{Sandbox, TestApp, login, post, send};

const MODULES: [&str; 4] = ["aml", "credit", "insurance", "market"];

fn with_models_in(dir: &tempfile::TempDir) -> impl Fn(&mut Settings) + '_ {
    move |settings: &mut Settings| settings.models.directory = dir.path().display().to_string()
}

#[actix_web::test]
async fn a_first_start_trains_and_writes_every_model_and_a_restart_uses_them() {
    let models = tempfile::tempdir().expect("temp dir");
    let first = TestApp::spawn_with(with_models_in(&models));
    for module in MODULES {
        let artifact: serde_json::Value = serde_json::from_slice(
            &std::fs::read(models.path().join(format!("{module}.json"))).expect("artifact written"),
        )
        .expect("JSON");
        assert_eq!(artifact["format_version"], 1);
        assert_eq!(artifact["seed"], 42);
        assert!(
            artifact["metrics"]["roc_auc"]
                .as_f64()
                .is_some_and(|auc| auc > 0.6),
            "{module}"
        );
    }
    let written = std::fs::metadata(models.path().join("aml.json"))
        .and_then(|m| m.modified())
        .expect("mtime");
    let second = TestApp::spawn_with(with_models_in(&models));
    let unchanged = std::fs::metadata(models.path().join("aml.json"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(
        written, unchanged,
        "the restart loads the artifact instead of retraining"
    );

    let transfer = json!({"transaction_id": "T", "user_id": "U", "amount": 4200, "sender_id": "S", "receiver_id": "R",
                          "timestamp": "2026-02-09T03:10:00Z"});
    let mut scores = Vec::new();
    for app in [&first, &second] {
        let service = app.service().await;
        let (token, _) = login(&service, app, "analyst").await;
        let body = send(&service, post("/api/aml/detect/", Some(&token), &transfer))
            .await
            .json();
        scores.push(body["model_score"].clone());
    }
    assert_eq!(
        scores[0], scores[1],
        "the same model scores the same transfer the same"
    );
}

#[actix_web::test]
async fn an_unusual_transfer_scores_higher_than_an_ordinary_one() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let send_transfer = |id: &str, sender: &str, amount: f64, at: &str| {
        post(
            "/api/aml/detect/",
            Some(&client.token),
            &json!({"transaction_id": id, "user_id": "U", "amount": amount,
             "sender_id": sender, "receiver_id": "R", "timestamp": at}),
        )
    };
    for (i, sender) in ["ORDINARY", "UNUSUAL"].iter().enumerate() {
        for hour in 10..13 {
            let reply = send(
                &client.app,
                send_transfer(
                    &format!("{i}-{hour}"),
                    sender,
                    240.0,
                    &format!("2026-02-09T{hour}:00:00Z"),
                ),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED);
        }
    }
    let ordinary = send(
        &client.app,
        send_transfer("o", "ORDINARY", 260.0, "2026-02-09T14:30:00Z"),
    )
    .await
    .json();
    let unusual = send(
        &client.app,
        send_transfer("u", "UNUSUAL", 9_000.0, "2026-02-09T03:30:00Z"),
    )
    .await
    .json();
    let (ordinary, unusual) = (
        ordinary["model_score"].as_f64().expect("score"),
        unusual["model_score"].as_f64().expect("score"),
    );
    assert!(
        unusual > ordinary + 0.1,
        "unusual {unusual} vs ordinary {ordinary}"
    );
}

#[test]
fn a_corrupt_or_mismatched_artifact_stops_start_up_with_its_name_and_the_problem() {
    let sandbox = Sandbox::new();
    let models = tempfile::tempdir().expect("temp dir");
    let settings = sandbox.settings(with_models_in(&models));
    assert!(
        AppState::build(settings.clone()).is_ok(),
        "the first start trains the models"
    );

    std::fs::write(
        models.path().join("aml.json"),
        b"{\"format_version\": 1, \"kind\": \"isolation_forest\"",
    )
    .expect("written");
    let error = AppState::build(settings.clone())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("aml.json") && error.contains("corrupt"),
        "{error}"
    );
    std::fs::remove_file(models.path().join("aml.json")).expect("removed");

    let path = models.path().join("credit.json");
    let mut artifact: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    artifact["features"][0] = json!("monthly_income");
    std::fs::write(&path, artifact.to_string()).expect("written");
    let error = AppState::build(settings)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("credit.json")
            && error.contains("trained on features [monthly_income,")
            && error.contains("retrain it with `redflag train credit`"),
        "{error}"
    );
}

#[test]
fn an_anomaly_model_from_before_a_feature_change_is_set_aside_and_relearned_not_a_stop() {
    let sandbox = Sandbox::new();
    let models = tempfile::tempdir().expect("temp dir");
    let settings = sandbox.settings(with_models_in(&models));
    assert!(AppState::build(settings.clone()).is_ok(), "the first start");

    // The market model as an earlier version wrote it once it had learned the traffic.
    let path = models.path().join("market.json");
    let mut old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    old["features"][2] = json!("price_change_24h");
    old["source"] = json!("the 20000 most recent market decisions");
    std::fs::write(&path, old.to_string()).expect("written");

    let state = AppState::build(settings).expect("the service starts");
    let aside: serde_json::Value = serde_json::from_slice(
        &std::fs::read(models.path().join("market.outdated.json")).expect("kept beside"),
    )
    .expect("JSON");
    assert_eq!(aside, old, "the old model is kept as it was");
    let new: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    assert_eq!(
        new["features"],
        json!(redflag_market::model::FEATURES),
        "a model on the current features"
    );
    assert_eq!(new["source"], "synthetic defaults", "to be relearned");
    let detectors = state.detectors();
    assert_eq!(
        detectors.versions.market.source, "synthetic defaults",
        "and it is the one in use"
    );
    assert!(
        detectors.warming_up(redflag_core::Module::Market),
        "its alert waits for a calibration"
    );
}

#[test]
fn new_credit_models_are_scorecards_and_a_teams_logistic_regression_keeps_scoring() {
    let sandbox = Sandbox::new();
    let models = tempfile::tempdir().expect("temp dir");
    let settings = sandbox.settings(with_models_in(&models));
    let state = AppState::build(settings.clone()).expect("the first start");
    assert_eq!(state.detectors().versions.credit.kind, "scorecard");

    // A logistic regression trained before the scorecard, on the team's own labels.
    let mut logistic =
        redflag_ml_core::train_logistic(&redflag_credit::model::synthetic(2_000, 9), 1.0, 9)
            .expect("trains");
    logistic.source = "credit decisions labelled by closed cases".to_owned();
    logistic
        .save(&models.path().join("credit.json"))
        .expect("written");
    let state = AppState::build(settings).expect("the service starts");
    let card = &state.detectors().versions.credit;
    assert_eq!(
        (card.kind.as_str(), card.source.as_str()),
        ("logistic", "credit decisions labelled by closed cases")
    );
}

#[actix_web::test]
async fn a_watchlist_read_at_start_up_flags_a_listed_receiver() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("watchlist.csv");
    std::fs::write(&path, "id,name,list\nR-77,Ivan Example,OFAC-SDN\n").expect("written");
    let file = path.display().to_string();
    let test_app = TestApp::spawn_with(|settings| settings.aml.watchlist_file = file.clone());
    let client = test_app.login_as_analyst().await;
    let transfer = json!({"transaction_id": "T", "user_id": "U", "amount": 120.5, "sender_id": "S", "receiver_id": "R-77"});
    let body = send(
        &client.app,
        post("/api/aml/detect/", Some(&client.token), &transfer),
    )
    .await
    .json();
    assert_eq!(body["alerts"][0]["rule"], "WatchlistRule");
    assert_eq!(body["alerts"][0]["severity"], "critical");
    assert_eq!(
        body["alerts"][0]["reason"],
        "Watchlist hit: receiver R-77 (Ivan Example) is on the OFAC-SDN list"
    );
    assert_eq!(body["flagged"], true);

    let other = Sandbox::new();
    let settings = other
        .settings(|settings| settings.aml.watchlist_file = "/nonexistent/watch.csv".to_owned());
    let error = AppState::build(settings)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.starts_with("cannot read the watchlist /nonexistent/watch.csv"),
        "{error}"
    );
}
