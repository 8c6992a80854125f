//! The exchange's trading session, in its own time zone (daylight saving included).

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use redflag_core::ConfigError;

use crate::MarketConfig;

/// Why a session setting cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("market.session_time_zone {0:?} is not an IANA time zone (e.g. America/New_York)")]
    TimeZone(String),
    #[error("market.{field} {value:?} is not a time of day as HH:MM")]
    Time { field: &'static str, value: String },
    #[error("market.session_open must be before market.session_close")]
    Order,
}

/// A session that cannot be read is one of the settings the market engine refuses.
impl From<SessionError> for ConfigError {
    fn from(error: SessionError) -> Self {
        Self {
            problems: vec![error.to_string()],
        }
    }
}

/// When the session opens and closes, and where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Session {
    pub zone: Tz,
    pub open: NaiveTime,
    pub close: NaiveTime,
}

impl Session {
    pub fn from_config(config: &MarketConfig) -> Result<Self, SessionError> {
        let zone: Tz = config
            .session_time_zone
            .parse()
            .map_err(|_| SessionError::TimeZone(config.session_time_zone.clone()))?;
        let time = |field: &'static str, value: &str| {
            NaiveTime::parse_from_str(value.trim(), "%H:%M").map_err(|_| SessionError::Time {
                field,
                value: value.to_owned(),
            })
        };
        let open = time("session_open", &config.session_open)?;
        let close = time("session_close", &config.session_close)?;
        if open >= close {
            return Err(SessionError::Order);
        }
        Ok(Self { zone, open, close })
    }

    /// The open and close of the weekday session `at` falls on, as instants; `None` at weekends.
    pub fn around(&self, at: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let local = at.with_timezone(&self.zone);
        if matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
            return None;
        }
        let date = local.date_naive();
        let instant = |time: NaiveTime| {
            self.zone
                .from_local_datetime(&date.and_time(time))
                .earliest()
                .map(|local| local.with_timezone(&Utc))
        };
        Some((instant(self.open)?, instant(self.close)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_new_york_close_follows_daylight_saving() {
        let session = Session::from_config(&MarketConfig::default()).expect("the defaults");
        let (_, winter) = session
            .around(at("2026-02-10T18:00:00Z"))
            .expect("a Tuesday");
        assert_eq!(winter, at("2026-02-10T21:00:00Z"));
        let (open, summer) = session
            .around(at("2026-07-14T18:00:00Z"))
            .expect("a Tuesday");
        assert_eq!(summer, at("2026-07-14T20:00:00Z"));
        assert_eq!(open, at("2026-07-14T13:30:00Z"));
        assert!(
            session.around(at("2026-07-18T18:00:00Z")).is_none(),
            "a Saturday"
        );
    }

    #[test]
    fn bad_settings_name_themselves() {
        let config = MarketConfig {
            session_time_zone: "Mars/Olympus".to_owned(),
            ..MarketConfig::default()
        };
        assert_eq!(
            Session::from_config(&config)
                .expect_err("unknown zone")
                .to_string(),
            "market.session_time_zone \"Mars/Olympus\" is not an IANA time zone (e.g. America/New_York)"
        );
        let config = MarketConfig {
            session_close: "4pm".to_owned(),
            ..MarketConfig::default()
        };
        assert!(Session::from_config(&config).is_err());
    }
}
