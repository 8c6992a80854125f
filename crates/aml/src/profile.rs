//! What an account ordinarily sends, from its daily sums: the baseline every profile-relative
//! rule judges a transfer against, for its sender and for its receiver.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use redflag_core::{Activity, History};

use crate::windows::{payee, receiver_daily, sender_daily};
use crate::{AmlConfig, Transaction};

/// An account's ordinary outflows over the baseline period, before the last 24 hours.
///
/// Averages are per *active* day (a day with at least one transfer): a customer who pays once
/// every three days has an ordinary day of one payment, not a third of one. They are taken over
/// comparable days (UTC weekdays or weekend days, whichever the last 24 hours cover, the busier
/// of the two when they cover both) once there are [`COMPARABLE_MIN_DAYS`] of each: a business
/// quiet at weekends is judged on a Sunday by its weekends. The baseline speaks only after `baseline_min_active_days` active days and
/// `baseline_min_transfers` transfers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Profile {
    active_days: u32,
    transfers: f64,
    amount: f64,
    /// The same, over the active weekdays and weekend days.
    weekdays: Tally,
    weekends: Tally,
    /// Which kinds of day the last 24 hours before the transaction cover: (weekday, weekend).
    covered: (bool, bool),
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
        let kinds = [is_weekend(transaction.at), is_weekend(before)];
        let mut profile = Self {
            active_days: 0,
            transfers: 0.0,
            amount: 0.0,
            weekdays: Tally::default(),
            weekends: Tally::default(),
            covered: (kinds.contains(&false), kinds.contains(&true)),
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
                if is_weekend(day.at) {
                    profile.weekends.add(day);
                } else {
                    profile.weekdays.add(day);
                }
            }
        }
        profile.established = profile.active_days >= config.baseline_min_active_days
            && profile.transfers >= f64::from(config.baseline_min_transfers);
        if profile.all_transfers >= USUAL_TRANSFER_MIN
            && let Some((usual, quiet)) = scales(&mut day_means)
        {
            profile.scale = Some(usual);
            profile.quiet_scale = Some(quiet);
        }
        profile
    }

    /// Whether there is enough history to judge against.
    pub fn established(&self) -> bool {
        self.established
    }

    /// The sender's ordinary active day: (transfers, amount).
    pub fn active_day(&self) -> Option<(f64, f64)> {
        let comparable = self.comparable();
        if !comparable.is_empty() {
            let busiest = |figure: fn(&Tally) -> f64| {
                comparable
                    .iter()
                    .map(|(tally, _)| figure(tally) / f64::from(tally.days))
                    .fold(0.0, f64::max)
            };
            return Some((busiest(|t| t.transfers), busiest(|t| t.amount)));
        }
        (self.active_days > 0).then(|| {
            let days = f64::from(self.active_days);
            (self.transfers / days, self.amount / days)
        })
    }

    /// Which days [`Profile::active_day`] averages, for evidence: "8 weekdays", "5 weekend days",
    /// "8 weekdays and 5 weekend days" or "11 active days".
    pub fn ordinary_days(&self) -> String {
        let comparable = self.comparable();
        if comparable.is_empty() {
            return format!("{} active days", self.active_days);
        }
        comparable
            .iter()
            .map(|(tally, kind)| format!("{} {kind}", tally.days))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The kinds of day the last 24 hours cover, when the profile has enough of each.
    fn comparable(&self) -> Vec<(Tally, &'static str)> {
        let covered: Vec<_> = [
            (self.covered.0, self.weekdays, "weekdays"),
            (self.covered.1, self.weekends, "weekend days"),
        ]
        .into_iter()
        .filter(|(covered, _, _)| *covered)
        .map(|(_, tally, kind)| (tally, kind))
        .collect();
        if covered
            .iter()
            .all(|(tally, _)| tally.days >= COMPARABLE_MIN_DAYS)
        {
            covered
        } else {
            Vec::new()
        }
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

/// What an account sends from its days' average transfers: the median (its usual transfer) and
/// the lower quartile (its quieter days); `None` without a day.
pub(crate) fn scales(day_means: &mut [f64]) -> Option<(f64, f64)> {
    if day_means.is_empty() {
        return None;
    }
    day_means.sort_by(f64::total_cmp);
    Some((
        day_means[day_means.len() / 2],
        day_means[(day_means.len() - 1) / 4],
    ))
}

/// Active days of one kind (weekdays, weekends) from which a profile averages over them alone.
pub(crate) const COMPARABLE_MIN_DAYS: u32 = 3;

/// Days, transfers and amount of some active days.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Tally {
    days: u32,
    transfers: f64,
    amount: f64,
}

impl Tally {
    fn add(&mut self, day: &Activity) {
        self.days += 1;
        self.transfers += day.quantity;
        self.amount += day.amount;
    }
}

/// Saturday or Sunday, in UTC (daily sums are UTC days).
fn is_weekend(at: DateTime<Utc>) -> bool {
    matches!(at.weekday(), Weekday::Sat | Weekday::Sun)
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
