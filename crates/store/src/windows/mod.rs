//! Recent-activity windows: each entity's recent events, read and updated in one atomic step.

mod in_process;
mod redis;

use std::future::Future;
use std::pin::Pin;

use redflag_core::{History, Observation};

pub use redflag_windows::{InProcessWindows, Sweep};
pub use redis::RedisWindows;

/// The future every window operation returns; boxed so that implementations can sit behind `dyn`.
pub type WindowFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, WindowError>> + Send + 'a>>;

/// Why the windows could not be read or updated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    #[error("redis command failed: {0}")]
    Command(#[from] ::redis::RedisError),
    #[error("window entry unreadable: {0:?}")]
    BadEntry(String),
    #[error("aggregate bucket unreadable: {0}")]
    BadBucket(String),
}

/// Where the recent activity of entities lives.
///
/// `observe` is atomic per window: it reads what the window held during each observation's
/// horizon and records the observation's activity as one step, so 64 concurrent events of one
/// sender each see a consistent count and the window ends up with all 64. An activity whose
/// reference the window already holds is not added twice (a resent event), nor returned as its own
/// history. Windows keep at most their horizon (by event time) and a configured number of entries,
/// and a window untouched for longer than its horizon expires.
pub trait ActivityWindows: Send + Sync {
    /// Records every observation and returns each window's prior contents.
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History>;

    /// Removes the windows untouched for longer than their horizon and counts the rest: the
    /// worker's periodic sweep, which frees what an entity that has gone quiet left behind.
    fn expire(&self) -> WindowFuture<'_, Sweep>;

    /// Checks that the backing service answers, for the health endpoint.
    fn ping(&self) -> WindowFuture<'_, ()>;

    /// `in-process` or `redis`, as the health endpoint reports it.
    fn kind(&self) -> &'static str;
}
