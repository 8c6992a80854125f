use deadpool_redis::redis::{ErrorKind, Pipeline, Script, ServerErrorKind, cmd};
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

    /// Adds the script call that reads (and records into) one window to `pipe`: `EVALSHA` of
    /// [`OBSERVE`], or of [`AGGREGATE`] for aggregate windows.
    fn add_observation(
        &self,
        pipe: &mut Pipeline,
        observation: &Observation,
    ) -> Result<(), WindowError> {
        let activity = &observation.activity;
        let at = activity.at.timestamp_millis();
        let horizon = observation.horizon.num_milliseconds().max(1);
        match observation.mode {
            WindowMode::Aggregate { bucket } => {
                pipe.cmd("EVALSHA")
                    .arg(self.aggregate.get_hash())
                    .arg(1)
                    .arg(format!("{}:aggregate:{}", self.prefix, observation.key))
                    .arg(at)
                    .arg(activity.amount)
                    .arg(bucket.num_milliseconds().max(1))
                    .arg(horizon);
            }
            mode => {
                let max_entries = match mode {
                    WindowMode::Latest { keep } => self.max_entries.min(keep.max(1)),
                    _ => self.max_entries,
                };
                pipe.cmd("EVALSHA")
                    .arg(self.script.get_hash())
                    .arg(1)
                    .arg(self.key(observation))
                    .arg(at)
                    .arg(serde_json::to_string(activity)?)
                    .arg(horizon)
                    .arg(max_entries)
                    .arg(u8::from(mode.records()));
            }
        }
        Ok(())
    }

    /// What one window's script returned, as activities.
    fn read_observation(
        observation: &Observation,
        returned: Vec<String>,
    ) -> Result<Vec<Activity>, WindowError> {
        let activity = &observation.activity;
        let WindowMode::Aggregate { bucket } = observation.mode else {
            let mut activities = Vec::with_capacity(returned.len());
            for entry in returned {
                let past: Activity = serde_json::from_str(&entry)?;
                if past.reference != activity.reference {
                    activities.push(past);
                }
            }
            return Ok(activities);
        };
        let width = bucket.num_milliseconds().max(1);
        let mut buckets: Vec<Activity> = returned
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
                        .unwrap_or(activity.at),
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
    /// Every window of the event in one round trip: the scripts' calls go in one pipeline (each
    /// script is atomic for its window). Should Redis not know the scripts (a restart, `SCRIPT
    /// FLUSH`), they are loaded and the pipeline is sent again: a refused call wrote nothing, and
    /// a call that did run adds the same sorted-set member again, which changes nothing.
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let mut pipe = Pipeline::with_capacity(observations.len());
            for observation in observations {
                self.add_observation(&mut pipe, observation)?;
            }
            let returned: Vec<Vec<String>> = match pipe.query_async(&mut connection).await {
                Ok(returned) => returned,
                Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    for source in [OBSERVE, AGGREGATE] {
                        let _: String = cmd("SCRIPT")
                            .arg("LOAD")
                            .arg(source)
                            .query_async(&mut connection)
                            .await?;
                    }
                    pipe.query_async(&mut connection).await?
                }
                Err(error) => return Err(error.into()),
            };
            let mut history = History::new();
            for (observation, returned) in observations.iter().zip(returned) {
                history.insert(
                    observation.key.clone(),
                    Self::read_observation(observation, returned)?,
                );
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
