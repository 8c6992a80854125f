//! The `redflag` binary as README tells a newcomer to use it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::Sandbox;

pub(crate) fn redflag(
    sandbox: &Sandbox,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redflag"))
        .args(args)
        .current_dir(sandbox.path())
        .env("DATABASE_URL", sandbox.database.url())
        .env_remove("REDFLAG_PROFILE")
        .env_remove("DEBUG")
        .env_remove("SECRET_KEY")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_HOST")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the redflag binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the password");
    let output = child.wait_with_output().expect("redflag finishes");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The password [`create_user`] gives.
pub(crate) const CLI_PASSWORD: &str = "correct-horse-battery";

/// Creates `username` with `redflag user create`, as an operator would, or fails the test.
pub(crate) fn create_user(sandbox: &Sandbox, username: &str, env: &[(&str, &str)]) {
    let (ok, _, stderr) = redflag(
        sandbox,
        &["user", "create", "--username", username, "--password-stdin"],
        &format!("{CLI_PASSWORD}\n"),
        env,
    );
    assert!(ok, "{stderr}");
}

#[test]
fn user_create_reads_the_password_from_stdin_and_refuses_short_ones_and_duplicates() {
    let sandbox = Sandbox::new();
    let (ok, stdout, stderr) = redflag(
        &sandbox,
        &[
            "user",
            "create",
            "--username",
            "analyst",
            "--password-stdin",
        ],
        "correct-horse-battery\n",
        &[],
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "created user `analyst` (id 1, analyst)");
    let (ok, _, stderr) = redflag(
        &sandbox,
        &[
            "user",
            "create",
            "--username",
            "analyst",
            "--password-stdin",
        ],
        "correct-horse-battery\n",
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("user `analyst` already exists"), "{stderr}");
    let (ok, _, stderr) = redflag(
        &sandbox,
        &["user", "create", "--username", "other", "--password-stdin"],
        "short\n",
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("at least 8 characters"), "{stderr}");
    let admin = |role: &str| {
        redflag(
            &sandbox,
            &[
                "user",
                "create",
                "--username",
                "boss",
                "--role",
                role,
                "--password-stdin",
            ],
            "correct-horse-battery\n",
            &[],
        )
    };
    let (ok, _, stderr) = admin("owner");
    assert!(!ok);
    assert!(
        stderr.contains("possible values: analyst, admin"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = admin("admin");
    assert!(ok, "{stderr}");
    // PostgreSQL's sequence moved on at the refused duplicate; SQLite's did not.
    let created = stdout.trim();
    assert!(
        created.starts_with("created user `boss` (id ") && created.ends_with(", admin)"),
        "{created}"
    );
    let (ok, stdout, _) = redflag(&sandbox, &["migrate"], "", &[]);
    assert!(ok);
    assert_eq!(
        stdout.trim(),
        format!(
            "applied 0 migration(s) to the {} database",
            sandbox.database.backend().as_str()
        )
    );
}

#[test]
fn set_password_replaces_a_users_password_for_the_next_sign_in() {
    let sandbox = Sandbox::new();
    let user = |action: &str, password: &str| {
        redflag(
            &sandbox,
            &["user", action, "--username", "ops", "--password-stdin"],
            &format!("{password}\n"),
            &[],
        )
    };
    let (ok, _, stderr) = user("set-password", "new-password-1");
    assert!(!ok);
    assert!(stderr.contains("no user `ops`"), "{stderr}");
    assert!(user("create", "first-password-1").0);
    let (ok, _, stderr) = user("set-password", "short");
    assert!(!ok);
    assert!(stderr.contains("at least 8 characters"), "{stderr}");
    let (ok, stdout, stderr) = user("set-password", "second-password-2");
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "set the password of `ops`");

    let server = crate::process::Server::start(&sandbox, &[]);
    let (status, _) = server.http(
        "POST",
        "/api/token/",
        None,
        &serde_json::json!({"username": "ops", "password": "first-password-1"}),
    );
    assert_eq!(status, 401, "the old password no longer works");
    server.token("ops", "second-password-2");
}

#[test]
fn serve_refuses_the_development_secret_when_debug_is_off() {
    let sandbox = Sandbox::new();
    let (ok, _, stderr) = redflag(
        &sandbox,
        &["serve", "--bind", "127.0.0.1:0"],
        "",
        &[("DEBUG", "0")],
    );
    assert!(!ok);
    assert!(
        stderr.contains("refusing to start with DEBUG off and the development SECRET_KEY"),
        "{stderr}"
    );
}

#[test]
fn train_writes_the_artifact_and_explains_bad_training_files() {
    let sandbox = Sandbox::new();
    let (ok, stdout, stderr) = redflag(
        &sandbox,
        &["train", "aml", "--rows", "3000", "--seed", "7"],
        "",
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with(
            "trained isolation_forest for aml on 2400 rows of synthetic defaults (600 held out)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("roc_auc"), "{stdout}");
    let artifact: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sandbox.path().join("ml_models/aml.json")).expect("written"),
    )
    .expect("JSON");
    assert_eq!(artifact["seed"], 7);
    assert_eq!(artifact["features"][0], "log_amount");

    let csv = sandbox.path().join("applicants.csv");
    std::fs::write(&csv, "log_monthly_income,employment_months\n8.3,12\n").expect("written");
    let (ok, _, stderr) = redflag(
        &sandbox,
        &[
            "train",
            "credit",
            "--csv",
            csv.to_str().expect("UTF-8"),
            "--label",
            "defaulted",
        ],
        "",
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("missing [debt_to_income, credit_utilization, late_payments_12m, delinquencies_24m, bankruptcies, credit_history_months, recent_inquiries, defaulted]"), "{stderr}");

    let header = "log_monthly_income,employment_months,debt_to_income,credit_utilization,late_payments_12m,delinquencies_24m,bankruptcies,credit_history_months,recent_inquiries";
    std::fs::write(&csv, format!("{header}\n8.3,12,0.2,0.3,0,0,0,40,1\n")).expect("written");
    let (ok, _, stderr) = redflag(
        &sandbox,
        &["train", "credit", "--csv", csv.to_str().expect("UTF-8")],
        "",
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("supervised"), "{stderr}");
}

/// A labelled CSV of `rows` applicants: the default rate rises with the debt ratio, the housing
/// column is a category holding a comma, some incomes are missing.
fn applicants(rows: usize, offset: usize) -> String {
    let mut text = String::from("income,housing,debt_ratio,outcome\n");
    for i in 0..rows {
        let debt = ((i * 37 + offset) % 100) as f64 / 100.0;
        let income = if i % 25 == 0 {
            String::new()
        } else {
            format!("{}", 2000 + (i * 53 + offset) % 3000)
        };
        let housing = if i % 3 == 0 {
            "\"yes, registered\""
        } else {
            "rent"
        };
        let outcome = if debt + ((i * 7) % 30) as f64 / 100.0 > 0.85 {
            "bad"
        } else {
            "good"
        };
        text.push_str(&format!("{income},{housing},{debt},{outcome}\n"));
    }
    text
}

#[test]
fn model_evaluate_trains_on_one_csv_and_reports_on_another() {
    let sandbox = Sandbox::new();
    let train = sandbox.path().join("train.csv");
    let test = sandbox.path().join("test.csv");
    let scores = sandbox.path().join("scores.csv");
    std::fs::write(&train, applicants(600, 0)).expect("writes");
    std::fs::write(&test, applicants(300, 11)).expect("writes");
    let args = [
        "model",
        "evaluate",
        "--kind",
        "logistic",
        "--train",
        "train.csv",
        "--test",
        "test.csv",
        "--label",
        "outcome",
        "--positive",
        "bad",
        "--scores",
        "scores.csv",
    ];
    let (ok, stdout, stderr) = redflag(&sandbox, &args, "", &[]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("logistic regression: trained on train.csv (600 rows, "),
        "{stdout}"
    );
    let auc: f64 = lines[1]
        .strip_prefix("ROC AUC ")
        .and_then(|auc| auc.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(auc > 0.85, "{stdout}");
    assert!(lines[4].starts_with("Gini "), "{stdout}");
    assert!(lines[5].starts_with("Brier 0."), "{stdout}");
    let top = stdout
        .split("top features (mean absolute share of the log-odds):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(top.starts_with("debt_ratio "), "{stdout}");
    let written = std::fs::read_to_string(&scores).expect("the scores file");
    let rows: Vec<&str> = written.lines().collect();
    assert_eq!(rows.len(), 301, "a header and a row per test row");
    assert_eq!(rows[0], "line,label,score");
    assert!(rows[1].starts_with("2,"), "{}", rows[1]);

    // The scorecard on the same files: its features ranked by information value.
    let card = [
        "model",
        "evaluate",
        "--kind",
        "scorecard",
        "--train",
        "train.csv",
        "--test",
        "test.csv",
        "--label",
        "outcome",
        "--positive",
        "bad",
    ];
    let (ok, stdout, stderr) = redflag(&sandbox, &card, "", &[]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("scorecard: trained on train.csv (600 rows, "),
        "{stdout}"
    );
    let top = stdout
        .split("top features (information value):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(top.starts_with("debt_ratio "), "{stdout}");

    // Monotone boosted trees on the same files: probabilities (a Brier score), the features by
    // their share of the split gain.
    let mut trees = card;
    trees[3] = "gbm";
    let (ok, stdout, stderr) = redflag(&sandbox, &trees, "", &[]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("monotone gradient-boosted trees: trained on train.csv (600 rows, "),
        "{stdout}"
    );
    assert!(stdout.contains("\nBrier "), "{stdout}");
    let auc: f64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("ROC AUC "))
        .and_then(|auc| auc.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(auc > 0.85, "{stdout}");
    let top = stdout
        .split("top features (share of the split gain):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(top.starts_with("debt_ratio "), "{stdout}");

    // A forest reads numbers only; a row that lost its quotes is refused by its line.
    let forest = [
        "model",
        "evaluate",
        "--kind",
        "isolation-forest",
        "--train",
        "train.csv",
        "--test",
        "test.csv",
        "--label",
        "outcome",
        "--positive",
        "bad",
    ];
    let (ok, _, stderr) = redflag(&sandbox, &forest, "", &[]);
    assert!(!ok);
    assert!(stderr.contains("numbers only"), "{stderr}");
    let mut broken = applicants(20, 0);
    broken.push_str("2500,yes, registered,0.5,good\n");
    std::fs::write(&test, broken).expect("writes");
    let (ok, _, stderr) = redflag(&sandbox, &args, "", &[]);
    assert!(!ok);
    assert!(
        stderr.contains("test.csv line 22: 5 fields where the header has 4"),
        "{stderr}"
    );
}

#[test]
fn lists_import_reads_the_ofac_files_versions_them_and_refuses_a_broken_file_with_its_line() {
    let sandbox = Sandbox::new();
    let shared =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/sanctions");
    let file = |name: &str| shared.join(name).to_string_lossy().into_owned();
    let (sdn, alt, add) = (
        file("ofac_sdn_2019.csv"),
        file("ofac_alt_2019.csv"),
        file("ofac_add_2019.csv"),
    );
    let (ok, stdout, stderr) = redflag(
        &sandbox,
        &[
            "lists", "import", "--name", "ofac-sdn", "--format", "ofac-csv", &sdn, &alt, &add,
        ],
        "",
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("imported list `ofac-sdn` version 1 (ofac-csv): 7379 entries; 7379 added, 0 changed, 0 removed;"),
        "{stdout}"
    );
    let broken = sandbox.path().join("broken.csv");
    std::fs::write(&broken, "id,name\nX-1,Someone\nX-2,\n").expect("writes");
    let (ok, _, stderr) = redflag(
        &sandbox,
        &[
            "lists",
            "import",
            "--name",
            "ofac-sdn",
            "--format",
            "csv",
            &broken.to_string_lossy(),
        ],
        "",
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("CSV list, line 3:"), "{stderr}");
    let (ok, _, stderr) = redflag(
        &sandbox,
        &[
            "lists", "import", "--name", "x", "--format", "ofac-csv", &sdn,
        ],
        "",
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("the format takes 3 file(s) (sdn, alt, add), not 1"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = redflag(&sandbox, &["lists", "show"], "", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.lines().count(),
        1,
        "the broken imports changed nothing: {stdout}"
    );
    assert!(stdout.starts_with("ofac-sdn version 1: ofac-csv (7379 entries), imported by cli at "));
}
