//! The server's life under load: SIGTERM drains it cleanly, SIGKILL loses nothing acknowledged.
//! Real `redflag serve` processes, loaded by two client threads until the signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redflag_store::{ChainReport, Database, DecisionId, RedisAuditQueue};
use serde_json::{Value, json};

use crate::cli::{CLI_PASSWORD, create_user, redflag};
use crate::helpers::{Sandbox, rules_of, sender_window_len};
use crate::process::{Server, eventually, http_to};

fn redis_url() -> String {
    std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

/// A transfer the load sends, and what became of it.
struct Sent {
    body: Value,
    outcome: std::io::Result<(u16, String)>,
}

impl Sent {
    /// The decision's id and response, when the server acknowledged it.
    fn acknowledged(&self) -> Option<(i64, Value)> {
        match &self.outcome {
            Ok((201, text)) => {
                let response: Value = serde_json::from_str(text).expect("a JSON answer");
                Some((response["id"].as_i64().expect("an id"), response))
            }
            _ => None,
        }
    }
}

/// Two client threads sending transfers from `sender` (each its own transaction id) until
/// `stop`; their requests, in the order each thread sent them.
fn load(
    port: u16,
    token: &str,
    sender: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Sent>>> {
    (0..2)
        .map(|thread| {
            let (token, sender, stop) = (token.to_owned(), sender.to_owned(), Arc::clone(stop));
            std::thread::spawn(move || {
                let mut sent = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) || i == 5_000 {
                        break;
                    }
                    let body = json!({"transaction_id": format!("{sender}-{thread}-{i}"),
                                      "user_id": "U", "amount": 9_500 + i % 400,
                                      "sender_id": sender, "receiver_id": format!("R-{}", i % 7)});
                    let outcome = http_to(port, "POST", "/api/aml/detect/", Some(&token), &body);
                    sent.push(Sent { body, outcome });
                }
                sent
            })
        })
        .collect()
}

/// Each acknowledged decision is in the database with the alerts its answer listed.
fn assert_stored_with_alerts(db: &Database, acknowledged: &[(i64, Value)]) {
    for (id, response) in acknowledged {
        let stored: Vec<String> = db
            .alert_rules(DecisionId(*id))
            .expect("readable")
            .into_iter()
            .map(|(rule, _)| rule)
            .collect();
        assert_eq!(stored, rules_of(response), "decision {id}");
    }
}

fn start_loaded_server(sandbox: &Sandbox, env: &[(&str, &str)]) -> (Server, String) {
    create_user(sandbox, "loader", env);
    let server = Server::start(sandbox, env);
    let token = server.token("loader", CLI_PASSWORD);
    (server, token)
}

#[test]
fn sigterm_lets_requests_in_flight_finish_flushes_the_audit_relay_and_exits_zero() {
    let sandbox = Sandbox::new();
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let redis = redis_url();
    let env = [
        ("REDFLAG__SERVER__SHUTDOWN_GRACE_SECONDS", "10"),
        // Audit records go through the queue; the embedded worker relays once at start, then
        // waits ten minutes on the stream: every record of the run is left for the shutdown's
        // flush to relay.
        ("AUDIT_QUEUE_URL", redis.as_str()),
        ("REDFLAG__REDIS__KEY_PREFIX", prefix.as_str()),
        ("REDFLAG__AUDIT__POLL_INTERVAL_MS", "600000"),
    ];
    let (mut server, token) = start_loaded_server(&sandbox, &env);
    let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(server.port, &token, &sender, &stop);
    std::thread::sleep(Duration::from_millis(1500));
    let status = server
        .process
        .terminate(Duration::from_secs(20))
        .expect("the server exits within its grace period");
    stop.store(true, Ordering::Relaxed);
    assert!(status.success(), "exit status {status}");
    let sent: Vec<Sent> = clients
        .into_iter()
        .flat_map(|client| client.join().expect("the client finished"))
        .collect();

    // Every answer was a decision; the requests after the stop found no listener.
    for request in &sent {
        if let Ok((status, text)) = &request.outcome {
            assert_eq!(*status, 201, "{text}");
        }
    }
    let acknowledged: Vec<(i64, Value)> = sent.iter().filter_map(Sent::acknowledged).collect();
    assert!(
        acknowledged.len() >= 10,
        "the load ran: {}",
        acknowledged.len()
    );
    let db = Database::connect(sandbox.database.url(), 1).expect("the database opens");
    assert_stored_with_alerts(&db, &acknowledged);
    assert!(
        db.audits_to_relay(100_000).expect("readable").is_empty(),
        "the shutdown relayed every record to the queue"
    );
    let inspector = RedisAuditQueue::connect(&redis, &prefix, "inspector").expect("Redis answers");
    let (pending, _) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(inspector.counts())
        .expect("counts");
    assert_eq!(
        pending, 0,
        "the stopped server applied what its worker had been handed"
    );
    let (ok, stdout, stderr) = redflag(&sandbox, &["worker", "--once"], "", &env);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("applied "), "{stdout}");
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact {
            entries: acknowledged.len() as i64 + 2
        },
        "each decision, the user's creation and the sign-in, nothing unacknowledged"
    );
    let log = std::fs::read_to_string(&server.log).expect("the log");
    assert!(log.contains("audit relay flushed"), "{log}");
}

#[test]
fn a_server_killed_mid_load_keeps_every_acknowledged_decision_and_counts_nothing_twice() {
    let sandbox = Sandbox::new();
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let redis = redis_url();
    let env = [
        ("REDIS_URL", redis.as_str()),
        ("REDFLAG__REDIS__KEY_PREFIX", prefix.as_str()),
        ("REDFLAG__AUDIT__POLL_INTERVAL_MS", "50"),
    ];
    let (server, token) = start_loaded_server(&sandbox, &env);
    let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(server.port, &token, &sender, &stop);
    std::thread::sleep(Duration::from_millis(2000));
    drop(server); // SIGKILL, mid-request
    stop.store(true, Ordering::Relaxed);
    let sent: Vec<Sent> = clients
        .into_iter()
        .flat_map(|client| client.join().expect("the client finished"))
        .collect();
    let acknowledged: Vec<(i64, Value)> = sent.iter().filter_map(Sent::acknowledged).collect();
    assert!(
        acknowledged.len() >= 10,
        "the load ran: {}",
        acknowledged.len()
    );

    // Restarted on the same database and Redis: each acknowledged decision is there, with its
    // alerts, and reaches the audit log.
    let server = Server::start(&sandbox, &env);
    let token = server.token("loader", CLI_PASSWORD);
    let db = Database::connect(sandbox.database.url(), 1).expect("the database opens");
    assert_stored_with_alerts(&db, &acknowledged);
    for (id, _) in &acknowledged {
        assert_eq!(
            db.outbox_payloads(DecisionId(*id)).expect("readable").len(),
            1
        );
    }

    // The client retries everything it sent: what was acknowledged answers its stored decision;
    // what was cut off is recorded now (or was, just before the kill).
    for request in &sent {
        let (status, text) = server.http("POST", "/api/aml/detect/", Some(&token), &request.body);
        let answer: Value = serde_json::from_str(&text).expect("JSON");
        match request.acknowledged() {
            Some((id, _)) => {
                assert_eq!(status, 200, "{text}");
                assert_eq!(answer["id"], json!(id));
            }
            None => assert!(status == 200 || status == 201, "{status}: {text}"),
        }
    }
    let audited = |server: &Server| {
        let (status, text) = server.http(
            "GET",
            &format!("/api/audit/?entity_id={sender}&page_size=1"),
            Some(&token),
            &json!({}),
        );
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<Value>(&text).expect("JSON")["count"].clone()
    };
    eventually("every decision's audit entry", || {
        audited(&server) == json!(sent.len())
    });
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact {
            entries: sent.len() as i64 + 3
        },
        "one entry per transaction, the user's creation and two sign-ins"
    );

    // Redis kept the sender's window across the kill, and holds each transaction once, however
    // often it was sent.
    let held = sender_window_len(
        &redis,
        &prefix,
        &sender,
        chrono::Utc::now() + chrono::Duration::minutes(1),
    );
    assert_eq!(held, sent.len());
}
