//! Abuse limits: failed sign-ins per username and per client address, and detections per user.
//!
//! The people a fraud service watches have reasons to guess its passwords and to flood it. Both
//! limits are kept in each gateway process (several gateways each allow their own share) and
//! answer 429 with `Retry-After`, in DRF's words.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::errors::ApiError;
use redflag_service::settings::LimitSettings;

/// Keys tracked at most per counter: a spray of random usernames must not grow memory without
/// bound. When full, expired keys are dropped; if none are, new keys go uncounted (the per-address
/// counter still holds the sprayer).
const MAX_TRACKED_KEYS: usize = 100_000;

/// The gateway's limits, built once from settings.
pub struct Limits {
    failures_per_username: FailureWindow,
    failures_per_address: FailureWindow,
    detections: Option<DefaultKeyedRateLimiter<i64>>,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Self {
        let window = Duration::from_secs(settings.login_lockout_seconds);
        let detections = NonZeroU32::new(settings.detections_per_second).map(|rate| {
            let burst = NonZeroU32::new(settings.detections_burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            failures_per_username: FailureWindow::new(settings.login_failures_per_username, window),
            failures_per_address: FailureWindow::new(settings.login_failures_per_address, window),
            detections,
        }
    }

    /// Refuses a sign-in attempt before its password is checked when the username or the client
    /// address has used up its failures: no guess gets through a lockout.
    pub fn check_login(&self, username: &str, address: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let wait = [
            self.failures_per_username.retry_after(username, now),
            self.failures_per_address.retry_after(address, now),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => {
                crate::telemetry::throttled("login");
                Err(ApiError::throttled(wait))
            }
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in against the username and the address; logs a lockout when one
    /// begins (the refusals that follow are only counted, so a guessing run cannot flood the log).
    pub fn login_failed(&self, username: &str, address: &str) {
        let now = Instant::now();
        let username_locked = self.failures_per_username.fail(username, now);
        let address_locked = self.failures_per_address.fail(address, now);
        if username_locked || address_locked {
            tracing::warn!(
                username,
                address,
                username_locked,
                address_locked,
                "sign-ins locked out after too many failures"
            );
        }
    }

    /// A successful sign-in clears the username's failures (not the address's: one address may
    /// try many usernames).
    pub fn login_succeeded(&self, username: &str) {
        self.failures_per_username.forget(username);
    }

    /// Takes one detection from the user's allowance, or says how long to wait.
    pub fn check_detection(&self, user_id: i64) -> Result<(), ApiError> {
        let Some(limiter) = &self.detections else {
            return Ok(());
        };
        limiter.check_key(&user_id).map_err(|not_until| {
            crate::telemetry::throttled("detections");
            ApiError::throttled(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }
}

impl Limits {
    /// Takes `count` detections (a batch's events) from the user's allowance at once, or says
    /// how long to wait; a batch larger than the allowed burst can never pass and is refused.
    pub fn check_detections(&self, user_id: i64, count: usize) -> Result<(), ApiError> {
        let Some(limiter) = &self.detections else {
            return Ok(());
        };
        let Some(cells) = u32::try_from(count).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        match limiter.check_key_n(&user_id, cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                crate::telemetry::throttled("detections");
                Err(ApiError::throttled(
                    not_until.wait_time_from(DefaultClock::default().now()),
                ))
            }
            Err(insufficient) => Err(ApiError::Invalid(serde_json::json!({
                "non_field_errors": [format!(
                    "A batch of {count} events exceeds the {} detections a user may send at once (limits.detections_burst).",
                    insufficient.0
                )]
            }))),
        }
    }
}

/// Failures per key over a fixed window that starts with the key's first failure: at `limit`
/// failures the key waits until the window ends. A limit of 0 counts nothing.
struct FailureWindow {
    limit: u32,
    window: Duration,
    keys: Mutex<HashMap<String, Failures>>,
}

struct Failures {
    since: Instant,
    count: u32,
}

impl FailureWindow {
    fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn retry_after(&self, key: &str, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let failures = keys.get(key)?;
        let elapsed = now.saturating_duration_since(failures.since);
        (failures.count >= self.limit && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Counts a failure; true when it is the one that reaches the limit.
    fn fail(&self, key: &str, now: Instant) -> bool {
        if self.limit == 0 {
            return false;
        }
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= MAX_TRACKED_KEYS && !keys.contains_key(key) {
            let window = self.window;
            keys.retain(|_, failures| now.saturating_duration_since(failures.since) < window);
            if keys.len() >= MAX_TRACKED_KEYS {
                return false;
            }
        }
        let failures = keys.entry(key.to_owned()).or_insert(Failures {
            since: now,
            count: 0,
        });
        if now.saturating_duration_since(failures.since) >= self.window {
            *failures = Failures {
                since: now,
                count: 0,
            };
        }
        failures.count += 1;
        failures.count == self.limit
    }

    fn forget(&self, key: &str) {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_waits_out_the_window_after_its_last_allowed_failure() {
        let window = FailureWindow::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..2 {
            assert!(!window.fail("alice", start));
        }
        assert_eq!(window.retry_after("alice", start), None, "two of three");
        assert!(window.fail("alice", start), "the third locks");
        let later = start + Duration::from_secs(45);
        assert_eq!(
            window.retry_after("alice", later),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            window.retry_after("bob", later),
            None,
            "other keys unaffected"
        );
        let after = start + Duration::from_secs(60);
        assert_eq!(window.retry_after("alice", after), None, "the window ended");
        window.fail("alice", after);
        assert_eq!(window.retry_after("alice", after), None, "a fresh window");
    }

    #[test]
    fn forgetting_clears_and_a_zero_limit_counts_nothing() {
        let window = FailureWindow::new(1, Duration::from_secs(60));
        let now = Instant::now();
        window.fail("alice", now);
        assert!(window.retry_after("alice", now).is_some());
        window.forget("alice");
        assert_eq!(window.retry_after("alice", now), None);

        let off = FailureWindow::new(0, Duration::from_secs(60));
        for _ in 0..10 {
            off.fail("alice", now);
        }
        assert_eq!(off.retry_after("alice", now), None);
    }
}
