use redflag_core::ConfigError;
use serde::{Deserialize, Serialize};

use crate::Session;

/// The market-abuse thresholds (`[market]` in config/default.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// Relative price rise within the pump window that counts as a surge (0.20 = 20%).
    pub pump_price_rise: f64,
    /// The pump window, in hours.
    pub pump_window_hours: u32,
    /// Window volume over the average daily volume that counts as abnormal.
    pub pump_volume_multiple: f64,
    /// Days of trading before the window that make the symbol's baseline.
    pub baseline_days: u32,
    /// Days with trading needed before baseline rules may fire.
    pub min_baseline_days: u32,
    /// Fall from the recent high that counts as the dump after a surge.
    pub dump_price_fall: f64,
    /// How far back the surge and the pumpers' buying are looked for, in hours.
    pub dump_window_hours: u32,
    /// How far back a trader's orders, cancels and trades are read for spoofing, in seconds.
    pub spoof_window_seconds: u32,
    /// The longest an order may rest and still count as cancelled "within seconds".
    pub spoof_max_order_lifetime_seconds: u32,
    /// Share of the placed volume on one side that must be cancelled quickly.
    pub spoof_min_cancel_ratio: f64,
    /// Cancelled volume over the volume executed on the other side that makes the orders
    /// disproportionate.
    pub spoof_min_size_multiple: f64,
    /// Distinct price levels of the cancelled orders from which spoofing is layering.
    pub layering_min_levels: u32,
    /// How close in time a wash trade's two legs are, in seconds.
    pub wash_window_seconds: u32,
    /// How close the legs' prices are, as a fraction.
    pub wash_price_tolerance: f64,
    /// How close the legs' volumes are, as a fraction.
    pub wash_volume_tolerance: f64,
    /// The exchange's time zone (IANA name), in which the session opens and closes.
    pub session_time_zone: String,
    /// Session open, local time, HH:MM.
    pub session_open: String,
    /// Session close, local time, HH:MM.
    pub session_close: String,
    /// The last minutes of the session in which trades are checked for marking the close.
    pub marking_window_minutes: u32,
    /// Price away from the session VWAP that counts as moving the close.
    pub marking_price_move: f64,
    /// Trades in the session needed before its VWAP means anything.
    pub marking_min_session_trades: u32,
    /// The fewest trading days a multi-day run-up spans.
    pub run_up_min_days: u32,
    /// The most trading days a multi-day run-up spans.
    pub run_up_max_days: u32,
    /// Standard deviations of the symbol's daily moves, scaled to the run-up's length
    /// (sd x sqrt(days)), from which a run-up is a pump.
    pub run_up_sigmas: f64,
    /// The run-up days' mean volume over the baseline's median daily volume from which it is a
    /// pump.
    pub run_up_volume_multiple: f64,
    /// The largest share of a run-up's gain one day may carry: above it the rise is a one-day
    /// jump (news-like), not a build-up.
    pub run_up_max_jump_share: f64,
    /// Trading days after a run-up's high within which a fall counts as its dump.
    pub reversal_within_days: u32,
    /// Share of the run-up's gain (in log terms) given back that makes the fall a dump.
    pub reversal_retrace: f64,
    /// The dump day's volume over the baseline median from which the fall is a dump.
    pub reversal_volume_multiple: f64,
    /// The run-up a dump reverses may be weaker than a pump alert's (the reversal is evidence
    /// too): these many standard deviations...
    pub reversal_run_up_sigmas: f64,
    /// ...on this multiple of the baseline volume.
    pub reversal_run_up_volume_multiple: f64,
    /// Standard deviations from the symbol's own history that make volume or a price move unusual.
    pub unusual_z_score: f64,
    /// Risk score (0-100) from which an event is flagged.
    pub flag_risk_score: f64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            pump_price_rise: 0.20,
            pump_window_hours: 24,
            pump_volume_multiple: 3.0,
            baseline_days: 30,
            min_baseline_days: 5,
            dump_price_fall: 0.15,
            dump_window_hours: 72,
            spoof_window_seconds: 60,
            spoof_max_order_lifetime_seconds: 30,
            spoof_min_cancel_ratio: 0.8,
            spoof_min_size_multiple: 3.0,
            layering_min_levels: 3,
            wash_window_seconds: 300,
            wash_price_tolerance: 0.01,
            wash_volume_tolerance: 0.10,
            session_time_zone: "America/New_York".to_owned(),
            session_open: "09:30".to_owned(),
            session_close: "16:00".to_owned(),
            marking_window_minutes: 10,
            marking_price_move: 0.02,
            marking_min_session_trades: 5,
            run_up_min_days: 2,
            run_up_max_days: 10,
            run_up_sigmas: 4.0,
            run_up_volume_multiple: 2.4,
            run_up_max_jump_share: 0.6,
            reversal_within_days: 5,
            reversal_retrace: 0.5,
            reversal_volume_multiple: 2.0,
            reversal_run_up_sigmas: 2.5,
            reversal_run_up_volume_multiple: 1.5,
            unusual_z_score: 3.0,
            flag_risk_score: 50.0,
        }
    }
}

impl MarketConfig {
    /// Refuses settings that would make the surveillance rules meaningless, and a session that
    /// cannot be read, naming each setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        let positive = |value: f64| value > 0.0 && value.is_finite();
        let multiple = |value: f64| value >= 1.0 && value.is_finite();
        let share = |value: f64| value > 0.0 && value <= 1.0;
        let checks = ConfigError::check(
            "market",
            &[
                (
                    !positive(self.pump_price_rise)
                        || !share(self.dump_price_fall)
                        || !positive(self.marking_price_move),
                    "pump_price_rise and marking_price_move must be above 0, dump_price_fall in \
                     0..=1 and above 0",
                ),
                (
                    self.pump_window_hours == 0
                        || self.dump_window_hours == 0
                        || self.spoof_window_seconds == 0
                        || self.spoof_max_order_lifetime_seconds == 0
                        || self.wash_window_seconds == 0
                        || self.marking_window_minutes == 0
                        || self.reversal_within_days == 0,
                    "every window (pump, dump, spoof, order lifetime, wash, marking, reversal) \
                     must be at least 1",
                ),
                (
                    self.min_baseline_days == 0 || self.min_baseline_days > self.baseline_days,
                    "min_baseline_days must be at least 1 and at most baseline_days",
                ),
                (
                    self.run_up_min_days == 0 || self.run_up_min_days > self.run_up_max_days,
                    "run_up_min_days must be at least 1 and at most run_up_max_days",
                ),
                (
                    ![
                        self.pump_volume_multiple,
                        self.spoof_min_size_multiple,
                        self.run_up_volume_multiple,
                        self.reversal_volume_multiple,
                        self.reversal_run_up_volume_multiple,
                    ]
                    .into_iter()
                    .all(multiple),
                    "every volume or size multiple must be at least 1",
                ),
                (
                    ![
                        self.run_up_sigmas,
                        self.reversal_run_up_sigmas,
                        self.unusual_z_score,
                    ]
                    .into_iter()
                    .all(positive),
                    "run_up_sigmas, reversal_run_up_sigmas and unusual_z_score must be above 0",
                ),
                (
                    !share(self.spoof_min_cancel_ratio)
                        || !share(self.run_up_max_jump_share)
                        || !share(self.reversal_retrace),
                    "spoof_min_cancel_ratio, run_up_max_jump_share and reversal_retrace must lie \
                     in 0..=1 and be above 0",
                ),
                (
                    self.layering_min_levels < 2,
                    "layering_min_levels must be at least 2",
                ),
                (
                    !(0.0..1.0).contains(&self.wash_price_tolerance)
                        || !(0.0..1.0).contains(&self.wash_volume_tolerance),
                    "wash_price_tolerance and wash_volume_tolerance must be at least 0 and below 1",
                ),
                (
                    !(0.0..=100.0).contains(&self.flag_risk_score),
                    "flag_risk_score must lie in 0..=100",
                ),
            ],
        );
        let session = Session::from_config(self)
            .map(|_| ())
            .map_err(ConfigError::from);
        ConfigError::merge([checks, session])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MarketDetector;

    #[test]
    fn the_defaults_pass_and_the_engine_refuses_every_meaningless_setting_by_name() {
        assert_eq!(MarketConfig::default().check(), Ok(()));
        let wrong = MarketConfig {
            dump_price_fall: 1.5,
            min_baseline_days: 40,
            layering_min_levels: 1,
            session_time_zone: "Mars/Olympus".to_owned(),
            ..MarketConfig::default()
        };
        let Err(refused) = MarketDetector::new(wrong) else {
            panic!("the engine started on meaningless settings");
        };
        assert_eq!(
            refused.problems,
            [
                "market.pump_price_rise and marking_price_move must be above 0, dump_price_fall \
                 in 0..=1 and above 0",
                "market.min_baseline_days must be at least 1 and at most baseline_days",
                "market.layering_min_levels must be at least 2",
                "market.session_time_zone \"Mars/Olympus\" is not an IANA time zone (e.g. \
                 America/New_York)",
            ]
        );
    }
}
