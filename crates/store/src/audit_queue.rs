//! The audit queue in Redis Streams: the relay adds outbox records to a stream, workers read them
//! through a consumer group and acknowledge what the audit log took. A worker that dies holding
//! records leaves them pending; another claims them once they have been idle long enough
//! (XAUTOCLAIM). A record delivered too many times goes to a dead-letter stream, never silently
//! away.

use chrono::NaiveDateTime;
use deadpool_redis::{Config, Pool, PoolConfig, Runtime};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{RedisError, cmd};

use crate::{QueuedAudit, WindowError};

/// The consumer group every audit worker joins.
const GROUP: &str = "audit-workers";

/// One record as read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The stream entry's id, to acknowledge it.
    pub stream_id: String,
    /// How many times the group has delivered it (1 the first time).
    pub deliveries: usize,
    /// The record; `None` when the entry cannot be read as one (it is dead-lettered).
    pub record: Option<QueuedAudit>,
}

/// Audit records in a Redis stream with a consumer group.
pub struct RedisAuditQueue {
    pool: Pool,
    stream: String,
    dead: String,
    consumer: String,
}

impl RedisAuditQueue {
    /// Connects to `url`; the stream is `<prefix>:audit:events`, the dead letters
    /// `<prefix>:audit:dead`; `consumer` names this worker within the group.
    pub fn connect(url: &str, prefix: &str, consumer: &str) -> Result<Self, WindowError> {
        let mut config = Config::from_url(url);
        config.pool = Some(PoolConfig::new(2));
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|error| WindowError::Unavailable(error.to_string()))?;
        Ok(Self {
            pool,
            stream: format!("{prefix}:audit:events"),
            dead: format!("{prefix}:audit:dead"),
            consumer: consumer.to_owned(),
        })
    }

    async fn connection(&self) -> Result<deadpool_redis::Connection, WindowError> {
        self.pool
            .get()
            .await
            .map_err(|error| WindowError::Unavailable(error.to_string()))
    }

    /// Creates the stream and the group if they do not exist yet.
    pub async fn ensure_group(&self) -> Result<(), WindowError> {
        let mut connection = self.connection().await?;
        let created: Result<String, RedisError> = cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(error) if error.to_string().contains("BUSYGROUP") => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Adds records to the stream, in order and at once (MULTI/EXEC): a worker waiting on the
    /// stream takes the whole batch, never its first record alone, and a publish cut short adds
    /// nothing (the relay hands the batch again).
    pub async fn publish(&self, records: &[QueuedAudit]) -> Result<(), WindowError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection().await?;
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for record in records {
            pipeline
                .cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg("outbox_id")
                .arg(record.outbox_id)
                .arg("kind")
                .arg(&record.kind)
                .arg("payload")
                .arg(&record.payload)
                .arg("created_at")
                .arg(
                    record
                        .created_at
                        .format("%Y-%m-%dT%H:%M:%S%.6f")
                        .to_string(),
                )
                .ignore();
        }
        pipeline.query_async::<()>(&mut connection).await?;
        Ok(())
    }

    /// New records for this consumer, waiting up to `block_ms` for some to arrive.
    pub async fn read(&self, count: usize, block_ms: u64) -> Result<Vec<Delivery>, WindowError> {
        self.read_group(count, Some(block_ms), ">").await
    }

    /// Records already delivered to this consumer and not yet acknowledged, oldest first: what a
    /// stopping process still holds (a read waiting on the stream takes records the moment they
    /// are added), so that it applies them before it exits instead of leaving them to another
    /// worker once they have been idle for `audit.reclaim_idle_ms`.
    pub async fn held(&self, count: usize) -> Result<Vec<Delivery>, WindowError> {
        self.read_group(count, None, "0").await
    }

    /// XREADGROUP for this consumer from `from` (`>`: new records; `0`: its own pending ones).
    async fn read_group(
        &self,
        count: usize,
        block_ms: Option<u64>,
        from: &str,
    ) -> Result<Vec<Delivery>, WindowError> {
        let mut connection = self.connection().await?;
        let mut command = cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(GROUP)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(count);
        if let Some(block_ms) = block_ms {
            command.arg("BLOCK").arg(block_ms);
        }
        let reply: Option<StreamReadReply> = command
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(from)
            .query_async(&mut connection)
            .await?;
        Ok(reply
            .into_iter()
            .flat_map(|reply| reply.keys)
            .flat_map(|key| key.ids)
            .map(|entry| delivery(&entry, 1))
            .collect())
    }

    /// Takes over records another consumer has held unacknowledged for at least `min_idle_ms`
    /// (it died, or stalled), with how many times each has now been delivered.
    pub async fn reclaim(
        &self,
        min_idle_ms: u64,
        count: usize,
    ) -> Result<Vec<Delivery>, WindowError> {
        let mut connection = self.connection().await?;
        let reply: StreamAutoClaimReply = cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(&self.consumer)
            .arg(min_idle_ms)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut connection)
            .await?;
        if reply.claimed.is_empty() {
            return Ok(Vec::new());
        }
        let pending: StreamPendingCountReply = cmd("XPENDING")
            .arg(&self.stream)
            .arg(GROUP)
            .arg("-")
            .arg("+")
            .arg(count.max(reply.claimed.len()) * 4)
            .arg(&self.consumer)
            .query_async(&mut connection)
            .await?;
        Ok(reply
            .claimed
            .iter()
            .map(|entry| {
                let deliveries = pending
                    .ids
                    .iter()
                    .find(|pending| pending.id == entry.id)
                    .map_or(2, |pending| pending.times_delivered);
                delivery(entry, deliveries)
            })
            .collect())
    }

    /// Acknowledges records the audit log has taken.
    pub async fn ack(&self, stream_ids: &[String]) -> Result<(), WindowError> {
        if stream_ids.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection().await?;
        let _: i64 = cmd("XACK")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(stream_ids)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Moves a record to the dead-letter stream with the reason, and acknowledges it.
    pub async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), WindowError> {
        let mut connection = self.connection().await?;
        let outbox_id = delivery
            .record
            .as_ref()
            .map_or(String::new(), |record| record.outbox_id.to_string());
        let _: String = cmd("XADD")
            .arg(&self.dead)
            .arg("*")
            .arg("stream_id")
            .arg(&delivery.stream_id)
            .arg("outbox_id")
            .arg(outbox_id)
            .arg("deliveries")
            .arg(delivery.deliveries)
            .arg("reason")
            .arg(reason)
            .query_async(&mut connection)
            .await?;
        self.ack(std::slice::from_ref(&delivery.stream_id)).await
    }

    /// Records delivered but not yet acknowledged, and records in the dead-letter stream.
    pub async fn counts(&self) -> Result<(i64, i64), WindowError> {
        let mut connection = self.connection().await?;
        let summary: redis::Value = cmd("XPENDING")
            .arg(&self.stream)
            .arg(GROUP)
            .query_async(&mut connection)
            .await?;
        let pending = match summary {
            redis::Value::Array(items) => match items.first() {
                Some(redis::Value::Int(count)) => *count,
                _ => 0,
            },
            _ => 0,
        };
        let dead: i64 = cmd("XLEN")
            .arg(&self.dead)
            .query_async(&mut connection)
            .await?;
        Ok((pending, dead))
    }
}

/// A stream entry as a delivery; an entry that is not a record keeps `record: None`.
fn delivery(entry: &StreamId, deliveries: usize) -> Delivery {
    let record = (|| {
        Some(QueuedAudit {
            outbox_id: entry.get::<String>("outbox_id")?.parse().ok()?,
            kind: entry.get("kind")?,
            payload: entry.get("payload")?,
            created_at: NaiveDateTime::parse_from_str(
                &entry.get::<String>("created_at")?,
                "%Y-%m-%dT%H:%M:%S%.f",
            )
            .ok()?,
        })
    })();
    Delivery {
        stream_id: entry.id.clone(),
        deliveries: entry.delivered_count.unwrap_or(deliveries).max(deliveries),
        record,
    }
}
