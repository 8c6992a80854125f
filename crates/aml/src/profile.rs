//! What an account ordinarily sends, from its daily sums: the baseline every profile-relative
//! rule judges a transfer against, for its sender and for its receiver.

use chrono::Duration;
use redflag_core::{Activity, History};

use crate::windows::{payee, receiver_daily, sender_daily};
use crate::{AmlConfig, Transaction};

/// An account's ordinary outflows over the baseline period, before the last 24 hours.
///
/// Averages are per *active* day (a day with at least one transfer): a customer who pays once
/// every three days has an ordinary day of one payment, not a third of one. The baseline speaks
/// only after `baseline_min_active_days` active days and `baseline_min_transfers` transfers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Profile {
    active_days: u32,
    transfers: f64,
    amount: f64,
    established: bool,
    /// Every earlier transfer of the period, the last 24 hours included.
    all_transfers: f64,
    /// The median over its active days of the day's average transfer, the last 24 hours
    /// included: what it usually sends, which one unusual day does not move.
    scale: Option<f64>,
    /// The lower quartile of the same: what it sends on its quieter days.
    quiet_scale: Option<f64>,
}

impl Profile {
    /// What the transaction's sender ordinarily sends.
    pub fn sender(transaction: &Transaction, history: &History, config: &AmlConfig) -> Self {
        Self::from_days(history.get(&sender_daily(transaction)), transaction, config)
    }

    /// What the transaction's receiver ordinarily sends: the scale of money it moves.
    pub fn receiver(transaction: &Transaction, history: &History, config: &AmlConfig) -> Self {
        Self::from_days(
            history.get(&receiver_daily(transaction)),
            transaction,
            config,
        )
    }

    /// The profile in `days` (an account's daily sums), judged at the transaction: the days that
    /// ended before its last 24 hours make the baseline, as those hours are what is judged.
    fn from_days(days: &[Activity], transaction: &Transaction, config: &AmlConfig) -> Self {
        let before = transaction.at - Duration::hours(24);
        let mut profile = Self {
            active_days: 0,
            transfers: 0.0,
            amount: 0.0,
            established: false,
            all_transfers: 0.0,
            scale: None,
            quiet_scale: None,
        };
        let mut day_means = Vec::with_capacity(days.len());
        for day in days.iter().filter(|day| day.quantity > 0.0) {
            profile.all_transfers += day.quantity;
            day_means.push(day.amount / day.quantity);
            if day.at + Duration::days(1) <= before {
                profile.active_days += 1;
                profile.transfers += day.quantity;
                profile.amount += day.amount;
            }
        }
        profile.established = profile.active_days >= config.baseline_min_active_days
            && profile.transfers >= f64::from(config.baseline_min_transfers);
        if profile.all_transfers >= USUAL_TRANSFER_MIN {
            day_means.sort_by(f64::total_cmp);
            profile.scale = Some(day_means[day_means.len() / 2]);
            profile.quiet_scale = Some(day_means[(day_means.len() - 1) / 4]);
        }
        profile
    }

    /// Days with at least one transfer in the baseline.
    pub fn active_days(&self) -> u32 {
        self.active_days
    }

    /// Whether there is enough history to judge against.
    pub fn established(&self) -> bool {
        self.established
    }

    /// The sender's ordinary active day: (transfers, amount).
    pub fn active_day(&self) -> Option<(f64, f64)> {
        (self.active_days > 0).then(|| {
            let days = f64::from(self.active_days);
            (self.transfers / days, self.amount / days)
        })
    }

    /// The account's usual transfer, once it has made a few (a handful already tells a broker
    /// moving thousands from a retail customer paying tens).
    pub fn usual_transfer(&self) -> Option<f64> {
        self.scale
    }

    /// What the account sends on its quieter days (the lower quartile of its days): an account
    /// that has moved large sums a few times, and small ones on most days, is a small account.
    pub fn quiet_transfer(&self) -> Option<f64> {
        self.quiet_scale
    }

    /// Whether `amount` is within what the account ordinarily sends: at most
    /// `unusual_amount_multiple` times its usual transfer. Unknown (too few transfers) is not.
    pub fn explains(&self, amount: f64, config: &AmlConfig) -> bool {
        self.usual_transfer()
            .is_some_and(|usual| amount <= config.unusual_amount_multiple * usual)
    }
}

/// Transfers before a sender's usual transfer size is known.
const USUAL_TRANSFER_MIN: f64 = 2.0;

/// Whether the transfer pays a recurring payee on its pattern: the sender paid this receiver at
/// least [`CADENCE_MIN_HOURS`] earlier within `recurring_payee_days` (rent, payroll, a supplier
/// paid again on their cadence; a payee paid twice within hours is no cadence), and no more than
/// [`RECURRING_PAYMENT_MULTIPLE`] times the largest such payment. Payees are remembered for
/// transfers of at least `pass_through_min_amount`.
pub(crate) fn recurring_payment(transaction: &Transaction, history: &History) -> bool {
    let before = transaction.at - Duration::hours(CADENCE_MIN_HOURS);
    let largest = history
        .get(&payee(transaction))
        .iter()
        .filter(|payment| payment.at <= before)
        .map(|payment| payment.amount)
        .fold(0.0, f64::max);
    largest > 0.0 && transaction.amount <= RECURRING_PAYMENT_MULTIPLE * largest
}

/// How long before a payment to the same payee must lie for the two to be a cadence.
const CADENCE_MIN_HOURS: i64 = 12;

/// A payment up to this many times the largest earlier payment to the same payee is what that
/// payee is ordinarily paid.
const RECURRING_PAYMENT_MULTIPLE: f64 = 2.0;
