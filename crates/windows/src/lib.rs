#![doc = include_str!("../README.md")]

mod in_process;

pub use in_process::InProcessWindows;

/// What a sweep of the windows found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Windows removed by this sweep. Redis removes expired keys itself (each write renews the
    /// key's expiry to the window's horizon), so there it is always 0.
    pub removed: usize,
    /// Windows still held.
    pub live: usize,
    /// Windows forgotten since the last sweep to stay within the in-process bound
    /// (`windows.max_windows`); Redis bounds its memory itself, so there it is always 0.
    pub evicted: u64,
}
