//! A fresh service per test: its own database (a SQLite file, or a PostgreSQL database when
//! `REDFLAG_TEST_DATABASE=postgres`), in-process windows (or Redis under a unique key prefix), the
//! real routes and middleware.

use std::ffi::OsString;
use std::path::Path;
use std::sync::OnceLock;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::web;
use redflag_gateway::build_app;
use redflag_gateway::state::AppState;
use redflag_service::settings::{ModelSettings, Settings, Sources};
use redflag_service::users::{Role, hash_password};
use redflag_store::scratch::ScratchDatabase;
use serde_json::Value;

pub const PASSWORD: &str = "correct-horse-battery-staple";

/// What one test owns: a temporary directory (models, logs, files) and a scratch database.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub database: ScratchDatabase,
}

impl Sandbox {
    /// On the backend the run is testing.
    pub fn new() -> Self {
        Self::on(ScratchDatabase::from_env())
    }

    pub fn on(database: ScratchDatabase) -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            database,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Settings of the `test` profile on this sandbox; `adjust` changes them further.
    pub fn settings(&self, adjust: impl FnOnce(&mut Settings)) -> Settings {
        let sources = Sources {
            profile: Some("test".to_owned()),
            config_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../config").into(),
            env: Default::default(),
        };
        let mut settings = Settings::load(&sources).expect("the test profile loads");
        settings.database.url = self.database.url().to_owned();
        settings.models.directory = self.path().join("ml_models").display().to_string();
        adjust(&mut settings);
        settings
    }
}

pub struct TestApp {
    pub state: web::Data<AppState>,
    pub sandbox: Sandbox,
}

impl TestApp {
    pub fn spawn() -> Self {
        Self::spawn_with(|_| {})
    }

    pub fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_in(Sandbox::new(), adjust)
    }

    /// On a sandbox of the caller's choosing (a PostgreSQL database whatever the run tests).
    pub fn spawn_in(sandbox: Sandbox, adjust: impl FnOnce(&mut Settings)) -> Self {
        let settings = sandbox.settings(adjust);
        install_default_models(&settings.models);
        let state = web::Data::new(AppState::build(settings).expect("the service starts"));
        Self { state, sandbox }
    }

    /// The service as actix runs it.
    pub async fn service(
        &self,
    ) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>
    {
        test::init_service(build_app(self.state.clone())).await
    }

    /// What the serving process's embedded worker does in its own time (none runs in a TestApp):
    /// applies the audit outbox, returning how many records it applied. On SQLite there is
    /// nothing to apply, as the embedded writer appends each entry in its decision's transaction;
    /// on PostgreSQL, where gateways share the log, records go through the outbox.
    pub fn embedded_worker_pass(&self) -> usize {
        redflag_service::worker::drain(&self.state.db, &self.state.settings.audit)
            .expect("the outbox applies")
    }

    /// The service, signed in through the API as the analyst `analyst` (made here).
    pub async fn login_as_analyst(
        &self,
    ) -> Client<
        impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
    > {
        self.client("analyst", Role::Analyst).await
    }

    /// The service, signed in through the API as the admin `admin` (made here).
    pub async fn login_as_admin(
        &self,
    ) -> Client<
        impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
    > {
        self.client("admin", Role::Admin).await
    }

    /// The service, signed in through the API as `username` of `role` (made here).
    pub async fn client(
        &self,
        username: &str,
        role: Role,
    ) -> Client<
        impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
    > {
        let app = self.service().await;
        let (token, _) = login_as(&app, self, username, role).await;
        Client { app, token }
    }

    /// Creates an analyst directly in the database.
    pub fn create_user(&self, username: &str) {
        self.create_user_with_role(username, Role::Analyst);
    }

    pub fn create_user_with_role(&self, username: &str, role: Role) {
        let hash = hash_password(PASSWORD).expect("hashable");
        self.state
            .db
            .create_user(username, &hash, role.as_str())
            .expect("user created");
    }
}

/// A service and the access token of a signed-in user: the calls tests make, typed.
pub struct Client<S> {
    pub app: S,
    pub token: String,
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// POST /api/aml/detect/.
    pub async fn detect_aml(&self, transfer: &Value) -> Reply {
        self.post("/api/aml/detect/", transfer).await
    }

    /// POST /api/credit/assess/.
    pub async fn assess_credit(&self, application: &Value) -> Reply {
        self.post("/api/credit/assess/", application).await
    }

    /// POST /api/insurance/detect/.
    pub async fn detect_insurance(&self, claim: &Value) -> Reply {
        self.post("/api/insurance/detect/", claim).await
    }

    /// POST /api/market/detect/.
    pub async fn detect_market(&self, event: &Value) -> Reply {
        self.post("/api/market/detect/", event).await
    }

    /// A JSON POST with this user's token.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        send(&self.app, post(path, Some(&self.token), body)).await
    }

    /// A GET with this user's token.
    pub async fn get(&self, path: &str) -> Reply {
        send(&self.app, get(path, Some(&self.token))).await
    }

    /// A JSON request of another method (PATCH, PUT) with this user's token.
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        let request = TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string());
        send(&self.app, with_token(request, Some(&self.token))).await
    }

    /// A POST of a raw body of `content_type` (a CSV file) with this user's token.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request = TestRequest::post()
            .uri(path)
            .insert_header(("Content-Type", content_type))
            .set_payload(body);
        send(&self.app, with_token(request, Some(&self.token))).await
    }

    /// A DELETE with this user's token.
    pub async fn delete(&self, path: &str) -> Reply {
        let request = TestRequest::delete().uri(path);
        send(&self.app, with_token(request, Some(&self.token))).await
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

pub async fn send<S, B>(app: &S, request: TestRequest) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A JSON POST with an optional bearer token.
pub fn post(path: &str, token: Option<&str>, body: &Value) -> TestRequest {
    let request = TestRequest::post()
        .uri(path)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string());
    with_token(request, token)
}

pub fn get(path: &str, token: Option<&str>) -> TestRequest {
    with_token(TestRequest::get().uri(path), token)
}

fn with_token(request: TestRequest, token: Option<&str>) -> TestRequest {
    match token {
        Some(token) => request.insert_header(("Authorization", format!("Bearer {token}"))),
        None => request,
    }
}

/// Creates the analyst `username` and returns its (access, refresh) tokens, obtained through the
/// API.
pub async fn login<S, B>(app: &S, test_app: &TestApp, username: &str) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    login_as(app, test_app, username, Role::Analyst).await
}

/// [`login`] for a user of `role`.
pub async fn login_as<S, B>(
    app: &S,
    test_app: &TestApp,
    username: &str,
    role: Role,
) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    test_app.create_user_with_role(username, role);
    let reply = send(
        app,
        post(
            "/api/token/",
            None,
            &serde_json::json!({"username": username, "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    (
        body["access"].as_str().expect("access token").to_owned(),
        body["refresh"].as_str().expect("refresh token").to_owned(),
    )
}

/// The JSON type of every key, to compare shapes exactly: {"id": "integer", ...}.
pub fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Value::from("integer"),
        Value::Number(_) => Value::from("float"),
        Value::String(_) => Value::from("string"),
        Value::Bool(_) => Value::from("boolean"),
        Value::Null => Value::from("null"),
    }
}

/// Asserts the contract's timestamp format: RFC 3339 UTC with milliseconds and `Z`.
pub fn assert_timestamp(value: &Value) {
    let text = value.as_str().expect("timestamp is a string");
    assert_eq!(text.len(), 24, "{text}");
    assert!(text.ends_with('Z'), "{text}");
    assert_eq!(&text[19..20], ".", "{text}");
    chrono::DateTime::parse_from_rfc3339(text).expect("valid RFC 3339");
}

/// How many decisions the service has recorded: what "nothing was recorded" checks.
pub fn decisions_recorded(test_app: &TestApp) -> i64 {
    test_app
        .state
        .db
        .statistics(chrono::Utc::now(), 1)
        .expect("the statistics query runs")
        .modules
        .iter()
        .map(|module| module.total)
        .sum()
}

/// The rules of a response's alerts, in order.
pub fn rules_of(body: &Value) -> Vec<String> {
    body["alerts"]
        .as_array()
        .map(|alerts| {
            alerts
                .iter()
                .filter_map(|alert| alert["rule"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Three transfers just under the reporting threshold from `SMURF` within three minutes, with
/// ids `<prefix>0..2`: structuring on the third. Their answers, in order.
pub async fn structuring_run<S, B>(app: &S, token: &str, prefix: &str) -> Vec<Value>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    structuring_run_by(app, token, prefix, "SMURF").await
}

/// [`structuring_run`] from `sender`: a sender of its own makes one flagged decision per run.
pub async fn structuring_run_by<S, B>(
    app: &S,
    token: &str,
    prefix: &str,
    sender: &str,
) -> Vec<Value>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut answers = Vec::new();
    for (i, amount) in [9800.0, 9900.0, 9700.0].into_iter().enumerate() {
        let transfer = serde_json::json!({
            "transaction_id": format!("{prefix}{i}"), "user_id": "U", "amount": amount,
            "sender_id": sender, "receiver_id": "BANK",
            "timestamp": format!("2026-02-09T09:0{i}:00Z")});
        let reply = send(app, post("/api/aml/detect/", Some(token), &transfer)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        answers.push(reply.json());
    }
    answers
}

/// An unremarkable transfer `TXN-<i>` of `amount` among a few senders and receivers.
pub fn transfer(i: usize, amount: f64) -> Value {
    serde_json::json!({"transaction_id": format!("TXN-{i}"), "user_id": "U-1", "amount": amount,
                       "sender_id": format!("S-{}", i % 7), "receiver_id": format!("R-{}", i % 5)})
}

/// `count` unremarkable transfers ([`transfer`] `0..count`, 100 to 1,000); their decisions' ids.
pub async fn ordinary_transfers<S, B>(app: &S, token: &str, count: usize) -> Vec<i64>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let amount = 100.0 + (i as f64 * 37.0) % 900.0;
        let reply = send(
            app,
            post("/api/aml/detect/", Some(token), &transfer(i, amount)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        ids.push(reply.json()["id"].as_i64().expect("an id"));
    }
    ids
}

/// A model artifact's file name and contents.
type ArtifactFile = (OsString, Vec<u8>);

/// Puts the default models into an app's empty model directory, trained once per test process
/// instead of once per test: `AppState::build` then loads them rather than training four models
/// again. They are what it would have trained: the synthetic defaults depend only on the rows
/// and the seed (and this build's code). Per process, because an artifact carries the time it
/// was trained: the clock run's processes, at other hours, train their own. A test that brings
/// its own artifacts, or other rows or seed, is left to train.
fn install_default_models(models: &ModelSettings) {
    static TRAINED: OnceLock<((usize, u64), Vec<ArtifactFile>)> = OnceLock::new();
    let directory = Path::new(&models.directory);
    if directory.exists() {
        return;
    }
    let key = (models.synthetic_rows, models.seed);
    let (trained_for, artifacts) = TRAINED.get_or_init(|| (key, train_defaults(models)));
    if *trained_for != key {
        return;
    }
    std::fs::create_dir_all(directory).expect("the model directory is created");
    for (name, bytes) in artifacts {
        std::fs::write(directory.join(name), bytes).expect("a trained model is written");
    }
}

/// The default models' artifact files, trained in a directory of their own and read back.
fn train_defaults(models: &ModelSettings) -> Vec<ArtifactFile> {
    let trained = tempfile::tempdir().expect("a temporary directory");
    let settings = ModelSettings {
        directory: trained.path().display().to_string(),
        ..models.clone()
    };
    redflag_service::models::load_or_train(&settings).expect("the default models train");
    std::fs::read_dir(trained.path())
        .expect("the trained models are listed")
        .map(|entry| {
            let path = entry.expect("a trained model").path();
            let name = path.file_name().map(OsString::from).unwrap_or_default();
            (name, std::fs::read(&path).expect("a trained model is read"))
        })
        .collect()
}

/// How many transfers a sender's AML window in Redis (`prefix`) holds before `at`, read without
/// adding to it: what tests check the windows' exact counts with.
pub fn sender_window_len(
    redis: &str,
    prefix: &str,
    sender: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> usize {
    use redflag_core::{Activity, EntityKind, Module, Observation, WindowKey, WindowMode};
    use redflag_store::ActivityWindows;
    let windows = redflag_store::RedisWindows::connect(redis, prefix, 100_000).expect("Redis");
    let probe = Observation {
        key: WindowKey::new(Module::Aml, EntityKind::Sender, sender),
        activity: Activity::new(at, "probe", 0.0, 0.0, ""),
        horizon: chrono::Duration::days(2),
        mode: WindowMode::ReadOnly,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let history = runtime
        .block_on(windows.observe(std::slice::from_ref(&probe)))
        .expect("the window reads");
    history.get(&probe.key).len()
}
