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
