//! `cargo xtask bench --webhooks`: what webhook deliveries cost detection. The AML endpoint is
//! driven twice, each time on a fresh server, with a share of transfers that are flagged (sent to
//! a high-risk jurisdiction): once with no subscription, once with a subscription of a local
//! receiver to `decision.flagged`, so that every flagged decision is delivered while measuring.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A receiver answering every POST with 204, counting them: the cheapest subscriber, so that
/// what is measured is the sending side.
pub struct Receiver {
    pub url: String,
    pub received: Arc<AtomicU64>,
}

impl Receiver {
    /// Listens on a thread of its own, so that taking the deliveries does not slow the load
    /// generator's thread (it would count against the server).
    pub fn start() -> Result<Self, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("the webhook receiver cannot listen: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let received = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&received);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        std::thread::spawn(move || runtime.block_on(serve(listener, counter)));
        Ok(Self {
            url: format!("http://{address}/hooks"),
            received,
        })
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Waits until `expected` deliveries have arrived or `within` has passed; the count then.
    pub async fn wait_for(&self, expected: u64, within: Duration) -> u64 {
        let started = Instant::now();
        while self.received() < expected && started.elapsed() < within {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.received()
    }
}

/// Answers every request on every connection with 204, counting them.
async fn serve(listener: std::net::TcpListener, counter: Arc<AtomicU64>) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    while let Ok((stream, _)) = listener.accept().await {
        let counter = Arc::clone(&counter);
        tokio::spawn(async move {
            let mut stream = BufReader::new(stream);
            // One request after another on the connection, until the sender closes it.
            while let Some(length) = read_head(&mut stream).await {
                let mut body = vec![0; length];
                if stream.read_exact(&mut body).await.is_err() {
                    return;
                }
                counter.fetch_add(1, Ordering::Relaxed);
                let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                if stream.get_mut().write_all(answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Reads a request's head; its body's length, or `None` when the connection ends.
async fn read_head(stream: &mut BufReader<tokio::net::TcpStream>) -> Option<usize> {
    let mut length = 0;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            if first {
                continue;
            }
            return Some(length);
        }
        first = false;
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
}

/// The subscription's request body.
pub fn subscription(url: &str) -> serde_json::Value {
    json!({"url": url, "event_types": ["decision.flagged"], "description": "cargo xtask bench --webhooks"})
}
