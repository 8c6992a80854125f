use serde::{Deserialize, Serialize};

/// The AML thresholds; every one is a documented setting (`[aml]` in config/default.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmlConfig {
    /// The cash reporting threshold (US CTR: 10,000): large transactions reach it, structuring
    /// stays under it.
    pub reporting_threshold: f64,
    /// How far back structuring looks, in hours (FATF: "usually within 24 hours").
    pub structuring_window_hours: u32,
    /// How many sub-threshold transfers in the window make a pattern.
    pub structuring_min_transactions: u32,
    /// A transfer at or above this share of the threshold counts as "just under" it.
    pub near_threshold_ratio: f64,
    /// Clustering: transfers within this share under the threshold (0.10: 9,000-9,999.99).
    pub clustering_band: f64,
    /// Clustering: how many such transfers within the window make a cluster.
    pub clustering_min_transactions: u32,
    /// Clustering: the window, in days.
    pub clustering_window_days: u32,
    /// Velocity: most transfers a sender makes in one hour before it is unusual.
    pub velocity_1h_max_transactions: u32,
    /// Velocity: most money sent in one hour.
    pub velocity_1h_max_amount: f64,
    /// Velocity: most transfers in 24 hours.
    pub velocity_24h_max_transactions: u32,
    /// Velocity: most money sent in 24 hours.
    pub velocity_24h_max_amount: f64,
    /// Velocity: days of the sender's history that make its baseline.
    pub velocity_baseline_days: u32,
    /// Velocity: 24-hour outflow over the sender's average day that counts as a spike.
    pub velocity_baseline_multiple: f64,
    /// Velocity: the fewest days of history before a baseline is trusted.
    pub velocity_baseline_min_days: u32,
    /// Pass-through: share of the 24-hour inflow sent on again that counts as pass-through.
    pub pass_through_ratio: f64,
    /// Pass-through: the window, in hours.
    pub pass_through_window_hours: u32,
    /// Pass-through: the least inflow worth looking at.
    pub pass_through_min_amount: f64,
    /// Fan-in / fan-out: the window, in hours.
    pub fan_window_hours: u32,
    /// Fan-in: distinct senders to one receiver in the window.
    pub fan_in_min_senders: u32,
    /// Fan-out: distinct receivers from one sender in the window.
    pub fan_out_min_receivers: u32,
    /// Round amounts: the unit an amount is a whole multiple of (no cents).
    pub round_amount_unit: f64,
    /// Round amounts: how many (including this one) in the window are repeated.
    pub round_amount_min_transactions: u32,
    /// Round amounts: the window, in days.
    pub round_amount_window_days: u32,
    /// ISO 3166 alpha-2 codes treated as high-risk; empty uses the bundled FATF lists.
    pub high_risk_countries: Vec<String>,
    /// A CSV of watched parties (columns `id`, `name`, `list`) that the service reads at start;
    /// empty for none.
    pub watchlist_file: String,
    /// Risk score (0-100) from which a transfer is flagged.
    pub flag_risk_score: f64,
}

impl Default for AmlConfig {
    fn default() -> Self {
        Self {
            reporting_threshold: 10_000.0,
            structuring_window_hours: 24,
            structuring_min_transactions: 3,
            near_threshold_ratio: 0.8,
            clustering_band: 0.10,
            clustering_min_transactions: 3,
            clustering_window_days: 7,
            velocity_1h_max_transactions: 5,
            velocity_1h_max_amount: 20_000.0,
            velocity_24h_max_transactions: 10,
            velocity_24h_max_amount: 50_000.0,
            velocity_baseline_days: 30,
            velocity_baseline_multiple: 3.0,
            velocity_baseline_min_days: 7,
            pass_through_ratio: 0.8,
            pass_through_window_hours: 24,
            pass_through_min_amount: 1_000.0,
            fan_window_hours: 24,
            fan_in_min_senders: 5,
            fan_out_min_receivers: 5,
            round_amount_unit: 1_000.0,
            round_amount_min_transactions: 3,
            round_amount_window_days: 7,
            high_risk_countries: Vec::new(),
            watchlist_file: String::new(),
            flag_risk_score: 50.0,
        }
    }
}
