use deadpool_redis::redis::{Script, cmd};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime};
use redflag_core::{Activity, History, Observation};

use super::{ActivityWindows, WindowError, WindowFuture};

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

/// Windows in Redis, shared by every gateway replica.
pub struct RedisWindows {
    pool: Pool,
    prefix: String,
    max_entries: usize,
    script: Script,
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
}

impl ActivityWindows for RedisWindows {
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let mut history = History::new();
            for observation in observations {
                let activity = &observation.activity;
                let entry = serde_json::to_string(activity)?;
                let prior: Vec<String> = self
                    .script
                    .key(self.key(observation))
                    .arg(activity.at.timestamp_millis())
                    .arg(entry)
                    .arg(observation.horizon.num_milliseconds().max(1))
                    .arg(self.max_entries)
                    .arg(u8::from(observation.record))
                    .invoke_async(&mut connection)
                    .await?;
                let mut activities = Vec::with_capacity(prior.len());
                for entry in prior {
                    let past: Activity = serde_json::from_str(&entry)?;
                    if past.reference != activity.reference {
                        activities.push(past);
                    }
                }
                history.insert(observation.key.clone(), activities);
            }
            Ok(history)
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
