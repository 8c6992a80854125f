//! Which recent-activity windows a process keeps, from settings.

use std::sync::Arc;

use redflag_store::{ActivityWindows, InProcessWindows, RedisWindows, WindowError};

use crate::settings::Settings;

/// The windows a serving process scores with: Redis when configured (shared by every gateway),
/// else its own memory, bounded by `windows.max_windows`.
pub fn serving(settings: &Settings) -> Result<Arc<dyn ActivityWindows>, WindowError> {
    Ok(match shared(settings)? {
        Some(redis) => redis,
        None => Arc::new(
            InProcessWindows::new(settings.windows.max_entries)
                .with_max_windows(settings.windows.max_windows),
        ),
    })
}

/// The windows a process other than `serve` can reach: Redis when configured; in-process
/// windows live in `serve` alone.
pub fn shared(settings: &Settings) -> Result<Option<Arc<dyn ActivityWindows>>, WindowError> {
    if !settings.redis_configured() {
        return Ok(None);
    }
    let windows = RedisWindows::connect(
        &settings.redis.url,
        &settings.redis.key_prefix,
        settings.windows.max_entries,
    )?;
    Ok(Some(Arc::new(windows)))
}
