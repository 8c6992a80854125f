use deadpool_redis::redis::{Script, cmd};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime};
use redflag_core::{Activity, History, Observation, WindowMode};

use super::{ActivityWindows, Sweep, WindowError, WindowFuture};

/// Reads the window's prior entries, adds the new one, trims by age and count and renews the
/// expiry, as one atomic step (Redis runs a script without interleaving other commands).
///
/// KEYS[1] the window; ARGV: event time (ms), the entry, horizon (ms), max entries, and 1 to
/// record the entry or 0 only to read.
const OBSERVE: &str = r"
local at = tonumber(ARGV[1])
local horizon = tonumber(ARGV[3])
local max_entries = tonumber(ARGV[4])
local prior = redis.call('ZRANGEBYSCORE', KEYS[1], at - horizon, at)
if ARGV[5] ~= '1' then
  return prior
end
redis.call('ZADD', KEYS[1], at, ARGV[2])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(newest[2]) - horizon))
local size = redis.call('ZCARD', KEYS[1])
if size > max_entries then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - max_entries - 1)
end
redis.call('PEXPIRE', KEYS[1], horizon)
return prior
";

/// The aggregate windows' counterpart of [`OBSERVE`]: a hash of bucket index -> "sum|count".
/// Returns the buckets within the horizon (the current one before this activity) as
/// [index, value, ...], adds the activity to its bucket, drops buckets past the horizon and
/// renews the expiry.
///
/// KEYS[1] the window; ARGV: event time (ms), amount, bucket width (ms), horizon (ms).
const AGGREGATE: &str = r"
local at = tonumber(ARGV[1])
local bucket = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])
local oldest = math.floor((at - horizon) / bucket)
local current = math.floor(at / bucket)
local fields = redis.call('HGETALL', KEYS[1])
local prior = {}
for i = 1, #fields, 2 do
  local index = tonumber(fields[i])
  if index < oldest then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif index <= current then
    table.insert(prior, fields[i])
    table.insert(prior, fields[i + 1])
  end
end
local sum, count = 0, 0
local value = redis.call('HGET', KEYS[1], tostring(current))
if value then
  local separator = string.find(value, '|', 1, true)
  sum = tonumber(string.sub(value, 1, separator - 1))
  count = tonumber(string.sub(value, separator + 1))
end
redis.call('HSET', KEYS[1], tostring(current), string.format('%.17g|%d', sum + tonumber(ARGV[2]), count + 1))
redis.call('PEXPIRE', KEYS[1], horizon + bucket)
return prior
";

/// Windows in Redis, shared by every gateway replica.
pub struct RedisWindows {
    pool: Pool,
    prefix: String,
    max_entries: usize,
    script: Script,
    aggregate: Script,
}

impl RedisWindows {
    /// Opens a pool of `pool_size` connections to `url`; keys start with `prefix` so that several
    /// deployments (or tests) can share one Redis.
    pub fn connect(
        url: &str,
        pool_size: usize,
        prefix: &str,
        max_entries: usize,
    ) -> Result<Self, WindowError> {
        let mut config = Config::from_url(url);
        config.pool = Some(PoolConfig::new(pool_size.max(1)));
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|error| WindowError::Unavailable(error.to_string()))?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            max_entries: max_entries.max(1),
            script: Script::new(OBSERVE),
            aggregate: Script::new(AGGREGATE),
        })
    }

    async fn connection(&self) -> Result<deadpool_redis::Connection, WindowError> {
        self.pool
            .get()
            .await
            .map_err(|error| WindowError::Unavailable(error.to_string()))
    }

    fn key(&self, observation: &Observation) -> String {
        format!("{}:window:{}", self.prefix, observation.key)
    }

    async fn observe_one(
        &self,
        connection: &mut deadpool_redis::Connection,
        observation: &Observation,
        record: bool,
    ) -> Result<Vec<Activity>, WindowError> {
        let activity = &observation.activity;
        let prior: Vec<String> = self
            .script
            .key(self.key(observation))
            .arg(activity.at.timestamp_millis())
            .arg(serde_json::to_string(activity)?)
            .arg(observation.horizon.num_milliseconds().max(1))
            .arg(match observation.mode {
                WindowMode::Latest { keep } => self.max_entries.min(keep.max(1)),
                _ => self.max_entries,
            })
            .arg(u8::from(record))
            .invoke_async(connection)
            .await?;
        let mut activities = Vec::with_capacity(prior.len());
        for entry in prior {
            let past: Activity = serde_json::from_str(&entry)?;
            if past.reference != activity.reference {
                activities.push(past);
            }
        }
        Ok(activities)
    }

    async fn aggregate(
        &self,
        connection: &mut deadpool_redis::Connection,
        observation: &Observation,
        bucket: chrono::Duration,
    ) -> Result<Vec<Activity>, WindowError> {
        let width = bucket.num_milliseconds().max(1);
        let prior: Vec<String> = self
            .aggregate
            .key(format!("{}:aggregate:{}", self.prefix, observation.key))
            .arg(observation.activity.at.timestamp_millis())
            .arg(observation.activity.amount)
            .arg(width)
            .arg(observation.horizon.num_milliseconds().max(1))
            .invoke_async(connection)
            .await?;
        let mut buckets: Vec<Activity> = prior
            .chunks_exact(2)
            .map(|pair| {
                let index: i64 = pair[0]
                    .parse()
                    .map_err(|_| WindowError::BadBucket(pair[0].clone()))?;
                let (sum, count) = pair[1]
                    .split_once('|')
                    .and_then(|(sum, count)| {
                        Some((sum.parse::<f64>().ok()?, count.parse::<f64>().ok()?))
                    })
                    .ok_or_else(|| WindowError::BadBucket(pair[1].clone()))?;
                Ok(Activity {
                    at: chrono::DateTime::from_timestamp_millis(index * width)
                        .unwrap_or(observation.activity.at),
                    reference: index.to_string(),
                    amount: sum,
                    quantity: count,
                    counterparty: String::new(),
                })
            })
            .collect::<Result<_, WindowError>>()?;
        buckets.sort_by_key(|bucket| bucket.at);
        Ok(buckets)
    }
}

impl ActivityWindows for RedisWindows {
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let mut history = History::new();
            for observation in observations {
                let activities = match observation.mode {
                    WindowMode::Aggregate { bucket } => {
                        self.aggregate(&mut connection, observation, bucket).await?
                    }
                    mode => {
                        self.observe_one(&mut connection, observation, mode.records())
                            .await?
                    }
                };
                history.insert(observation.key.clone(), activities);
            }
            Ok(history)
        })
    }

    /// Redis expires window keys itself; the sweep counts the live ones (SCAN, so Redis is never
    /// blocked), for the `redflag_windows_live` gauge.
    fn expire(&self) -> WindowFuture<'_, Sweep> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let mut live = 0;
            for kind in ["window", "aggregate"] {
                let pattern = format!("{}:{kind}:*", self.prefix);
                let mut cursor: u64 = 0;
                loop {
                    let (next, keys): (u64, Vec<String>) = cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut connection)
                        .await?;
                    live += keys.len();
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
            }
            Ok(Sweep { removed: 0, live })
        })
    }

    fn ping(&self) -> WindowFuture<'_, ()> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let _: String = cmd("PING").query_async(&mut connection).await?;
            Ok(())
        })
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
