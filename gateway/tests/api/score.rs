//! `redflag score`: files of events decided offline, as README tells an operator to run it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use redflag_core::Module;
use redflag_store::Database;
use serde_json::{Value, json};

use crate::cli::redflag;
use crate::helpers::Sandbox;
use crate::process::Process;

/// The anomaly alerts stay warming up and the peer groups unlearned, so that two runs over the
/// same file decide alike whatever the background tasks do meanwhile.
const STEADY: [(&str, &str); 4] = [
    ("REDFLAG__MODELS__SYNTHETIC_ROWS", "3000"),
    ("REDFLAG__TASKS__CALIBRATE_ANOMALY_SECONDS", "0"),
    ("REDFLAG__TASKS__PEER_GROUPS_SECONDS", "0"),
    ("REDFLAG__AUDIT__POLL_INTERVAL_MS", "50"),
];

fn transfer(id: &str, sender: &str, receiver: &str, amount: f64, at: &str) -> Value {
    json!({"user_id": "U-SCORE", "transaction_id": id, "sender_id": sender,
           "receiver_id": receiver, "amount": amount, "timestamp": at})
}

fn write(sandbox: &Sandbox, name: &str, text: &str) -> String {
    std::fs::write(sandbox.path().join(name), text).expect("the input is written");
    name.to_owned()
}

/// The output's NDJSON records, by input line.
fn records(sandbox: &Sandbox, name: &str) -> BTreeMap<u64, Value> {
    let text = std::fs::read_to_string(sandbox.path().join(name)).expect("the output reads");
    let mut by_line = BTreeMap::new();
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).expect("each record is JSON");
        let number = record["line"].as_u64().expect("a line number");
        assert!(
            by_line.insert(number, record).is_none(),
            "line {number} answered twice"
        );
    }
    by_line
}

fn summary(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

#[test]
fn a_file_is_decided_in_event_time_order_with_one_record_per_line() {
    let sandbox = Sandbox::new();
    // Three transfers just under the reporting threshold, in the file out of time order: the
    // one that completes the pattern in time (08:00, 10:00, then 12:00) is the first line.
    let lines = [
        transfer("SC-3", "S-SCORE", "R-1", 9500.0, "2026-03-01T12:00:00Z").to_string(),
        transfer("SC-1", "S-SCORE", "R-2", 9400.0, "2026-03-01T08:00:00Z").to_string(),
        transfer("SC-2", "S-SCORE", "R-3", 9600.0, "2026-03-01T10:00:00Z").to_string(),
        transfer("SC-4", "S-OTHER", "R-4", 120.0, "2026-03-01T09:00:00Z").to_string(),
        "{not json".to_owned(),
        json!({"user_id": "U-SCORE", "transaction_id": "SC-5", "sender_id": "S-5",
               "amount": "lots"})
        .to_string(),
        String::new(),
        // The same transfer again, as a file exported twice over may hold it.
        transfer("SC-1", "S-SCORE", "R-2", 9400.0, "2026-03-01T08:00:00Z").to_string(),
    ];
    let input = write(&sandbox, "transfers.ndjson", &(lines.join("\n") + "\n"));
    let (ok, stdout, stderr) = redflag(
        &sandbox,
        &[
            "score",
            "--module",
            "aml",
            "--input",
            &input,
            "--output",
            "out.ndjson",
            "--json",
        ],
        "",
        &STEADY,
    );
    assert!(ok, "{stderr}");
    let summary = summary(&stdout);
    assert_eq!(summary["events"], 7, "{summary}");
    assert_eq!(summary["decided"], 4);
    assert_eq!(summary["already_stored"], 1);
    assert_eq!(summary["flagged"], 1);
    assert_eq!(summary["alerts"]["StructuringRule"], 1);
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["stopped"], Value::Null);
    assert_eq!(
        summary["errors"],
        json!([
            {"line": 5, "status": 400,
             "error": {"detail": "JSON parse error - key must be a string at line 1 column 2"}},
            {"line": 6, "status": 400,
             "error": {"amount": ["A valid number is required."],
                       "receiver_id": ["This field is required."]}},
        ])
    );

    let records = records(&sandbox, "out.ndjson");
    assert_eq!(
        records.keys().copied().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 8]
    );
    let rules = |line: u64| records[&line]["rules"].clone();
    assert_eq!(rules(1), json!(["StructuringRule"]));
    for line in [2, 3, 4, 8] {
        assert_eq!(rules(line), json!([]), "line {line}: {}", records[&line]);
    }
    // The answers are the HTTP path's, and what is stored.
    let db = Database::connect(sandbox.database.url(), 1).expect("the database opens");
    let stored = db
        .find_decision(Module::Aml, "SC-3")
        .expect("query")
        .expect("SC-3 is stored");
    let answer = &records[&1]["answer"];
    assert_eq!(answer["id"], stored.id.0);
    assert_eq!(answer["transaction_id"], "SC-3");
    assert_eq!(answer["flagged"], true);
    assert_eq!(answer["alerts"][0]["rule"], "StructuringRule");
    assert_eq!(records[&1]["status"], 201);
    assert_eq!(records[&1]["flagged"], true);
    // The transfer sent twice is one decision, answered twice.
    assert_eq!(records[&2]["status"], 201);
    assert_eq!(records[&8]["status"], 200);
    assert_eq!(records[&8]["answer"], records[&2]["answer"]);
    assert_eq!(records[&5]["status"], 400);
    // Each decision audited once, before the command ended.
    let (audited, _) = db
        .audit_history(Some("aml"), "S-SCORE", 0, 10)
        .expect("the audit log reads");
    assert_eq!(audited, 3);
}

#[test]
fn csv_in_and_out_fills_a_left_out_business_id_and_a_second_run_counts_nothing_twice() {
    let sandbox = Sandbox::new();
    let input = write(
        &sandbox,
        "trades.csv",
        "symbol,price,volume,trader_id,trade_id,timestamp\n\
         SCOR,10.5,1000,TR-1,TD-1,2026-03-02T10:00:00Z\n\
         SCOR,10.6,1200,TR-1,,2026-03-02T10:05:00Z\n\
         SCOR,abc,1200,TR-1,TD-3,2026-03-02T10:06:00Z\n\
         SCOR,10.7\n",
    );
    let run = |output: &str, extra: &[&str]| {
        let mut args = vec![
            "score", "--module", "market", "--input", &input, "--output", output, "--json",
        ];
        args.extend_from_slice(extra);
        let (ok, stdout, stderr) = redflag(&sandbox, &args, "", &STEADY);
        assert!(ok, "{stderr}");
        summary(&stdout)
    };
    let first = run("scored.csv", &[]);
    assert_eq!(first["events"], 4, "{first}");
    assert_eq!(first["decided"], 2);
    assert_eq!(first["errors"][0]["line"], 4);
    assert_eq!(
        first["errors"][0]["error"],
        json!({"price": ["A valid number is required."]})
    );
    assert_eq!(first["errors"][1]["line"], 5);
    assert_eq!(
        first["errors"][1]["error"],
        json!({"non_field_errors": ["The row has 2 fields; the header has 6."]})
    );
    let text = std::fs::read_to_string(sandbox.path().join("scored.csv")).expect("output");
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("line,status,id,risk_score,flagged,rules,error")
    );
    let rows: Vec<&str> = rows.collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(
        rows.contains(
            &r#"5,400,,,,,"{""non_field_errors"":[""The row has 2 fields; the header has 6.""]}""#
        ),
        "{text}"
    );
    // The trade without an id took the file's name and its line: a second run knows it again.
    let db = Database::connect(sandbox.database.url(), 1).expect("the database opens");
    assert!(
        db.find_decision(Module::Market, "trades.csv:3")
            .expect("query")
            .is_some()
    );

    // Resuming a finished run scores nothing; scoring the file again answers the stored
    // decisions.
    let resumed = run("scored.csv", &["--resume"]);
    assert_eq!(resumed["from_earlier_run"], 4, "{resumed}");
    assert_eq!(resumed["events"], 4);
    assert_eq!(resumed["decided"], 2);
    let again = run("again.ndjson", &[]);
    assert_eq!(again["decided"], 0, "{again}");
    assert_eq!(again["already_stored"], 2);
    let (count, _) = db
        .audit_history(Some("market"), "SCOR", 0, 10)
        .expect("the audit log reads");
    assert_eq!(count, 2, "each trade audited once");
}

#[test]
fn a_run_killed_mid_file_resumes_to_what_one_run_decides() {
    const EVENTS: usize = 3_000;
    const SENDERS: usize = 60;
    let mut text = String::new();
    for i in 0..EVENTS {
        let sender = i % SENDERS;
        let minute = i / SENDERS * 7;
        // A fifth of the senders send just under the reporting threshold: structuring.
        let amount = if sender.is_multiple_of(5) {
            9_000.0 + ((i * 37) % 990) as f64
        } else {
            100.0 + (i % 97) as f64
        };
        let at = format!(
            "2026-03-{:02}T{:02}:{:02}:00Z",
            1 + minute / 1440,
            minute / 60 % 24,
            minute % 60
        );
        let id = format!("KR-{i}");
        let body = transfer(
            &id,
            &format!("S-KR-{sender}"),
            &format!("R-{}", i % 41),
            amount,
            &at,
        );
        text.push_str(&body.to_string());
        text.push('\n');
    }
    // Both sandboxes score with one model, trained once.
    let models = tempfile::tempdir().expect("a models directory");
    let models = models.path().to_string_lossy().into_owned();
    let mut env = STEADY.to_vec();
    env.push(("REDFLAG__MODELS__DIRECTORY", models.as_str()));
    let args = |output: &'static str| {
        [
            "score",
            "--module",
            "aml",
            "--input",
            "transfers.ndjson",
            "--output",
            output,
            "--batch",
            "50",
            "--json",
        ]
    };

    let whole = Sandbox::new();
    write(&whole, "transfers.ndjson", &text);
    let (ok, stdout, stderr) = redflag(&whole, &args("out.ndjson"), "", &env);
    assert!(ok, "{stderr}");
    let one_run = summary(&stdout);
    assert!(
        one_run["alerts"]["StructuringRule"].as_u64() > Some(100),
        "{one_run}"
    );

    let cut = Sandbox::new();
    write(&cut, "transfers.ndjson", &text);
    let output = cut.path().join("out.ndjson");
    let mut killed = Process(
        std::process::Command::new(env!("CARGO_BIN_EXE_redflag"))
            .args(args("out.ndjson"))
            .current_dir(cut.path())
            .env("DATABASE_URL", cut.database.url())
            .env_remove("REDFLAG_PROFILE")
            .env_remove("REDIS_URL")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the scoring starts"),
    );
    let started = Instant::now();
    loop {
        let written = std::fs::read_to_string(&output)
            .map(|text| text.lines().count())
            .unwrap_or(0);
        if written >= 300 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the scoring did not get going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.0.kill().expect("SIGKILL");
    let _ = killed.0.wait();
    let written = std::fs::read_to_string(&output)
        .expect("output")
        .lines()
        .count();
    assert!(written < EVENTS, "the run ended before it was killed");

    let (ok, stdout, stderr) = redflag(
        &cut,
        &[&args("out.ndjson")[..], &["--resume"]].concat(),
        "",
        &env,
    );
    assert!(ok, "{stderr}");
    let resumed = summary(&stdout);
    assert_eq!(resumed["events"], EVENTS, "{resumed}");
    assert!(resumed["from_earlier_run"].as_u64() >= Some(300));
    assert_eq!(
        resumed["decided"].as_u64().unwrap_or(0) + resumed["already_stored"].as_u64().unwrap_or(0),
        EVENTS as u64
    );
    assert_eq!(resumed["errors"], json!([]));
    assert_eq!(resumed["flagged"], one_run["flagged"]);
    assert_eq!(resumed["alerts"], one_run["alerts"]);

    // Line by line, the same outcome as one uninterrupted run, and one decision per event.
    let outcome = |records: BTreeMap<u64, Value>| -> HashMap<u64, (Value, Value)> {
        records
            .into_iter()
            .map(|(line, record)| (line, (record["flagged"].clone(), record["rules"].clone())))
            .collect()
    };
    let (whole_records, cut_records) = (
        outcome(records(&whole, "out.ndjson")),
        outcome(records(&cut, "out.ndjson")),
    );
    assert_eq!(cut_records.len(), EVENTS);
    assert!(
        whole_records == cut_records,
        "the resumed run decided otherwise"
    );
    let db = Database::connect(cut.database.url(), 1).expect("the database opens");
    let total: i64 = db
        .statistics(chrono::Utc::now(), 1)
        .expect("statistics")
        .modules
        .iter()
        .map(|module| module.total)
        .sum();
    assert_eq!(total, EVENTS as i64);
}

#[test]
fn a_run_refuses_to_overwrite_an_output_and_names_what_it_cannot_read() {
    let sandbox = Sandbox::new();
    let input = write(
        &sandbox,
        "one.ndjson",
        &(transfer("SR-1", "S-SR", "R-1", 10.0, "2026-03-01T08:00:00Z").to_string() + "\n"),
    );
    let run = |args: &[&str]| {
        redflag(
            &sandbox,
            &[&["score", "--module", "aml"], args].concat(),
            "",
            &STEADY,
        )
    };
    let (ok, _, stderr) = run(&["--input", &input, "--output", "out.ndjson"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&["--input", &input, "--output", "out.ndjson"]);
    assert!(!ok);
    assert!(
        stderr.contains("out.ndjson exists: --resume continues the run that wrote it"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["--input", "missing.ndjson", "--output", "new.ndjson"]);
    assert!(!ok);
    assert!(stderr.contains("missing.ndjson: No such file"), "{stderr}");
    let (ok, _, stderr) = run(&["--input", "events.txt", "--output", "other.ndjson"]);
    assert!(!ok);
    assert!(
        stderr.contains("events.txt: the file's extension says neither CSV"),
        "{stderr}"
    );
    write(&sandbox, "notes.ndjson", "{\"remark\": \"mine\"}\n");
    let (ok, _, stderr) = run(&["--input", &input, "--output", "notes.ndjson", "--resume"]);
    assert!(!ok);
    assert!(
        stderr.contains("notes.ndjson: line 1 is not a record of `redflag score`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("notes.ndjson")).expect("kept"),
        "{\"remark\": \"mine\"}\n",
        "an output that is not ours is left as it was"
    );
}
