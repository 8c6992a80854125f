//! Scores a structuring run the way a service that embeds the detector would: each transfer's
//! windows read and updated in process, then the detector's verdict on that history. Nothing
//! but `redflag-aml` and `redflag-windows`: no database, no Redis, no async runtime.
//!
//! ```bash
//! cargo run -p redflag-aml --example structuring
//! ```

use std::error::Error;
use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use redflag_aml::{AmlConfig, AmlDetector, Transaction};
use redflag_core::{Assessment, Detector};
use redflag_windows::InProcessWindows;

fn main() -> Result<(), Box<dyn Error>> {
    let detector = AmlDetector::new(AmlConfig::default())?;
    let mut windows = InProcessWindows::new(10_000);
    let start = DateTime::parse_from_rfc3339("2026-02-02T09:00:00Z")?.with_timezone(&Utc);
    let mut out = std::io::stdout().lock();
    // Four deposits just under the $10,000 reporting threshold, two hours apart.
    let mut last = None;
    for (i, amount) in [9_500.0, 9_700.0, 9_800.0, 9_900.0].into_iter().enumerate() {
        let at = start + Duration::hours(2 * i as i64);
        let body = serde_json::json!({
            "transaction_id": format!("T-{i}"), "user_id": "U-1", "amount": amount,
            "sender_id": "SMURF", "receiver_id": format!("R-{i}"), "timestamp": at.to_rfc3339(),
        });
        let transfer = Transaction::parse(&body, Utc::now())?;
        let verdict = detector.score(&transfer, &mut windows);
        let rules: Vec<&str> = verdict.alerts.iter().map(|a| a.rule.as_str()).collect();
        writeln!(
            out,
            "T-{i} ${amount}: risk {} flagged {} {rules:?}",
            verdict.risk(),
            verdict.flagged()
        )?;
        last = Some(verdict);
    }
    let structuring = last
        .filter(|verdict| verdict.flagged())
        .and_then(|verdict| {
            verdict
                .alerts
                .into_iter()
                .find(|alert| alert.rule == "StructuringRule")
        });
    let Some(alert) = structuring else {
        return Err("the run was not flagged as structuring".into());
    };
    writeln!(out, "{}", alert.reason)?;
    for line in &alert.evidence {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}
