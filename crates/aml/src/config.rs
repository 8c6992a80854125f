use redflag_core::ConfigError;
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
    /// How many transfers just under the threshold (see `near_threshold_ratio`) in the window
    /// make a pattern.
    pub structuring_min_transactions: u32,
    /// The band "just under" the threshold starts at this share of it (0.8: 8,000-9,999.99).
    /// Transfers below the band are ordinary payments, not structuring.
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
    /// Profile: days of the sender's history (daily sums) that make its baseline.
    pub velocity_baseline_days: u32,
    /// Velocity: a 24-hour count or outflow this many times the sender's average *active* day
    /// counts as a spike.
    pub velocity_baseline_multiple: f64,
    /// Peer groups: the quantile of what established senders of a segment do in an hour and a
    /// day that a new sender of the segment may reach before velocity speaks (0.95: busier than
    /// 99 in 100 of its peers' transfers).
    pub peer_group_quantile: f64,
    /// Peer groups: the fewest established senders a segment needs before its limits are
    /// learned; a thinner segment's new senders meet the configured limits.
    pub peer_group_min_members: u32,
    /// Profile: the fewest active days (days with a transfer) before a sender's baseline speaks;
    /// until then it is judged against the peer limits (`velocity_1h_*`, `velocity_24h_*`).
    pub baseline_min_active_days: u32,
    /// Profile: the fewest transfers before a sender's baseline speaks.
    pub baseline_min_transfers: u32,
    /// Profile: how long a payee stays known, in days: one paid again within it (monthly rent,
    /// payroll, a supplier) is a recurring payee, not a new counterparty.
    pub recurring_payee_days: u32,
    /// Profile: a transfer this many times the sender's usual transfer is out of its pattern;
    /// one within it is explained by its own activity (a broker moving money is not a mule).
    pub unusual_amount_multiple: f64,
    /// Pass-through: how long after an inflow sending money on counts as passing it through, in
    /// hours (funds-flow hops, chains and scatter-gather use the same window).
    pub pass_through_window_hours: u32,
    /// Pass-through: an inflow funds a transfer when it is at least this share of it (laundering
    /// hops keep a cut, or add the mule's own money).
    pub pass_through_min_share: f64,
    /// Pass-through: the least share of what was received that is sent on (a saver who receives
    /// 10,000 and pays 2,000 for furniture keeps most of it).
    pub pass_through_min_forwarded: f64,
    /// Pass-through: the least amount, in and out, worth following.
    pub pass_through_min_amount: f64,
    /// Chains: the funds-flow depth (accounts in a row that passed the money on within the
    /// window) from which a transfer is a chain.
    pub chain_min_hops: u32,
    /// Scatter-gather: distinct senders, each passing on money it had just received, paying one
    /// account within the window.
    pub scatter_gather_min_senders: u32,
    /// Round trips: how long funds may take to come back to where they started, in hours.
    pub round_trip_window_hours: u32,
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
            peer_group_quantile: 0.95,
            peer_group_min_members: 20,
            baseline_min_active_days: 5,
            baseline_min_transfers: 10,
            recurring_payee_days: 45,
            unusual_amount_multiple: 5.0,
            pass_through_window_hours: 6,
            pass_through_min_share: 0.5,
            pass_through_min_forwarded: 0.5,
            pass_through_min_amount: 1_000.0,
            chain_min_hops: 2,
            scatter_gather_min_senders: 2,
            round_trip_window_hours: 24,
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

impl AmlConfig {
    /// Refuses settings that would make the profile and funds-flow typologies meaningless,
    /// naming each setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        let share = |value: f64| (0.0..=1.0).contains(&value);
        let problems = [
            (
                !(self.near_threshold_ratio > 0.0 && self.near_threshold_ratio < 1.0),
                "near_threshold_ratio must lie strictly between 0 and 1",
            ),
            (
                !(self.unusual_amount_multiple >= 1.0 && self.unusual_amount_multiple.is_finite()),
                "unusual_amount_multiple must be at least 1",
            ),
            (
                !(self.velocity_baseline_multiple >= 1.0
                    && self.velocity_baseline_multiple.is_finite()),
                "velocity_baseline_multiple must be at least 1",
            ),
            (
                !(self.pass_through_min_share > 0.0 && share(self.pass_through_min_share)),
                "pass_through_min_share must lie in 0..=1 and be above 0",
            ),
            (
                !share(self.pass_through_min_forwarded),
                "pass_through_min_forwarded must lie in 0..=1",
            ),
            (
                !(self.pass_through_min_amount >= 0.0 && self.pass_through_min_amount.is_finite()),
                "pass_through_min_amount must be 0 or more",
            ),
            (
                self.pass_through_window_hours == 0
                    || self.round_trip_window_hours == 0
                    || self.velocity_baseline_days == 0
                    || self.recurring_payee_days == 0,
                "pass_through_window_hours, round_trip_window_hours, velocity_baseline_days and \
                 recurring_payee_days must be at least 1",
            ),
            (
                !(self.peer_group_quantile > 0.0 && share(self.peer_group_quantile)),
                "peer_group_quantile must lie in 0..=1 and be above 0",
            ),
            (
                !(0.0..=100.0).contains(&self.flag_risk_score),
                "flag_risk_score must lie in 0..=100",
            ),
        ];
        ConfigError::check("aml", &problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_meaningless_settings_are_named() {
        assert_eq!(AmlConfig::default().check(), Ok(()));
        let wrong = AmlConfig {
            unusual_amount_multiple: 0.5,
            pass_through_min_share: 0.0,
            pass_through_window_hours: 0,
            ..AmlConfig::default()
        };
        assert_eq!(
            wrong.check().map_err(|error| error.problems),
            Err(vec![
                "aml.unusual_amount_multiple must be at least 1".to_owned(),
                "aml.pass_through_min_share must lie in 0..=1 and be above 0".to_owned(),
                "aml.pass_through_window_hours, round_trip_window_hours, velocity_baseline_days \
                 and recurring_payee_days must be at least 1"
                    .to_owned()
            ])
        );
    }
}
