//! `cargo xtask bench --nats`: the stream consume path's throughput. A fresh JetStream stream is
//! filled with AML transfers (the bench's own traffic, each with its `Nats-Msg-Id`), then a release
//! `redflag consume` on a fresh SQLite database (in-process windows, as `serve` embeds them)
//! drains it; the rate is measured from its first acknowledgement to its last, from the
//! consumer's own figures.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::{self, consumer::PullConsumer};
use serde_json::{Value, json};

use crate::traffic::{Endpoint, Population, Traffic};

/// What the run measured.
pub struct StreamFigures {
    pub events: u64,
    pub seconds: f64,
}

impl StreamFigures {
    pub fn to_json(&self, batch: usize) -> Value {
        json!({
            "path": "redflag consume --module aml (NATS JetStream)",
            "events": self.events,
            "batch": batch,
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "events_per_second": (self.events as f64 / self.seconds).round(),
        })
    }
}

struct Consumer(Child);

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Fills a stream with `events` transfers, drains it with `redflag consume` and times it.
pub async fn run(
    binary: &std::path::Path,
    nats_url: &str,
    events: u64,
    batch: usize,
) -> Result<StreamFigures, String> {
    let client = async_nats::connect(nats_url)
        .await
        .map_err(|e| format!("NATS does not answer at {nats_url}: {e}"))?;
    let context = jetstream::new(client.clone());
    let run = format!("{}", chrono::Utc::now().timestamp_millis());
    let (stream, subject) = (format!("BENCH_{run}"), format!("bench.{run}.aml"));
    context
        .get_or_create_stream(jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot make the stream: {e}"))?;
    let mut traffic = Traffic::new(42, &run, Population::LOAD);
    let mut pending = Vec::with_capacity(1000);
    for sequence in 0..events {
        let body = traffic.body(Endpoint::Aml, sequence, None).to_string();
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, format!("{run}-{sequence}").as_str());
        pending.push(
            context
                .publish_with_headers(subject.clone(), headers, body.into())
                .await
                .map_err(|e| format!("cannot publish: {e}"))?,
        );
        if pending.len() == 1000 {
            for acknowledged in pending.drain(..) {
                acknowledged
                    .await
                    .map_err(|e| format!("the stream refused: {e}"))?;
            }
        }
    }
    for acknowledged in pending.drain(..) {
        acknowledged
            .await
            .map_err(|e| format!("the stream refused: {e}"))?;
    }
    eprintln!("redflag-load: {events} AML transfers in stream {stream}");

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let durable = "bench";
    let _consumer = Consumer(
        Command::new(binary)
            .args([
                "consume",
                "--module",
                "aml",
                "--stream",
                &stream,
                "--subject",
                &subject,
            ])
            .args([
                "--nats-url",
                nats_url,
                "--durable",
                durable,
                "--batch",
                &batch.to_string(),
            ])
            .args(["--decisions-subject", &format!("bench.{run}.decisions")])
            .current_dir(dir.path())
            .env("DATABASE_URL", dir.path().join("redflag.sqlite3"))
            .env("RUST_LOG", "warn")
            .env_remove("REDFLAG_PROFILE")
            .env_remove("REDIS_URL")
            .env_remove("REDIS_HOST")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?,
    );
    // The consumer makes its durable consumer at start: wait for it, then time the drain.
    let started = Instant::now();
    let consumer: PullConsumer = loop {
        if let Ok(stream) = context.get_stream(&stream).await
            && let Ok(consumer) = stream.get_consumer(durable).await
        {
            break consumer;
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err("the consumer did not start within 120 s".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let left = |info: &jetstream::consumer::Info| info.num_pending + info.num_ack_pending as u64;
    let mut first_ack: Option<(Instant, u64)> = None;
    loop {
        let info = consumer
            .get_info()
            .await
            .map_err(|e| format!("cannot read the consumer: {e}"))?;
        let now = Instant::now();
        let remaining = left(&info);
        let acknowledged = info.ack_floor.stream_sequence;
        if first_ack.is_none() && acknowledged > 0 {
            first_ack = Some((now, acknowledged));
        }
        if remaining == 0 && acknowledged >= events {
            let (since, at_start) = first_ack.unwrap_or((now, 0));
            let _ = context.delete_stream(&stream).await;
            return Ok(StreamFigures {
                events: events - at_start,
                seconds: now.duration_since(since).as_secs_f64().max(1e-3),
            });
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!(
                "{remaining} messages still unacknowledged after 600 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
