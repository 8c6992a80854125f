//! `cargo xtask bench`: a fixed number of kept-alive connections, each sending the next request
//! as soon as the last is answered, for a fixed time; then throughput, latency percentiles and
//! errors.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::client::{Connection, SignIn, Target};
use crate::traffic::{Endpoint, Population, Traffic};

/// How long connections run before measuring starts, so that connection set-up and the server's
/// first allocations stay out of the figures.
const WARM_UP: Duration = Duration::from_secs(2);

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub endpoint: Endpoint,
    pub connections: usize,
    /// Events per request: 1, or a batch's size (`POST /api/<module>/batch/`).
    pub batch: usize,
    pub seconds: f64,
    pub requests: usize,
    pub errors: usize,
    /// Latencies in microseconds, sorted.
    latencies: Vec<u32>,
    /// The first error seen, to say what went wrong.
    pub first_error: Option<String>,
}

impl Figures {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// Events decided per second: requests times the batch size.
    pub fn events_per_second(&self) -> f64 {
        (self.requests * self.batch) as f64 / self.seconds
    }

    /// The latency at percentile `p` (0-100), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        f64::from(self.latencies[rank.clamp(1, self.latencies.len()) - 1]) / 1000.0
    }

    pub fn to_json(&self) -> Value {
        json!({
            "endpoint": self.endpoint.name(),
            "path": self.endpoint.path_for(self.batch),
            "connections": self.connections,
            "batch": self.batch,
            "events_per_second": round(self.events_per_second(), 1),
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "errors": self.errors,
            "first_error": self.first_error,
            "requests_per_second": round(self.requests_per_second(), 1),
            "latency_ms": {
                "p50": round(self.percentile_ms(50.0), 3),
                "p90": round(self.percentile_ms(90.0), 3),
                "p99": round(self.percentile_ms(99.0), 3),
                "max": round(self.percentile_ms(100.0), 3),
            },
        })
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        let line = format!(
            "{:<9} {:>9.0} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  errors {}",
            self.endpoint.name(),
            self.requests_per_second(),
            self.percentile_ms(50.0),
            self.percentile_ms(90.0),
            self.percentile_ms(99.0),
            self.percentile_ms(100.0),
            self.errors
        );
        if self.batch > 1 {
            format!(
                "{line}  ({} events of {} per request: {:.0} events/s)",
                self.requests * self.batch,
                self.batch,
                self.events_per_second()
            )
        } else {
            line
        }
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// The requests' bodies: their seed, whether transfers name their parties, the share of
/// transfers that are flagged, and how many senders send them.
#[derive(Debug, Clone, Copy)]
pub struct TrafficOptions {
    pub seed: u64,
    pub names: bool,
    pub flagged_share: f64,
    /// AML senders, when not [`Population::LOAD`]'s.
    pub senders: Option<usize>,
}

/// What one connection saw while measuring.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    errors: usize,
    first_error: Option<String>,
}

/// Drives `endpoint` through `connections` connections for `duration` (after a warm-up), on the
/// current thread: one thread is plenty for the client and leaves the rest to the server. With
/// `sign_in`, requests carry its token, and a request refused with 401 (the token expired) is
/// not counted: the user signs in again and the connection goes on.
pub async fn run(
    target: &Target,
    sign_in: Option<&Rc<SignIn>>,
    endpoint: Endpoint,
    connections: usize,
    duration: Duration,
    traffic: TrafficOptions,
    batch: usize,
) -> Figures {
    let batch = batch.max(1);
    let run_id = format!("{}", chrono::Utc::now().timestamp_millis());
    let sequence = Rc::new(Cell::new(0u64));
    let measuring_from = Instant::now() + WARM_UP;
    let deadline = measuring_from + duration;
    let local = tokio::task::LocalSet::new();
    let mut handles = Vec::with_capacity(connections);
    for index in 0..connections {
        let traffic_options = traffic;
        let (target, sign_in, run_id, sequence) = (
            target.clone(),
            sign_in.map(Rc::clone),
            run_id.clone(),
            Rc::clone(&sequence),
        );
        handles.push(local.spawn_local(async move {
            let mut traffic = Traffic::new(
                traffic_options.seed.wrapping_add(index as u64),
                &run_id,
                Population {
                    senders: traffic_options.senders.unwrap_or(Population::LOAD.senders),
                    ..Population::LOAD
                },
            )
            .with_flagged_share(traffic_options.flagged_share);
            if traffic_options.names {
                traffic = traffic.with_names();
            }
            let mut tally = Tally::default();
            let mut slot: Option<Connection> = None;
            while Instant::now() < deadline {
                let next = sequence.get();
                sequence.set(next + batch as u64);
                let body = if batch == 1 {
                    traffic.body(endpoint, next, None).to_string()
                } else {
                    let events: Vec<Value> = (0..batch as u64)
                        .map(|offset| traffic.body(endpoint, next + offset, None))
                        .collect();
                    Value::Array(events).to_string()
                };
                let connection = match &mut slot {
                    Some(connection) => connection,
                    empty => match Connection::open(&target).await {
                        Ok(opened) => empty.insert(opened),
                        Err(error) => {
                            note_error(&mut tally, &format!("connect: {error}"));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let token = sign_in.as_ref().map(|sign_in| sign_in.token());
                let sent = Instant::now();
                let outcome = connection
                    .send(
                        "POST",
                        endpoint.path_for(batch),
                        token.as_deref(),
                        body.as_bytes(),
                    )
                    .await;
                let measured = sent >= measuring_from;
                match outcome {
                    Ok(response)
                        if response.status == 401
                            && let (Some(sign_in), Some(refused)) = (&sign_in, &token) =>
                    {
                        // The server closes a connection whose request it refused unread.
                        slot = None;
                        if !sign_in.expired(refused) {
                            // Refused from the start: the user, not the token's age.
                            if measured {
                                let body = String::from_utf8_lossy(&response.body);
                                note_error(&mut tally, &format!("401 for a new token: {body}"));
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        if let Err(error) = sign_in.renew(refused).await {
                            note_error(&mut tally, &format!("signing in again: {error}"));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    Ok(response) if (200..300).contains(&response.status) => {
                        if let (Some(sign_in), Some(token)) = (&sign_in, &token) {
                            sign_in.accepted(token);
                        }
                        if measured {
                            let micros = sent.elapsed().as_micros();
                            tally
                                .latencies
                                .push(u32::try_from(micros).unwrap_or(u32::MAX));
                        }
                    }
                    Ok(response) => {
                        if measured {
                            let body = String::from_utf8_lossy(&response.body).into_owned();
                            note_error(&mut tally, &format!("{}: {body}", response.status));
                        }
                    }
                    Err(error) => {
                        if measured {
                            note_error(&mut tally, &error.to_string());
                        }
                        // The connection is unusable; the next round opens another.
                        slot = None;
                    }
                }
            }
            tally
        }));
    }
    let tallies = local
        .run_until(async move {
            let mut tallies = Vec::with_capacity(handles.len());
            for handle in handles {
                tallies.push(handle.await.unwrap_or_default());
            }
            tallies
        })
        .await;
    let seconds = duration.as_secs_f64();
    let mut figures = Figures {
        endpoint,
        connections,
        batch,
        seconds,
        requests: 0,
        errors: 0,
        latencies: Vec::new(),
        first_error: None,
    };
    for tally in tallies {
        figures.requests += tally.latencies.len();
        figures.errors += tally.errors;
        figures.latencies.extend(tally.latencies);
        if figures.first_error.is_none() {
            figures.first_error = tally.first_error;
        }
    }
    figures.latencies.sort_unstable();
    figures
}

fn note_error(tally: &mut Tally, error: &str) {
    tally.errors += 1;
    if tally.first_error.is_none() {
        tally.first_error = Some(error.chars().take(300).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_over_the_measured_requests() {
        let figures = Figures {
            endpoint: Endpoint::Aml,
            connections: 4,
            batch: 5,
            seconds: 2.0,
            requests: 100,
            errors: 0,
            latencies: (1..=100).map(|ms| ms * 1000).collect(),
            first_error: None,
        };
        assert_eq!(figures.requests_per_second(), 50.0);
        assert_eq!(figures.events_per_second(), 250.0);
        assert_eq!(figures.to_json()["path"], "/api/aml/batch/");
        assert_eq!(figures.percentile_ms(50.0), 50.0);
        assert_eq!(figures.percentile_ms(99.0), 99.0);
        assert_eq!(figures.percentile_ms(100.0), 100.0);
        assert_eq!(figures.to_json()["latency_ms"]["p90"], 90.0);
    }
}

#[cfg(test)]
mod sign_in_again {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Detections each access token of [`serve`] allows.
    const LIFETIME: usize = 150;

    #[derive(Default)]
    struct Tokens {
        issued: AtomicUsize,
        used: AtomicUsize,
        decided: AtomicUsize,
        /// Whether every detection is refused, whatever the token (a user the server refuses).
        refuse_all: bool,
    }

    /// A server whose access tokens expire after [`LIFETIME`] detections: `/api/token/` issues
    /// `t1`, `t2`, ...; a detection with an older token than the latest, or with the latest once
    /// it is used up, is refused with 401, and its connection closed.
    async fn serve(listener: TcpListener, tokens: Arc<Tokens>) {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tokens = Arc::clone(&tokens);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|line| line.strip_prefix("Content-Length: "))
                        .and_then(|value| value.trim().parse().ok())
                        .unwrap_or(0);
                    while buffer.len() < end + 4 + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                        }
                    }
                    buffer.drain(..end + 4 + length);
                    let (status, body) = if head.starts_with("POST /api/token/ ") {
                        let issued = tokens.issued.fetch_add(1, Ordering::SeqCst) + 1;
                        tokens.used.store(0, Ordering::SeqCst);
                        (200, format!("{{\"access\":\"t{issued}\"}}"))
                    } else {
                        let latest = format!("Bearer t{}", tokens.issued.load(Ordering::SeqCst));
                        let fresh = head
                            .lines()
                            .any(|line| line == format!("Authorization: {latest}"))
                            && tokens.used.fetch_add(1, Ordering::SeqCst) < LIFETIME
                            && !tokens.refuse_all;
                        if fresh {
                            tokens.decided.fetch_add(1, Ordering::SeqCst);
                            (201, "{}".to_owned())
                        } else {
                            (401, "{\"detail\":\"expired\"}".to_owned())
                        }
                    };
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    // As actix-web does with a request refused before its body was read, the
                    // connection is closed after a 401.
                    if socket.write_all(response.as_bytes()).await.is_err() || status == 401 {
                        return;
                    }
                }
            });
        }
    }

    /// A run of 16 connections for half a second (after the warm-up) against [`serve`].
    async fn bench_against(tokens: &Arc<Tokens>) -> (Figures, Rc<SignIn>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let target = Target::parse(&format!(
            "http://{}",
            listener.local_addr().expect("an address")
        ))
        .expect("a URL");
        tokio::spawn(serve(listener, Arc::clone(tokens)));
        let sign_in = Rc::new(
            SignIn::new(&target, "bench", "password")
                .await
                .expect("signs in"),
        );
        let traffic = TrafficOptions {
            seed: 1,
            names: false,
            flagged_share: 0.0,
            senders: Some(100),
        };
        let figures = run(
            &target,
            Some(&sign_in),
            Endpoint::Aml,
            16,
            Duration::from_millis(500),
            traffic,
            1,
        )
        .await;
        (figures, sign_in)
    }

    #[tokio::test]
    async fn a_run_outliving_its_token_signs_in_once_per_expiry_and_counts_no_error() {
        let tokens = Arc::new(Tokens::default());
        let (figures, sign_in) = bench_against(&tokens).await;
        assert_eq!(figures.errors, 0, "{:?}", figures.first_error);
        assert!(figures.requests > 0);
        // Each token but the last was used to the end: one sign-in per expiry, however many of
        // the 16 connections saw the 401.
        let (sign_ins, decided) = (
            tokens.issued.load(Ordering::SeqCst),
            tokens.decided.load(Ordering::SeqCst),
        );
        assert!(decided >= 2 * LIFETIME, "{decided} decisions");
        assert!(
            (decided.div_ceil(LIFETIME)..=decided / LIFETIME + 1).contains(&sign_ins),
            "{sign_ins} sign-ins for {decided} decisions"
        );
        assert_eq!(*sign_in.token(), *format!("t{sign_ins}"));
    }

    #[tokio::test]
    async fn a_user_refused_from_the_start_is_counted_as_errors_not_hidden_by_signing_in() {
        let tokens = Arc::new(Tokens {
            refuse_all: true,
            ..Tokens::default()
        });
        let (figures, _) = bench_against(&tokens).await;
        assert_eq!(figures.requests, 0);
        assert!(figures.errors > 0);
        let first = figures.first_error.expect("an error said");
        assert!(first.starts_with("401 for a new token"), "{first}");
    }
}
