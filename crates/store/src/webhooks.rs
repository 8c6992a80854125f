//! Webhook subscriptions and their deliveries.
//!
//! Deliveries are made from the audit log, which every decision and audited action reaches
//! through the outbox: a fan-out pass turns the log's new entries into one delivery per matching
//! subscription and moves the cursor past them in the same transaction, so that each event is
//! delivered to each subscription once, whichever worker runs the pass. A delivery is claimed by
//! moving its next attempt past the attempt's timeout before it is sent: a worker that dies
//! mid-delivery leaves it due again, under the same message id.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::connection::DbConnection;
use crate::schema::{
    audit_log, audit_outbox, cases, decisions, webhook_cursor, webhook_deliveries,
    webhook_subscriptions,
};
use crate::{Database, StoreError};

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredSubscription {
    pub id: i64,
    pub url: String,
    event_types: String,
    pub description: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    pub active: bool,
    /// Why the service disabled it (its endpoint answered 410), when it did.
    pub disabled_reason: Option<String>,
    pub starts_after: i64,
    pub created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl StoredSubscription {
    pub fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at.and_utc()
    }
    /// The secrets that sign a message sent at `now`: the current one, and the one before it
    /// while its rotation grace lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(expires)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && expires.and_utc() > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// A new subscription.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub url: &'a str,
    pub event_types: &'a [String],
    pub description: &'a str,
    pub secret: &'a str,
    pub created_by: &'a str,
}

/// Changes to a subscription; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionChange {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    /// Re-enabling clears the reason it was disabled.
    pub active: Option<bool>,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Queryable, Serialize)]
pub struct StoredDelivery {
    pub id: i64,
    pub subscription_id: i64,
    /// The `webhook-id` header: the same on every attempt.
    pub message_id: String,
    pub event_type: String,
    pub audit_id: i64,
    #[serde(skip)]
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    #[serde(skip)]
    next_attempt_at: NaiveDateTime,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    #[serde(skip)]
    created_at: NaiveDateTime,
    #[serde(skip)]
    delivered_at: Option<NaiveDateTime>,
}

impl StoredDelivery {
    pub const PENDING: &'static str = "pending";
    pub const DELIVERED: &'static str = "delivered";
    /// Given up on: its attempts ran out, or its endpoint answered 410.
    pub const FAILED: &'static str = "failed";

    pub fn next_attempt_at(&self) -> DateTime<Utc> {
        self.next_attempt_at.and_utc()
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }
    pub fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.delivered_at.map(|at| at.and_utc())
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// 410 Gone: the endpoint asks for no more; the subscription is disabled.
    Gone,
    /// Anything else (an error status, a timeout, a refused connection): tried again at
    /// `retry_at`, or given up on when `None`.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Delivery counts per status, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// The webhook event type of an audit-log entry, if it has one.
fn event_type_of(kind: &str, payload: &Value) -> Option<&'static str> {
    match kind {
        redflag_audit::DecisionRecorded::KIND if payload["flagged"] == true => {
            Some("decision.flagged")
        }
        redflag_audit::AuditEvent::CASE_OPENED => Some("case.opened"),
        redflag_audit::AuditEvent::CASE_UPDATED
            if payload["details"]["action"] == "status"
                && payload["details"]["status"] == "closed" =>
        {
            Some("case.closed")
        }
        redflag_audit::AuditEvent::CASE_UPDATED => Some("case.updated"),
        redflag_audit::AuditEvent::SCREENING_MATCH => Some("screening.match"),
        redflag_audit::AuditEvent::RULESET_PUBLISHED => Some("ruleset.published"),
        redflag_audit::AuditEvent::MODEL_TRAINED => Some("model.trained"),
        _ => None,
    }
}

/// The audit-log kinds that make webhook events, and the event types each can make.
const KINDS: [(&str, &[&str]); 6] = [
    (redflag_audit::DecisionRecorded::KIND, &["decision.flagged"]),
    (redflag_audit::AuditEvent::CASE_OPENED, &["case.opened"]),
    (
        redflag_audit::AuditEvent::CASE_UPDATED,
        &["case.updated", "case.closed"],
    ),
    (
        redflag_audit::AuditEvent::SCREENING_MATCH,
        &["screening.match"],
    ),
    (
        redflag_audit::AuditEvent::RULESET_PUBLISHED,
        &["ruleset.published"],
    ),
    (redflag_audit::AuditEvent::MODEL_TRAINED, &["model.trained"]),
];

/// Every event type a subscription may ask for, in [`KINDS`]' order.
pub fn event_types() -> impl Iterator<Item = &'static str> {
    KINDS.iter().flat_map(|(_, types)| types.iter().copied())
}

type LogEntry = (i64, String, String, String, NaiveDateTime);

/// A case's id, title, status, resolution and assignee.
type CaseRow = (i64, String, String, Option<String>, Option<String>);

impl Database {
    pub fn create_webhook_subscription(
        &self,
        new: &NewSubscription<'_>,
        now: DateTime<Utc>,
    ) -> Result<StoredSubscription, StoreError> {
        let mut connection = self.write()?;
        Ok(connection.transaction(|connection| {
            // Only what happens from now on is sent to it.
            let starts_after: Option<i64> = audit_log::table
                .select(diesel::dsl::max(audit_log::id))
                .first(connection)?;
            diesel::insert_into(webhook_subscriptions::table)
                .values((
                    webhook_subscriptions::url.eq(new.url),
                    webhook_subscriptions::event_types.eq(json!(new.event_types).to_string()),
                    webhook_subscriptions::description.eq(new.description),
                    webhook_subscriptions::secret.eq(new.secret),
                    webhook_subscriptions::active.eq(true),
                    webhook_subscriptions::starts_after.eq(starts_after.unwrap_or(0)),
                    webhook_subscriptions::created_by.eq(new.created_by),
                    webhook_subscriptions::created_at.eq(now.naive_utc()),
                    webhook_subscriptions::updated_at.eq(now.naive_utc()),
                ))
                .returning(webhook_subscriptions::all_columns)
                .get_result(connection)
        })?)
    }

    pub fn webhook_subscriptions(&self) -> Result<Vec<StoredSubscription>, StoreError> {
        Ok(webhook_subscriptions::table
            .order(webhook_subscriptions::id)
            .load(&mut *self.read()?)?)
    }

    pub fn webhook_subscription(&self, id: i64) -> Result<Option<StoredSubscription>, StoreError> {
        Ok(webhook_subscriptions::table
            .find(id)
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// Applies `change`; `None` when there is no such subscription.
    pub fn change_webhook_subscription(
        &self,
        id: i64,
        change: &SubscriptionChange,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredSubscription>, StoreError> {
        let mut connection = self.write()?;
        Ok(connection.transaction(|connection| {
            let target = webhook_subscriptions::table.find(id);
            if let Some(url) = &change.url {
                diesel::update(target)
                    .set(webhook_subscriptions::url.eq(url))
                    .execute(connection)?;
            }
            if let Some(types) = &change.event_types {
                diesel::update(target)
                    .set(webhook_subscriptions::event_types.eq(json!(types).to_string()))
                    .execute(connection)?;
            }
            if let Some(description) = &change.description {
                diesel::update(target)
                    .set(webhook_subscriptions::description.eq(description))
                    .execute(connection)?;
            }
            if let Some(active) = change.active {
                diesel::update(target)
                    .set((
                        webhook_subscriptions::active.eq(active),
                        webhook_subscriptions::disabled_reason.eq(None::<String>),
                    ))
                    .execute(connection)?;
            }
            diesel::update(target)
                .set(webhook_subscriptions::updated_at.eq(now.naive_utc()))
                .returning(webhook_subscriptions::all_columns)
                .get_result(connection)
                .optional()
        })?)
    }

    /// Replaces the secret; the one before keeps signing until `previous_expires_at`, so that
    /// receivers can switch without losing a message. `None` when there is no such
    /// subscription.
    pub fn rotate_webhook_secret(
        &self,
        id: i64,
        secret: &str,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredSubscription>, StoreError> {
        Ok(diesel::update(webhook_subscriptions::table.find(id))
            .set((
                webhook_subscriptions::previous_secret.eq(webhook_subscriptions::secret.nullable()),
                webhook_subscriptions::previous_secret_expires_at
                    .eq(Some(previous_expires_at.naive_utc())),
                webhook_subscriptions::secret.eq(secret),
                webhook_subscriptions::updated_at.eq(now.naive_utc()),
            ))
            .returning(webhook_subscriptions::all_columns)
            .get_result(&mut *self.write()?)
            .optional()?)
    }

    /// Removes a subscription and its delivery log; false when there was none.
    pub fn delete_webhook_subscription(&self, id: i64) -> Result<bool, StoreError> {
        let mut connection = self.write()?;
        Ok(connection.transaction(|connection| {
            diesel::delete(
                webhook_deliveries::table.filter(webhook_deliveries::subscription_id.eq(id)),
            )
            .execute(connection)?;
            diesel::delete(webhook_subscriptions::table.find(id))
                .execute(connection)
                .map(|deleted| deleted > 0)
        })?)
    }

    /// Turns up to `limit` new audit-log entries into deliveries, one per active subscription
    /// that asked for the entry's event type, and moves the cursor past them. Returns how many
    /// entries were turned over (0 when caught up). Only the kinds some subscription wants are
    /// read (of the decisions, only those that can be flagged); with no subscription the cursor
    /// jumps to the log's end and 0 is returned. Everything is read and built on a read
    /// connection; the write is one short transaction that inserts the deliveries and moves the
    /// cursor only if it has not moved meanwhile (another worker's pass turned these entries
    /// over: nothing is written, and 0 is returned), so that each entry reaches each
    /// subscription once and the decisions' writer is held up for the inserts alone.
    pub fn fan_out_webhooks(&self, limit: i64, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let (cursor, last, turned_over, deliveries) = {
            let mut connection = self.read()?;
            let connection = &mut *connection;
            let cursor: i64 = webhook_cursor::table
                .find(1)
                .select(webhook_cursor::audit_id)
                .first(connection)?;
            let ids: Vec<i64> = audit_log::table
                .filter(audit_log::id.gt(cursor))
                .order(audit_log::id)
                .limit(limit)
                .select(audit_log::id)
                .load(connection)?;
            let Some(last) = ids.last().copied() else {
                return Ok(0);
            };
            let subscriptions: Vec<Interest> = webhook_subscriptions::table
                .filter(webhook_subscriptions::active.eq(true))
                .load::<StoredSubscription>(connection)?
                .into_iter()
                .map(|subscription| Interest {
                    types: subscription.event_types(),
                    id: subscription.id,
                    starts_after: subscription.starts_after,
                })
                .collect();
            // The log's kinds some subscription wants: the others are passed over unread.
            let wanted: Vec<&str> = KINDS
                .iter()
                .filter(|(_, types)| {
                    subscriptions
                        .iter()
                        .any(|subscription| types.iter().any(|t| subscription.wants(t)))
                })
                .map(|(kind, _)| *kind)
                .collect();
            if wanted.is_empty() {
                // Nobody listens: the cursor jumps to the log's end.
                let newest: Option<i64> = audit_log::table
                    .select(diesel::dsl::max(audit_log::id))
                    .first(connection)?;
                (cursor, newest.unwrap_or(last).max(last), 0, Vec::new())
            } else {
                let mut deliveries = Vec::new();
                let entries: Vec<LogEntry> = audit_log::table
                    .filter(audit_log::id.gt(cursor))
                    .filter(audit_log::id.le(last))
                    .filter(audit_log::kind.eq_any(&wanted))
                    // A decision that is not flagged makes no event: the database passes over
                    // it without handing its payload over (the text is checked again below).
                    .filter(
                        audit_log::kind
                            .ne(redflag_audit::DecisionRecorded::KIND)
                            .or(audit_log::payload.like(FLAGGED_TEXT)),
                    )
                    .order(audit_log::id)
                    .select((
                        audit_log::id,
                        audit_log::event_id,
                        audit_log::kind,
                        audit_log::payload,
                        audit_log::occurred_at,
                    ))
                    .load(connection)?;
                for entry in &entries {
                    deliveries.extend(entry_deliveries(connection, entry, &subscriptions, now)?);
                }
                (cursor, last, ids.len(), deliveries)
            }
        };
        let mut connection = self.write()?;
        Ok(connection.transaction(|connection| {
            let moved = diesel::update(
                webhook_cursor::table
                    .find(1)
                    .filter(webhook_cursor::audit_id.eq(cursor)),
            )
            .set(webhook_cursor::audit_id.eq(last))
            .execute(connection)?;
            if moved == 0 {
                return Ok(0);
            }
            crate::connection::insert_rows!(
                &mut **connection,
                webhook_deliveries::table,
                deliveries
            );
            Ok::<_, diesel::result::Error>(turned_over)
        })?)
    }

    /// Claims up to `limit` deliveries due at `now` for an attempt: their next attempt moves to
    /// `lease_until`, so that no other worker sends them meanwhile, and a worker that dies
    /// leaves them due again then. Each comes with its subscription.
    ///
    /// Whether anything is due is asked on a read connection first: the workers ask every pass,
    /// and on SQLite the write connection is the decisions' writer's too, which would otherwise
    /// wait for each empty claim.
    pub fn claim_webhook_deliveries(
        &self,
        limit: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<(StoredDelivery, StoredSubscription)>, StoreError> {
        let due_at = |connection: &mut DbConnection| -> QueryResult<Vec<i64>> {
            webhook_deliveries::table
                .inner_join(webhook_subscriptions::table)
                .filter(webhook_deliveries::status.eq(StoredDelivery::PENDING))
                .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc()))
                .filter(webhook_subscriptions::active.eq(true))
                .order(webhook_deliveries::next_attempt_at)
                .limit(limit)
                .select(webhook_deliveries::id)
                .load(connection)
        };
        if due_at(&mut *self.read()?)?.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.write()?;
        Ok(connection.transaction(|connection| {
            let due = due_at(connection)?;
            if due.is_empty() {
                return Ok(Vec::new());
            }
            // Re-checked row by row: a row another worker claimed meanwhile is no longer due.
            let claimed: Vec<i64> = diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq_any(&due))
                    .filter(webhook_deliveries::status.eq(StoredDelivery::PENDING))
                    .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc())),
            )
            .set(webhook_deliveries::next_attempt_at.eq(lease_until.naive_utc()))
            .returning(webhook_deliveries::id)
            .get_results(connection)?;
            webhook_deliveries::table
                .inner_join(webhook_subscriptions::table)
                .filter(webhook_deliveries::id.eq_any(&claimed))
                .order(webhook_deliveries::id)
                .select((
                    webhook_deliveries::all_columns,
                    webhook_subscriptions::all_columns,
                ))
                .load(connection)
        })?)
    }

    /// Records the outcomes of a pass's attempts, in one transaction (one write for the pass,
    /// not one per delivery, beside the decisions' writer); a 410 also disables the
    /// subscription.
    pub fn record_webhook_attempts(
        &self,
        attempts: &[(StoredDelivery, AttemptOutcome)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut connection = self.write()?;
        connection.transaction(|connection| {
            for (delivery, outcome) in attempts {
                record_attempt(connection, delivery, outcome, now)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// A subscription's deliveries, newest first: a page of `limit` after skipping `offset`,
    /// and how many there are in all.
    pub fn webhook_deliveries(
        &self,
        subscription_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<StoredDelivery>, i64), StoreError> {
        let mut connection = self.read()?;
        let of_subscription = webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(subscription_id));
        let count = of_subscription.count().get_result(&mut *connection)?;
        let page = of_subscription
            .order(webhook_deliveries::id.desc())
            .offset(offset)
            .limit(limit)
            .load(&mut *connection)?;
        Ok((page, count))
    }

    /// Sends a delivery again from now on, with its message id and body: its attempts start
    /// over. `None` when the subscription has no such delivery.
    pub fn resend_webhook_delivery(
        &self,
        subscription_id: i64,
        delivery_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredDelivery>, StoreError> {
        Ok(diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery_id))
                .filter(webhook_deliveries::subscription_id.eq(subscription_id)),
        )
        .set((
            webhook_deliveries::status.eq(StoredDelivery::PENDING),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now.naive_utc()),
        ))
        .returning(webhook_deliveries::all_columns)
        .get_result(&mut *self.write()?)
        .optional()?)
    }

    /// Deliveries by status, over every subscription.
    pub fn webhook_delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        let rows: Vec<(String, i64)> = webhook_deliveries::table
            .group_by(webhook_deliveries::status)
            .select((webhook_deliveries::status, diesel::dsl::count_star()))
            .load(&mut *self.read()?)?;
        let mut counts = DeliveryCounts::default();
        for (status, count) in rows {
            match status.as_str() {
                StoredDelivery::PENDING => counts.pending = count,
                StoredDelivery::DELIVERED => counts.delivered = count,
                _ => counts.failed += count,
            }
        }
        Ok(counts)
    }
}

/// An active subscription as a fan-out pass reads it: its event types parsed once per pass.
struct Interest {
    id: i64,
    starts_after: i64,
    types: Vec<String>,
}

impl Interest {
    fn wants(&self, event_type: &str) -> bool {
        self.types.iter().any(|wanted| wanted == event_type)
    }
}

/// One log entry's deliveries: one per subscription that wants its event type.
fn entry_deliveries(
    connection: &mut DbConnection,
    (audit_id, event_id, kind, payload, occurred_at): &LogEntry,
    subscriptions: &[Interest],
    now: DateTime<Utc>,
) -> QueryResult<Vec<NewDelivery>> {
    // A decision's payload is read for its flag alone first: most are not flagged.
    if kind == redflag_audit::DecisionRecorded::KIND
        && !serde_json::from_str::<Flag>(payload).is_ok_and(|flag| flag.flagged)
    {
        return Ok(Vec::new());
    }
    let recorded: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let Some(event_type) = event_type_of(kind, &recorded) else {
        return Ok(Vec::new());
    };
    let interested: Vec<&Interest> = subscriptions
        .iter()
        .filter(|subscription| subscription.starts_after < *audit_id)
        .filter(|subscription| subscription.wants(event_type))
        .collect();
    if interested.is_empty() {
        return Ok(Vec::new());
    }
    let data = event_data(connection, event_type, event_id, &recorded)?;
    let body = json!({
        "type": event_type,
        "timestamp": occurred_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string();
    Ok(interested
        .into_iter()
        .map(|subscription| NewDelivery {
            subscription_id: subscription.id,
            message_id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
            event_type,
            audit_id: *audit_id,
            payload: body.clone(),
            status: StoredDelivery::PENDING,
            attempts: 0,
            next_attempt_at: now.naive_utc(),
            created_at: now.naive_utc(),
        })
        .collect())
}

/// A decision's payload, read for its flag alone.
#[derive(serde::Deserialize)]
struct Flag {
    #[serde(default)]
    flagged: bool,
}

/// What a flagged decision's payload holds (as its serialiser writes it): the database's
/// first sieve over the decisions.
const FLAGGED_TEXT: &str = "%\"flagged\":true%";

/// A delivery to insert.
#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDelivery {
    subscription_id: i64,
    message_id: String,
    event_type: &'static str,
    audit_id: i64,
    payload: String,
    status: &'static str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// The `data` of a webhook message: a flagged decision's answer as its API gives it, with its
/// module; a case's id and change; otherwise the audited action's subject and details.
fn event_data(
    connection: &mut DbConnection,
    event_type: &str,
    event_id: &str,
    recorded: &Value,
) -> QueryResult<Value> {
    match event_type {
        "decision.flagged" => {
            let outbox_id: Option<i64> = event_id
                .strip_prefix("outbox-")
                .and_then(|id| id.parse().ok());
            let decision: Option<(i64, String, String)> = match outbox_id {
                Some(outbox_id) => audit_outbox::table
                    .inner_join(decisions::table)
                    .filter(audit_outbox::id.eq(outbox_id))
                    .select((decisions::id, decisions::module, decisions::response_json))
                    .first(connection)
                    .optional()?,
                None => None,
            };
            Ok(match decision {
                Some((id, module, response)) => {
                    let mut answer: Value = serde_json::from_str(&response).unwrap_or(Value::Null);
                    if let Some(fields) = answer.as_object_mut() {
                        let mut with_id = serde_json::Map::with_capacity(fields.len() + 1);
                        with_id.insert("id".to_owned(), json!(id));
                        with_id.append(fields);
                        answer = Value::Object(with_id);
                    }
                    json!({"module": module, "decision": answer})
                }
                None => json!({"module": recorded["module"], "decision": recorded}),
            })
        }
        "case.opened" | "case.updated" | "case.closed" => {
            let case_id: Option<i64> = recorded["entity_id"]
                .as_str()
                .and_then(|entity| entity.strip_prefix("case:"))
                .and_then(|id| id.parse().ok());
            let case: Option<CaseRow> = match case_id {
                Some(id) => cases::table
                    .find(id)
                    .select((
                        cases::id,
                        cases::title,
                        cases::status,
                        cases::resolution,
                        cases::assignee,
                    ))
                    .first(connection)
                    .optional()?,
                None => None,
            };
            let mut change = recorded["details"].clone();
            let action = change
                .as_object_mut()
                .and_then(|details| details.remove("action"))
                .unwrap_or(Value::Null);
            Ok(json!({
                "case_id": case_id,
                "action": action,
                "actor": recorded["actor"],
                "change": change,
                "case": case.map(|(id, title, status, resolution, assignee)| json!({
                    "id": id, "title": title, "status": status, "resolution": resolution,
                    "assignee": assignee,
                })),
            }))
        }
        _ => Ok(json!({
            "module": recorded["module"],
            "entity_id": recorded["entity_id"],
            "actor": recorded["actor"],
            "details": recorded["details"],
        })),
    }
}

/// One attempt's outcome, inside the pass's transaction.
fn record_attempt(
    connection: &mut DbConnection,
    delivery: &StoredDelivery,
    outcome: &AttemptOutcome,
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let target = webhook_deliveries::table.find(delivery.id);
    let attempts = webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1);
    match outcome {
        AttemptOutcome::Delivered { status } => diesel::update(target)
            .set((
                attempts,
                webhook_deliveries::status.eq(StoredDelivery::DELIVERED),
                webhook_deliveries::last_status_code.eq(Some(i32::from(*status))),
                webhook_deliveries::last_error.eq(None::<String>),
                webhook_deliveries::delivered_at.eq(Some(now.naive_utc())),
            ))
            .execute(connection)?,
        AttemptOutcome::Gone => {
            diesel::update(webhook_subscriptions::table.find(delivery.subscription_id))
                .set((
                    webhook_subscriptions::active.eq(false),
                    webhook_subscriptions::disabled_reason.eq(Some(format!(
                        "The endpoint answered 410 Gone to message {} at {}.",
                        delivery.message_id,
                        now.to_rfc3339()
                    ))),
                    webhook_subscriptions::updated_at.eq(now.naive_utc()),
                ))
                .execute(connection)?;
            diesel::update(target)
                .set((
                    attempts,
                    webhook_deliveries::status.eq(StoredDelivery::FAILED),
                    webhook_deliveries::last_status_code.eq(Some(410)),
                    webhook_deliveries::last_error
                        .eq(Some("410 Gone: the subscription was disabled".to_owned())),
                ))
                .execute(connection)?
        }
        AttemptOutcome::Failed {
            status,
            error,
            retry_at,
        } => diesel::update(target)
            .set((
                attempts,
                webhook_deliveries::status.eq(if retry_at.is_some() {
                    StoredDelivery::PENDING
                } else {
                    StoredDelivery::FAILED
                }),
                webhook_deliveries::last_status_code.eq(status.map(i32::from)),
                webhook_deliveries::last_error.eq(Some(error)),
                webhook_deliveries::next_attempt_at.eq(retry_at.unwrap_or(now).naive_utc()),
            ))
            .execute(connection)?,
    };
    Ok(())
}
