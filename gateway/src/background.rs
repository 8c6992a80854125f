//! The work a serving process does beside its requests, whatever brings the events in (`serve`'s
//! HTTP, `consume`'s stream): the metrics' upkeep, the embedded audit worker with the webhook
//! deliveries and the periodic tasks, the detectors' reload loop, and a re-screen an earlier
//! process left unfinished.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use redflag_service::ServiceError;
use redflag_service::tasks::Periodic;

use crate::state::AppState;

/// The background work started for a process; [`Background::stop`] ends it cleanly.
pub struct Background {
    state: web::Data<AppState>,
    consumer: String,
    audit_worker: Option<actix_web::rt::task::JoinHandle<()>>,
}

impl Background {
    /// Starts it on the current actix system.
    pub fn start(state: &web::Data<AppState>) -> Result<Self, ServiceError> {
        let upkeep = state.prometheus.clone();
        actix_web::rt::spawn(async move {
            let mut interval = actix_web::rt::time::interval(Duration::from_secs(5));
            loop {
                interval.tick().await;
                upkeep.run_upkeep();
            }
        });
        let consumer = redflag_service::worker::consumer_name();
        let mut audit_worker = None;
        if state.settings.audit.embedded_worker {
            audit_worker = Some(actix_web::rt::spawn(redflag_service::worker::run(
                state.db.clone(),
                state.settings.audit.clone(),
                state.settings.redis.key_prefix.clone(),
                consumer.clone(),
            )));
            // Webhook deliveries beside the audit worker: the log it writes is what they send.
            let dispatcher = redflag_service::webhooks::Dispatcher::new(
                state.db.clone(),
                &state.settings.webhooks,
            )?;
            actix_web::rt::spawn(dispatcher.run());
            actix_web::rt::spawn(
                Periodic::new(
                    state.db.clone(),
                    Some(state.windows.clone()),
                    &state.settings,
                )
                .run(),
            );
        }
        actix_web::rt::spawn(
            state
                .detectors
                .clone()
                .keep_current(Arc::new(state.settings.clone()), state.db.clone()),
        );
        // A list import interrupted before its re-screen finished (a gateway stopped mid-way) is
        // finished here; it raises nothing twice.
        let (screening, db) = (state.detectors.screening.clone(), state.db.clone());
        actix_web::rt::spawn(async move {
            let done =
                web::block(move || screening.rescreen_pending(&db, chrono::Utc::now())).await;
            match done {
                Ok(Ok(done)) if done.alerts > 0 => {
                    tracing::info!(
                        alerts = done.alerts,
                        parties = done.parties,
                        "finished a pending re-screen"
                    )
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, "a pending re-screen failed; `redflag lists rescreen` finishes it")
                }
                Err(error) => tracing::error!(%error, "a pending re-screen did not run"),
            }
        });
        Ok(Self {
            state: state.clone(),
            consumer,
            audit_worker,
        })
    }

    /// After the last event was decided: the embedded worker stops first (its queue connection
    /// closes with it), so that it takes no record the flush relays; what it was handed and had
    /// not acknowledged, the flush applies, within `grace`.
    pub async fn stop(self, grace: Duration) {
        if let Some(worker) = self.audit_worker {
            worker.abort();
            let _stopped = worker.await;
        }
        redflag_service::worker::flush_within(
            grace,
            &self.state.db,
            &self.state.settings.audit,
            &self.state.settings.redis.key_prefix,
            &self.consumer,
        )
        .await;
    }
}
