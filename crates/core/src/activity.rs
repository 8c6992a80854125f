use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::Module;

/// The kind of entity whose recent activity a window follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Sender,
    Receiver,
    Applicant,
    Policy,
    Symbol,
    Trader,
    /// A sender's outflows summed per day.
    SenderDaily,
    /// An insurance claimant, across their policies.
    Claimant,
    /// Every claim of one claim type: the peer population of its providers.
    ClaimType,
    /// One contact identifier (a salted hash of a phone, e-mail, bank account or address).
    SharedIdentifier,
    /// A symbol's traded volume summed per day.
    SymbolDailyVolume,
    /// A symbol's traded value (price x volume) summed per day: with the volume, the daily VWAP.
    SymbolDailyNotional,
    /// Two traders' trades with each other in one symbol.
    TraderPair,
    /// One sender's payments to one receiver: whether a payee is recurring, and how much it is
    /// ordinarily paid.
    Payee,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sender => "sender",
            Self::Receiver => "receiver",
            Self::Applicant => "applicant",
            Self::Policy => "policy",
            Self::Symbol => "symbol",
            Self::Trader => "trader",
            Self::SenderDaily => "sender-daily",
            Self::Claimant => "claimant",
            Self::ClaimType => "claim-type",
            Self::SharedIdentifier => "identifier",
            Self::SymbolDailyVolume => "symbol-daily-volume",
            Self::SymbolDailyNotional => "symbol-daily-notional",
            Self::TraderPair => "trader-pair",
            Self::Payee => "payee",
        }
    }
}

/// Names one entity's window, e.g. the AML sender `S-1`.
///
/// Keys of different modules never collide, so a trader id that happens to equal a sender id
/// keeps its own history.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowKey {
    pub module: Module,
    pub kind: EntityKind,
    pub id: String,
}

impl WindowKey {
    pub fn new(module: Module, kind: EntityKind, id: impl Into<String>) -> Self {
        Self {
            module,
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for WindowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.module, self.kind.as_str(), self.id)
    }
}

/// The longest reference an [`Activity`] keeps, in bytes.
const MAX_REFERENCE_BYTES: u32 = u32::MAX;

// Windows hold hundreds of thousands of activities: growing one is a memory decision.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<Activity>() == 48);

/// One past event as a window remembers it: when, which business id, two figures and the other
/// party.
///
/// `amount` is the money figure (transfer amount, claim amount, requested credit, trade price);
/// `quantity` is the second figure a typology needs (trade volume, estimated value), else 0;
/// [`Activity::counterparty`] is the other side (a sender's receiver, a receiver's sender), else
/// empty.
///
/// The two texts share one reference-counted allocation: a window hands its entries to every
/// event that reads it, and a hot account's window holds hundreds of them, so a read costs a
/// count increment per entry instead of two string copies, and a held entry one allocation.
#[derive(Clone)]
pub struct Activity {
    pub at: DateTime<Utc>,
    pub amount: f64,
    pub quantity: f64,
    /// The reference followed by the counterparty.
    texts: Arc<str>,
    /// Where the reference ends in `texts`: 32 bits, so that an activity takes 48 bytes rather
    /// than 56 in every window that holds it.
    reference_len: u32,
}

impl Activity {
    /// Copies the two texts into the one allocation that every window and history holding this
    /// activity will share.
    ///
    /// A reference is kept to its first 4 GiB (no request body comes near that).
    pub fn new(
        at: DateTime<Utc>,
        reference: &str,
        amount: f64,
        quantity: f64,
        counterparty: &str,
    ) -> Self {
        let mut end = reference.len().min(MAX_REFERENCE_BYTES as usize);
        while !reference.is_char_boundary(end) {
            end -= 1;
        }
        let reference = &reference[..end];
        let mut texts = String::with_capacity(reference.len() + counterparty.len());
        texts.push_str(reference);
        texts.push_str(counterparty);
        Self {
            at,
            amount,
            quantity,
            texts: texts.into(),
            reference_len: u32::try_from(end).unwrap_or(MAX_REFERENCE_BYTES),
        }
    }

    /// The event's business id: what makes a resent event recognisable.
    pub fn reference(&self) -> &str {
        &self.texts[..self.split()]
    }

    /// The other party, or empty.
    pub fn counterparty(&self) -> &str {
        &self.texts[self.split()..]
    }

    /// Where the reference ends in `texts` (a `u32` always fits a `usize` on the platforms this
    /// builds for).
    fn split(&self) -> usize {
        self.reference_len as usize
    }

    /// One bucket of an aggregate window as its readers see it ([`WindowMode::Aggregate`]): `at`
    /// the bucket's start (`fallback` should that be out of range), the reference its index,
    /// `amount` its sum and `quantity` its count. Both stores answer buckets this way.
    pub fn bucket(
        index: i64,
        width_ms: i64,
        sum: f64,
        count: f64,
        fallback: DateTime<Utc>,
    ) -> Self {
        Self::new(
            DateTime::from_timestamp_millis(index.saturating_mul(width_ms)).unwrap_or(fallback),
            &index.to_string(),
            sum,
            count,
            "",
        )
    }
}

impl PartialEq for Activity {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
            && self.amount == other.amount
            && self.quantity == other.quantity
            && self.reference_len == other.reference_len
            && self.texts == other.texts
    }
}

impl fmt::Debug for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activity")
            .field("at", &self.at)
            .field("reference", &self.reference())
            .field("amount", &self.amount)
            .field("quantity", &self.quantity)
            .field("counterparty", &self.counterparty())
            .finish()
    }
}

/// A detector's request to the store: return what the window `key` held during the `horizon`
/// before the activity's own time, then update it as `mode` says.
#[derive(Debug, Clone)]
pub struct Observation {
    pub key: WindowKey,
    pub activity: Activity,
    pub horizon: Duration,
    pub mode: WindowMode,
}

/// How an observation uses its window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowMode {
    /// Keep each activity (deduplicated by reference).
    Record,
    /// Like `Record`, but keep only the newest `keep` entries (and never more than the store's
    /// own limit): a rolling sample of a busy population, such as every health claim, whose
    /// median matters but whose full history would cost every reader.
    Latest { keep: usize },
    /// Only read: a window the event does not belong to, such as the sender's inflows when
    /// checking for pass-through.
    ReadOnly,
    /// Keep one entry per time bucket: `amount` sums the activities' amounts and `quantity` counts
    /// them; `at` is the bucket's start and `reference` its index. Long baselines (30 days of a
    /// busy account) stay a few dozen entries instead of thousands.
    Aggregate { bucket: Duration },
    /// Only read an aggregate window that another entity's events keep (for example what the
    /// receiver of a transfer ordinarily sends): its buckets within the horizon, unchanged.
    ReadAggregate { bucket: Duration },
    /// Like `Record`, but the store sets the recorded activity's `quantity` to its funds-flow
    /// depth ([`funding_depth`]) over what observation `source` of the same event (an earlier
    /// one) found: recorded into a receiver's inflows, each entry says through how many accounts
    /// in a row its money had just passed. Computed inside the event's atomic step, so a chain of
    /// mules is visible hop by hop in either store without reading any third account's window.
    Forward {
        source: usize,
        within: Duration,
        min_share: f64,
    },
}

impl WindowMode {
    /// Whether the activity is added to the window.
    pub fn records(self) -> bool {
        !matches!(self, Self::ReadOnly | Self::ReadAggregate { .. })
    }

    /// The bucket width of an aggregate window, read or kept.
    pub fn bucket(self) -> Option<Duration> {
        match self {
            Self::Aggregate { bucket } | Self::ReadAggregate { bucket } => Some(bucket),
            _ => None,
        }
    }
}

/// The funds-flow depth of moving `amount` at `at` out of an account whose recent inflows are
/// `inflows` (each with its own depth in `quantity`): 1 + the deepest inflow received within
/// `within` before `at` that could have funded at least `min_share` of the amount, or 0 when
/// none did. Money that arrived from an account that had itself just been paid has depth 1,
/// the next hop 2, and so on; ordinary money (salary, savings) has depth 0.
pub fn funding_depth(
    inflows: &[Activity],
    at: DateTime<Utc>,
    amount: f64,
    within: Duration,
    min_share: f64,
) -> f64 {
    let from = at - within;
    inflows
        .iter()
        .filter(|inflow| inflow.at >= from && inflow.at <= at)
        .filter(|inflow| inflow.amount >= min_share * amount)
        .map(|inflow| inflow.quantity + 1.0)
        .fold(0.0, f64::max)
}

/// The recent activity that the store found for each observation of one event, oldest first,
/// without the event itself.
#[derive(Debug, Clone, Default)]
pub struct History {
    windows: Vec<(WindowKey, Vec<Activity>)>,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what one window held; later inserts for the same key replace earlier ones.
    pub fn insert(&mut self, key: WindowKey, mut activities: Vec<Activity>) {
        activities.sort_by_key(|activity| activity.at);
        match self
            .windows
            .iter_mut()
            .find(|(existing, _)| *existing == key)
        {
            Some((_, slot)) => *slot = activities,
            None => self.windows.push((key, activities)),
        }
    }

    /// The window's prior activity, or nothing when the entity has none.
    pub fn get(&self, key: &WindowKey) -> &[Activity] {
        self.windows
            .iter()
            .find(|(existing, _)| existing == key)
            .map_or(&[], |(_, activities)| activities.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(reference: &str, minutes: i64) -> Activity {
        Activity::new(
            DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes),
            reference,
            1.0,
            0.0,
            "",
        )
    }

    #[test]
    fn history_returns_activities_oldest_first_and_nothing_for_unknown_keys() {
        let key = WindowKey::new(Module::Aml, EntityKind::Sender, "S-1");
        let mut history = History::new();
        history.insert(key.clone(), vec![activity("b", 5), activity("a", 1)]);
        let refs: Vec<_> = history.get(&key).iter().map(Activity::reference).collect();
        assert_eq!(refs, ["a", "b"]);
        let other = WindowKey::new(Module::Market, EntityKind::Sender, "S-1");
        assert!(history.get(&other).is_empty());
        assert_eq!(key.to_string(), "aml:sender:S-1");
    }

    #[test]
    fn funding_depth_counts_the_deepest_recent_inflow_large_enough_to_fund_the_amount() {
        let inflow = |minutes: i64, amount: f64, depth: f64| {
            Activity::new(
                DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes),
                "IN",
                amount,
                depth,
                "",
            )
        };
        let at = DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(600);
        let depth =
            |inflows: &[Activity]| funding_depth(inflows, at, 1_000.0, Duration::hours(6), 0.5);
        assert_eq!(depth(&[]), 0.0, "nothing received: ordinary money");
        assert_eq!(
            depth(&[inflow(590, 900.0, 0.0)]),
            1.0,
            "paid on from a first payer"
        );
        assert_eq!(
            depth(&[inflow(590, 900.0, 2.0), inflow(595, 5_000.0, 0.0)]),
            3.0
        );
        assert_eq!(
            depth(&[inflow(590, 400.0, 2.0)]),
            0.0,
            "too small to fund it"
        );
        assert_eq!(
            depth(&[inflow(200, 900.0, 2.0)]),
            0.0,
            "received too long ago"
        );
    }
}
