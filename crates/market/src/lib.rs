#![doc = include_str!("../README.md")]

mod config;
mod detector;
mod dump;
mod event;
pub mod features;
mod marking_close;
pub mod model;
mod multi_day;
mod pump_and_dump;
mod reversal;
mod run_up;
mod session;
mod spoofing;
mod tags;
mod unusual;
mod wash;
mod windows;

pub use config::MarketConfig;
pub use detector::{MarketAssessment, MarketDetector};
pub use dump::DumpAfterPump;
pub use event::{EventType, MarketEvent, Side};
pub use marking_close::MarkingTheClose;
pub use multi_day::{MultiDayPump, RunUpBuilding};
pub use pump_and_dump::PumpAndDump;
pub use reversal::{DumpAfterRunUp, RunUpReversing};
pub use session::{Session, SessionError};
pub use spoofing::SpoofingRule;
pub use unusual::UnusualActivity;
pub use wash::WashTradeRule;
