//! NATS JetStream as a [`Transport`]: a durable pull consumer on a stream (made if missing), the
//! decisions and dead letters published on core subjects with `Nats-Msg-Id`, so that a stream
//! capturing them drops a republished answer.
//!
//! Several `redflag consume` processes with the same durable name share its messages; one that
//! dies leaves its unacknowledged messages to the others after the consumer's ack wait.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind, stream};
use futures_util::{FutureExt, StreamExt};

use super::{Received, StreamError, Transport};

/// Where to consume from.
#[derive(Debug, Clone)]
pub struct Source {
    pub url: String,
    pub stream: String,
    pub subject: String,
    pub durable: String,
    /// How long a delivered message may go unacknowledged before it is delivered again (to this
    /// process or another of the same durable consumer).
    pub ack_wait: Duration,
}

/// A connected JetStream consumer.
pub struct Nats {
    client: async_nats::Client,
    consumer: PullConsumer,
    messages: Option<pull::Stream>,
    names: (String, String),
}

fn failed(what: &str) -> impl FnOnce(&dyn std::fmt::Display) -> StreamError + '_ {
    move |error| StreamError(format!("{what}: {error}"))
}

impl Nats {
    /// Connects, makes the stream (capturing `subject`) and the durable consumer if missing.
    pub async fn connect(source: &Source) -> Result<Self, StreamError> {
        let client = async_nats::connect(&source.url)
            .await
            .map_err(|error| failed("cannot connect to NATS")(&error))?;
        let context = jetstream::new(client.clone());
        let stream = context
            .get_or_create_stream(stream::Config {
                name: source.stream.clone(),
                subjects: vec![source.subject.clone()],
                ..Default::default()
            })
            .await
            .map_err(|error| failed("cannot open the stream")(&error))?;
        let consumer = stream
            .get_or_create_consumer(
                &source.durable,
                pull::Config {
                    durable_name: Some(source.durable.clone()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: source.ack_wait,
                    filter_subject: source.subject.clone(),
                    // Enough in flight for two batches per process of several processes.
                    max_ack_pending: 20_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| failed("cannot open the durable consumer")(&error))?;
        Ok(Self {
            client,
            consumer,
            messages: None,
            names: (source.stream.clone(), source.durable.clone()),
        })
    }

    /// The continuous pull: the client keeps requests for up to `batch` messages open, so that
    /// messages are on their way while the last ones are decided.
    async fn messages(&mut self, batch: usize) -> Result<&mut pull::Stream, StreamError> {
        if self.messages.is_none() {
            let messages = self
                .consumer
                .stream()
                .max_messages_per_batch(batch)
                .messages()
                .await
                .map_err(|error| failed("cannot pull messages")(&error))?;
            self.messages = Some(messages);
        }
        self.messages
            .as_mut()
            .ok_or_else(|| StreamError("the pull is not open".to_owned()))
    }
}

impl Transport for Nats {
    type Message = Message;

    /// The first message to come within `wait`, then whatever has already arrived after it, up to
    /// `max`: a trickle is decided at once, a backlog in batches.
    async fn receive(&mut self, max: usize, wait: Duration) -> Result<Vec<Message>, StreamError> {
        let messages = self.messages(max).await?;
        let first = match tokio::time::timeout(wait, messages.next()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(first) => first,
        };
        let mut taken = Vec::with_capacity(max);
        let mut next = first;
        loop {
            match next {
                Some(Ok(message)) => taken.push(Message(message)),
                Some(Err(error)) => {
                    // Missed heartbeats, a consumer removed: a new pull is opened next time;
                    // what was taken is decided now.
                    self.messages = None;
                    if taken.is_empty() {
                        return Err(failed("the pull failed")(&error));
                    }
                    return Ok(taken);
                }
                None => {
                    self.messages = None;
                    return Ok(taken);
                }
            }
            if taken.len() >= max {
                return Ok(taken);
            }
            let Some(ready) = messages_now(&mut self.messages) else {
                return Ok(taken);
            };
            next = ready;
        }
    }

    async fn publish(&self, subject: &str, id: &str, body: Vec<u8>) -> Result<(), StreamError> {
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, id);
        self.client
            .publish_with_headers(subject.to_owned(), headers, body.into())
            .await
            .map_err(|error| failed("cannot publish")(&error))
    }

    async fn flush(&self) -> Result<(), StreamError> {
        self.client
            .flush()
            .await
            .map_err(|error| failed("cannot flush")(&error))
    }

    async fn lag(&mut self) -> Result<u64, StreamError> {
        let info = self
            .consumer
            .get_info()
            .await
            .map_err(|error| failed("cannot read the consumer")(&error))?;
        Ok(info.num_pending + info.num_ack_pending as u64)
    }

    fn names(&self) -> (String, String) {
        self.names.clone()
    }
}

/// The next message if it has already arrived; `None` when none has.
fn messages_now(
    messages: &mut Option<pull::Stream>,
) -> Option<Option<Result<jetstream::Message, pull::MessagesError>>> {
    messages.as_mut()?.next().now_or_never()
}

/// A JetStream message.
pub struct Message(jetstream::Message);

impl Received for Message {
    fn payload(&self) -> &[u8] {
        &self.0.payload
    }

    fn key(&self) -> String {
        if let Some(id) = self
            .0
            .headers
            .as_ref()
            .and_then(|headers| headers.get(NATS_MESSAGE_ID))
            .map(|id| id.as_str())
            .filter(|id| !id.is_empty())
        {
            return id.to_owned();
        }
        self.position()
    }

    fn position(&self) -> String {
        match self.0.info() {
            Ok(info) => format!("{}:{}", info.stream, info.stream_sequence),
            Err(_) => self.0.subject.to_string(),
        }
    }

    fn deliveries(&self) -> u64 {
        self.0
            .info()
            .map(|info| u64::try_from(info.delivered).unwrap_or(1))
            .unwrap_or(1)
    }

    async fn acknowledge(&self) -> Result<(), StreamError> {
        self.0
            .ack()
            .await
            .map_err(|error| failed("cannot acknowledge")(&*error))
    }

    async fn retry_later(&self, delay: Duration) -> Result<(), StreamError> {
        self.0
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|error| failed("cannot ask for a redelivery")(&*error))
    }
}
