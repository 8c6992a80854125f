//! The time of day as models and custom rules read it.

use chrono::{DateTime, Timelike, Utc};

/// The event time's hour in UTC, minutes as a fraction (13.5 is 13:30): one definition for every
/// model feature and rule feature that asks "at what time of day".
pub fn hour_of_day(at: DateTime<Utc>) -> f64 {
    f64::from(at.hour()) + f64::from(at.minute()) / 60.0
}
