//! NATS JetStream in and out, against the machine's nats-server (127.0.0.1:4222, or
//! `REDFLAG_TEST_NATS_URL`): each test on a stream and subjects of its own.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream;
use futures_util::StreamExt;
use redflag_core::Module;
use redflag_gateway::stream::nats::{Nats, Source};
use redflag_gateway::stream::{Actor, Outlets, consume};
use redflag_store::Database;
use redflag_store::scratch::ScratchDatabase;
use serde_json::{Value, json};

use crate::cli::redflag;
use crate::helpers::{Sandbox, TestApp, decisions_recorded, sender_window_len};
use crate::process::Process;

fn nats_url() -> String {
    std::env::var("REDFLAG_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A stream, its subject and the consumer's outlets, named for one test.
struct Names {
    stream: String,
    subject: String,
    decisions: String,
    dead_letters: String,
}

impl Names {
    fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            stream: format!("RFTEST_{id}"),
            subject: format!("rftest.{id}.events"),
            decisions: format!("rftest.{id}.decisions"),
            dead_letters: format!("rftest.{id}.dead"),
        }
    }
}

async fn publish(client: &async_nats::Client, subject: &str, id: Option<&str>, body: Vec<u8>) {
    let context = jetstream::new(client.clone());
    let acknowledged = match id {
        Some(id) => {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, id);
            context
                .publish_with_headers(subject.to_owned(), headers, body.into())
                .await
        }
        None => context.publish(subject.to_owned(), body.into()).await,
    };
    acknowledged
        .expect("published")
        .await
        .expect("the stream took it");
}

fn transfer(id: &str, sender: &str, amount: f64, minute: usize) -> Value {
    json!({"transaction_id": id, "user_id": "U", "amount": amount, "sender_id": sender,
           "receiver_id": format!("R-{}", (amount as usize) % 89), "timestamp": format!("2026-02-09T{:02}:{:02}:00Z", 8 + minute / 60, minute % 60)})
}

#[actix_web::test]
async fn each_message_is_decided_as_over_http_and_what_cannot_be_is_dead_lettered() {
    let test_app = TestApp::spawn();
    let names = Names::new();
    let client = async_nats::connect(nats_url()).await.expect("NATS answers");
    let mut decisions = client
        .subscribe(names.decisions.clone())
        .await
        .expect("subscribes");
    let mut dead_letters = client
        .subscribe(names.dead_letters.clone())
        .await
        .expect("subscribes");
    let source = Source {
        url: nats_url(),
        stream: names.stream.clone(),
        subject: names.subject.clone(),
        durable: "redflag-aml".to_owned(),
        ack_wait: Duration::from_secs(30),
    };
    // The consumer makes the stream; the producer publishes to it afterwards.
    let mut transport = Nats::connect(&source).await.expect("the stream is made");
    for (i, amount) in [9800.0, 9900.0, 9700.0].into_iter().enumerate() {
        let body = transfer(&format!("N-{i}"), "S-NATS", amount, i);
        publish(
            &client,
            &names.subject,
            Some(&format!("m-{i}")),
            body.to_string().into_bytes(),
        )
        .await;
    }
    // The producer's resend under the same message id: JetStream drops it.
    publish(
        &client,
        &names.subject,
        Some("m-0"),
        transfer("N-0", "S-NATS", 9800.0, 0)
            .to_string()
            .into_bytes(),
    )
    .await;
    // A resend under another message id: answered from the stored decision, counted once.
    publish(
        &client,
        &names.subject,
        Some("m-0-again"),
        transfer("N-0", "S-NATS", 9800.0, 0)
            .to_string()
            .into_bytes(),
    )
    .await;
    publish(
        &client,
        &names.subject,
        Some("m-bad-json"),
        b"{not json".to_vec(),
    )
    .await;
    publish(
        &client,
        &names.subject,
        None,
        json!({"transaction_id": "N-BAD", "amount": -5})
            .to_string()
            .into_bytes(),
    )
    .await;
    publish(
        &client,
        &names.subject,
        None,
        transfer("N-1", "S-NATS", 1.0, 1).to_string().into_bytes(),
    )
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let outlets = Outlets {
        decisions: names.decisions.clone(),
        dead_letters: names.dead_letters.clone(),
        batch: 256,
    };
    let actor = Actor {
        user_id: None,
        name: "nats:test".to_owned(),
    };
    let watch = async {
        let mut answers: Vec<Value> = Vec::new();
        let mut letters: Vec<Value> = Vec::new();
        let started = Instant::now();
        while answers.len() < 4 || letters.len() < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{answers:?} {letters:?}"
            );
            tokio::select! {
                Some(message) = decisions.next() => answers.push(serde_json::from_slice(&message.payload).expect("JSON")),
                Some(message) = dead_letters.next() => letters.push(serde_json::from_slice(&message.payload).expect("JSON")),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        stop.store(true, Ordering::Relaxed);
        (answers, letters)
    };
    let ((), (answers, letters)) = tokio::join!(
        consume::<redflag_aml::AmlDetector, _>(
            &test_app.state,
            &mut transport,
            &outlets,
            &actor,
            stop.clone()
        ),
        watch
    );

    // The three transfers in the stream's order: structuring on the third, as over HTTP.
    let ids: Vec<&str> = answers
        .iter()
        .map(|a| a["transaction_id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, ["N-0", "N-1", "N-2", "N-0"]);
    assert_eq!(answers[0]["alerts"], json!([]));
    assert!(
        answers[2]["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|alert| alert["rule"] == "StructuringRule"),
        "{}",
        answers[2]
    );
    assert_eq!(
        answers[3], answers[0],
        "the resend answers the stored decision"
    );
    assert_eq!(decisions_recorded(&test_app), 3);
    let stored = test_app
        .state
        .db
        .find_decision(Module::Aml, "N-2")
        .expect("query")
        .expect("stored");
    assert_eq!(json!(stored.id.0), answers[2]["id"]);

    // Dead letters, each with its error in the DRF shape and the body it came with.
    assert_eq!(letters[0]["status"], 400);
    assert!(
        letters[0]["error"]["detail"]
            .as_str()
            .expect("a detail")
            .starts_with("JSON parse error - "),
        "{}",
        letters[0]
    );
    assert_eq!(letters[0]["payload"], "{not json");
    assert_eq!(
        letters[1]["error"]["amount"],
        json!(["Ensure this value is greater than 0."])
    );
    assert_eq!(
        letters[1]["error"]["sender_id"],
        json!(["This field is required."])
    );
    assert_eq!(letters[2]["status"], 409);
    assert_eq!(
        letters[2]["error"],
        json!({"detail": "transaction_id `N-1` was already assessed with different data."})
    );
    assert!(letters.iter().all(|letter| {
        letter["module"] == "aml"
            && letter["position"]
                .as_str()
                .is_some_and(|p| p.starts_with(&names.stream))
    }));

    // Every message was acknowledged: nothing is left for the consumer. Its lag is a metric.
    assert_eq!(transport_lag(&source).await, 0);
    let metrics = test_app.state.prometheus.render();
    let lag = format!(
        "redflag_stream_lag{{stream=\"{}\",consumer=\"redflag-aml\"}}",
        names.stream
    );
    assert!(metrics.contains(&lag), "{metrics}");
    assert!(
        metrics.contains(r#"redflag_stream_messages_total{module="aml",outcome="dead_lettered"}"#)
    );
    jetstream::new(client)
        .delete_stream(&names.stream)
        .await
        .expect("removed");
}

/// The end of a log, for a failure's message.
fn tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    text.get(start..).unwrap_or(&text).to_owned()
}

async fn transport_lag(source: &Source) -> u64 {
    use redflag_gateway::stream::Transport;
    let mut transport = Nats::connect(source).await.expect("connects");
    transport.lag().await.expect("the consumer reads")
}

#[test]
fn ten_thousand_events_through_two_consumers_one_killed_are_each_decided_once() {
    const SENDERS: usize = 1_000;
    const PER_SENDER: usize = 10;
    let sandbox = Sandbox::on(ScratchDatabase::postgres());
    let redis = std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned());
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let names = Names::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = runtime
        .block_on(async_nats::connect(nats_url()))
        .expect("NATS answers");
    let mut published: HashSet<String> = HashSet::new();
    runtime.block_on(async {
        jetstream::new(client.clone())
            .get_or_create_stream(jetstream::stream::Config {
                name: names.stream.clone(),
                subjects: vec![names.subject.clone()],
                ..Default::default()
            })
            .await
            .expect("the stream is made");
        for i in 0..SENDERS * PER_SENDER {
            let (sender, minute) = (format!("S-{}", i % SENDERS), i / SENDERS);
            let id = format!("K-{i}");
            let body = transfer(&id, &sender, 100.0 + (i % 97) as f64, minute % 600);
            publish(
                &client,
                &names.subject,
                Some(&id),
                body.to_string().into_bytes(),
            )
            .await;
            published.insert(id);
        }
    });

    let env = [
        ("REDIS_URL", redis.as_str()),
        ("REDFLAG__REDIS__KEY_PREFIX", prefix.as_str()),
        ("REDFLAG__MODELS__SYNTHETIC_ROWS", "3000"),
        ("REDFLAG__AUDIT__POLL_INTERVAL_MS", "50"),
    ];
    let (migrated, _, stderr) = redflag(&sandbox, &["migrate"], "", &env);
    assert!(migrated, "{stderr}");
    let consumer = |name: &str| {
        let log = sandbox.path().join(format!("consume-{name}.log"));
        Process(
            std::process::Command::new(env!("CARGO_BIN_EXE_redflag"))
                .args([
                    "consume",
                    "--module",
                    "aml",
                    "--stream",
                    &names.stream,
                    "--subject",
                    &names.subject,
                ])
                .args([
                    "--nats-url",
                    &nats_url(),
                    "--durable",
                    "loaders",
                    "--decisions-subject",
                    &names.decisions,
                ])
                .args(["--batch", "100", "--ack-wait-seconds", "15"])
                .current_dir(sandbox.path())
                .env("DATABASE_URL", sandbox.database.url())
                .env("REDFLAG__MODELS__DIRECTORY", format!("models-{name}"))
                .env_remove("REDFLAG_PROFILE")
                .envs(env.iter().copied())
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(&log).expect("a log file"))
                .spawn()
                .expect("the consumer starts"),
        )
    };
    let first = consumer("a");
    let _second = consumer("b");
    let db = Database::connect(sandbox.database.url(), 1).expect("the database opens");
    let count = |db: &Database| -> i64 {
        db.statistics(chrono::Utc::now(), 1)
            .expect("the statistics query runs")
            .modules
            .iter()
            .map(|module| module.total)
            .sum()
    };
    let started = Instant::now();
    while count(&db) < 2_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the consumers did not start: {}",
            std::fs::read_to_string(sandbox.path().join("consume-a.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(first); // SIGKILL, mid-stream: its unacknowledged messages go to the other after 15 s
    let started = Instant::now();
    while count(&db) < (SENDERS * PER_SENDER) as i64 {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "stuck at {}: {}",
            count(&db),
            tail(&sandbox.path().join("consume-b.log"))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let source = Source {
        url: nats_url(),
        stream: names.stream.clone(),
        subject: names.subject.clone(),
        durable: "loaders".to_owned(),
        ack_wait: Duration::from_secs(15),
    };
    let started = Instant::now();
    while runtime.block_on(transport_lag(&source)) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "messages left unacknowledged"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Exactly one decision per event, whatever was redelivered.
    assert_eq!(count(&db), (SENDERS * PER_SENDER) as i64);
    let decided: HashSet<i64> = published
        .iter()
        .map(|id| {
            db.find_decision(Module::Aml, id)
                .expect("query")
                .unwrap_or_else(|| panic!("{id} was decided"))
                .id
                .0
        })
        .collect();
    assert_eq!(decided.len(), SENDERS * PER_SENDER);

    // Redis holds each sender's transfers once each: its window counts are exact.
    let at = "2026-02-09T19:00:00Z".parse().expect("a time");
    for sender in 0..SENDERS {
        let sender = format!("S-{sender}");
        let held = sender_window_len(&redis, &prefix, &sender, at);
        assert_eq!(held, PER_SENDER, "{sender}");
    }
    runtime
        .block_on(async { jetstream::new(client).delete_stream(&names.stream).await })
        .expect("removed");
}
