#![doc = include_str!("../README.md")]

mod baseline;
mod fusion;

pub use baseline::Baseline;
pub use fusion::noisy_or;
