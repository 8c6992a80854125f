//! Metrics: every metric name in one place, the Prometheus recorder, what the workers and tasks
//! record, the anomaly alerts' gauges read from the detectors in use, and the counters behind the
//! JSON snapshot of GET /api/metrics/. The gateway adds the request middleware.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use redflag_core::{Alert, Module};
use redflag_store::{AuditProgress, DeliveryCounts, OutboxCounts, Sweep};

/// The metric names, all prefixed `redflag_`.
pub mod names {
    pub const HTTP_REQUESTS: &str = "redflag_http_requests_total";
    pub const HTTP_DURATION: &str = "redflag_http_request_duration_seconds";
    pub const DETECTIONS: &str = "redflag_detections_total";
    pub const ALERTS: &str = "redflag_alerts_total";
    pub const WINDOW_LOOKUPS: &str = "redflag_window_lookups_total";
    pub const AUDIT_RECORDS: &str = "redflag_audit_records_total";
    pub const AUDIT_QUEUED: &str = "redflag_audit_queued";
    pub const AUDIT_APPLIED: &str = "redflag_audit_applied";
    pub const AUDIT_DEAD_LETTERED: &str = "redflag_audit_dead_lettered";
    pub const AUDIT_LAG: &str = "redflag_audit_lag_seconds";
    pub const AUDIT_PENDING: &str = "redflag_audit_pending";
    pub const TASK_RUNS: &str = "redflag_task_runs_total";
    pub const WINDOWS_EXPIRED: &str = "redflag_windows_expired_total";
    pub const WINDOWS_LIVE: &str = "redflag_windows_live";
    pub const WINDOWS_EVICTED: &str = "redflag_windows_evicted_total";
    pub const ROLLUP_WATERMARK: &str = "redflag_statistics_rollup_watermark";
    pub const MODEL_RELOADS: &str = "redflag_model_reloads_total";
    pub const THROTTLED: &str = "redflag_throttled_total";
    pub const DEGRADED: &str = "redflag_degraded_decisions_total";
    pub const ANOMALY_THRESHOLD: &str = "redflag_anomaly_threshold";
    pub const ANOMALY_WARMING_UP: &str = "redflag_anomaly_warming_up";
    pub const FEATURE_DRIFT: &str = "redflag_model_feature_psi";
    pub const WEBHOOK_ATTEMPTS: &str = "redflag_webhook_attempts_total";
    pub const WEBHOOK_DELIVERIES: &str = "redflag_webhook_deliveries";
    pub const STREAM_MESSAGES: &str = "redflag_stream_messages_total";
    pub const STREAM_LAG: &str = "redflag_stream_lag";
}

/// Counts audit records by what the worker did with them (`relayed`, `applied`, `duplicate`,
/// `retried`, `dead_lettered`).
pub fn audit_records(outcome: &'static str, count: usize) {
    if count > 0 {
        counter!(names::AUDIT_RECORDS, "outcome" => outcome).increment(count as u64);
    }
}

/// Sets the audit gauges from the store's figures (read at each scrape, so that they hold
/// whichever process runs the workers).
pub fn audit_state(outbox: &OutboxCounts, progress: &AuditProgress) {
    gauge!(names::AUDIT_QUEUED).set(outbox.queued as f64);
    gauge!(names::AUDIT_PENDING).set(outbox.pending as f64);
    gauge!(names::AUDIT_APPLIED).set(progress.applied as f64);
    gauge!(names::AUDIT_DEAD_LETTERED).set(progress.dead_lettered as f64);
    gauge!(names::AUDIT_LAG).set(progress.lag_seconds);
}

/// Counts a webhook delivery attempt by outcome (`delivered`, `retried`, `failed`: given up on,
/// `gone`: the endpoint answered 410).
pub fn webhook_attempt(outcome: &'static str) {
    counter!(names::WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(1);
}

/// Sets the webhook deliveries' gauges by status (read from the store at each scrape).
pub fn webhook_state(counts: &DeliveryCounts) {
    for (status, count) in [
        ("pending", counts.pending),
        ("delivered", counts.delivered),
        ("failed", counts.failed),
    ] {
        gauge!(names::WEBHOOK_DELIVERIES, "status" => status).set(count as f64);
    }
}

/// Counts a stream message by what became of it (`decided`, `replayed`: a redelivery or resend
/// answered from its stored decision, `dead_lettered`, `retried`).
pub fn stream_message(module: Module, outcome: &'static str) {
    counter!(names::STREAM_MESSAGES, "module" => module.as_str(), "outcome" => outcome)
        .increment(1);
}

/// Sets a stream consumer's lag: messages not yet delivered to it or not yet acknowledged.
pub fn stream_lag(stream: &str, consumer: &str, lag: u64) {
    gauge!(names::STREAM_LAG, "stream" => stream.to_owned(), "consumer" => consumer.to_owned())
        .set(lag as f64);
}

/// Counts a periodic task's run (`outcome`: `ok` or `failed`).
pub fn task_run(task: &'static str, outcome: &'static str) {
    counter!(names::TASK_RUNS, "task" => task, "outcome" => outcome).increment(1);
}

/// Records a window sweep: how many windows it removed, how many were forgotten to stay within
/// the bound since the last sweep, and how many are left.
pub fn windows_swept(sweep: &Sweep) {
    counter!(names::WINDOWS_EXPIRED).increment(sweep.removed as u64);
    counter!(names::WINDOWS_EVICTED).increment(sweep.evicted);
    gauge!(names::WINDOWS_LIVE).set(sweep.live as f64);
}

/// Records the highest decision id folded into the statistics roll-ups.
pub fn rollup_watermark(decision_id: i64) {
    gauge!(names::ROLLUP_WATERMARK).set(decision_id as f64);
}

/// Counts changed model artifacts noticed by `serve`, by outcome (`loaded`, or `rejected` when
/// they did not load and the models in use were kept).
pub fn model_reload(outcome: &'static str) {
    counter!(names::MODEL_RELOADS, "outcome" => outcome).increment(1);
}

/// Sets each anomaly module's calibration gauges from the detectors in use: the threshold in
/// force (0 while warming up), whether it is warming up, and each feature's drift (PSI).
pub fn anomaly_calibrations(detectors: &crate::detectors::Detectors) {
    for module in crate::registry::anomaly_modules() {
        let warming_up = detectors.warming_up(module);
        let calibration = detectors.learned.anomaly(module);
        let threshold = detectors.anomaly_threshold(module).unwrap_or(0.0);
        gauge!(names::ANOMALY_THRESHOLD, "module" => module.as_str()).set(threshold);
        gauge!(names::ANOMALY_WARMING_UP, "module" => module.as_str())
            .set(f64::from(u8::from(warming_up)));
        for drift in calibration
            .iter()
            .flat_map(|calibration| &calibration.drift)
        {
            gauge!(names::FEATURE_DRIFT, "module" => module.as_str(), "feature" => drift.feature.clone())
                .set(drift.psi);
        }
    }
}

/// Counts decisions taken without history because the windows could not be read.
pub fn degraded_decision(module: Module) {
    counter!(names::DEGRADED, "module" => module.as_str()).increment(1);
}

/// Counts requests refused by an abuse limit (`login` or `detections`).
pub fn throttled(limit: &'static str) {
    counter!(names::THROTTLED, "limit" => limit).increment(1);
}

/// Latency buckets in seconds, from 0.5 ms to 5 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Installs the process-wide Prometheus recorder once and returns its handle.
///
/// The recorder is global by nature (the `metrics` macros write to it); every app built in this
/// process shares it.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(names::HTTP_DURATION.to_owned()),
                    LATENCY_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "a metrics recorder was already installed; Prometheus output stays empty"
                );
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_counter!(
        names::HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests by route, method and status"
    );
    describe_histogram!(
        names::HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by route, method and status"
    );
    describe_counter!(
        names::DETECTIONS,
        Unit::Count,
        "Decisions recorded, by module and whether flagged"
    );
    describe_counter!(
        names::ALERTS,
        Unit::Count,
        "Alerts raised, by module, rule and severity"
    );
    describe_counter!(
        names::STREAM_MESSAGES,
        Unit::Count,
        "Stream messages handled by this consumer, by module and outcome"
    );
    describe_gauge!(
        names::STREAM_LAG,
        Unit::Count,
        "Messages of a stream consumer not yet delivered or not yet acknowledged"
    );
    describe_counter!(
        names::WEBHOOK_ATTEMPTS,
        Unit::Count,
        "Webhook delivery attempts made by workers in this process, by outcome"
    );
    describe_gauge!(
        names::WEBHOOK_DELIVERIES,
        Unit::Count,
        "Webhook deliveries by status: pending (waiting or retrying), delivered, failed"
    );
    describe_counter!(
        names::AUDIT_RECORDS,
        Unit::Count,
        "Audit records handled by workers in this process, by outcome"
    );
    describe_gauge!(
        names::AUDIT_QUEUED,
        Unit::Count,
        "Audit records written with their decision and not yet in the audit log"
    );
    describe_gauge!(
        names::AUDIT_APPLIED,
        Unit::Count,
        "Entries in the audit log"
    );
    describe_gauge!(
        names::AUDIT_DEAD_LETTERED,
        Unit::Count,
        "Audit records given up on after repeated failures"
    );
    describe_gauge!(
        names::AUDIT_LAG,
        Unit::Seconds,
        "Age of the oldest audit record waiting for the log"
    );
    describe_gauge!(
        names::AUDIT_PENDING,
        Unit::Count,
        "Audit records handed to the queue and not yet applied"
    );
    describe_counter!(
        names::TASK_RUNS,
        Unit::Count,
        "Periodic worker tasks run, by task and outcome"
    );
    describe_counter!(
        names::WINDOWS_EXPIRED,
        Unit::Count,
        "Recent-activity windows removed after outliving their horizon"
    );
    describe_counter!(
        names::WINDOWS_EVICTED,
        Unit::Count,
        "Recent-activity windows forgotten, least recently used first, to stay within windows.max_windows"
    );
    describe_gauge!(
        names::WINDOWS_LIVE,
        Unit::Count,
        "Recent-activity windows held, as the last sweep counted them"
    );
    describe_gauge!(
        names::ROLLUP_WATERMARK,
        Unit::Count,
        "Highest decision id folded into the statistics roll-ups"
    );
    describe_counter!(
        names::MODEL_RELOADS,
        Unit::Count,
        "Changed model artifacts noticed, by whether they were swapped in or rejected"
    );
    describe_gauge!(
        names::ANOMALY_THRESHOLD,
        "The anomaly alert's score threshold calibrated to recent traffic, per module (0 while warming up)"
    );
    describe_gauge!(
        names::ANOMALY_WARMING_UP,
        "1 while a module's anomaly alert is silent for want of a calibration on its traffic"
    );
    describe_gauge!(
        names::FEATURE_DRIFT,
        "Population stability index of each model feature between training data and recent traffic"
    );
    describe_counter!(
        names::DEGRADED,
        Unit::Count,
        "Decisions taken without history (windows unreachable, windows.on_unavailable = degrade), by module"
    );
    describe_counter!(
        names::THROTTLED,
        Unit::Count,
        "Requests refused with 429 by an abuse limit (login: failed sign-ins; detections: per-user rate)"
    );
    describe_counter!(
        names::WINDOW_LOOKUPS,
        Unit::Count,
        "Recent-activity window lookups, by whether the entity had prior activity (hit) or not (miss)"
    );
}

/// This app's own counters, for the JSON snapshot; Prometheus gets the same events.
#[derive(Default)]
pub struct Telemetry {
    window_hits: AtomicU64,
    window_misses: AtomicU64,
    statistics_hits: AtomicU64,
    statistics_misses: AtomicU64,
    detections: [AtomicU64; 4],
    flagged: [AtomicU64; 4],
}

/// A copy of the counters at one moment.
pub struct TelemetrySnapshot {
    pub window_hits: u64,
    pub window_misses: u64,
    pub statistics_hits: u64,
    pub statistics_misses: u64,
    /// (module, total, flagged), in [`Module::ALL`] order.
    pub detections: Vec<(Module, u64, u64)>,
}

fn slot(module: Module) -> usize {
    Module::ALL
        .iter()
        .position(|m| *m == module)
        .unwrap_or_default()
}

impl Telemetry {
    /// A window lookup: a hit when the entity had recent activity.
    pub fn window_lookup(&self, hit: bool) {
        let (counter, label) = if hit {
            (&self.window_hits, "hit")
        } else {
            (&self.window_misses, "miss")
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(names::WINDOW_LOOKUPS, "result" => label).increment(1);
    }

    pub fn statistics_lookup(&self, hit: bool) {
        let counter = if hit {
            &self.statistics_hits
        } else {
            &self.statistics_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A recorded decision and its alerts.
    pub fn decision(&self, module: Module, flagged: bool, alerts: &[Alert]) {
        self.detections[slot(module)].fetch_add(1, Ordering::Relaxed);
        if flagged {
            self.flagged[slot(module)].fetch_add(1, Ordering::Relaxed);
        }
        metrics::counter!(names::DETECTIONS, "module" => module.as_str(), "flagged" => flagged.to_string())
            .increment(1);
        for alert in alerts {
            metrics::counter!(
                names::ALERTS,
                "module" => module.as_str(),
                "rule" => alert.rule.clone(),
                "severity" => alert.severity.as_str()
            )
            .increment(1);
        }
    }

    pub fn snapshot(&self) -> TelemetrySnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TelemetrySnapshot {
            window_hits: load(&self.window_hits),
            window_misses: load(&self.window_misses),
            statistics_hits: load(&self.statistics_hits),
            statistics_misses: load(&self.statistics_misses),
            detections: Module::ALL
                .into_iter()
                .map(|module| {
                    (
                        module,
                        load(&self.detections[slot(module)]),
                        load(&self.flagged[slot(module)]),
                    )
                })
                .collect(),
        }
    }
}
