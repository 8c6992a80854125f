//! The database layer against both backends: SQLite in a temp dir and a fresh PostgreSQL database.

mod support;

use chrono::{DateTime, Duration, Utc};
use redflag_core::{Alert, Module, Severity};
use redflag_store::{ChainReport, Database, DecisionToRecord, OutboxPass, Recorded, StoreError};
use support::TestDatabase;

fn both_backends() -> [TestDatabase; 2] {
    [TestDatabase::sqlite(), TestDatabase::postgres()]
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid time")
        .with_timezone(&Utc)
}

fn decision(
    module: Module,
    reference: Option<&str>,
    flagged: bool,
    alerts: Vec<Alert>,
    when: DateTime<Utc>,
) -> DecisionToRecord {
    let risk = if flagged { 80.0 } else { 10.0 };
    DecisionToRecord {
        module,
        reference: reference.map(str::to_owned),
        entity_id: "S-1".to_owned(),
        risk_score: risk,
        flagged,
        decision: None,
        request_json: format!("{{\"ref\":{reference:?}}}"),
        response_json: "{\"risk_score\":80.0}".to_owned(),
        event_time: when,
        recorded_at: when,
        created_by: None,
        actor: "analyst".to_owned(),
        alerts,
        model_version: Some(
            "isolation_forest 2026-02-01T00:00:00Z (20000 rows, seed 42)".to_owned(),
        ),
        ruleset_version: Some(3),
        latency: std::time::Duration::from_micros(2_345),
        model_features: vec![9800.0, 0.5],
        skipped_rules: Vec::new(),
        shadow: None,
        parties: Vec::new(),
    }
}

/// Records `count` flagged AML decisions, `<prefix>-0` onwards, each with its outbox row.
fn record_flagged(db: &Database, prefix: &str, count: usize, when: DateTime<Utc>) {
    for i in 0..count {
        let reference = format!("{prefix}-{i}");
        db.record_decision(&decision(Module::Aml, Some(&reference), true, vec![], when))
            .expect("recorded");
    }
}

fn alert(rule: &str, severity: Severity) -> Alert {
    Alert::new(rule, "code", severity, 0.8, "because").with_metadata("num_transactions", 3)
}

#[test]
fn migrations_apply_revert_and_apply_again_on_both_backends() {
    for test in both_backends() {
        let db = &test.database;
        assert_eq!(
            db.migrate().expect("idempotent"),
            0,
            "nothing left to apply"
        );
        assert_eq!(db.revert_all_migrations().expect("down.sql works"), 14);
        assert_eq!(db.migrate().expect("up.sql works again"), 14);
    }
}

#[test]
fn users_are_created_once_and_found_by_name_and_id() {
    for test in both_backends() {
        let db = &test.database;
        let user = db
            .create_user("analyst", "$argon2id$hash", "analyst")
            .expect("created");
        assert!(user.is_active);
        let found = db
            .find_user_by_username("analyst")
            .expect("query")
            .expect("present");
        assert_eq!(found, user);
        assert_eq!(db.find_user(user.id()).expect("query"), Some(user));
        assert!(db.find_user_by_username("nobody").expect("query").is_none());
        let duplicate = db.create_user("analyst", "other", "analyst");
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{duplicate:?}"
        );
    }
}

#[test]
fn a_decision_is_stored_with_its_alerts_and_audit_record_in_one_go() {
    for test in both_backends() {
        let db = &test.database;
        let when = Utc::now();
        let record = decision(
            Module::Aml,
            Some("TXN-1"),
            true,
            vec![
                alert("StructuringRule", Severity::High),
                alert("Other", Severity::Low),
            ],
            when,
        );
        let Recorded::New(id) = db.record_decision(&record).expect("stored") else {
            panic!("a new business id makes a new decision");
        };
        assert_eq!(
            db.alert_rules(id).expect("query"),
            [
                ("StructuringRule".to_owned(), "high".to_owned()),
                ("Other".to_owned(), "low".to_owned())
            ]
        );
        let payloads = db.outbox_payloads(id).expect("query");
        assert_eq!(payloads.len(), 1);
        let payload: serde_json::Value = serde_json::from_str(&payloads[0]).expect("JSON");
        assert_eq!(payload["module"], "aml");
        assert_eq!(payload["findings"][0]["rule"], "StructuringRule");
        let counts = db.outbox_counts().expect("query");
        assert_eq!(
            (
                counts.queued,
                counts.pending,
                counts.delivered,
                counts.retried
            ),
            (1, 0, 0, 0)
        );

        let stored = db
            .find_decision(Module::Aml, "TXN-1")
            .expect("query")
            .expect("present");
        assert_eq!(stored.id, id);
        assert_eq!(stored.request_json, record.request_json);
        assert_eq!(stored.response_json, record.response_json);
        assert!(
            db.find_decision(Module::Insurance, "TXN-1")
                .expect("query")
                .is_none()
        );

        // Delivered, the outbox row gives its payload up to the log entry, which is read instead.
        let pass = db.apply_pending_audits(100, 0, when).expect("applies");
        assert_eq!(pass.applied, 1);
        assert_eq!(db.outbox_payloads(id).expect("query"), payloads);
        test.raw("UPDATE audit_outbox SET delivered_at = NULL");
        let redelivered = db.apply_pending_audits(100, 0, when).expect("applies");
        assert_eq!(redelivered.applied, 0, "already in the log, payload or not");
        let counts = db.outbox_counts().expect("counts");
        assert_eq!(
            (counts.queued, counts.retried),
            (0, 0),
            "marked delivered again, not counted as an unreadable attempt"
        );
    }
}

#[test]
fn a_second_decision_under_the_same_business_id_is_not_stored() {
    for test in both_backends() {
        let db = &test.database;
        let when = Utc::now();
        let first = decision(
            Module::Insurance,
            Some("CLM-1"),
            false,
            vec![alert("R", Severity::Low)],
            when,
        );
        let Recorded::New(id) = db.record_decision(&first).expect("stored") else {
            panic!("first is new");
        };
        let again = db.record_decision(&first).expect("answered");
        let Recorded::Existing(existing) = again else {
            panic!("the resend finds the stored decision");
        };
        assert_eq!(existing.id, id);
        assert_eq!(
            db.alert_rules(id).expect("query").len(),
            1,
            "no alert written twice"
        );
        assert_eq!(
            db.outbox_counts().expect("query").queued,
            1,
            "no audit row written twice"
        );
        // Decisions without a business id never collide.
        for _ in 0..2 {
            let anonymous = decision(Module::Market, None, false, vec![], when);
            assert!(matches!(
                db.record_decision(&anonymous),
                Ok(Recorded::New(_))
            ));
        }
    }
}

#[test]
fn statistics_aggregate_modules_severities_rules_and_the_last_24_hours() {
    for test in both_backends() {
        let db: &Database = &test.database;
        let now = at("2026-02-09T09:30:00Z");
        let records = [
            decision(
                Module::Aml,
                Some("A1"),
                true,
                vec![alert("StructuringRule", Severity::High)],
                now,
            ),
            decision(
                Module::Aml,
                Some("A2"),
                true,
                vec![alert("StructuringRule", Severity::Critical)],
                now - Duration::hours(2),
            ),
            decision(
                Module::Aml,
                Some("A3"),
                false,
                vec![],
                now - Duration::hours(30),
            ),
            decision(
                Module::Market,
                None,
                true,
                vec![alert("Pump And Dump", Severity::High)],
                now - Duration::minutes(10),
            ),
        ];
        for record in &records {
            db.record_decision(record).expect("stored");
        }
        let stats = db.statistics(now, 10).expect("aggregates");

        let aml = &stats.modules[0];
        assert_eq!((aml.module, aml.total, aml.flagged), (Module::Aml, 3, 2));
        let average = aml.average_risk.expect("decisions exist");
        assert!((average - (80.0 + 80.0 + 10.0) / 3.0).abs() < 1e-9);
        let credit = &stats.modules[1];
        assert_eq!(
            (
                credit.module,
                credit.total,
                credit.flagged,
                credit.average_risk
            ),
            (Module::Credit, 0, 0, None)
        );

        let severities: Vec<_> = stats
            .alerts_by_severity
            .iter()
            .map(|s| (s.severity, s.count))
            .collect();
        assert_eq!(
            severities,
            [
                (Severity::Low, 0),
                (Severity::Medium, 0),
                (Severity::High, 2),
                (Severity::Critical, 1)
            ]
        );
        assert_eq!(stats.top_rules[0].rule, "StructuringRule");
        assert_eq!(stats.top_rules[0].count, 2);
        assert_eq!(stats.top_rules[1].rule, "Pump And Dump");

        assert_eq!(stats.hourly.len(), 24);
        let last = stats.hourly.last().expect("24 buckets");
        assert_eq!(last.start, at("2026-02-09T09:00:00Z"));
        assert_eq!((last.total, last.flagged), (2, 2));
        let two_hours_ago = &stats.hourly[21];
        assert_eq!(two_hours_ago.start, at("2026-02-09T07:00:00Z"));
        assert_eq!((two_hours_ago.total, two_hours_ago.flagged), (1, 1));
        let counted: i64 = stats.hourly.iter().map(|bucket| bucket.total).sum();
        assert_eq!(
            counted, 3,
            "the decision from 30 hours ago is outside the series"
        );
    }
}

#[test]
fn a_sqlite_url_may_carry_its_scheme_and_memory_databases_are_refused() {
    use redflag_store::Backend;
    let (backend, target) = Backend::from_url("sqlite://data/redflag.sqlite3").expect("valid");
    assert_eq!(
        (backend, target.as_str()),
        (Backend::Sqlite, "data/redflag.sqlite3")
    );
    let (backend, _) = Backend::from_url("postgresql://u@h/db").expect("valid");
    assert_eq!(backend, Backend::Postgres);
    assert!(Backend::from_url(":memory:").is_err());
}

#[test]
fn an_unreachable_postgres_fails_fast_with_a_connection_error() {
    let result = Database::connect("postgres://postgres@127.0.0.1:1/none", 1);
    assert!(matches!(result, Err(StoreError::Pool(_))));
}

#[test]
fn concurrent_resends_of_one_business_id_store_exactly_one_decision() {
    for test in both_backends() {
        let db = test.database.clone();
        let when = Utc::now();
        let record = decision(
            Module::Aml,
            Some("TXN-RACE"),
            true,
            vec![alert("StructuringRule", Severity::High)],
            when,
        );
        let outcomes: Vec<Recorded> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let db = db.clone();
                    let record = record.clone();
                    scope.spawn(move || {
                        db.record_decision(&record)
                            .expect("answered, never an error")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread finished"))
                .collect()
        });
        let new: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                Recorded::New(id) => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(new.len(), 1, "exactly one request stores the decision");
        for outcome in &outcomes {
            if let Recorded::Existing(stored) = outcome {
                assert_eq!(
                    stored.id, new[0],
                    "the others are answered with the stored one"
                );
            }
        }
        assert_eq!(db.alert_rules(new[0]).expect("query").len(), 1);
        assert_eq!(db.outbox_counts().expect("query").queued, 1);
    }
}

#[test]
fn every_decision_reaches_the_audit_log_once_in_a_verifiable_chain() {
    for test in both_backends() {
        let db = &test.database;
        let when = at("2026-02-09T09:00:00Z");
        for i in 0..5 {
            let reference = format!("T-{i}");
            db.record_decision(&decision(
                Module::Aml,
                Some(&reference),
                i % 2 == 0,
                vec![],
                when,
            ))
            .expect("recorded");
        }
        assert_eq!(db.outbox_counts().expect("counts").queued, 5);
        assert_eq!(
            db.apply_pending_audits(3, 0, when)
                .expect("applies")
                .applied,
            3
        );
        assert_eq!(
            db.apply_pending_audits(100, 0, when)
                .expect("applies")
                .applied,
            2
        );
        assert_eq!(
            db.apply_pending_audits(100, 0, when)
                .expect("nothing left")
                .applied,
            0
        );
        let counts = db.outbox_counts().expect("counts");
        assert_eq!((counts.queued, counts.delivered), (0, 5));
        assert_eq!(
            db.verify_audit_chain().expect("walks"),
            ChainReport::Intact { entries: 5 }
        );
        let (count, history) = db.audit_history(Some("aml"), "S-1", 0, 2).expect("history");
        assert_eq!(count, 5);
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].event_id, "outbox-5", "newest first");
        assert_eq!(history[0].prev_hash, history[1].hash);
        let payload: serde_json::Value = serde_json::from_str(&history[0].payload).expect("JSON");
        assert_eq!(payload["request_sha256"].as_str().map(str::len), Some(64));
        assert_eq!(
            payload["model_version"],
            "isolation_forest 2026-02-01T00:00:00Z (20000 rows, seed 42)"
        );
        assert_eq!(payload["latency_ms"], 2.345);
        assert_eq!(history[0].actor, "analyst");

        // A redelivered record (its delivery mark lost) is not applied twice.
        test.raw("UPDATE audit_outbox SET delivered_at = NULL WHERE id = 2");
        assert_eq!(
            db.apply_pending_audits(100, 0, when)
                .expect("applies")
                .applied,
            0
        );
        assert_eq!(db.audit_progress(when).expect("progress").applied, 5);
    }
}

#[test]
fn a_pass_resumes_after_the_last_one_and_a_pass_from_the_start_finds_what_it_skipped() {
    for test in both_backends() {
        let db = &test.database;
        let when = at("2026-02-09T09:00:00Z");
        record_flagged(db, "R", 4, when);
        let pass = |limit, after| {
            db.apply_pending_audits(limit, after, when)
                .expect("applies")
        };
        assert_eq!(
            pass(100, 2),
            OutboxPass {
                applied: 2,
                last_read: Some(4)
            },
            "only the records after id 2"
        );
        assert_eq!(
            pass(100, 4),
            OutboxPass {
                applied: 0,
                last_read: None
            }
        );
        // Records 1 and 2 stand for ones another gateway committed after the pass went by.
        assert_eq!(
            pass(1, 0),
            OutboxPass {
                applied: 1,
                last_read: Some(1)
            }
        );
        assert_eq!(
            pass(100, 1),
            OutboxPass {
                applied: 1,
                last_read: Some(2)
            }
        );
        assert_eq!(db.outbox_counts().expect("counts").queued, 0);
        assert_eq!(
            db.verify_audit_chain().expect("walks"),
            ChainReport::Intact { entries: 4 }
        );
    }
}

#[test]
fn an_edited_removed_or_truncated_audit_entry_breaks_the_chain_where_it_happened() {
    for test in both_backends() {
        let db = &test.database;
        let when = at("2026-02-09T09:00:00Z");
        record_flagged(db, "T", 4, when);
        db.apply_pending_audits(100, 0, when).expect("applies");
        test.raw("UPDATE audit_log SET actor = 'someone-else' WHERE id = 3");
        match db.verify_audit_chain().expect("walks") {
            ChainReport::Broken {
                entry_id,
                event_id,
                problem,
            } => {
                assert_eq!((entry_id, event_id.as_str()), (3, "outbox-3"));
                assert!(problem.contains("was edited"), "{problem}");
            }
            intact => panic!("an edit must break the chain: {intact:?}"),
        }
        test.raw("UPDATE audit_log SET actor = 'analyst' WHERE id = 3");
        assert_eq!(
            db.verify_audit_chain().expect("walks"),
            ChainReport::Intact { entries: 4 }
        );
        test.raw("DELETE FROM audit_log WHERE id = 2");
        assert!(matches!(
            db.verify_audit_chain().expect("walks"),
            ChainReport::Broken { entry_id: 3, .. }
        ));
    }
    let test = TestDatabase::sqlite();
    let db = &test.database;
    let when = at("2026-02-09T09:00:00Z");
    db.record_decision(&decision(Module::Aml, Some("T"), true, vec![], when))
        .expect("recorded");
    db.record_decision(&decision(Module::Aml, Some("U"), true, vec![], when))
        .expect("recorded");
    db.apply_pending_audits(100, 0, when).expect("applies");
    test.raw("DELETE FROM audit_log WHERE id = 2");
    match db.verify_audit_chain().expect("walks") {
        ChainReport::Broken { problem, .. } => {
            assert!(problem.contains("removed from its end"), "{problem}")
        }
        intact => panic!("a truncated log must not verify: {intact:?}"),
    }
}

#[test]
fn an_unreadable_record_is_dead_lettered_after_three_attempts_without_blocking_others() {
    let test = TestDatabase::sqlite();
    let db = &test.database;
    let when = at("2026-02-09T09:00:00Z");
    db.record_decision(&decision(Module::Aml, Some("BAD"), true, vec![], when))
        .expect("recorded");
    test.raw("UPDATE audit_outbox SET payload = 'not json' WHERE id = 1");
    db.record_decision(&decision(Module::Aml, Some("GOOD"), true, vec![], when))
        .expect("recorded");
    assert_eq!(
        db.apply_pending_audits(100, 0, when)
            .expect("applies")
            .applied,
        1,
        "the good one"
    );
    for _ in 0..3 {
        db.apply_pending_audits(100, 0, when).expect("retries");
    }
    let progress = db.audit_progress(when).expect("progress");
    assert_eq!((progress.applied, progress.dead_lettered), (1, 1));
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 1 }
    );
}

#[test]
fn concurrent_workers_apply_each_record_once_and_never_fork_the_chain() {
    for test in both_backends() {
        let db = &test.database;
        let when = at("2026-02-09T09:00:00Z");
        record_flagged(db, "C", 200, when);
        let applied: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let mut total = 0;
                        loop {
                            let applied = db
                                .apply_pending_audits(7, 0, when)
                                .expect("applies")
                                .applied;
                            if applied == 0 && db.outbox_counts().expect("counts").queued == 0 {
                                return total;
                            }
                            total += applied;
                        }
                    })
                })
                .collect();
            // An auditor verifying while the workers append sees a consistent chain.
            let auditor = scope.spawn(|| {
                for _ in 0..20 {
                    match db.verify_audit_chain().expect("walks") {
                        ChainReport::Intact { .. } => {}
                        broken => panic!("a live chain verified as broken: {broken:?}"),
                    }
                }
            });
            let applied = workers
                .into_iter()
                .map(|worker| worker.join().expect("a worker"))
                .sum();
            auditor.join().expect("the auditor");
            applied
        });
        assert_eq!(applied, 200);
        assert_eq!(
            db.verify_audit_chain().expect("walks"),
            ChainReport::Intact { entries: 200 }
        );
    }
}

/// A month of decisions over every module, some flagged with alerts, for the roll-up tests.
fn month_of_decisions(now: DateTime<Utc>) -> Vec<DecisionToRecord> {
    (0..40)
        .map(|i| {
            let module = Module::ALL[i % 4];
            let flagged = i % 3 == 0;
            let alerts = if flagged {
                vec![
                    alert("StructuringRule", Severity::High),
                    alert("AnomalyRule", Severity::ALL[i % 4]),
                ]
            } else {
                vec![]
            };
            let hours_ago = (i as i64 * 7) % (24 * 30);
            decision(
                module,
                Some(&format!("R{i}")),
                flagged,
                alerts,
                now - Duration::hours(hours_ago),
            )
        })
        .collect()
}

#[test]
fn statistics_are_the_same_whether_decisions_are_rolled_up_or_not() {
    for test in both_backends() {
        let db = &test.database;
        let now = at("2026-02-09T09:30:00Z");
        for record in month_of_decisions(now) {
            db.record_decision(&record).expect("stored");
        }
        let before = db.statistics(now, 10).expect("aggregates");
        assert_eq!(before.modules.iter().map(|m| m.total).sum::<i64>(), 40);

        // Ten decisions per transaction: four passes take all forty, the fifth finds nothing.
        let mut passes = Vec::new();
        loop {
            let rollup = db
                .roll_up_statistics(Utc::now(), Duration::zero(), 10)
                .expect("rolled up");
            passes.push(rollup.decisions);
            if rollup.decisions == 0 {
                break;
            }
            assert_eq!(db.statistics(now, 10).expect("aggregates"), before);
        }
        assert_eq!(passes, [10, 10, 10, 10, 0]);
        assert_eq!(db.rollup_watermark().expect("watermark"), 40);

        // New decisions count from their rows until they are rolled up, then from the roll-ups.
        let late = decision(
            Module::Aml,
            Some("LATE"),
            true,
            vec![alert("StructuringRule", Severity::High)],
            now,
        );
        db.record_decision(&late).expect("stored");
        let with_late = db.statistics(now, 10).expect("aggregates");
        assert_eq!(with_late.modules[0].total, before.modules[0].total + 1);
        assert_eq!(
            with_late.top_rules[0].count,
            before.top_rules[0].count + 1,
            "{:?}",
            with_late.top_rules
        );
        let rollup = db
            .roll_up_statistics(Utc::now(), Duration::zero(), 10)
            .expect("rolled up");
        assert_eq!((rollup.decisions, rollup.watermark), (1, 41));
        assert_eq!(db.statistics(now, 10).expect("aggregates"), with_late);
    }
}

#[test]
fn a_roll_up_stops_before_the_first_unsettled_decision() {
    for test in both_backends() {
        let db = &test.database;
        let now = Utc::now();
        let old = now - Duration::minutes(5);
        // OLD-2 holds a higher id than NEW but an older time, as a slow transaction's row would.
        let records = [
            decision(Module::Aml, Some("OLD-1"), false, vec![], old),
            decision(Module::Aml, Some("NEW"), false, vec![], now),
            decision(Module::Aml, Some("OLD-2"), false, vec![], old),
        ];
        for record in &records {
            db.record_decision(record).expect("stored");
        }
        let rollup = db
            .roll_up_statistics(now, Duration::seconds(60), 100)
            .expect("rolled up");
        assert_eq!(
            (rollup.decisions, rollup.watermark),
            (1, 1),
            "only the settled prefix is taken"
        );
        let stats = db.statistics(now, 10).expect("aggregates");
        assert_eq!(
            stats.modules[0].total, 3,
            "the rest still counts from its rows"
        );
        let later = db
            .roll_up_statistics(now + Duration::minutes(2), Duration::seconds(60), 100)
            .expect("rolled up");
        assert_eq!((later.decisions, later.watermark), (2, 3));
        assert_eq!(db.statistics(now, 10).expect("aggregates"), stats);
    }
}

#[test]
fn concurrent_roll_ups_never_count_a_decision_twice() {
    for test in both_backends() {
        let db = &test.database;
        let now = at("2026-02-09T09:30:00Z");
        for record in month_of_decisions(now) {
            db.record_decision(&record).expect("stored");
        }
        let before = db.statistics(now, 10).expect("aggregates");
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut folded = 0;
                    loop {
                        let rollup = db
                            .roll_up_statistics(Utc::now(), Duration::zero(), 3)
                            .expect("rolled up");
                        if rollup.decisions == 0 {
                            return folded;
                        }
                        folded += rollup.decisions;
                    }
                })
            })
            .collect();
        let folded: i64 = workers
            .into_iter()
            .map(|worker| worker.join().expect("worker finished"))
            .sum();
        assert_eq!(folded, 40, "{}", db.backend().as_str());
        assert_eq!(db.statistics(now, 10).expect("aggregates"), before);
    }
}

#[test]
fn the_figures_decisions_were_scored_on_are_kept_for_retraining() {
    for test in both_backends() {
        let db = &test.database;
        let now = at("2026-02-09T09:30:00Z");
        let mut first = decision(Module::Aml, Some("F1"), false, vec![], now);
        first.model_features = vec![100.0, 1.5];
        let mut without = decision(Module::Aml, Some("F2"), false, vec![], now);
        without.model_features = vec![];
        let mut second = decision(Module::Aml, Some("F3"), false, vec![], now);
        second.model_features = vec![200.0, 2.5];
        let other_module = decision(Module::Market, Some("F4"), false, vec![], now);
        let ids: Vec<i64> = [&first, &without, &second, &other_module]
            .into_iter()
            .map(|record| match db.record_decision(record).expect("stored") {
                Recorded::New(id) => id.0,
                Recorded::Existing(stored) => panic!("a new decision, not {stored:?}"),
            })
            .collect();
        let figures = |limit| -> Vec<(i64, Vec<f64>)> {
            db.recent_model_features(Module::Aml, limit)
                .expect("read")
                .into_iter()
                .map(|scored| (scored.decision_id, scored.features))
                .collect()
        };
        assert_eq!(
            figures(10),
            [(ids[2], vec![200.0, 2.5]), (ids[0], vec![100.0, 1.5])],
            "newest first, decisions without figures left out"
        );
        assert_eq!(figures(1), [(ids[2], vec![200.0, 2.5])]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_group_commit_writer_stores_every_concurrent_decision_once() {
    for test in both_backends() {
        let db = test.database.clone();
        let writer =
            redflag_store::DecisionWriter::start(db.clone(), 16, false).expect("writer starts");
        let now = at("2026-02-09T09:30:00Z");
        let tasks: Vec<_> = (0..120)
            .map(|i| {
                let writer = writer.clone();
                let alerts = vec![
                    alert("StructuringRule", Severity::High),
                    alert("VelocityRule", Severity::Medium),
                ];
                let record = decision(Module::Aml, Some(&format!("G{i}")), true, alerts, now);
                tokio::spawn(async move { writer.record(record).await })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            let (recorded, record) = task.await.expect("task ran").expect("stored");
            let Recorded::New(id) = recorded else {
                panic!("a new business id is stored: {recorded:?}");
            };
            assert_eq!(
                db.alert_rules(id).expect("alerts"),
                [
                    ("StructuringRule".to_owned(), "high".to_owned()),
                    ("VelocityRule".to_owned(), "medium".to_owned())
                ],
                "{}",
                record.reference.unwrap_or_default()
            );
            assert_eq!(db.outbox_payloads(id).expect("outbox").len(), 1);
            // The id answered is the row holding this decision (on PostgreSQL a batch's ids are
            // drawn from the sequence before its rows go in together).
            let reference = record.reference.as_deref().unwrap_or_default();
            let stored = db.find_decision(Module::Aml, reference).expect("lookup");
            assert_eq!(
                stored.map(|stored| (stored.id, stored.request_json)),
                Some((id, record.request_json.clone()))
            );
            ids.push(id.0);
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 120, "{}", db.backend().as_str());
        assert_eq!(db.outbox_counts().expect("counts").queued, 120);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_resends_through_the_writer_store_one_decision_and_return_it_to_the_rest() {
    for test in both_backends() {
        let db = test.database.clone();
        let writer =
            redflag_store::DecisionWriter::start(db.clone(), 64, false).expect("writer starts");
        let now = at("2026-02-09T09:30:00Z");
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let writer = writer.clone();
                // Other decisions share the batches, and must not be lost with the duplicates.
                let reference = if i % 2 == 0 {
                    "SAME".to_owned()
                } else {
                    format!("OTHER{i}")
                };
                let record = decision(Module::Aml, Some(&reference), false, vec![], now);
                tokio::spawn(async move { writer.record(record).await })
            })
            .collect();
        let (mut new, mut existing, mut same_ids) = (0, 0, Vec::new());
        for task in tasks {
            let (recorded, record) = task.await.expect("task ran").expect("stored");
            let id = match recorded {
                Recorded::New(id) => {
                    new += 1;
                    id
                }
                Recorded::Existing(stored) => {
                    existing += 1;
                    stored.id
                }
            };
            if record.reference.as_deref() == Some("SAME") {
                same_ids.push(id);
            }
        }
        assert_eq!((new, existing), (7, 5), "{}", db.backend().as_str());
        same_ids.dedup();
        assert_eq!(
            same_ids.len(),
            1,
            "every resend got the one stored decision"
        );
        assert_eq!(db.outbox_counts().expect("counts").queued, 7);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_writer_that_keeps_the_chain_commits_each_audit_entry_with_its_decision() {
    let test = TestDatabase::sqlite();
    let db = test.database.clone();
    // An audit record that was waiting before (a token issued) goes into the chain first.
    db.record_audit_event(&redflag_audit::AuditEvent {
        kind: redflag_audit::AuditEvent::TOKEN_ISSUED,
        module: None,
        entity_id: "user:analyst".to_owned(),
        actor: "analyst".to_owned(),
        details: serde_json::json!({}),
        recorded_at: Utc::now(),
    })
    .expect("recorded");
    let writer = redflag_store::DecisionWriter::start(db.clone(), 8, true).expect("writer starts");
    let now = at("2026-02-09T09:30:00Z");
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let writer = writer.clone();
            let record = decision(Module::Aml, Some(&format!("K{i}")), false, vec![], now);
            tokio::spawn(async move { writer.record(record).await })
        })
        .collect();
    let mut stored = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.expect("task ran").expect("stored") {
            (Recorded::New(id), _) => stored.push((format!("K{i}"), id)),
            (other, _) => panic!("K{i} is new, not {other:?}"),
        }
    }
    // Each decision's audit payload is there to read, once (the log holds it).
    for (reference, id) in stored {
        let payloads = db.outbox_payloads(id).expect("readable");
        assert_eq!(payloads.len(), 1, "{reference}");
        let payload: serde_json::Value = serde_json::from_str(&payloads[0]).expect("JSON");
        assert_eq!(payload["reference"], reference.as_str());
    }
    // Applied when answered: nothing waits for a worker.
    assert_eq!(db.outbox_counts().expect("counts").queued, 0);
    assert_eq!(db.audit_progress(Utc::now()).expect("progress").applied, 31);
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 31 }
    );
    let first = db
        .audit_history(None, "user:analyst", 0, 10)
        .expect("history");
    assert_eq!(first.0, 1, "the token's record is in the log too");
}

#[test]
fn a_calibration_is_replaced_whole_and_learning_pages_through_one_modules_window() {
    for test in both_backends() {
        let db = &test.database;
        assert_eq!(db.calibration("aml.peer_groups").expect("query"), None);
        let first = at("2026-03-01T00:00:00Z");
        db.put_calibration("aml.peer_groups", "{\"groups\":[]}", first)
            .expect("stored");
        let second = at("2026-03-01T01:00:00Z");
        db.put_calibration("aml.peer_groups", "{\"groups\":[1]}", second)
            .expect("replaced");
        assert_eq!(
            db.calibration("aml.peer_groups").expect("query"),
            Some(("{\"groups\":[1]}".to_owned(), second))
        );

        assert_eq!(db.latest_event_time(Module::Aml).expect("query"), None);
        // Five AML transfers a day apart, stored in event order, and a market decision between.
        let start = at("2026-03-02T09:00:00Z");
        for day in 0..5 {
            let reference = format!("TXN-{day}");
            db.record_decision(&decision(
                Module::Aml,
                Some(&reference),
                false,
                Vec::new(),
                start + Duration::days(day),
            ))
            .expect("stored");
            if day == 2 {
                let market = decision(Module::Market, Some("TRADE"), false, Vec::new(), start);
                db.record_decision(&market).expect("stored");
            }
        }
        assert_eq!(
            db.latest_event_time(Module::Aml).expect("query"),
            Some(start + Duration::days(4))
        );
        // From day 1, two at a time.
        let since = start + Duration::days(1);
        let page = db.requests_since(Module::Aml, since, 0, 2).expect("query");
        let times: Vec<DateTime<Utc>> = page.iter().map(|stored| stored.event_time).collect();
        assert_eq!(times, [since, since + Duration::days(1)]);
        assert_eq!(page[0].request_json, "{\"ref\":Some(\"TXN-1\")}");
        let rest = db
            .requests_since(Module::Aml, since, page[1].decision_id, 2)
            .expect("query");
        let times: Vec<DateTime<Utc>> = rest.iter().map(|stored| stored.event_time).collect();
        assert_eq!(
            times,
            [since + Duration::days(2), since + Duration::days(3)]
        );
        let after = rest[1].decision_id;
        assert!(
            db.requests_since(Module::Aml, since, after, 2)
                .expect("query")
                .is_empty()
        );
    }
}

#[test]
fn an_import_that_would_overfill_a_list_is_refused_and_changes_nothing() {
    for test in both_backends() {
        let db = &test.database;
        let values = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        let (list, entries) = db
            .import_rule_list(
                ("mules", Some("Confirmed")),
                values(&["A", "B"]),
                (false, 3),
                "admin",
                at("2026-03-01T10:00:00Z"),
            )
            .expect("two values fit");
        assert_eq!((list.description.as_str(), entries), ("Confirmed", 2));
        let refused = db
            .import_rule_list(
                ("mules", None),
                values(&["B", "C", "D"]),
                (true, 3),
                "admin",
                at("2026-03-01T11:00:00Z"),
            )
            .expect_err("four distinct values do not fit");
        assert!(
            matches!(
                refused,
                redflag_store::ListImportError::TooLarge { entries: 4, max: 3 }
            ),
            "{refused:?}"
        );
        let (kept, held) = db.rule_list("mules").expect("reads").expect("the list");
        assert_eq!(
            (kept.description.as_str(), held),
            ("Confirmed", values(&["A", "B"]))
        );
        assert_eq!(kept.updated_at(), list.updated_at(), "not even touched");
        // Appending what it holds already fits: values are kept once.
        let (_, entries) = db
            .import_rule_list(
                ("mules", None),
                values(&["A", "C"]),
                (true, 3),
                "admin",
                at("2026-03-01T12:00:00Z"),
            )
            .expect("three distinct values fit");
        assert_eq!(entries, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lookups_asked_together_answer_each_request_with_its_own_decision() {
    for test in both_backends() {
        let db = test.database.clone();
        let now = at("2026-02-09T09:30:00Z");
        let mut stored = Vec::new();
        for (module, reference) in [
            (Module::Aml, "L-1"),
            (Module::Aml, "L-2"),
            (Module::Credit, "L-1"),
        ] {
            let Recorded::New(id) = db
                .record_decision(&decision(module, Some(reference), false, Vec::new(), now))
                .expect("stored")
            else {
                panic!("{module} {reference} is new");
            };
            stored.push((module, reference, id));
        }
        // At most 4 ids a query, so that 40 concurrent questions make several batches.
        let lookups = redflag_store::DecisionLookups::start(db.clone(), 4).expect("lookups start");
        let questions: Vec<(Module, String)> = (0..40)
            .map(|i| match i % 4 {
                0 => (Module::Aml, "L-1".to_owned()),
                1 => (Module::Aml, "L-2".to_owned()),
                2 => (Module::Credit, "L-1".to_owned()),
                _ => (Module::Credit, format!("UNKNOWN-{i}")),
            })
            .collect();
        let tasks: Vec<_> = questions
            .iter()
            .cloned()
            .map(|(module, reference)| {
                let lookups = lookups.clone();
                tokio::spawn(async move { lookups.find(module, &reference).await })
            })
            .collect();
        for ((module, reference), task) in questions.iter().zip(tasks) {
            let found = task.await.expect("task ran").expect("answered");
            let expected = stored
                .iter()
                .find(|(m, r, _)| m == module && r == reference)
                .map(|(_, _, id)| *id);
            assert_eq!(
                found.as_ref().map(|decision| decision.id),
                expected,
                "{module} {reference} on {}",
                db.backend().as_str()
            );
            if let Some(found) = found {
                assert_eq!(
                    found.request_json,
                    format!("{{\"ref\":{:?}}}", Some(reference))
                );
            }
        }
    }
}
