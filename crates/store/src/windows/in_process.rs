use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Duration};
use redflag_core::{Activity, History, Observation, WindowMode};

use super::{ActivityWindows, Sweep, WindowFuture};

/// Independent locks, so that unrelated entities do not queue behind each other.
const SHARDS: usize = 64;
/// How many observations of a shard between sweeps of its expired windows.
const SWEEP_EVERY: u64 = 4096;

/// Windows held in this process's memory: the embedded default, for a single gateway.
pub struct InProcessWindows {
    shards: Vec<Mutex<HashMap<String, Window>>>,
    max_entries: usize,
    observations: AtomicU64,
}

struct Window {
    entries: VecDeque<Activity>,
    horizon: Duration,
    touched: Instant,
}

impl InProcessWindows {
    /// Windows keeping at most `max_entries` activities each.
    pub fn new(max_entries: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            max_entries: max_entries.max(1),
            observations: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Window>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        &self.shards[hasher.finish() as usize % SHARDS]
    }

    fn observe_one(&self, observation: &Observation) -> Vec<Activity> {
        let key = observation.key.to_string();
        let shard = self.shard(&key);
        // A panic while holding the lock cannot leave a window half-updated in a way that matters
        // (each step below keeps it valid), so a poisoned lock is still usable.
        let mut windows = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if !observation.mode.records() {
            // A read leaves the window exactly as it was (as in Redis): its horizon and expiry
            // belong to the observations that record into it.
            return windows.get(&key).map_or_else(Vec::new, |window| {
                window.prior(&observation.activity, observation.horizon).0
            });
        }
        if self
            .observations
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            windows.retain(|_, window| !window.expired());
        }
        let window = windows.entry(key).or_insert_with(|| Window {
            // Room for one entry: most windows of a large population hold one or two (a sender
            // seen once today), and the default first allocation holds four.
            entries: VecDeque::with_capacity(1),
            horizon: observation.horizon,
            touched: Instant::now(),
        });
        window.horizon = observation.horizon;
        window.touched = Instant::now();
        match observation.mode {
            WindowMode::Aggregate { bucket } => window.aggregate(&observation.activity, bucket),
            WindowMode::Latest { keep } => {
                window.record(&observation.activity, self.max_entries.min(keep.max(1)))
            }
            _ => window.record(&observation.activity, self.max_entries),
        }
    }
}

impl Window {
    fn expired(&self) -> bool {
        self.horizon
            .to_std()
            .is_ok_and(|horizon| self.touched.elapsed() > horizon)
    }

    /// Returns the buckets within the horizon (the current one as it was before this activity),
    /// then adds the activity to its bucket and drops buckets older than the horizon.
    fn aggregate(&mut self, activity: &Activity, bucket: Duration) -> Vec<Activity> {
        let width = bucket.num_milliseconds().max(1);
        let index = activity.at.timestamp_millis().div_euclid(width);
        let oldest = (activity.at - self.horizon)
            .timestamp_millis()
            .div_euclid(width);
        let prior = self
            .entries
            .iter()
            .filter(|b| {
                b.reference
                    .parse::<i64>()
                    .is_ok_and(|i| i >= oldest && i <= index)
            })
            .cloned()
            .collect();
        let reference = index.to_string();
        match self.entries.iter_mut().find(|b| b.reference == reference) {
            Some(current) => {
                current.amount += activity.amount;
                current.quantity += 1.0;
            }
            None => {
                let start = DateTime::from_timestamp_millis(index * width).unwrap_or(activity.at);
                let position = self
                    .entries
                    .iter()
                    .rposition(|b| b.at <= start)
                    .map_or(0, |i| i + 1);
                self.entries.insert(
                    position,
                    Activity {
                        at: start,
                        reference,
                        amount: activity.amount,
                        quantity: 1.0,
                        counterparty: String::new(),
                    },
                );
            }
        }
        let newest = self
            .entries
            .back()
            .map_or(index, |b| b.reference.parse().unwrap_or(index));
        let horizon_buckets = self.horizon.num_milliseconds().div_euclid(width) + 1;
        self.entries.retain(|b| {
            b.reference
                .parse::<i64>()
                .is_ok_and(|i| i > newest - horizon_buckets - 1)
        });
        prior
    }

    /// The activity within `horizon` before `activity` (not itself), and whether the window
    /// already holds its reference.
    fn prior(&self, activity: &Activity, horizon: Duration) -> (Vec<Activity>, bool) {
        let since = activity.at - horizon;
        let mut already_held = false;
        let prior = self
            .entries
            .iter()
            .filter(|past| {
                if past.reference == activity.reference {
                    already_held = true;
                    return false;
                }
                past.at >= since && past.at <= activity.at
            })
            .cloned()
            .collect();
        (prior, already_held)
    }

    /// Returns the prior activity within the horizon, then adds the new one (unless its reference
    /// is already held) and trims by age and count.
    fn record(&mut self, activity: &Activity, max_entries: usize) -> Vec<Activity> {
        let (prior, already_held) = self.prior(activity, self.horizon);
        if !already_held {
            let position = self
                .entries
                .iter()
                .rposition(|past| past.at <= activity.at)
                .map_or(0, |index| index + 1);
            self.entries.insert(position, activity.clone());
        }
        if let Some(newest) = self.entries.back().map(|newest| newest.at) {
            while self
                .entries
                .front()
                .is_some_and(|oldest| oldest.at < newest - self.horizon)
            {
                self.entries.pop_front();
            }
        }
        while self.entries.len() > max_entries {
            self.entries.pop_front();
        }
        prior
    }
}

impl InProcessWindows {
    /// Reads and updates the windows of one event, as [`ActivityWindows::observe`] does, without
    /// a runtime: in-process windows never wait, so a service (or test) that embeds a detector
    /// with them can call this directly.
    pub fn observe_now(&self, observations: &[Observation]) -> History {
        let mut history = History::new();
        for observation in observations {
            history.insert(observation.key.clone(), self.observe_one(observation));
        }
        history
    }
}

impl InProcessWindows {
    /// Removes every window untouched for longer than its horizon, shard by shard (each shard is
    /// locked only while it is swept).
    pub fn expire_now(&self) -> Sweep {
        let mut sweep = Sweep::default();
        for shard in &self.shards {
            let mut windows = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let before = windows.len();
            windows.retain(|_, window| !window.expired());
            sweep.removed += before - windows.len();
            sweep.live += windows.len();
        }
        sweep
    }
}

impl ActivityWindows for InProcessWindows {
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History> {
        Box::pin(async move { Ok(self.observe_now(observations)) })
    }

    fn expire(&self) -> WindowFuture<'_, Sweep> {
        Box::pin(async move { Ok(self.expire_now()) })
    }

    fn ping(&self) -> WindowFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use redflag_core::{EntityKind, Module, WindowKey};

    use super::*;

    fn observation(reference: &str, horizon: Duration, mode: WindowMode) -> Observation {
        Observation {
            key: WindowKey::new(Module::Aml, EntityKind::Receiver, "ACCOUNT"),
            activity: Activity {
                at: DateTime::<Utc>::UNIX_EPOCH + Duration::days(1),
                reference: reference.to_owned(),
                amount: 1.0,
                quantity: 0.0,
                counterparty: String::new(),
            },
            horizon,
            mode,
        }
    }

    #[test]
    fn a_read_leaves_the_windows_horizon_and_expiry_alone() {
        let windows = InProcessWindows::new(100);
        windows.observe_one(&observation("IN", Duration::hours(48), WindowMode::Record));
        let touched = |windows: &InProcessWindows| {
            let key = observation("x", Duration::hours(1), WindowMode::Record)
                .key
                .to_string();
            let shard = windows
                .shard(&key)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            shard
                .get(&key)
                .map(|window| (window.horizon, window.touched))
        };
        let before = touched(&windows);
        let seen = windows.observe_one(&observation(
            "peek",
            Duration::hours(1),
            WindowMode::ReadOnly,
        ));
        assert_eq!(seen.len(), 1);
        assert_eq!(
            touched(&windows),
            before,
            "horizon and last use unchanged by a read"
        );
        assert_eq!(
            before.map(|(horizon, _)| horizon),
            Some(Duration::hours(48))
        );
    }
}
