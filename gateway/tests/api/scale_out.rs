//! Several gateways and a worker on one PostgreSQL and one Redis, as `docker/compose.yaml` runs
//! them: real `redflag serve` and `redflag worker` processes.

use redflag_store::scratch::ScratchDatabase;
use serde_json::{Value, json};

use crate::cli::{CLI_PASSWORD, create_user, redflag};
use crate::helpers::{Sandbox, rules_of};
use crate::process::{Process, Server, eventually};

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

#[test]
fn two_gateways_and_a_worker_share_windows_ids_statistics_and_the_audit_log() {
    // Always PostgreSQL: SQLite is one process's file.
    let sandbox = Sandbox::on(ScratchDatabase::postgres());
    let redis_url = std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned());
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let env = [
        ("REDIS_URL", redis_url.as_str()),
        ("AUDIT_QUEUE_URL", redis_url.as_str()),
        ("REDFLAG__REDIS__KEY_PREFIX", prefix.as_str()),
        // The worker below appends the audit records; the gateways only relay them.
        ("REDFLAG__AUDIT__EMBEDDED_WORKER", "false"),
        ("REDFLAG__AUDIT__POLL_INTERVAL_MS", "50"),
        ("REDFLAG__STATISTICS__CACHE_SECONDS", "0"),
    ];
    let (migrated, _, stderr) = redflag(&sandbox, &["migrate"], "", &env);
    assert!(migrated, "{stderr}");
    create_user(&sandbox, "analyst", &env);

    // Each gateway trains its own models at start-up, in a directory of its own.
    let gateway = |models: &str| {
        let mut env = env.to_vec();
        env.push(("REDFLAG__MODELS__DIRECTORY", models));
        Server::start(&sandbox, &env)
    };
    let gateways = [gateway("models-a"), gateway("models-b")];
    let worker_log = sandbox.path().join("worker.log");
    let _worker = Process(
        std::process::Command::new(env!("CARGO_BIN_EXE_redflag"))
            .arg("worker")
            .current_dir(sandbox.path())
            .env("DATABASE_URL", sandbox.database.url())
            .env_remove("REDFLAG_PROFILE")
            .env_remove("CELERY_BROKER_URL")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&worker_log).expect("a log file"))
            .spawn()
            .expect("the worker starts"),
    );
    let tokens: Vec<String> = gateways
        .iter()
        .map(|gateway| gateway.token("analyst", CLI_PASSWORD))
        .collect();

    // Three transfers just under the reporting threshold from one sender within a day, sent to
    // the gateways in turn: only windows shared in Redis can see all three.
    let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
    let mut ids = Vec::new();
    let mut replies = Vec::new();
    for (n, amount) in [9_800.0, 9_850.0, 9_900.0].into_iter().enumerate() {
        let which = n % 2;
        let body = json!({"transaction_id": format!("{sender}-T{n}"), "user_id": "U-1",
                          "amount": amount, "sender_id": sender, "receiver_id": format!("R-{n}"),
                          "timestamp": format!("2026-02-09T{:02}:00:00Z", 9 + n)});
        let (status, text) =
            gateways[which].http("POST", "/api/aml/detect/", Some(&tokens[which]), &body);
        assert_eq!(status, 201, "{text}");
        let reply = json_of(&text);
        ids.push(reply["id"].as_i64().expect("an id"));
        replies.push(reply);
    }
    assert!(
        !rules_of(&replies[1]).contains(&"StructuringRule".to_owned()),
        "two transfers are not structuring yet: {}",
        replies[1]
    );
    assert!(
        rules_of(&replies[2]).contains(&"StructuringRule".to_owned()),
        "the third, on the first gateway, sees the second one's transfer: {}",
        replies[2]
    );
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        3,
        "ids from both gateways are unique: {ids:?}"
    );

    // Either gateway answers the same statistics.
    let statistics: Vec<Value> = gateways
        .iter()
        .zip(&tokens)
        .map(|(gateway, token)| {
            let (status, text) = gateway.http("GET", "/api/statistics/", Some(token), &json!({}));
            assert_eq!(status, 200, "{text}");
            let mut statistics = json_of(&text);
            statistics["generated_at"] = Value::Null;
            statistics
        })
        .collect();
    assert_eq!(statistics[0], statistics[1]);
    assert_eq!(statistics[0]["total_detections"], 3, "{}", statistics[0]);

    // The worker appends every audit record once, whichever gateway stored it; both gateways read
    // the same progress.
    let audits = |which: usize| -> Value {
        let (status, text) =
            gateways[which].http("GET", "/api/metrics/", Some(&tokens[which]), &json!({}));
        assert_eq!(status, 200, "{text}");
        json_of(&text)["audits"].clone()
    };
    // Six records: the user created, two sign-ins, three decisions (each module's first rule
    // set, the config file's, is published unaudited).
    eventually("the worker applied every audit record", || {
        let audits = audits(0);
        audits["queued"] == 0 && audits["applied"] == 6
    });
    assert_eq!(audits(0), audits(1));
    let (intact, stdout, stderr) = redflag(&sandbox, &["audit", "verify"], "", &env);
    assert!(
        intact,
        "{stdout}{stderr}\n{}",
        std::fs::read_to_string(&worker_log).unwrap_or_default()
    );
}

#[test]
fn a_rule_set_published_on_one_gateway_decides_on_the_other_within_its_poll() {
    // Always PostgreSQL: the gateways share the rule sets through it.
    let sandbox = Sandbox::on(ScratchDatabase::postgres());
    let env = [("REDFLAG__RULES__POLL_SECONDS", "1")];
    let (migrated, _, stderr) = redflag(&sandbox, &["migrate"], "", &env);
    assert!(migrated, "{stderr}");
    create_user(&sandbox, "analyst", &env);
    let (created, _, stderr) = redflag(
        &sandbox,
        &[
            "user",
            "create",
            "--username",
            "boss",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{CLI_PASSWORD}\n"),
        &env,
    );
    assert!(created, "{stderr}");
    let gateway = |models: &str| {
        let mut env = env.to_vec();
        env.push(("REDFLAG__MODELS__DIRECTORY", models));
        Server::start(&sandbox, &env)
    };
    let (writer, other) = (gateway("models-a"), gateway("models-b"));
    let analyst = writer.token("analyst", CLI_PASSWORD);
    let boss = writer.token("boss", CLI_PASSWORD);
    let draft = json!({"rules": [{"name": "Big", "when": "event.amount >= 50000.0",
                                  "severity": "high", "confidence": 0.8,
                                  "reason": "{{event.amount}} at once"}]});
    let (status, text) = writer.http("POST", "/api/rules/aml/drafts/", Some(&analyst), &draft);
    assert_eq!(status, 201, "{text}");
    let id = json_of(&text)["id"].clone();

    // Shadowed first: the other gateway, which nobody told, decides beside its live decisions
    // with the draft once it has looked, and the writer reports what it stored.
    let shadow = format!("/api/rules/aml/drafts/{id}/shadow/");
    let (status, text) = writer.http("POST", &shadow, Some(&analyst), &json!({"action": "start"}));
    assert_eq!(status, 201, "{text}");
    let token = other.token("analyst", CLI_PASSWORD);
    let mut n = 0;
    eventually("the other gateway shadows the draft", || {
        n += 1;
        let body = json!({"transaction_id": format!("SHADOWED-{n}"), "user_id": "U",
                          "amount": 70_000.0, "sender_id": format!("S-{n}"), "receiver_id": "R",
                          "timestamp": "2026-03-04T09:00:00Z"});
        let (status, text) = other.http("POST", "/api/aml/detect/", Some(&token), &body);
        assert_eq!(status, 201, "{text}");
        assert!(
            !rules_of(&json_of(&text)).contains(&"Big".to_owned()),
            "never answered"
        );
        let (status, text) = writer.http("GET", &shadow, Some(&analyst), &json!({}));
        assert_eq!(status, 200, "{text}");
        let report = json_of(&text)["report"].clone();
        let shadowed = report["events"].as_u64().unwrap_or_default();
        if shadowed == 0 {
            std::thread::sleep(std::time::Duration::from_millis(200));
            return false;
        }
        let big = report["alerts"]
            .as_array()
            .and_then(|rows| rows.iter().find(|row| row["rule"] == "Big"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            big,
            json!({"rule": "Big", "before": 0, "after": shadowed}),
            "{report}"
        );
        true
    });

    let (status, text) = writer.http(
        "POST",
        &format!("/api/rules/aml/drafts/{id}/publish/"),
        Some(&boss),
        &json!({}),
    );
    assert_eq!(status, 200, "{text}");

    // The other gateway decides with version 2 once it has looked.
    eventually("the other gateway applies version 2", || {
        n += 1;
        let body = json!({"transaction_id": format!("BIG-{n}"), "user_id": "U", "amount": 60_000.0,
                          "sender_id": format!("S-{n}"), "receiver_id": "R",
                          "timestamp": "2026-03-04T10:00:00Z"});
        let (status, text) = other.http("POST", "/api/aml/detect/", Some(&token), &body);
        assert_eq!(status, 201, "{text}");
        let reply = json_of(&text);
        let applied = reply["ruleset_version"] == 2;
        assert_eq!(
            applied,
            rules_of(&reply).contains(&"Big".to_owned()),
            "the version named is the one that decided: {reply}"
        );
        if !applied {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        applied
    });
}
