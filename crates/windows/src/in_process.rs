use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use redflag_core::{Activity, History, Observation, WindowKey, WindowMode, Windows, funding_depth};

use crate::Sweep;

/// Independent locks, so that unrelated entities do not queue behind each other.
const SHARDS: usize = 64;
/// How many observations of a shard between sweeps of its expired windows.
const SWEEP_EVERY: u64 = 4096;

/// Windows held in this process's memory: the embedded default, for a single gateway.
///
/// Memory grows with the parties active within the horizons, so each window is kept compact:
/// the key held as a 128-bit digest ([`KeyDigest`]), each entry's texts in one allocation that
/// readers share rather than copy, and an aggregate window as bare (index, sum, count) buckets.
/// [`InProcessWindows::with_max_windows`] bounds their number.
pub struct InProcessWindows {
    shards: Vec<Mutex<Shard>>,
    /// The two randomly keyed hashes a window's key is held as ([`KeyDigest`]).
    digests: (RandomState, RandomState),
    max_entries: usize,
    /// Most windows a shard holds; 0: no bound.
    max_per_shard: usize,
    observations: AtomicU64,
    /// Windows forgotten to stay within the bound since the last sweep.
    evicted: AtomicU64,
    /// What the windows' last-use times count from.
    epoch: Instant,
}

/// One shard's windows. The digest is already a uniform hash, so the map uses it as it is.
type Shard = HashMap<KeyDigest, Window, BuildHasherDefault<DigestHasher>>;

/// A window's key as the windows hold it: 128 bits from two 64-bit SipHashes of the key, keyed
/// at random when the windows are made (std's `RandomState`), in place of the key's text. With 200,000 windows
/// that saves a 24-48 byte allocation per window and formatting the key on every observation.
/// Two different keys share a digest with probability 2^-128 (about 10^-28 for any pair among
/// 200,000 windows), and since the hash keys are secret to this process, nobody can choose ids
/// that collide.
#[derive(Clone, Copy, PartialEq, Eq)]
struct KeyDigest {
    /// Chooses the shard.
    shard: u64,
    /// Places the window in its shard's map.
    slot: u64,
}

impl Hash for KeyDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.slot);
    }
}

/// Hands a [`KeyDigest`]'s slot hash to the map unchanged.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the digest's one field); should anything else be
        // hashed, fold it in rather than lose it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

struct Window {
    entries: Entries,
    horizon_ms: i64,
    /// When an observation last recorded into it, in milliseconds since the windows' epoch.
    touched_ms: u64,
    /// The number of that observation: the order in which windows were last used, without ties.
    last_use: u64,
}

/// The share of a full shard's windows forgotten at once, least recently used first: one pass
/// over the shard then makes room for many new windows.
const EVICT_DIVISOR: usize = 8;

/// A window's contents: activities, or per-bucket sums for an aggregate window.
enum Entries {
    Detail(VecDeque<Activity>),
    Buckets(Vec<Bucket>),
}

/// One time bucket of an aggregate window.
struct Bucket {
    index: i64,
    sum: f64,
    count: f64,
}

impl InProcessWindows {
    /// Windows keeping at most `max_entries` activities each, as many windows as are in use.
    pub fn new(max_entries: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            digests: (RandomState::new(), RandomState::new()),
            max_entries: max_entries.max(1),
            max_per_shard: 0,
            observations: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Holds at most about `max_windows` windows (0: no bound), so that memory stays bounded
    /// however many parties are active. When a new window would pass the bound, the least
    /// recently used eighth of its shard is forgotten: those parties' history is lost, and the
    /// next sweep counts them ([`Sweep::evicted`]).
    pub fn with_max_windows(mut self, max_windows: usize) -> Self {
        self.max_per_shard = max_windows.div_ceil(SHARDS);
        self
    }

    fn digest(&self, key: &WindowKey) -> KeyDigest {
        KeyDigest {
            shard: self.digests.0.hash_one(key),
            slot: self.digests.1.hash_one(key),
        }
    }

    fn shard(&self, digest: KeyDigest) -> &Mutex<Shard> {
        // The remainder is below SHARDS, so the cast loses nothing.
        &self.shards[(digest.shard % SHARDS as u64) as usize]
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The window's prior activity; with `add`, `activity` (the observation's own, or with its
    /// funds-flow depth set) is then added to it.
    fn observe_one(
        &self,
        key: KeyDigest,
        observation: &Observation,
        activity: &Activity,
        add: bool,
    ) -> Vec<Activity> {
        let shard = self.shard(key);
        let horizon_ms = observation.horizon.num_milliseconds().max(1);
        let now_ms = self.now_ms();
        // A panic while holding the lock cannot leave a window half-updated in a way that matters
        // (each step below keeps it valid), so a poisoned lock is still usable.
        let mut windows = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if !observation.mode.records() {
            // A read leaves the window exactly as it was (as in Redis): its horizon and expiry
            // belong to the observations that record into it.
            return windows.get(&key).map_or_else(Vec::new, |window| {
                window.prior(activity, horizon_ms, observation.mode.bucket())
            });
        }
        let sequence = self.observations.fetch_add(1, Ordering::Relaxed);
        if sequence.is_multiple_of(SWEEP_EVERY) {
            windows.retain(|_, window| !window.expired(now_ms));
        }
        if self.max_per_shard > 0
            && windows.len() >= self.max_per_shard
            && !windows.contains_key(&key)
        {
            let evicted = evict_least_recent(&mut windows, self.max_per_shard);
            self.evicted.fetch_add(evicted, Ordering::Relaxed);
        }
        let aggregate = matches!(observation.mode, WindowMode::Aggregate { .. });
        let window = windows.entry(key).or_insert_with(|| Window {
            // Room for one entry: most windows of a large population hold one or two (a
            // sender seen once today), and the default first allocation holds four.
            entries: if aggregate {
                Entries::Buckets(Vec::with_capacity(1))
            } else {
                Entries::Detail(VecDeque::with_capacity(1))
            },
            horizon_ms,
            touched_ms: now_ms,
            last_use: sequence,
        });
        window.horizon_ms = horizon_ms;
        window.touched_ms = now_ms;
        window.last_use = sequence;
        match observation.mode {
            WindowMode::Aggregate { bucket } => window.aggregate(activity, bucket, add),
            WindowMode::Latest { keep } => {
                window.record(activity, self.max_entries.min(keep.max(1)))
            }
            _ => window.record(activity, self.max_entries),
        }
    }
}

impl Window {
    fn expired(&self, now_ms: u64) -> bool {
        let idle = now_ms.saturating_sub(self.touched_ms);
        u64::try_from(self.horizon_ms).is_ok_and(|horizon| idle > horizon)
    }

    /// Returns the buckets within the horizon (the current one as it was before this activity),
    /// then, with `add`, adds the activity to its bucket and drops buckets older than the horizon.
    fn aggregate(&mut self, activity: &Activity, bucket: Duration, add: bool) -> Vec<Activity> {
        let Entries::Buckets(buckets) = &mut self.entries else {
            // A key is only ever observed one way; should that change, the new way starts afresh.
            self.entries = Entries::Buckets(Vec::with_capacity(1));
            return self.aggregate(activity, bucket, add);
        };
        let width = bucket.num_milliseconds().max(1);
        let at_ms = activity.at.timestamp_millis();
        let index = at_ms.div_euclid(width);
        let prior = buckets_within(buckets, activity, width, self.horizon_ms);
        if !add {
            return prior;
        }
        match buckets.binary_search_by_key(&index, |b| b.index) {
            Ok(found) => {
                buckets[found].sum += activity.amount;
                buckets[found].count += 1.0;
            }
            Err(position) => buckets.insert(
                position,
                Bucket {
                    index,
                    sum: activity.amount,
                    count: 1.0,
                },
            ),
        }
        let newest = buckets.last().map_or(index, |b| b.index);
        let horizon_buckets = self.horizon_ms.div_euclid(width) + 1;
        buckets.retain(|b| b.index > newest - horizon_buckets - 1);
        prior
    }

    /// What a read sees: the activity within `horizon_ms` before `activity` (not itself), or for
    /// a read of an aggregate (`bucket`), its buckets within the horizon.
    fn prior(
        &self,
        activity: &Activity,
        horizon_ms: i64,
        bucket: Option<Duration>,
    ) -> Vec<Activity> {
        match (&self.entries, bucket) {
            (Entries::Detail(entries), None) => prior(entries, activity, horizon_ms).0,
            (Entries::Buckets(buckets), Some(bucket)) => buckets_within(
                buckets,
                activity,
                bucket.num_milliseconds().max(1),
                horizon_ms,
            ),
            _ => Vec::new(),
        }
    }

    /// Returns the prior activity within the horizon, then adds the new one (unless its reference
    /// is already held) and trims by age and count.
    fn record(&mut self, activity: &Activity, max_entries: usize) -> Vec<Activity> {
        if let Entries::Buckets(_) = self.entries {
            // A key is only ever observed one way; should that change, the new way starts afresh.
            self.entries = Entries::Detail(VecDeque::with_capacity(1));
        }
        let Entries::Detail(entries) = &mut self.entries else {
            return Vec::new();
        };
        let (prior, already_held) = prior(entries, activity, self.horizon_ms);
        if !already_held {
            let mut held = activity.clone();
            held.at = to_millis(held.at);
            let position = entries
                .iter()
                .rposition(|past| past.at <= held.at)
                .map_or(0, |index| index + 1);
            entries.insert(position, held);
        }
        if let Some(newest) = entries.back().map(|newest| newest.at) {
            let oldest_kept = newest - Duration::milliseconds(self.horizon_ms);
            while entries
                .front()
                .is_some_and(|oldest| oldest.at < oldest_kept)
            {
                entries.pop_front();
            }
        }
        while entries.len() > max_entries {
            entries.pop_front();
        }
        prior
    }
}

/// The buckets of an aggregate window from `horizon_ms` before `activity` up to its own bucket,
/// as activities (`at`: the bucket's start, `amount`: its sum, `quantity`: its count).
fn buckets_within(
    buckets: &[Bucket],
    activity: &Activity,
    width: i64,
    horizon_ms: i64,
) -> Vec<Activity> {
    let at_ms = activity.at.timestamp_millis();
    let index = at_ms.div_euclid(width);
    let oldest = (at_ms - horizon_ms).div_euclid(width);
    buckets
        .iter()
        .filter(|b| b.index >= oldest && b.index <= index)
        .map(|b| Activity::bucket(b.index, width, b.sum, b.count, activity.at))
        .collect()
}

/// Forgets the least recently used windows of a full shard, an eighth of `max` of them; returns
/// how many.
fn evict_least_recent(windows: &mut Shard, max: usize) -> u64 {
    let keep = max - max.div_ceil(EVICT_DIVISOR);
    let Some(forget) = windows.len().checked_sub(keep).filter(|&n| n > 0) else {
        return 0;
    };
    let mut uses: Vec<u64> = windows.values().map(|window| window.last_use).collect();
    let (_, &mut newest_forgotten, _) = uses.select_nth_unstable(forget - 1);
    let before = windows.len();
    windows.retain(|_, window| window.last_use > newest_forgotten);
    u64::try_from(before - windows.len()).unwrap_or(u64::MAX)
}

/// The activity within `horizon_ms` before `activity` (not itself), and whether the window
/// already holds its reference.
fn prior(
    entries: &VecDeque<Activity>,
    activity: &Activity,
    horizon_ms: i64,
) -> (Vec<Activity>, bool) {
    let at = to_millis(activity.at);
    let since = at - Duration::milliseconds(horizon_ms);
    let mut already_held = false;
    let prior = entries
        .iter()
        .filter(|past| {
            if past.reference() == activity.reference() {
                already_held = true;
                return false;
            }
            past.at >= since && past.at <= at
        })
        .cloned()
        .collect();
    (prior, already_held)
}

/// Windows keep times to the millisecond, as Redis does, so that both stores answer alike.
fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(3)
}

impl InProcessWindows {
    /// Reads and updates the windows of one event, atomically per window: what each held during
    /// its observation's horizon, before this event. In-process windows never wait, so this is a
    /// plain call; the service's asynchronous window trait wraps it.
    pub fn observe_now(&self, observations: &[Observation]) -> History {
        // An event a recording window already holds is a resend (a retry after a lost answer or
        // a crash): it reads its history again but adds to no window, aggregates included.
        // Each key is hashed once, for both questions.
        let keys: Vec<KeyDigest> = observations
            .iter()
            .map(|observation| self.digest(&observation.key))
            .collect();
        let resent = observations
            .iter()
            .zip(&keys)
            .any(|(observation, &key)| self.holds(key, observation));
        let mut history = History::new();
        for (index, (observation, &key)) in observations.iter().zip(&keys).enumerate() {
            let prior = match observation.mode {
                WindowMode::Forward {
                    source,
                    within,
                    min_share,
                } => {
                    let funding = observations
                        .get(source)
                        .filter(|_| source < index)
                        .map_or(&[][..], |source| history.get(&source.key));
                    let mut activity = observation.activity.clone();
                    activity.quantity = funding_depth(
                        funding,
                        observation.activity.at,
                        observation.activity.amount,
                        within,
                        min_share,
                    );
                    self.observe_one(key, observation, &activity, !resent)
                }
                _ => self.observe_one(key, observation, &observation.activity, !resent),
            };
            history.insert(observation.key.clone(), prior);
        }
        history
    }

    /// Whether `observation` records into a window that already holds its reference.
    fn holds(&self, key: KeyDigest, observation: &Observation) -> bool {
        if matches!(
            observation.mode,
            WindowMode::ReadOnly | WindowMode::Aggregate { .. } | WindowMode::ReadAggregate { .. }
        ) {
            return false;
        }
        let windows = self
            .shard(key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        windows
            .get(&key)
            .is_some_and(|window| match &window.entries {
                Entries::Detail(entries) => entries
                    .iter()
                    .any(|entry| entry.reference() == observation.activity.reference()),
                Entries::Buckets(_) => false,
            })
    }
}

/// Windows an embedder owns: `detector.score(&event, &mut windows)`.
impl Windows for InProcessWindows {
    fn observe(&mut self, observations: &[Observation]) -> History {
        self.observe_now(observations)
    }
}

/// Windows shared between threads, each window locked on its own:
/// `detector.score(&event, &mut &windows)`.
impl Windows for &InProcessWindows {
    fn observe(&mut self, observations: &[Observation]) -> History {
        self.observe_now(observations)
    }
}

impl InProcessWindows {
    /// Removes every window untouched for longer than its horizon, shard by shard (each shard is
    /// locked only while it is swept).
    pub fn expire_now(&self) -> Sweep {
        let now_ms = self.now_ms();
        let mut sweep = Sweep::default();
        for shard in &self.shards {
            let mut windows = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let before = windows.len();
            windows.retain(|_, window| !window.expired(now_ms));
            sweep.removed += before - windows.len();
            sweep.live += windows.len();
        }
        sweep.evicted = self.evicted.swap(0, Ordering::Relaxed);
        sweep
    }
}

#[cfg(test)]
mod tests {
    use redflag_core::{EntityKind, Module, WindowKey};

    use super::*;

    fn observation(reference: &str, horizon: Duration, mode: WindowMode) -> Observation {
        Observation {
            key: WindowKey::new(Module::Aml, EntityKind::Receiver, "ACCOUNT"),
            activity: Activity::new(
                DateTime::<Utc>::UNIX_EPOCH + Duration::days(1),
                reference,
                1.0,
                0.0,
                "",
            ),
            horizon,
            mode,
        }
    }

    #[test]
    fn a_read_leaves_the_windows_horizon_and_expiry_alone() {
        let windows = InProcessWindows::new(100);
        let recorded = observation("IN", Duration::hours(48), WindowMode::Record);
        windows.observe_one(
            windows.digest(&recorded.key),
            &recorded,
            &recorded.activity,
            true,
        );
        let touched = |windows: &InProcessWindows| {
            let key = windows.digest(&observation("x", Duration::hours(1), WindowMode::Record).key);
            let shard = windows
                .shard(key)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            shard
                .get(&key)
                .map(|window| (window.horizon_ms, window.touched_ms))
        };
        let before = touched(&windows);
        let peek = observation("peek", Duration::hours(1), WindowMode::ReadOnly);
        let seen = windows.observe_one(windows.digest(&peek.key), &peek, &peek.activity, true);
        assert_eq!(seen.len(), 1);
        assert_eq!(
            touched(&windows),
            before,
            "horizon and last use unchanged by a read"
        );
        assert_eq!(
            before.map(|(horizon, _)| horizon),
            Some(Duration::hours(48).num_milliseconds())
        );
    }
}
