use serde::{Deserialize, Serialize};

/// The surveillance parameters (`[market]` in config/default.toml); regulators expect them
/// "reasonably designed and documented", so each is a setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// Relative price rise within the window that counts as a pump (0.10 = 10%).
    pub pump_price_rise: f64,
    /// The pump window, in hours.
    pub pump_window_hours: u32,
    /// Window volume over average daily volume that counts as abnormal.
    pub pump_volume_multiple: f64,
    /// Days of trading before the window that make the volume baseline.
    pub baseline_days: u32,
    /// Risk score (0-100) from which a trade is flagged.
    pub flag_risk_score: f64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            pump_price_rise: 0.10,
            pump_window_hours: 24,
            pump_volume_multiple: 3.0,
            baseline_days: 30,
            flag_risk_score: 50.0,
        }
    }
}
