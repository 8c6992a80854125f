//! What the `redflag` binary's commands share that is not HTTP: the layered settings, the modules
//! the service runs (`registry`) and their detectors as configured, the model registry (load or
//! train, install, retrain, labelled training), the calibration of the anomaly alerts, the AML
//! peer groups and the evaluation of a model on a user's CSV, the audit worker, the periodic
//! tasks, the metric names and the users; and the commands themselves that need no HTTP (`cli`). Their
//! failures are one [`ServiceError`]. The gateway adds routes, authentication, the API document
//! and the dashboard on top; this crate knows nothing of actix (`cargo xtask test` checks).

pub mod anomaly_calibration;
pub mod backtest;
pub mod cli;
pub mod detectors;
mod error;
pub mod model_evaluation;
pub mod models;
pub mod peer_groups;
pub mod registry;
pub mod rule_sets;
pub mod screening;
pub mod settings;
pub mod shadow;
pub mod tasks;
pub mod telemetry;
pub mod users;
pub mod webhooks;
pub mod windows;
pub mod worker;

pub use error::ServiceError;

/// Runs database work on the blocking pool, so that no runtime thread waits on the database; the
/// work's error, or the pool's (a panic in it), comes back as a [`ServiceError`].
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ServiceError>
where
    T: Send + 'static,
    E: Into<ServiceError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await?.map_err(Into::into)
}
