//! Peer groups: what established senders of one customer segment ordinarily do in an hour and a
//! day, learned from the deployment's own transfers. A sender too new for a profile of its own is
//! judged against its segment's peers instead of against limits someone guessed.

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::AmlConfig;
use crate::profile::scales;

/// The segment of senders that name none (`sender_segment` absent).
pub const UNSEGMENTED: &str = "unsegmented";

/// How much a sender may move in an hour and in a day before velocity speaks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeerLimits {
    pub transactions_1h: u32,
    pub amount_1h: f64,
    pub transactions_24h: u32,
    pub amount_24h: f64,
}

impl PeerLimits {
    /// The limits set in `[aml]` (`velocity_1h_*`, `velocity_24h_*`): what a new sender meets
    /// while its segment has too few established members to learn from.
    pub fn configured(config: &AmlConfig) -> Self {
        Self {
            transactions_1h: config.velocity_1h_max_transactions,
            amount_1h: config.velocity_1h_max_amount,
            transactions_24h: config.velocity_24h_max_transactions,
            amount_24h: config.velocity_24h_max_amount,
        }
    }
}

/// One segment's learned limits and what they were learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerGroup {
    pub segment: String,
    /// Established senders of the segment (enough active days and transfers for a profile).
    pub members: usize,
    /// Their transfers in the learning window.
    pub transfers: usize,
    /// The `quantile` of what their transfers saw in the hour and the day before them, each
    /// member weighing the same however busy it is.
    pub limits: PeerLimits,
    /// What a member sends on its quieter days (the median over members of each one's lower
    /// quartile of day-average transfers): the scale a new account of the segment is judged at
    /// when it receives a first hand-over far above it.
    pub quiet_transfer: f64,
}

/// Every segment's peer group, as last learned; empty until the first learning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerGroups {
    /// The newest transfer learned from: the window ends here, in event time.
    pub learned_through: Option<DateTime<Utc>>,
    /// Days of transfers learned from (`velocity_baseline_days`).
    pub window_days: u32,
    /// The quantile the limits sit at (`peer_group_quantile`).
    pub quantile: f64,
    /// Fewest established members a segment needs (`peer_group_min_members`).
    pub min_members: usize,
    pub groups: Vec<PeerGroup>,
}

/// A past transfer, as learning reads it from stored decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct PastTransfer {
    pub sender: String,
    pub segment: Option<String>,
    pub at: DateTime<Utc>,
    pub amount: f64,
}

impl PeerGroups {
    /// Learns each segment's limits from `transfers` (any order): the last `velocity_baseline_days`
    /// before the newest one. A sender belongs to the segment its latest transfer names; only
    /// established senders (`baseline_min_active_days`, `baseline_min_transfers`) are members,
    /// and a segment with fewer than `peer_group_min_members` of them is left out (its new
    /// senders keep the configured limits). [`PeerLearning`] does the same from transfers read
    /// a page at a time.
    pub fn learn(transfers: impl IntoIterator<Item = PastTransfer>, config: &AmlConfig) -> Self {
        let mut learning = PeerLearning::default();
        for transfer in transfers {
            learning.add(
                &transfer.sender,
                transfer.segment.as_deref(),
                transfer.at,
                transfer.amount,
            );
        }
        learning.finish(config)
    }

    /// The learned group of `segment` (absent: the unsegmented senders), if it had enough
    /// members.
    pub fn group(&self, segment: Option<&str>) -> Option<&PeerGroup> {
        let segment = segment.unwrap_or(UNSEGMENTED);
        self.groups.iter().find(|group| group.segment == segment)
    }
}

/// Past transfers gathered sender by sender for [`PeerGroups`], one page of stored decisions at a
/// time: each sender's name and segment are kept once, each transfer as its time and amount.
#[derive(Debug, Default)]
pub struct PeerLearning {
    senders: FxHashMap<String, SenderHistory>,
    newest: Option<DateTime<Utc>>,
}

/// One sender's transfers, and the segment its latest one named.
#[derive(Debug)]
struct SenderHistory {
    sent: Vec<(DateTime<Utc>, f64)>,
    segment: Option<String>,
    segment_at: DateTime<Utc>,
}

impl PeerLearning {
    /// Adds one past transfer.
    pub fn add(&mut self, sender: &str, segment: Option<&str>, at: DateTime<Utc>, amount: f64) {
        self.newest = self.newest.max(Some(at));
        let history = match self.senders.get_mut(sender) {
            Some(history) => history,
            None => self
                .senders
                .entry(sender.to_owned())
                .or_insert_with(|| SenderHistory {
                    sent: Vec::new(),
                    segment: segment.map(str::to_owned),
                    segment_at: at,
                }),
        };
        if at >= history.segment_at {
            if history.segment.as_deref() != segment {
                history.segment = segment.map(str::to_owned);
            }
            history.segment_at = at;
        }
        history.sent.push((at, amount));
    }

    /// The peer groups of what was added (see [`PeerGroups::learn`]).
    pub fn finish(self, config: &AmlConfig) -> PeerGroups {
        let mut learned = PeerGroups {
            learned_through: self.newest,
            window_days: config.velocity_baseline_days,
            quantile: config.peer_group_quantile,
            min_members: config.peer_group_min_members as usize,
            groups: Vec::new(),
        };
        let Some(newest) = self.newest else {
            return learned;
        };
        let start = newest - Duration::days(i64::from(config.velocity_baseline_days));
        let mut segments: FxHashMap<String, Vec<(Vec<Sample>, f64)>> = FxHashMap::default();
        for (_, history) in self.senders {
            let mut sent = history.sent;
            sent.retain(|(at, _)| *at > start);
            sent.sort_by_key(|(at, _)| *at);
            if sent.is_empty() || !established(&sent, config) {
                continue;
            }
            let segment = history.segment.unwrap_or_else(|| UNSEGMENTED.to_owned());
            segments
                .entry(segment)
                .or_default()
                .push((samples(&sent), quiet_transfer(&sent)));
        }
        learned.groups = segments
            .into_iter()
            .filter(|(_, members)| members.len() >= learned.min_members.max(1))
            .map(|(segment, members)| {
                let mut quiet: Vec<f64> = members.iter().map(|(_, quiet)| *quiet).collect();
                quiet.sort_by(f64::total_cmp);
                let samples: Vec<Vec<Sample>> =
                    members.into_iter().map(|(samples, _)| samples).collect();
                PeerGroup {
                    limits: limits_at(&samples, config.peer_group_quantile),
                    members: samples.len(),
                    transfers: samples.iter().map(Vec::len).sum(),
                    quiet_transfer: round_cents(quiet[quiet.len() / 2]),
                    segment,
                }
            })
            .collect();
        learned.groups.sort_by(|a, b| a.segment.cmp(&b.segment));
        learned
    }
}

/// Whether a sender's transfers in the window make a profile (as `Profile::established` asks).
fn established(sent: &[(DateTime<Utc>, f64)], config: &AmlConfig) -> bool {
    let mut days: Vec<_> = sent.iter().map(|(at, _)| at.date_naive()).collect();
    days.dedup();
    days.len() >= config.baseline_min_active_days as usize
        && sent.len() >= config.baseline_min_transfers as usize
}

/// A sender's quieter days' transfer (as its profile computes it): the lower quartile of its
/// days' average transfers.
fn quiet_transfer(sent: &[(DateTime<Utc>, f64)]) -> f64 {
    let mut day_means = Vec::new();
    for day in sent.chunk_by(|a, b| a.0.date_naive() == b.0.date_naive()) {
        day_means.push(day.iter().map(|(_, amount)| amount).sum::<f64>() / day.len() as f64);
    }
    scales(&mut day_means).map_or(0.0, |(_, quiet)| quiet)
}

/// What one transfer saw: its hour's and its day's count and amount, itself included (what
/// velocity measures at a transfer).
#[derive(Debug, Clone, Copy)]
struct Sample {
    transactions_1h: f64,
    amount_1h: f64,
    transactions_24h: f64,
    amount_24h: f64,
}

/// Each of a sender's transfers (oldest first) with its trailing hour and day.
fn samples(sent: &[(DateTime<Utc>, f64)]) -> Vec<Sample> {
    let trailing = |span: Duration| {
        let mut first = 0;
        let mut amount = 0.0;
        sent.iter()
            .enumerate()
            .map(|(i, &(at, sent_amount))| {
                amount += sent_amount;
                // From `span` before it, inclusive, as velocity counts.
                while sent[first].0 < at - span {
                    amount -= sent[first].1;
                    first += 1;
                }
                ((i + 1 - first) as f64, amount)
            })
            .collect::<Vec<_>>()
    };
    trailing(Duration::hours(1))
        .into_iter()
        .zip(trailing(Duration::hours(24)))
        .map(
            |((transactions_1h, amount_1h), (transactions_24h, amount_24h))| Sample {
                transactions_1h,
                amount_1h,
                transactions_24h,
                amount_24h,
            },
        )
        .collect()
}

/// The `quantile` of the members' samples, each member weighing the same.
fn limits_at(members: &[Vec<Sample>], quantile: f64) -> PeerLimits {
    let at = |figure: fn(&Sample) -> f64| {
        let mut weighted: Vec<(f64, f64)> = members
            .iter()
            .flat_map(|samples| {
                let weight = 1.0 / samples.len() as f64;
                samples.iter().map(move |sample| (figure(sample), weight))
            })
            .collect();
        weighted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let wanted = quantile * members.len() as f64;
        let mut cumulative = 0.0;
        for (value, weight) in &weighted {
            cumulative += weight;
            if cumulative >= wanted - 1e-9 {
                return *value;
            }
        }
        weighted.last().map_or(0.0, |(value, _)| *value)
    };
    PeerLimits {
        transactions_1h: at(|sample| sample.transactions_1h) as u32,
        amount_1h: round_cents(at(|sample| sample.amount_1h)),
        transactions_24h: at(|sample| sample.transactions_24h) as u32,
        amount_24h: round_cents(at(|sample| sample.amount_24h)),
    }
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::AmlDetector;
    use crate::scenario::{Scenario, rules};

    fn at(day: i64, hour: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .expect("a fixed time")
            .with_timezone(&Utc)
            + Duration::days(day)
            + Duration::hours(hour)
    }

    fn transfer(
        sender: &str,
        segment: Option<&str>,
        at: DateTime<Utc>,
        amount: f64,
    ) -> PastTransfer {
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
            (0..90)
                .map(move |n| transfer("busy", None, at(day, 0) + Duration::minutes(n * 15), 100.0))
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
}
