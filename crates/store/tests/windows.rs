//! Both window implementations against the same expectations; Redis is the real server.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use redflag_core::{Activity, EntityKind, Module, Observation, WindowKey, WindowMode};
use redflag_store::{ActivityWindows, InProcessWindows, RedisWindows};

/// The Redis server tests use; `REDFLAG_TEST_REDIS_URL` overrides the machine's default.
fn redis_url() -> String {
    std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

fn redis(max_entries: usize) -> (Arc<dyn ActivityWindows>, String) {
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let windows = RedisWindows::connect(&redis_url(), &prefix, max_entries)
        .expect("a Redis pool can be configured");
    (Arc::new(windows), prefix)
}

fn implementations(max_entries: usize) -> Vec<Arc<dyn ActivityWindows>> {
    vec![
        Arc::new(InProcessWindows::new(max_entries)),
        redis(max_entries).0,
    ]
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-02-09T09:00:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

fn observation(sender: &str, reference: &str, minutes: i64, amount: f64) -> Observation {
    Observation {
        key: WindowKey::new(Module::Aml, EntityKind::Sender, sender),
        activity: Activity::new(
            start() + Duration::minutes(minutes),
            reference,
            amount,
            0.0,
            "",
        ),
        horizon: Duration::hours(24),
        mode: WindowMode::Record,
    }
}

async fn prior(windows: &dyn ActivityWindows, observation: Observation) -> Vec<Activity> {
    let key = observation.key.clone();
    let history = windows
        .observe(std::slice::from_ref(&observation))
        .await
        .expect("observed");
    history.get(&key).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_updates_of_one_sender_end_with_the_exact_count() {
    for windows in implementations(10_000) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let windows = Arc::clone(&windows);
                let observation = observation(&sender, &format!("T{i}"), 0, 100.0);
                tokio::spawn(async move { prior(windows.as_ref(), observation).await.len() })
            })
            .collect();
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.expect("task finished"));
        }
        seen.sort_unstable();
        // Atomic read-and-update: every request saw a different, consistent count.
        assert_eq!(seen, (0..64).collect::<Vec<_>>(), "{}", windows.kind());
        let after = prior(windows.as_ref(), observation(&sender, "T-last", 1, 1.0)).await;
        assert_eq!(after.len(), 64, "{}", windows.kind());
    }
}

#[tokio::test]
async fn history_holds_only_the_horizon_before_the_event_oldest_first() {
    for windows in implementations(10_000) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        prior(windows.as_ref(), observation(&sender, "old", 0, 1.0)).await;
        prior(
            windows.as_ref(),
            observation(&sender, "b", 25 * 60 + 30, 3.0),
        )
        .await;
        prior(windows.as_ref(), observation(&sender, "a", 25 * 60, 2.0)).await;
        let seen = prior(windows.as_ref(), observation(&sender, "now", 26 * 60, 4.0)).await;
        let references: Vec<_> = seen.iter().map(|a| a.reference()).collect();
        assert_eq!(references, ["a", "b"], "{}", windows.kind());
        assert_eq!(seen[0].amount, 2.0);
        assert_eq!(seen[0].at, start() + Duration::minutes(25 * 60));
    }
}

#[tokio::test]
async fn a_resent_event_is_neither_its_own_history_nor_counted_twice() {
    for windows in implementations(10_000) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        prior(windows.as_ref(), observation(&sender, "T1", 0, 9800.0)).await;
        let resent = prior(windows.as_ref(), observation(&sender, "T1", 0, 9800.0)).await;
        assert!(resent.is_empty(), "{}", windows.kind());
        let next = prior(windows.as_ref(), observation(&sender, "T2", 1, 9800.0)).await;
        assert_eq!(next.len(), 1, "{}", windows.kind());
    }
}

#[tokio::test]
async fn an_event_resent_later_adds_to_no_window_aggregates_included() {
    for windows in implementations(10_000) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        // An event as a detector observes it: its detail window and its daily aggregate.
        let event = |reference: &str, minutes: i64| {
            let detail = observation(&sender, reference, minutes, 100.0);
            let mut daily = detail.clone();
            daily.key = WindowKey::new(Module::Aml, EntityKind::SenderDaily, sender.as_str());
            daily.mode = WindowMode::Aggregate {
                bucket: Duration::days(1),
            };
            [detail, daily]
        };
        let observe = |observations: [Observation; 2]| {
            let windows = Arc::clone(&windows);
            async move {
                let history = windows.observe(&observations).await.expect("observed");
                (
                    history.get(&observations[0].key).len(),
                    history
                        .get(&observations[1].key)
                        .iter()
                        .map(|bucket| bucket.quantity)
                        .sum::<f64>(),
                )
            }
        };
        observe(event("T1", 0)).await;
        // The retry of T1 after a lost answer: received (so timed) two minutes later.
        assert_eq!(
            observe(event("T1", 2)).await,
            (0, 1.0),
            "{}",
            windows.kind()
        );
        assert_eq!(
            observe(event("T2", 3)).await,
            (1, 1.0),
            "T1 counted once in both windows ({})",
            windows.kind()
        );
    }
}

#[tokio::test]
async fn windows_keep_at_most_the_configured_number_of_entries() {
    for windows in implementations(5) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        for i in 0..8 {
            prior(
                windows.as_ref(),
                observation(&sender, &format!("T{i}"), i, 1.0),
            )
            .await;
        }
        let seen = prior(windows.as_ref(), observation(&sender, "T9", 9, 1.0)).await;
        let references: Vec<_> = seen.iter().map(|a| a.reference()).collect();
        assert_eq!(
            references,
            ["T3", "T4", "T5", "T6", "T7"],
            "{}",
            windows.kind()
        );
    }
}

#[tokio::test]
async fn a_latest_window_keeps_only_its_newest_entries() {
    for windows in implementations(100) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        let latest = |reference: &str, minutes: i64| {
            let mut observation = observation(&sender, reference, minutes, 1.0);
            observation.mode = WindowMode::Latest { keep: 3 };
            observation
        };
        for i in 0..6 {
            prior(windows.as_ref(), latest(&format!("T{i}"), i)).await;
        }
        let seen = prior(windows.as_ref(), latest("T9", 9)).await;
        let references: Vec<_> = seen.iter().map(|a| a.reference()).collect();
        assert_eq!(references, ["T3", "T4", "T5"], "{}", windows.kind());
    }
}

#[tokio::test]
async fn redis_windows_expire_after_their_horizon() {
    let (windows, prefix) = redis(100);
    let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
    prior(windows.as_ref(), observation(&sender, "T1", 0, 1.0)).await;
    let client = redis::Client::open(redis_url()).expect("valid URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}:window:aml:sender:{sender}"))
        .query_async(&mut connection)
        .await
        .expect("PTTL answers");
    assert!(
        ttl > 23 * 3600 * 1000 && ttl <= 24 * 3600 * 1000,
        "ttl {ttl}"
    );
    assert!(windows.ping().await.is_ok());
}

#[tokio::test]
async fn an_unreachable_redis_is_reported_not_hidden() {
    let windows =
        RedisWindows::connect("redis://127.0.0.1:1/0", "x", 10).expect("configured lazily");
    let result = windows.observe(&[observation("S", "T", 0, 1.0)]).await;
    assert!(result.is_err());
    assert!(windows.ping().await.is_err());
}

#[tokio::test]
async fn a_read_only_observation_sees_the_window_without_joining_it() {
    for windows in implementations(10_000) {
        let account = format!("A-{}", uuid::Uuid::new_v4().simple());
        let mut peek = observation(&account, "peek", 5, 1.0);
        peek.mode = WindowMode::ReadOnly;
        assert!(
            prior(windows.as_ref(), peek.clone()).await.is_empty(),
            "{}",
            windows.kind()
        );
        let mut inflow = observation(&account, "IN-1", 0, 700.0);
        inflow.activity = Activity::new(
            inflow.activity.at,
            inflow.activity.reference(),
            inflow.activity.amount,
            inflow.activity.quantity,
            "PAYER",
        );
        prior(windows.as_ref(), inflow).await;
        let seen = prior(windows.as_ref(), peek.clone()).await;
        assert_eq!(seen.len(), 1, "{}", windows.kind());
        assert_eq!(seen[0].counterparty(), "PAYER", "{}", windows.kind());
        let again = prior(windows.as_ref(), observation(&account, "IN-2", 6, 1.0)).await;
        assert_eq!(
            again.len(),
            1,
            "the peek was not recorded ({})",
            windows.kind()
        );
    }
}

#[tokio::test]
async fn aggregate_windows_keep_one_sum_and_count_per_day() {
    for windows in implementations(10_000) {
        let sender = format!("S-{}", uuid::Uuid::new_v4().simple());
        let daily = |reference: &str, hours: i64, amount: f64| {
            let mut observation = observation(&sender, reference, hours * 60, amount);
            observation.key = WindowKey::new(Module::Aml, EntityKind::SenderDaily, sender.as_str());
            observation.horizon = Duration::days(3);
            observation.mode = WindowMode::Aggregate {
                bucket: Duration::days(1),
            };
            observation
        };
        // 2026-02-09 09:00 + hours: two transfers that day, one the next, then one five days on.
        assert!(
            prior(windows.as_ref(), daily("A", 0, 100.0))
                .await
                .is_empty(),
            "{}",
            windows.kind()
        );
        let same_day = prior(windows.as_ref(), daily("B", 2, 50.5)).await;
        assert_eq!(same_day.len(), 1, "{}", windows.kind());
        assert_eq!(
            (same_day[0].amount, same_day[0].quantity),
            (100.0, 1.0),
            "{}",
            windows.kind()
        );
        let next_day = prior(windows.as_ref(), daily("C", 24, 10.0)).await;
        let sums: Vec<(f64, f64)> = next_day.iter().map(|b| (b.amount, b.quantity)).collect();
        assert_eq!(sums, [(150.5, 2.0)], "{}", windows.kind());
        // Another entity's event only reads the buckets (what this sender ordinarily sends) and
        // leaves them as they were.
        for _ in 0..2 {
            let mut read = daily("READ", 25, 999.0);
            read.mode = WindowMode::ReadAggregate {
                bucket: Duration::days(1),
            };
            let seen: Vec<(f64, f64)> = prior(windows.as_ref(), read)
                .await
                .iter()
                .map(|b| (b.amount, b.quantity))
                .collect();
            assert_eq!(seen, [(150.5, 2.0), (10.0, 1.0)], "{}", windows.kind());
        }
        assert_eq!(
            next_day[0].at,
            start() - Duration::hours(9),
            "buckets start at midnight UTC ({})",
            windows.kind()
        );
        let later = prior(windows.as_ref(), daily("D", 24 * 6, 1.0)).await;
        assert!(
            later.is_empty(),
            "buckets past the horizon are gone ({})",
            windows.kind()
        );
    }
}

#[tokio::test]
async fn a_read_with_a_shorter_horizon_does_not_shorten_the_window() {
    for windows in implementations(10_000) {
        let account = format!("A-{}", uuid::Uuid::new_v4().simple());
        let mut wide = observation(&account, "OLD", 0, 1.0);
        wide.horizon = Duration::hours(48);
        prior(windows.as_ref(), wide.clone()).await;
        let mut narrow_read = observation(&account, "peek", 30 * 60, 1.0);
        narrow_read.horizon = Duration::hours(1);
        narrow_read.mode = WindowMode::ReadOnly;
        assert!(
            prior(windows.as_ref(), narrow_read).await.is_empty(),
            "{}",
            windows.kind()
        );
        let mut next = observation(&account, "NEW", 40 * 60, 1.0);
        next.horizon = Duration::hours(48);
        let seen = prior(windows.as_ref(), next).await;
        let references: Vec<_> = seen.iter().map(|a| a.reference()).collect();
        assert_eq!(
            references,
            ["OLD"],
            "the 48-hour window kept its entry ({})",
            windows.kind()
        );
    }
}

#[tokio::test]
async fn a_sweep_frees_in_process_windows_that_outlived_their_horizon_and_keeps_the_rest() {
    let windows = InProcessWindows::new(100);
    let mut brief = observation("S-brief", "T1", 0, 100.0);
    brief.horizon = Duration::milliseconds(50);
    windows.observe_now(&[brief, observation("S-day", "T2", 0, 100.0)]);
    std::thread::sleep(std::time::Duration::from_millis(120));

    let sweep = windows
        .expire()
        .await
        .expect("in-process sweeps never fail");
    assert_eq!((sweep.removed, sweep.live), (1, 1));
    let day = prior(&windows, observation("S-day", "T3", 1, 1.0)).await;
    assert_eq!(day.len(), 1, "the day-long window kept its entry");
    let again = windows.expire().await.expect("sweep");
    assert_eq!((again.removed, again.live), (0, 1));
}

#[tokio::test]
async fn a_redis_sweep_counts_the_deployments_live_window_keys() {
    let (windows, _prefix) = redis(100);
    for sender in ["S-1", "S-2", "S-3"] {
        prior(windows.as_ref(), observation(sender, "T1", 0, 100.0)).await;
    }
    let sweep = windows.expire().await.expect("Redis answers");
    // Redis removes expired keys itself; the sweep sees this prefix's three windows only.
    assert_eq!((sweep.removed, sweep.live), (0, 3));
}

#[tokio::test]
async fn redis_windows_reload_their_scripts_after_redis_forgets_them() {
    let (windows, _prefix) = redis(100);
    let first = prior(windows.as_ref(), observation("S-flush", "T1", 0, 100.0)).await;
    assert!(first.is_empty());
    let client = redis::Client::open(redis_url()).expect("a Redis URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut connection)
        .await
        .expect("scripts flushed");
    let second = prior(windows.as_ref(), observation("S-flush", "T2", 1, 50.0)).await;
    assert_eq!(
        second.iter().map(|a| a.reference()).collect::<Vec<_>>(),
        ["T1"]
    );
}

#[tokio::test]
async fn a_bounded_store_forgets_the_least_recently_used_windows_and_keeps_the_busy_ones() {
    // Ten windows per shard at most (64 shards).
    let windows = InProcessWindows::new(1_000).with_max_windows(640);
    for n in 0..5_000 {
        windows.observe_now(&[observation(&format!("S-{n}"), &format!("T-{n}"), 0, 1.0)]);
        if n % 10 == 0 {
            windows.observe_now(&[observation("S-busy", &format!("B-{n}"), 1, 1.0)]);
        }
    }
    let sweep = windows
        .expire()
        .await
        .expect("in-process sweeps never fail");
    assert!(sweep.live <= 640, "{sweep:?}");
    assert_eq!(
        sweep.evicted,
        5_001 - sweep.live as u64,
        "every window not held was counted as forgotten"
    );
    assert_eq!(
        windows.expire().await.expect("sweep").evicted,
        0,
        "counted once"
    );

    let busy = prior(&windows, observation("S-busy", "B-last", 2, 1.0)).await;
    assert_eq!(busy.len(), 500, "the busy sender kept its whole history");
    let first = prior(&windows, observation("S-0", "T-again", 2, 1.0)).await;
    assert!(
        first.is_empty(),
        "the least recently used sender was forgotten"
    );
    let last = prior(&windows, observation("S-4999", "T-again", 2, 1.0)).await;
    assert_eq!(last.len(), 1, "the most recent sender is still held");
}

#[tokio::test]
async fn a_forward_entry_carries_how_many_accounts_in_a_row_just_passed_its_money_on() {
    for windows in implementations(100) {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let inflows = |account: &str| {
            WindowKey::new(
                Module::Aml,
                EntityKind::Receiver,
                format!("{account}-{run}"),
            )
        };
        // A transfer `from` -> `to`: reads the payer's inflows, records into the payee's.
        let transfer = |reference: &str, from: &str, to: &str, minutes: i64, amount: f64| {
            let activity = Activity::new(
                start() + Duration::minutes(minutes),
                reference,
                amount,
                0.0,
                from,
            );
            vec![
                Observation {
                    key: inflows(from),
                    activity: activity.clone(),
                    horizon: Duration::hours(24),
                    mode: WindowMode::ReadOnly,
                },
                Observation {
                    key: inflows(to),
                    activity,
                    horizon: Duration::hours(24),
                    mode: WindowMode::Forward {
                        source: 0,
                        within: Duration::hours(6),
                        min_share: 0.5,
                    },
                },
            ]
        };
        let depth_at = |history: &redflag_core::History, account: &str| -> Vec<f64> {
            history
                .get(&inflows(account))
                .iter()
                .map(|a| a.quantity)
                .collect()
        };
        for (reference, from, to, minutes, amount) in [
            ("T1", "SOURCE", "MULE1", 0, 5_000.0),
            ("T2", "MULE1", "MULE2", 30, 4_800.0),
            ("T3", "MULE2", "MULE3", 60, 4_700.0),
            // Too large for what MULE3 just received: its own money, depth 0.
            ("T4", "MULE3", "SHOP", 90, 20_000.0),
            // Sent on a day later: no longer the same flow.
            ("T5", "MULE1", "LATE", 30 + 24 * 60, 4_000.0),
        ] {
            windows
                .observe(&transfer(reference, from, to, minutes, amount))
                .await
                .expect("observed");
        }
        let probe = windows
            .observe(&transfer("PROBE", "X", "MULE1", 2, 1.0))
            .await
            .expect("observed");
        assert_eq!(depth_at(&probe, "MULE1"), [0.0], "{}", windows.kind());
        for (account, depth) in [("MULE2", 1.0), ("MULE3", 2.0), ("SHOP", 0.0), ("LATE", 0.0)] {
            let history = windows
                .observe(&[Observation {
                    key: inflows(account),
                    activity: Activity::new(
                        start() + Duration::minutes(2 * 24 * 60),
                        &format!("READ-{account}"),
                        1.0,
                        0.0,
                        "",
                    ),
                    horizon: Duration::hours(72),
                    mode: WindowMode::ReadOnly,
                }])
                .await
                .expect("observed");
            assert_eq!(
                depth_at(&history, account),
                [depth],
                "{account} in {}",
                windows.kind()
            );
        }
    }
}
