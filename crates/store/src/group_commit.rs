//! Group commit: one writer thread stores the decisions of concurrent requests together, one
//! transaction per batch, and answers each request after the commit that holds its decision.
//! On PostgreSQL the requests' idempotency lookups are asked together the same way
//! ([`DecisionLookups`]).
//!
//! A commit costs the same whether it holds one decision or two hundred (the WAL frames of the
//! shared pages, the locks, the hand-offs), so under load each decision pays a fraction of it,
//! while an idle service still commits each decision at once: the writer never waits for a batch
//! to fill, it takes whatever is queued when it is ready.

use std::collections::HashMap;

use diesel::Connection;
use redflag_core::Module;
use tokio::sync::{mpsc, oneshot};

use crate::audit_log::{append_fresh_in, apply_pending_in};
use crate::decisions::insert_decisions;
use crate::{Backend, Database, DecisionToRecord, Recorded, StoreError, StoredDecision};

/// Waiting audit records from elsewhere (tokens issued, users created, decisions stored one by one
/// after a failed batch) a batch also appends, before its own, when the writer keeps the chain.
const CHAIN_BACKLOG: i64 = 100;

/// How often the write-ahead log is checkpointed beside the writer (SQLite).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What the writer answers: the outcome, with the record handed back for the caller's own
/// bookkeeping.
type Answer = Result<(Recorded, DecisionToRecord), StoreError>;

struct Job {
    record: DecisionToRecord,
    reply: oneshot::Sender<Answer>,
}

/// The handle requests record their decisions through; cloning it shares the one writer.
#[derive(Clone)]
pub struct DecisionWriter {
    jobs: mpsc::Sender<Job>,
}

impl DecisionWriter {
    /// Starts the writer thread over `db`, committing at most `max_batch` decisions at a time. The
    /// thread ends when the last handle is dropped, after storing what was queued.
    ///
    /// On SQLite a second thread checkpoints the write-ahead log every second, so that the
    /// checkpoint's fsync happens beside the writer rather than inside one of its commits.
    ///
    /// With `keep_chain`, each batch transaction also appends to the hash-chained audit log the
    /// records waiting in the outbox (oldest first, up to [`CHAIN_BACKLOG`]) and then its own
    /// decisions' records, whose outbox rows go in marked delivered (without a copy of the payload
    /// the entry holds): a decision's audit entry is committed with it and nothing reads, copies
    /// or marks it afterwards. Meant for the embedded mode, where this writer is the database's
    /// only writer of decisions anyway; with several gateways on one database the chain's head
    /// would serialise their writers, so there the outbox and the workers keep it.
    pub fn start(db: Database, max_batch: usize, keep_chain: bool) -> std::io::Result<Self> {
        let max_batch = max_batch.max(1);
        let (jobs, queue) = mpsc::channel(max_batch * 4);
        let (alive, stopped) = std::sync::mpsc::channel::<()>();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("redflag-writer".to_owned())
            .spawn(move || {
                write_batches(&writer_db, queue, max_batch, keep_chain);
                drop(alive);
            })?;
        if db.backend() == Backend::Sqlite {
            std::thread::Builder::new()
                .name("redflag-checkpoint".to_owned())
                .spawn(move || checkpoint_until_stopped(&db, &stopped))?;
        }
        Ok(Self { jobs })
    }

    /// Stores the decision with its alerts and audit outbox row, as
    /// [`Database::record_decision`] does, and answers once it is committed.
    pub async fn record(&self, record: DecisionToRecord) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { record, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        // A dropped reply means the writer thread died with the job: nothing was acknowledged.
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// Checkpoints the write-ahead log every [`CHECKPOINT_EVERY`] until the writer stops. Should a
/// checkpoint fail (the database is briefly unavailable), the next one catches up.
fn checkpoint_until_stopped(db: &Database, stopped: &std::sync::mpsc::Receiver<()>) {
    let mut take_over = true;
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        stopped.recv_timeout(CHECKPOINT_EVERY)
    {
        match db.checkpoint_wal(take_over) {
            Ok(()) => take_over = false,
            Err(error) => tracing::warn!(%error, "WAL checkpoint failed; retrying"),
        }
    }
}

fn write_batches(
    db: &Database,
    mut queue: mpsc::Receiver<Job>,
    max_batch: usize,
    keep_chain: bool,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while next_batch(&mut queue, max_batch, &mut batch) {
        commit(db, &mut batch, keep_chain);
    }
}

/// Waits for the next job, then takes whatever else is queued, up to `max` in all; false once
/// every sender is gone and the queue is empty. A batch never waits to fill.
fn next_batch<T>(queue: &mut mpsc::Receiver<T>, max: usize, batch: &mut Vec<T>) -> bool {
    let Some(first) = queue.blocking_recv() else {
        return false;
    };
    batch.push(first);
    while batch.len() < max {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    true
}

/// Commits a batch in one transaction. If that fails (the database is down, or on PostgreSQL
/// another gateway stored the same business id first), each decision is retried in its own
/// transaction, so that one decision's problem is its own.
fn commit(db: &Database, batch: &mut Vec<Job>, keep_chain: bool) {
    let together = db.write().and_then(|mut connection| {
        connection
            .transaction(|connection| {
                let records: Vec<&DecisionToRecord> = batch.iter().map(|job| &job.record).collect();
                let now = chrono::Utc::now();
                let inserted =
                    insert_decisions(connection, &records, keep_chain.then(|| now.naive_utc()))?;
                if keep_chain {
                    // Older waiting records (tokens issued, a batch that fell back) go first.
                    apply_pending_in(connection, CHAIN_BACKLOG, 0, now)?;
                    append_fresh_in(connection, &inserted.delivered, now)?;
                }
                Ok::<_, diesel::result::Error>(inserted.ids)
            })
            .map_err(StoreError::from)
    });
    match together {
        Ok(outcomes) => {
            for (job, id) in batch.drain(..).zip(outcomes) {
                let _ = job.reply.send(Ok((Recorded::New(id), job.record)));
            }
        }
        Err(error) => {
            tracing::debug!(%error, size = batch.len(), "batch not committed; storing one by one");
            for job in batch.drain(..) {
                let outcome = db.record_decision(&job.record);
                let _ = job.reply.send(outcome.map(|outcome| (outcome, job.record)));
            }
        }
    }
}

/// One request's question: what `module` stored under `reference`, if anything.
struct Lookup {
    module: Module,
    reference: String,
    reply: oneshot::Sender<Result<Option<StoredDecision>, StoreError>>,
}

/// Answers the idempotency lookups of concurrent requests together: one query per module for all
/// the business ids queued, on a thread of its own.
///
/// On PostgreSQL every request asked the database on its own whether its business id was already
/// stored: a round trip and a statement per request, the largest share of the database's work
/// per decision once decisions were inserted many to a statement. Like the writer, it never waits
/// for a batch to fill, so an idle service still answers each lookup at once. (SQLite has no round
/// trip to save; there requests look up inline.)
#[derive(Clone)]
pub struct DecisionLookups {
    lookups: mpsc::Sender<Lookup>,
}

impl DecisionLookups {
    /// Starts the lookup thread over `db`, asking about at most `max_batch` business ids a query.
    /// The thread ends when the last handle is dropped.
    pub fn start(db: Database, max_batch: usize) -> std::io::Result<Self> {
        let max_batch = max_batch.max(1);
        let (lookups, mut queue) = mpsc::channel(max_batch * 4);
        std::thread::Builder::new()
            .name("redflag-lookups".to_owned())
            .spawn(move || {
                let mut batch = Vec::with_capacity(max_batch);
                while next_batch(&mut queue, max_batch, &mut batch) {
                    answer_lookups(&db, &mut batch);
                }
            })?;
        Ok(Self { lookups })
    }

    /// The decision `module` stored under `reference`, as [`Database::find_decision`] answers.
    pub async fn find(
        &self,
        module: Module,
        reference: &str,
    ) -> Result<Option<StoredDecision>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let lookup = Lookup {
            module,
            reference: reference.to_owned(),
            reply,
        };
        self.lookups
            .send(lookup)
            .await
            .map_err(|_| StoreError::LookupsStopped)?;
        answer.await.map_err(|_| StoreError::LookupsStopped)?
    }
}

/// Answers a batch of lookups, one query per module among them.
fn answer_lookups(db: &Database, batch: &mut Vec<Lookup>) {
    let mut by_module: HashMap<Module, Vec<Lookup>> = HashMap::new();
    for lookup in batch.drain(..) {
        by_module.entry(lookup.module).or_default().push(lookup);
    }
    for (module, lookups) in by_module {
        let references: Vec<&str> = lookups
            .iter()
            .map(|lookup| lookup.reference.as_str())
            .collect();
        match db.find_decisions(module, &references) {
            Ok(found) => {
                // Several requests may ask about the same business id (resends in flight).
                for lookup in lookups {
                    let stored = found.get(&lookup.reference).cloned();
                    let _ = lookup.reply.send(Ok(stored));
                }
            }
            Err(error) => {
                let (message, unavailable) = (error.to_string(), error.is_unavailable());
                for lookup in lookups {
                    let _ = lookup.reply.send(Err(StoreError::Shared {
                        message: message.clone(),
                        unavailable,
                    }));
                }
            }
        }
    }
}
