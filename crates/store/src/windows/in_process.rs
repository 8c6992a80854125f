//! The in-process windows (`redflag-windows`) behind the service's window trait.

use redflag_core::{History, Observation};
use redflag_windows::{InProcessWindows, Sweep};

use super::{ActivityWindows, WindowFuture};

impl ActivityWindows for InProcessWindows {
    fn observe<'a>(&'a self, observations: &'a [Observation]) -> WindowFuture<'a, History> {
        Box::pin(async move { Ok(self.observe_now(observations)) })
    }

    fn expire(&self) -> WindowFuture<'_, Sweep> {
        Box::pin(async move { Ok(self.expire_now()) })
    }

    fn ping(&self) -> WindowFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}
