//! Webhooks in the Standard Webhooks format: subscriptions' secrets and URLs, signing, and the
//! delivery loop the workers run.
//!
//! Each pass turns the audit log's new entries into deliveries (see
//! `redflag_store::Database::fan_out_webhooks`), then claims the due ones and sends them, signed,
//! with the same `webhook-id` on every attempt. A failed attempt is retried with exponential
//! back-off and jitter over about three days ([`RETRY_DELAYS`]), then given up on; 410 disables
//! the subscription. Endpoints on loopback, private or link-local addresses are refused (when
//! the subscription is made and again when a delivery connects, against DNS rebinding) unless
//! `webhooks.allow_private_addresses` is on.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use redflag_store::{AttemptOutcome, Database, StoredDelivery, StoredSubscription};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::settings::WebhookSettings;
use crate::{ServiceError, blocking, telemetry};

/// The wait after each failed attempt, before jitter: the 13th attempt comes about three days
/// after the first, and a delivery failing that one too is given up on.
pub const RETRY_DELAYS: [Duration; 12] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(4 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(24 * 3600),
];

/// Log entries one pass turns into deliveries.
const FAN_OUT_BATCH: i64 = 500;

/// Rounds of `webhooks.concurrency` attempts claimed in one pass: their outcomes are recorded in
/// one write, so that a busy endpoint costs the database a few writes a second, not one per
/// delivery.
const ROUNDS_PER_PASS: usize = 8;

/// A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks writes them.
pub fn new_secret() -> Result<String, ServiceError> {
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key).map_err(|error| ServiceError::Secret(error.to_string()))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

/// The `webhook-signature` header: one `v1,<base64>` per secret, separated by spaces (several
/// while a secret is rotated).
pub fn signature(
    secrets: &[&str],
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, ServiceError> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let signer = standardwebhooks::Webhook::new(secret)
            .map_err(|error| ServiceError::Secret(error.to_string()))?;
        signatures.push(
            signer
                .sign(message_id, timestamp, body.as_bytes())
                .map_err(|error| ServiceError::Secret(error.to_string()))?,
        );
    }
    Ok(signatures.join(" "))
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (carrier-grade NAT), multicast, documentation or otherwise reserved.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// Why a subscription's URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("Enter a valid URL.")]
    Invalid,
    #[error("Only http and https URLs can receive webhooks.")]
    Scheme,
    #[error("The URL may not carry a username or password.")]
    Credentials,
    #[error("The host `{0}` could not be resolved.")]
    Unresolved(String),
    #[error(
        "The host `{0}` resolves to a loopback, private or link-local address; set webhooks.allow_private_addresses to allow it."
    )]
    Private(String),
}

/// Checks a subscription's URL: http(s), no credentials, and (unless private addresses are
/// allowed) a host whose every address is public.
pub async fn check_url(url: &str, allow_private: bool) -> Result<Url, UrlRefused> {
    let parsed = Url::parse(url).map_err(|_| UrlRefused::Invalid)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    let host = parsed.host_str().ok_or(UrlRefused::Invalid)?.to_owned();
    if allow_private {
        return Ok(parsed);
    }
    let addresses: Vec<SocketAddr> = match literal_address(&parsed) {
        Some(address) => vec![SocketAddr::new(address, 0)],
        None => tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map_err(|_| UrlRefused::Unresolved(host.clone()))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(UrlRefused::Unresolved(host));
    }
    if addresses.iter().any(|address| !is_public(address.ip())) {
        return Err(UrlRefused::Private(host));
    }
    Ok(parsed)
}

/// The address written in a URL (`http://10.0.0.1/`, `http://[::1]/`), which no resolver sees.
fn literal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(address) => Some(IpAddr::V4(address)),
        url::Host::Ipv6(address) => Some(IpAddr::V6(address)),
        url::Host::Domain(_) => None,
    }
}

/// The delivery client's resolver: only public addresses, unless private ones are allowed, so
/// that a host re-pointed at the internal network after its check cannot be reached.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(UrlRefused::Private(host).into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// What one pass of the delivery loop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Audit-log entries read by the fan-out.
    pub fanned_out: usize,
    /// Deliveries attempted.
    pub attempted: usize,
}

/// The delivery loop's state: the store, the HTTP client and the settings.
#[derive(Clone)]
pub struct Dispatcher {
    db: Database,
    client: reqwest::Client,
    settings: Arc<WebhookSettings>,
}

impl Dispatcher {
    pub fn new(db: Database, settings: &WebhookSettings) -> Result<Self, ServiceError> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Redflag-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_addresses {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            db,
            client: builder
                .build()
                .map_err(|error| ServiceError::Webhook(error.to_string()))?,
            settings: Arc::new(settings.clone()),
        })
    }

    /// One pass: new log entries into deliveries, then the due deliveries sent (what the tests
    /// step through; [`Self::run`] runs the two side by side).
    pub async fn pass(&self) -> Result<Pass, ServiceError> {
        self.pass_at(Utc::now()).await
    }

    /// [`Self::pass`] as of `now`: the deliveries due then are sent (a test's later hour).
    pub async fn pass_at(&self, now: DateTime<Utc>) -> Result<Pass, ServiceError> {
        Ok(Pass {
            fanned_out: self.fan_out(now).await?,
            attempted: self.deliver(now).await?,
        })
    }

    /// New log entries into deliveries; how many entries were turned over.
    async fn fan_out(&self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        let db = self.db.clone();
        blocking(move || db.fan_out_webhooks(FAN_OUT_BATCH, now)).await
    }

    /// The deliveries due at `now` sent; how many were attempted.
    async fn deliver(&self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        // Up to ROUNDS_PER_PASS rounds of `concurrency` attempts; the claim outlasts them all, so
        // that no other worker takes a delivery in hand, and a worker that dies mid-pass leaves
        // its deliveries due when the claim runs out.
        let concurrency = self.settings.concurrency.max(1);
        let timeout = self.settings.timeout_seconds.max(1);
        let lease = now + Duration::from_secs(timeout * ROUNDS_PER_PASS as u64 + 30);
        let (db, limit) = (self.db.clone(), (concurrency * ROUNDS_PER_PASS) as i64);
        let claimed = blocking(move || db.claim_webhook_deliveries(limit, now, lease)).await?;
        let attempted = claimed.len();
        if attempted == 0 {
            return Ok(0);
        }
        let outcomes: Vec<(StoredDelivery, AttemptOutcome)> = futures_util::stream::iter(claimed)
            .map(|(delivery, subscription)| async move {
                let outcome = self.attempt(&delivery, &subscription).await;
                (delivery, outcome)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        // One write for the pass's outcomes.
        let db = self.db.clone();
        blocking(move || db.record_webhook_attempts(&outcomes, Utc::now())).await?;
        Ok(attempted)
    }

    /// Sends one delivery; what came of it.
    async fn attempt(
        &self,
        delivery: &StoredDelivery,
        subscription: &StoredSubscription,
    ) -> AttemptOutcome {
        let now = Utc::now();
        let outcome = match self.send(delivery, subscription, now).await {
            Ok(status) if (200..300).contains(&status) => AttemptOutcome::Delivered { status },
            Ok(410) => AttemptOutcome::Gone,
            Ok(status) => AttemptOutcome::Failed {
                status: Some(status),
                error: format!("the endpoint answered {status}"),
                retry_at: retry_at(delivery.attempts, now),
            },
            Err(error) => AttemptOutcome::Failed {
                status: None,
                error,
                retry_at: retry_at(delivery.attempts, now),
            },
        };
        telemetry::webhook_attempt(match &outcome {
            AttemptOutcome::Delivered { .. } => "delivered",
            AttemptOutcome::Gone => "gone",
            AttemptOutcome::Failed { retry_at: None, .. } => "failed",
            AttemptOutcome::Failed { .. } => "retried",
        });
        if let AttemptOutcome::Failed { error, .. } = &outcome {
            tracing::info!(message_id = %delivery.message_id, subscription = subscription.id, %error, "webhook delivery failed");
        }
        outcome
    }

    /// POSTs the delivery's body, signed; the answer's status, or why there was none.
    async fn send(
        &self,
        delivery: &StoredDelivery,
        subscription: &StoredSubscription,
        now: DateTime<Utc>,
    ) -> Result<u16, String> {
        let url = Url::parse(&subscription.url).map_err(|error| error.to_string())?;
        // The resolver guards names; an address written in the URL is checked here.
        if !self.settings.allow_private_addresses
            && let Some(address) = literal_address(&url)
            && !is_public(address)
        {
            return Err(
                UrlRefused::Private(url.host_str().unwrap_or_default().to_owned()).to_string(),
            );
        }
        let timestamp = now.timestamp();
        let signature = signature(
            &subscription.signing_secrets(now),
            &delivery.message_id,
            timestamp,
            &delivery.payload,
        )
        .map_err(|error| error.to_string())?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }

    /// Fans out and delivers until stopped, side by side (a slow endpoint does not hold up the
    /// fan-out, nor a long log the deliveries), each pausing when it had nothing to do; a store
    /// outage is logged and retried after the pause (the deliveries wait in the database
    /// meanwhile).
    pub async fn run(self) {
        let pause = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let fan_out = async {
            loop {
                idle_or_retry(self.fan_out(Utc::now()).await, pause).await;
            }
        };
        let deliver = async {
            loop {
                idle_or_retry(self.deliver(Utc::now()).await, pause).await;
            }
        };
        futures_util::future::join(fan_out, deliver).await;
    }
}

/// Pauses after a step that found nothing to do or could not reach the store.
async fn idle_or_retry(step: Result<usize, ServiceError>, pause: Duration) {
    match step {
        Ok(0) => tokio::time::sleep(pause).await,
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(%error, "webhook deliveries: store unavailable");
            tokio::time::sleep(pause).await;
        }
    }
}

/// When to try again after the `attempts`-th failed attempt (counted before this one), with up
/// to a fifth of the delay added or taken at random so that retries to one endpoint spread out;
/// `None` once the schedule is used up.
pub fn retry_at(attempts_before: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let delay = *RETRY_DELAYS.get(usize::try_from(attempts_before).ok()?)?;
    let mut bytes = [0_u8; 4];
    let unit = match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    let jittered = delay.as_secs_f64() * (0.8 + 0.4 * unit);
    Some(now + Duration::from_secs_f64(jittered))
}

/// A transport error in words, with its cause (reqwest's own message omits it).
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            let address: IpAddr = private.parse().expect("an address");
            assert!(!is_public(address), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1"] {
            let address: IpAddr = public.parse().expect("an address");
            assert!(is_public(address), "{public}");
        }
    }

    #[test]
    fn signatures_follow_the_standard_and_a_rotation_sends_both() {
        // The Standard Webhooks reference vector.
        let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let body = r#"{"email":"test@example.com","username":"test_user"}"#;
        let signed = signature(
            &[secret],
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            body,
        )
        .expect("signs");
        assert_eq!(signed, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        let next = new_secret().expect("random bytes");
        assert!(next.starts_with("whsec_") && next.len() == 6 + 44, "{next}");
        let both = signature(
            &[&next, secret],
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            body,
        )
        .expect("signs");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], signed);
        assert_ne!(parts[0], signed);
    }

    #[test]
    fn retries_spread_over_about_three_days_then_stop() {
        let now = Utc::now();
        let total: f64 = RETRY_DELAYS.iter().map(Duration::as_secs_f64).sum();
        assert!((2.5 * 86_400.0..3.5 * 86_400.0).contains(&total), "{total}");
        let first = retry_at(0, now).expect("retried") - now;
        assert!(
            (4_000..=6_000).contains(&first.num_milliseconds()),
            "{first}"
        );
        assert!(retry_at(11, now).is_some());
        assert_eq!(retry_at(12, now), None);
    }

    #[tokio::test]
    async fn urls_must_be_http_on_public_hosts_unless_private_ones_are_allowed() {
        assert_eq!(
            check_url("ftp://example.com/hook", true).await,
            Err(UrlRefused::Scheme)
        );
        assert_eq!(check_url("not a url", true).await, Err(UrlRefused::Invalid));
        assert_eq!(
            check_url("http://user:pw@example.com/", true).await,
            Err(UrlRefused::Credentials)
        );
        assert_eq!(
            check_url("http://127.0.0.1:9/hook", false).await,
            Err(UrlRefused::Private("127.0.0.1".to_owned()))
        );
        assert_eq!(
            check_url("http://10.1.2.3/hook", false).await,
            Err(UrlRefused::Private("10.1.2.3".to_owned()))
        );
        assert_eq!(
            check_url("http://[::1]:9/hook", false).await,
            Err(UrlRefused::Private("[::1]".to_owned()))
        );
        assert_eq!(
            check_url("http://localhost:9/hook", false).await,
            Err(UrlRefused::Private("localhost".to_owned()))
        );
        assert!(check_url("http://127.0.0.1:9/hook", true).await.is_ok());
    }
}
