//! `redflag consume`: events from a message stream, each decided exactly as the HTTP path decides
//! it, acknowledged only once its decision is committed, and its answer published.
//!
//! The transport is behind [`Transport`] and [`Received`], so that another broker (Kafka) is a
//! type of its own; NATS JetStream is [`nats`]. Messages are taken in batches and decided like a
//! batch request: in the stream's order, committed together. A redelivered message (its consumer
//! died before acknowledging) is recognised by its business id and answers its stored decision;
//! a message that cannot be decided (not JSON, invalid fields, other data under a known id) is
//! published with its error to the dead-letter subject and acknowledged, so that it is never
//! redelivered forever and never stops the consumer; an outage is retried after a pause.

pub mod nats;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::ResponseError;
use chrono::Utc;
use redflag_core::Module;
use serde::Serialize;
use serde_json::Value;

use crate::errors::ApiError;
pub use crate::routes::{Actor, MAX_BATCH_EVENTS};
use crate::routes::{Endpoint, decide_many, fill_reference};
use crate::state::AppState;
use redflag_service::telemetry;

/// A transport failure: the broker unreachable, a stream that cannot be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StreamError(pub String);

/// One message taken from the stream, to be settled once.
pub trait Received: Send {
    fn payload(&self) -> &[u8];
    /// The producer's id for the message (`Nats-Msg-Id`), or else its place in the stream: what
    /// a message without a business id is recognised by when it comes again.
    fn key(&self) -> String;
    /// Where it is in the stream, for logs and dead letters (`STREAM:SEQUENCE`).
    fn position(&self) -> String;
    /// How many times it has been delivered, this time included.
    fn deliveries(&self) -> u64;
    /// Done with: never delivered again.
    fn acknowledge(&self) -> impl Future<Output = Result<(), StreamError>> + Send;
    /// Not done: delivered again after `delay`.
    fn retry_later(&self, delay: Duration) -> impl Future<Output = Result<(), StreamError>> + Send;
}

/// A stream consumer and the subjects it publishes to.
pub trait Transport: Send {
    type Message: Received;
    /// Up to `max` messages, waiting at most `wait` for them; none when there are none.
    fn receive(
        &mut self,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<Self::Message>, StreamError>> + Send;
    /// Publishes `body` to `subject` under the message id `id` (a broker that deduplicates does
    /// so on it).
    fn publish(
        &self,
        subject: &str,
        id: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), StreamError>> + Send;
    /// Waits until what was published has reached the broker.
    fn flush(&self) -> impl Future<Output = Result<(), StreamError>> + Send;
    /// Messages not yet delivered to this consumer or not yet acknowledged.
    fn lag(&mut self) -> impl Future<Output = Result<u64, StreamError>> + Send;
    /// The stream and consumer names, for the lag metric.
    fn names(&self) -> (String, String);
}

/// Where the consumer publishes, and how it takes messages.
#[derive(Debug, Clone)]
pub struct Outlets {
    /// Each decision's answer (the HTTP response body), under the message id
    /// `<module>-<decision id>`.
    pub decisions: String,
    /// Messages that cannot be decided, with their error.
    pub dead_letters: String,
    /// Messages taken and decided together.
    pub batch: usize,
}

/// A message that could not be decided, as the dead-letter subject receives it.
#[derive(Debug, Serialize)]
pub struct DeadLetter {
    pub module: Module,
    /// `STREAM:SEQUENCE` of the message.
    pub position: String,
    pub deliveries: u64,
    /// The HTTP status the same body would have got.
    pub status: u16,
    /// The error in the DRF shape: `{"field": ["message"]}` or `{"detail": "..."}`.
    pub error: Value,
    /// The message's body, as text (lossy where it is not UTF-8).
    pub payload: String,
    pub dead_lettered_at: String,
}

/// After this many deliveries ending in a server-side failure, a message is dead-lettered
/// rather than tried again.
const MAX_DELIVERIES: u64 = 5;

/// How long a message that met an outage waits before it is delivered again.
const RETRY_DELAY: Duration = Duration::from_secs(2);

/// Consumes until `stop` is set: batch after batch, the lag refreshed every few seconds. A
/// transport failure is logged and retried after a pause; nothing is acknowledged that was not
/// decided.
pub async fn consume<D, T>(
    state: &AppState,
    transport: &mut T,
    outlets: &Outlets,
    actor: &Actor,
    stop: Arc<AtomicBool>,
) where
    D: Endpoint,
    D::Event: Serialize,
    T: Transport,
{
    let (stream, consumer) = transport.names();
    let mut lag_read: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if lag_read.is_none_or(|read| read.elapsed() >= Duration::from_secs(2)) {
            match transport.lag().await {
                Ok(lag) => telemetry::stream_lag(&stream, &consumer, lag),
                Err(error) => tracing::warn!(%error, "consumer lag not read"),
            }
            lag_read = Some(Instant::now());
        }
        let messages = match transport
            .receive(outlets.batch.max(1), Duration::from_millis(500))
            .await
        {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(%error, "stream unavailable; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        if let Err(error) = handle::<D, T>(state, transport, outlets, actor, messages).await {
            tracing::warn!(%error, "a batch was not settled; its messages come again");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Decides one batch and settles each message: published and acknowledged, dead-lettered, or
/// left for a later delivery.
async fn handle<D, T>(
    state: &AppState,
    transport: &T,
    outlets: &Outlets,
    actor: &Actor,
    messages: Vec<T::Message>,
) -> Result<(), StreamError>
where
    D: Endpoint,
    D::Event: Serialize,
    T: Transport,
{
    let mut bodies = Vec::with_capacity(messages.len());
    let mut readable = Vec::with_capacity(messages.len());
    let mut unreadable = Vec::new();
    for message in messages {
        match read_body::<D>(&message, state.settings.server.max_json_depth) {
            Ok(body) => {
                bodies.push(body);
                readable.push(message);
            }
            Err(error) => unreadable.push((message, error)),
        }
    }
    let answers = decide_many::<D>(state, actor, &bodies).await;
    let mut to_acknowledge = Vec::with_capacity(readable.len() + unreadable.len());
    for (message, answer) in readable.into_iter().zip(answers) {
        match answer {
            Ok(decided) => {
                let id = format!("{}-{}", D::MODULE.as_str(), decided.id);
                transport
                    .publish(&outlets.decisions, &id, decided.body.into_bytes())
                    .await?;
                telemetry::stream_message(
                    D::MODULE,
                    if decided.created {
                        "decided"
                    } else {
                        "replayed"
                    },
                );
                to_acknowledge.push(message);
            }
            Err(error)
                if error.status_code().is_server_error()
                    && message.deliveries() < MAX_DELIVERIES =>
            {
                message.retry_later(RETRY_DELAY).await?;
                telemetry::stream_message(D::MODULE, "retried");
            }
            Err(error) => unreadable.push((message, error)),
        }
    }
    for (message, error) in unreadable {
        dead_letter::<D, T>(transport, outlets, &message, &error).await?;
        to_acknowledge.push(message);
    }
    // Acknowledged only once the decisions' answers and the dead letters are with the broker.
    transport.flush().await?;
    for message in &to_acknowledge {
        message.acknowledge().await?;
    }
    Ok(())
}

/// A message's body as the HTTP path would read it; a message without the business id takes
/// its key when the module allows the id to be left out.
fn read_body<D: Endpoint>(message: &impl Received, max_depth: usize) -> Result<Value, ApiError>
where
    D::Event: Serialize,
{
    let mut body = crate::body::parse_json(message.payload(), max_depth)?;
    fill_reference::<D>(&mut body, || message.key());
    Ok(body)
}

async fn dead_letter<D: Endpoint, T: Transport>(
    transport: &T,
    outlets: &Outlets,
    message: &T::Message,
    error: &ApiError,
) -> Result<(), StreamError>
where
    D::Event: Serialize,
{
    let letter = DeadLetter {
        module: D::MODULE,
        position: message.position(),
        deliveries: message.deliveries(),
        status: error.status_code().as_u16(),
        error: error.body(),
        payload: String::from_utf8_lossy(message.payload()).into_owned(),
        dead_lettered_at: crate::routes::format_timestamp(Utc::now()),
    };
    tracing::warn!(position = %letter.position, status = letter.status, error = %letter.error, "message dead-lettered");
    let body = serde_json::to_vec(&letter).map_err(|error| StreamError(error.to_string()))?;
    transport
        .publish(
            &outlets.dead_letters,
            &format!("dead-{}", message.key()),
            body,
        )
        .await?;
    telemetry::stream_message(D::MODULE, "dead_lettered");
    Ok(())
}
