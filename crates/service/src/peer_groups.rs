//! The AML peer groups: learned by the worker's `learn-peer-groups` task from the transfers the
//! deployment stored, kept in the database, and read back by every gateway (at start and on the
//! reload interval), so that all of them judge new senders against the same peers.

use crate::ServiceError;
use chrono::{DateTime, Duration, Utc};
use redflag_aml::{AmlConfig, PeerGroups, PeerLearning};
use redflag_audit::AuditEvent;
use redflag_core::Module;
use redflag_store::{Database, StoredRequest};
use serde_json::Value;

/// The calibration the peer groups are stored under.
pub const CALIBRATION: &str = "aml.peer_groups";

/// Stored decisions read per page while learning.
const PAGE: i64 = 5_000;

/// Learns the peer groups from the AML decisions of the `velocity_baseline_days` before the most
/// recent one, and stores them for every gateway; returns what was learned (no groups when there
/// are no decisions, or no segment has enough established senders yet). When the groups differ
/// from the stored ones, a `peer_groups.learned` audit event names them and `actor` (`system`
/// for the worker, or the admin who asked): they change which transfers raise velocity.
pub fn learn(
    db: &Database,
    config: &AmlConfig,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<PeerGroups, ServiceError> {
    let before = stored(db)?
        .map(|(peers, _)| peers.groups)
        .unwrap_or_default();
    let Some(latest) = db.latest_event_time(Module::Aml)? else {
        return Ok(PeerGroups::default());
    };
    let since = latest - Duration::days(i64::from(config.velocity_baseline_days));
    let mut learning = PeerLearning::default();
    let mut after = 0;
    loop {
        let page = db.requests_since(Module::Aml, since, after, PAGE)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.decision_id;
        for stored in &page {
            add_transfer(&mut learning, stored);
        }
    }
    let learned = learning.finish(config);
    let body = serde_json::to_string(&learned).map_err(ServiceError::json("AML peer groups"))?;
    db.put_calibration(CALIBRATION, &body, now)?;
    if learned.groups != before {
        db.record_audit_event(&AuditEvent {
            kind: AuditEvent::PEER_GROUPS_LEARNED,
            module: Some(Module::Aml.as_str().to_owned()),
            entity_id: CALIBRATION.to_owned(),
            actor: actor.to_owned(),
            details: serde_json::json!({
                "learned_through": learned.learned_through,
                "window_days": learned.window_days,
                "quantile": learned.quantile,
                "groups": learned.groups,
            }),
            recorded_at: now,
        })?;
    }
    Ok(learned)
}

/// The peer groups last learned, and when; `None` before the first learning.
pub fn stored(db: &Database) -> Result<Option<(PeerGroups, DateTime<Utc>)>, ServiceError> {
    let Some((body, learned_at)) = db.calibration(CALIBRATION)? else {
        return Ok(None);
    };
    let groups =
        serde_json::from_str(&body).map_err(ServiceError::json(format!("stored {CALIBRATION}")))?;
    Ok(Some((groups, learned_at)))
}

/// Adds a stored request as learning reads it: the fields validation let through (a request
/// stored before `sender_segment` existed has none); one that does not read is passed over.
fn add_transfer(learning: &mut PeerLearning, stored: &StoredRequest) {
    let Ok(request) = serde_json::from_str::<Value>(&stored.request_json) else {
        return;
    };
    let sender = request.get("sender_id").and_then(Value::as_str);
    let amount = request.get("amount").and_then(Value::as_f64);
    if let (Some(sender), Some(amount)) = (sender, amount) {
        let segment = request.get("sender_segment").and_then(Value::as_str);
        learning.add(sender, segment, stored.event_time, amount);
    }
}
