//! What the peer groups learn from past transfers, and how new senders are judged by them.

use serde_json::json;

use chrono::{DateTime, Duration, Utc};
use redflag_aml::{AmlConfig, AmlDetector, PastTransfer, PeerGroups, PeerLimits, UNSEGMENTED};

use super::{Scenario, rules};

fn at(day: i64, hour: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
        .expect("a fixed time")
        .with_timezone(&Utc)
        + Duration::days(day)
        + Duration::hours(hour)
}

fn transfer(sender: &str, segment: Option<&str>, at: DateTime<Utc>, amount: f64) -> PastTransfer {
    PastTransfer {
        sender: sender.to_owned(),
        segment: segment.map(str::to_owned),
        at,
        amount,
    }
}

/// `count` senders named `prefix-i`, each sending `per_day` transfers of `amount` ninety
/// minutes apart on each of `days` days, a little later each day (a routine, not a clock).
fn senders(
    prefix: &str,
    segment: Option<&str>,
    count: usize,
    days: i64,
    per_day: i64,
    amount: f64,
) -> Vec<PastTransfer> {
    (0..count)
        .flat_map(|i| {
            (0..days).flat_map(move |day| {
                (0..per_day).map(move |n| {
                    let sent = at(day, 9) + Duration::minutes(90 * n + 7 * day);
                    transfer(&format!("{prefix}-{i}"), segment, sent, amount)
                })
            })
        })
        .collect()
}

fn config(min_members: u32) -> AmlConfig {
    AmlConfig {
        peer_group_min_members: min_members,
        ..AmlConfig::default()
    }
}

#[test]
fn each_segment_learns_what_its_established_senders_do_in_an_hour_and_a_day() {
    let mut transfers = senders("retail", Some("retail"), 20, 10, 2, 100.0);
    transfers.extend(senders("payroll", Some("payroll"), 20, 10, 8, 2_500.0));
    let learned = PeerGroups::learn(transfers, &config(20));
    let retail = learned.group(Some("retail")).expect("learned");
    assert_eq!((retail.members, retail.transfers), (20, 400));
    assert_eq!(
        retail.limits,
        PeerLimits {
            transactions_1h: 1,
            amount_1h: 100.0,
            transactions_24h: 2,
            amount_24h: 200.0
        }
    );
    assert_eq!(retail.quiet_transfer, 100.0);
    let payroll = learned.group(Some("payroll")).expect("learned");
    assert_eq!(payroll.limits.transactions_24h, 8);
    assert_eq!(payroll.limits.amount_24h, 20_000.0);
    assert_eq!(learned.group(None), None, "no unsegmented senders");
    assert_eq!(
        learned.learned_through,
        Some(at(9, 9) + Duration::minutes(90 * 7 + 7 * 9))
    );
}

#[test]
fn new_senders_and_thin_segments_teach_nothing() {
    // Twenty established retail senders, and a segment of three; twenty brand-new senders
    // with one busy day each are not members of anything.
    let mut transfers = senders("retail", None, 20, 10, 1, 50.0);
    transfers.extend(senders("vip", Some("private"), 3, 10, 1, 5_000.0));
    transfers.extend(senders("new", None, 20, 1, 9, 9_000.0));
    let learned = PeerGroups::learn(transfers, &config(20));
    let groups: Vec<&str> = learned
        .groups
        .iter()
        .map(|group| group.segment.as_str())
        .collect();
    assert_eq!(groups, [UNSEGMENTED]);
    let unsegmented = learned.group(None).expect("learned");
    assert_eq!(unsegmented.members, 20);
    assert_eq!(
        unsegmented.limits.amount_24h, 50.0,
        "the new senders' day is not learned"
    );
    assert_eq!(learned.group(Some("private")), None);
}

#[test]
fn a_busy_member_weighs_as_much_as_a_quiet_one() {
    // Nineteen quiet senders (one transfer a day) and one sending ninety a day: pooled, the
    // busy one's transfers would be four in five of the samples and set the limit.
    let mut transfers = senders("quiet", None, 19, 10, 1, 100.0);
    transfers.extend((0..10).flat_map(|day| {
        (0..90).map(move |n| transfer("busy", None, at(day, 0) + Duration::minutes(n * 15), 100.0))
    }));
    let learned = PeerGroups::learn(
        transfers,
        &AmlConfig {
            peer_group_quantile: 0.9,
            ..config(20)
        },
    );
    let limits = learned.group(None).expect("learned").limits;
    assert_eq!(limits.transactions_24h, 1, "{limits:?}");
}

#[test]
fn only_the_window_before_the_newest_transfer_is_learned() {
    let mut transfers = senders("old", None, 20, 10, 5, 1_000.0);
    for transfer in &mut transfers {
        transfer.at -= Duration::days(60);
    }
    transfers.extend(senders("recent", None, 20, 10, 1, 10.0));
    let learned = PeerGroups::learn(transfers, &config(20));
    let group = learned.group(None).expect("learned");
    assert_eq!((group.members, group.limits.amount_24h), (20, 10.0));
}

#[test]
fn a_new_sender_is_judged_against_its_segments_peers_not_the_configured_limits() {
    // Retail customers send two transfers of 100 a day; payroll accounts pay twelve staff
    // five minutes apart.
    let mut transfers = senders("retail", Some("retail"), 20, 10, 2, 100.0);
    transfers.extend((0..20).flat_map(|i| {
        (0..10).flat_map(move |day| {
            (0..12).map(move |n| {
                let paid = at(day, 9) + Duration::minutes(5 * n);
                transfer(&format!("payroll-{i}"), Some("payroll"), paid, 2_500.0)
            })
        })
    }));
    let peers = PeerGroups::learn(transfers, &config(20));
    let mut s = Scenario::with_detector(
        AmlDetector::new(config(20))
            .expect("valid settings")
            .with_peer_groups(peers),
    );
    let retail = json!({"sender_segment": "retail"});
    let payroll = json!({"sender_segment": "payroll"});

    // A new retail customer sending 150 three times in a day: far under the configured
    // limits (10 a day, 50,000), over what its peers do in an hour and in a day.
    let mut last = None;
    for (i, hour) in [
        "2026-04-06T09:00:00Z",
        "2026-04-06T11:00:00Z",
        "2026-04-06T13:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        last = Some(s.send(
            &format!("R{i}"),
            "NEW-R",
            &format!("SHOP-{i}"),
            150.0,
            hour,
            retail.clone(),
        ));
    }
    let verdict = last.expect("sent");
    let velocity = verdict
        .alerts
        .iter()
        .find(|alert| alert.rule == "VelocityRule")
        .expect("velocity against the retail peers");
    assert_eq!(velocity.metadata["judged_against"], "peer group retail");
    assert_eq!(velocity.metadata["peer_group_members"], 20);
    assert_eq!(
        velocity.evidence,
        [
            "$150.00 sent in 1 hour (the 95% quantile of the 20 established senders of segment retail: $100.00)",
            "3 transfers in 24 hours (the 95% quantile of the 20 established senders of segment retail: 2)",
            "$450.00 sent in 24 hours (the 95% quantile of the 20 established senders of segment retail: $200.00)"
        ]
    );
    assert!(!verdict.flagged, "a supporting signal alone");

    // A new payroll account paying eleven staff in an hour: over the configured limit of five
    // an hour, as its peers do every payday.
    for n in 0..11 {
        let paid = format!("2026-04-06T09:{:02}:00Z", n * 5);
        let verdict = s.send(
            &format!("P{n}"),
            "NEW-P",
            &format!("STAFF-{n}"),
            2_500.0,
            &paid,
            payroll.clone(),
        );
        assert!(
            !rules(&verdict).contains(&"VelocityRule".to_owned()),
            "payment {n}"
        );
    }

    // A new sender naming no segment (none learned here) meets the configured limits.
    for n in 0..6 {
        let paid = format!("2026-04-06T14:{:02}:00Z", n * 5);
        let verdict = s.send(
            &format!("U{n}"),
            "NEW-U",
            &format!("X-{n}"),
            100.0,
            &paid,
            json!({}),
        );
        if n == 5 {
            let velocity = verdict
                .alerts
                .iter()
                .find(|alert| alert.rule == "VelocityRule")
                .expect("the configured hourly limit of 5");
            assert_eq!(velocity.metadata["judged_against"], "peer limits");
            assert_eq!(velocity.evidence, ["6 transfers in 1 hour (limit 5)"]);
        }
    }
}

#[test]
fn a_segments_quiet_scale_is_its_typical_members_quieter_days() {
    // Members whose quieter days are 20, 40, ... 400: the median member's is 220 (the
    // eleventh of twenty); each member's big day (10,000) does not move its quieter days.
    let transfers = (0..20).flat_map(|i| {
        let quiet = 20.0 * f64::from(i + 1);
        (0..10).map(move |day| {
            let amount = if day == 9 { 10_000.0 } else { quiet };
            transfer(&format!("C{i}"), None, at(day, 12), amount)
        })
    });
    let learned = PeerGroups::learn(transfers, &config(20));
    assert_eq!(learned.group(None).expect("learned").quiet_transfer, 220.0);
}

#[test]
fn a_first_hand_over_to_an_account_that_never_sent_is_judged_at_its_segments_scale() {
    // Retail customers send about 300 a transfer.
    let peers = PeerGroups::learn(
        senders("retail", Some("retail"), 20, 10, 2, 300.0),
        &config(20),
    );
    let mut s = Scenario::with_detector(
        AmlDetector::new(config(20))
            .expect("valid settings")
            .with_peer_groups(peers),
    );
    // A new retail account that has never sent anything receives 5,000 from a stranger.
    let first = s.send(
        "H1",
        "SRC",
        "MULE",
        5_000.0,
        "2026-04-06T10:00:00Z",
        json!({"receiver_segment": "retail"}),
    );
    assert_eq!(rules(&first), ["ProfileBreakRule"]);
    assert!(first.flagged);
    let alert = &first.alerts[0];
    assert_eq!(
        alert.metadata["receiver_judged_against"],
        "peer group retail"
    );
    assert_eq!(
        alert.evidence,
        [
            "SRC has no history of sending",
            "MULE has not sent anything yet; the 20 established senders of segment retail send \
             about $300.00 a transfer on their quieter days (median)"
        ]
    );
    // The same hand-over to an account of no known segment, or of a segment without a
    // group, is not judged: nothing is known of the receiver.
    let unknown = s.send(
        "H2",
        "SRC-2",
        "MULE-2",
        5_000.0,
        "2026-04-06T10:00:00Z",
        json!({}),
    );
    assert!(rules(&unknown).is_empty(), "{:?}", rules(&unknown));
    let thin = json!({"receiver_segment": "private"});
    let thin = s.send(
        "H3",
        "SRC-3",
        "MULE-3",
        5_000.0,
        "2026-04-06T10:00:00Z",
        thin,
    );
    assert!(rules(&thin).is_empty(), "{:?}", rules(&thin));
    // Nor is a sum worth following within five times the segment's scale.
    let modest = json!({"receiver_segment": "retail"});
    let modest = s.send(
        "H4",
        "SRC-4",
        "NEW-4",
        1_200.0,
        "2026-04-06T10:00:00Z",
        modest,
    );
    assert!(rules(&modest).is_empty(), "{:?}", rules(&modest));
}

#[test]
fn a_sender_belongs_to_the_segment_its_latest_transfer_names_whatever_the_order_read() {
    // Twenty customers who became business customers on their last day, read newest first.
    let mut transfers = senders("c", Some("retail"), 20, 10, 1, 100.0);
    for transfer in &mut transfers {
        if transfer.at >= at(9, 0) {
            transfer.segment = Some("business".to_owned());
        }
    }
    transfers.reverse();
    let learned = PeerGroups::learn(transfers, &config(20));
    let segments: Vec<&str> = learned
        .groups
        .iter()
        .map(|group| group.segment.as_str())
        .collect();
    assert_eq!(segments, ["business"]);
}
