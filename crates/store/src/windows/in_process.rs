use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Duration};
use redflag_core::{Activity, History, Observation, WindowMode};

use super::{ActivityWindows, WindowFuture};

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
        if !observation.mode.records() && !windows.contains_key(&key) {
            return Vec::new();
        }
        if self
            .observations
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            windows.retain(|_, window| !window.expired());
        }
        let window = windows.entry(key).or_insert_with(|| Window {
            entries: VecDeque::new(),
            horizon: observation.horizon,
            touched: Instant::now(),
        });
        window.horizon = observation.horizon;
        window.touched = Instant::now();
        match observation.mode {
            WindowMode::Aggregate { bucket } => window.aggregate(&observation.activity, bucket),
            mode => window.observe(&observation.activity, mode.records(), self.max_entries),
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

    /// Returns the prior activity within the horizon, then, when `record`, adds the new one (unless
    /// its reference is already held) and trims by age and count.
    fn observe(&mut self, activity: &Activity, record: bool, max_entries: usize) -> Vec<Activity> {
        let since = activity.at - self.horizon;
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
        if !record {
            return prior;
        }
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

impl ActivityWindows for InProcessWindows {
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History> {
        Box::pin(async move {
            let mut history = History::new();
            for observation in observations {
                history.insert(observation.key.clone(), self.observe_one(observation));
            }
            Ok(history)
        })
    }

    fn ping(&self) -> WindowFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}
