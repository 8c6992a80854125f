//! The points scorecard: each characteristic of the file costs a documented share of its factor,
//! the factors are weighted 35/30/15/10/10, and the score is 300 + 550 x the weighted sum.
//!
//! Because every factor is one minus the sum of its characteristics' deficits, the points each
//! characteristic cost against the best attainable are exact, which is what adverse-action
//! reasons must rank by.

use serde::Serialize;

use crate::factors::{Factor, Factors};
use crate::{AccountTypes, Affordability, Application};

/// Lowest attainable credit score.
pub const SCORE_FLOOR: f64 = 300.0;
/// Points between the lowest and the highest attainable score (850).
pub const SCORE_RANGE: f64 = 550.0;

/// The population averages taken for figures an applicant did not supply, so that a missing
/// figure neither punishes nor flatters; the default model assumes the same values.
pub mod assumed {
    pub const LATE_PAYMENTS_12M: f64 = 0.4;
    pub const DELINQUENCIES_24M: f64 = 0.3;
    pub const BANKRUPTCIES: f64 = 0.02;
    pub const CREDIT_UTILIZATION: f64 = 0.4;
    /// Existing debt service over income.
    pub const DEBT_TO_INCOME: f64 = 0.25;
    pub const CREDIT_HISTORY_MONTHS: f64 = 90.0;
    pub const RECENT_INQUIRIES: f64 = 1.0;
    /// The credit-mix deficit of an unknown mix (a factor of 0.7).
    pub const ACCOUNT_MIX_DEFICIT: f64 = 0.3;
}

/// One scored characteristic of a credit file: the unit in which points are lost and reasons
/// are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Characteristic {
    LatePayments,
    Delinquencies,
    Bankruptcies,
    Utilization,
    DebtToIncome,
    HistoryLength,
    EmploymentLength,
    Inquiries,
    AccountMix,
}

impl Characteristic {
    pub const ALL: [Self; 9] = [
        Self::LatePayments,
        Self::Delinquencies,
        Self::Bankruptcies,
        Self::Utilization,
        Self::DebtToIncome,
        Self::HistoryLength,
        Self::EmploymentLength,
        Self::Inquiries,
        Self::AccountMix,
    ];

    /// The stable code reason codes carry.
    pub fn code(self) -> &'static str {
        match self {
            Self::LatePayments => "late_payments",
            Self::Delinquencies => "delinquencies",
            Self::Bankruptcies => "bankruptcies",
            Self::Utilization => "utilization",
            Self::DebtToIncome => "debt_to_income",
            Self::HistoryLength => "credit_history_length",
            Self::EmploymentLength => "employment_length",
            Self::Inquiries => "inquiries",
            Self::AccountMix => "account_mix",
        }
    }

    pub fn factor(self) -> Factor {
        match self {
            Self::LatePayments | Self::Delinquencies | Self::Bankruptcies => Factor::PaymentHistory,
            Self::Utilization | Self::DebtToIncome => Factor::AmountsOwed,
            Self::HistoryLength | Self::EmploymentLength => Factor::LengthOfCredit,
            Self::Inquiries => Factor::NewCredit,
            Self::AccountMix => Factor::CreditMix,
        }
    }

    /// The largest deficit the characteristic can reach within its factor.
    pub fn max_deficit(self) -> f64 {
        match self {
            Self::LatePayments | Self::Delinquencies | Self::Bankruptcies | Self::Inquiries => 1.0,
            Self::Utilization => UTILIZATION_SHARE,
            Self::DebtToIncome => DEBT_TO_INCOME_SHARE,
            Self::HistoryLength => HISTORY_SHARE,
            Self::EmploymentLength => EMPLOYMENT_SHARE,
            Self::AccountMix => MIX_DEFICITS[0],
        }
    }

    /// The application field whose absence this characteristic assumes the average for.
    pub fn field(self) -> &'static str {
        match self {
            Self::LatePayments => "late_payments_12m",
            Self::Delinquencies => "delinquencies_24m",
            Self::Bankruptcies => "bankruptcies",
            Self::Utilization => "credit_utilization",
            Self::DebtToIncome => "monthly_debt_payments",
            Self::HistoryLength => "credit_history_months",
            Self::EmploymentLength => "employment_length",
            Self::Inquiries => "recent_inquiries_6m",
            Self::AccountMix => "account_types",
        }
    }
}

/// Each late payment in 12 months costs this much payment history.
const LATE_PAYMENT_DEFICIT: f64 = 0.15;
/// Each serious delinquency in 24 months costs this much payment history.
const DELINQUENCY_DEFICIT: f64 = 0.10;
/// A first bankruptcy costs this much payment history; each further one 0.2 more.
const BANKRUPTCY_DEFICIT: f64 = 0.6;
const FURTHER_BANKRUPTCY_DEFICIT: f64 = 0.2;
/// Utilisation up to this costs nothing (the usual advice).
const FREE_UTILIZATION: f64 = 0.3;
/// Amounts owed: utilisation's and debt-to-income's shares.
const UTILIZATION_SHARE: f64 = 0.6;
const DEBT_TO_INCOME_SHARE: f64 = 0.4;
/// Debt-to-income at which its share is lost entirely.
const DEBT_TO_INCOME_AT_ZERO: f64 = 0.6;
/// Length of credit: credit history's and employment's shares, and the months for full marks.
const HISTORY_SHARE: f64 = 0.7;
const EMPLOYMENT_SHARE: f64 = 0.3;
const HISTORY_FULL_MONTHS: f64 = 120.0;
const EMPLOYMENT_FULL_MONTHS: f64 = 60.0;
/// Each recent inquiry (or application) costs this much new credit.
const INQUIRY_DEFICIT: f64 = 0.12;
/// The credit-mix deficit by the number of account kinds held (none, one, two, all three).
const MIX_DEFICITS: [f64; 4] = [0.7, 0.4, 0.15, 0.0];

/// The applicant's recent credit seeking: what the bureau reported and what Redflag saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inquiries {
    /// `recent_inquiries_6m`, when supplied.
    pub reported: Option<i64>,
    /// The applicant's earlier applications Redflag saw within the inquiry window.
    pub seen: usize,
    pub window_days: u32,
}

impl Inquiries {
    /// The count scored: the larger of the reported (or, unreported, the average) and the seen.
    pub fn scored(&self) -> f64 {
        let reported = self
            .reported
            .map_or(assumed::RECENT_INQUIRIES, |count| count as f64);
        reported.max(self.seen as f64)
    }

    fn assumed(&self) -> bool {
        self.reported.is_none() && (self.seen as f64) < assumed::RECENT_INQUIRIES
    }
}

/// What the scorecard reads: the application plus what only the detector knows.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub application: &'a Application,
    pub affordability: Affordability,
    pub inquiries: Inquiries,
}

/// One characteristic's part in the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored {
    pub characteristic: Characteristic,
    /// How much of its factor the characteristic costs (0 = nothing).
    pub deficit: f64,
    /// Whether the population average stood in for a figure the applicant did not supply.
    pub assumed: bool,
    /// Score points lost against the best attainable value, to one decimal.
    pub points_lost: f64,
}

/// The scorecard's result: the factors, the score and every characteristic's part in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub factors: Factors,
    pub score: u32,
    pub characteristics: Vec<Scored>,
}

impl Scorecard {
    pub fn of(evidence: &Evidence<'_>) -> Self {
        let raw: Vec<(Characteristic, f64, bool)> = Characteristic::ALL
            .iter()
            .map(|characteristic| {
                let (deficit, assumed) = deficit(*characteristic, evidence);
                (*characteristic, deficit.max(0.0), assumed)
            })
            .collect();
        let total = |factor: Factor| -> f64 {
            raw.iter()
                .filter(|(characteristic, _, _)| characteristic.factor() == factor)
                .map(|(_, deficit, _)| deficit)
                .sum()
        };
        let factors = Factors::from_fn(|factor| unit(1.0 - total(factor)));
        let score = (SCORE_FLOOR + SCORE_RANGE * factors.weighted()).round() as u32;
        // A factor's lost points (from its shown, rounded value) are shared among its
        // characteristics in proportion to their deficits, so that they sum to what was lost.
        let characteristics = raw
            .iter()
            .map(|(characteristic, deficit, assumed)| {
                let factor = characteristic.factor();
                let share = match total(factor) {
                    sum if sum > 0.0 => deficit / sum,
                    _ => 0.0,
                };
                let lost = (1.0 - factors.get(factor)) * share * factor.weight() * SCORE_RANGE;
                Scored {
                    characteristic: *characteristic,
                    deficit: *deficit,
                    assumed: *assumed,
                    points_lost: (lost * 10.0).round() / 10.0,
                }
            })
            .collect();
        Self {
            factors,
            score,
            characteristics,
        }
    }

    /// The fields for which the population average was assumed.
    pub fn assumed_fields(&self) -> Vec<&'static str> {
        self.characteristics
            .iter()
            .filter(|scored| scored.assumed)
            .map(|scored| scored.characteristic.field())
            .collect()
    }
}

/// A characteristic's deficit, and whether it rests on an assumed figure.
fn deficit(characteristic: Characteristic, evidence: &Evidence<'_>) -> (f64, bool) {
    let application = evidence.application;
    let count =
        |value: Option<i64>, average: f64| (value.map_or(average, |n| n as f64), value.is_none());
    match characteristic {
        Characteristic::LatePayments => {
            let (late, assumed) = count(application.late_payments_12m, assumed::LATE_PAYMENTS_12M);
            (LATE_PAYMENT_DEFICIT * late, assumed)
        }
        Characteristic::Delinquencies => {
            let (delinquencies, assumed) =
                count(application.delinquencies_24m, assumed::DELINQUENCIES_24M);
            (DELINQUENCY_DEFICIT * delinquencies, assumed)
        }
        Characteristic::Bankruptcies => {
            let (bankruptcies, assumed) = count(application.bankruptcies, assumed::BANKRUPTCIES);
            let deficit = BANKRUPTCY_DEFICIT * bankruptcies.min(1.0)
                + FURTHER_BANKRUPTCY_DEFICIT * (bankruptcies - 1.0).max(0.0);
            (deficit, assumed)
        }
        Characteristic::Utilization => {
            let utilization = application.utilization();
            let u = utilization.unwrap_or(assumed::CREDIT_UTILIZATION);
            let lost = ((u - FREE_UTILIZATION) / (1.0 - FREE_UTILIZATION)).clamp(0.0, 1.0);
            (UTILIZATION_SHARE * lost, utilization.is_none())
        }
        Characteristic::DebtToIncome => {
            let ratio = evidence.affordability.scored_ratio(assumed::DEBT_TO_INCOME);
            let lost = (ratio / DEBT_TO_INCOME_AT_ZERO).clamp(0.0, 1.0);
            (
                DEBT_TO_INCOME_SHARE * lost,
                evidence.affordability.existing_debts.is_none(),
            )
        }
        Characteristic::HistoryLength => {
            let (months, assumed) = count(
                application.credit_history_months,
                assumed::CREDIT_HISTORY_MONTHS,
            );
            (
                HISTORY_SHARE * (1.0 - (months / HISTORY_FULL_MONTHS).min(1.0)),
                assumed,
            )
        }
        Characteristic::EmploymentLength => {
            let months = application.employment_length as f64;
            (
                EMPLOYMENT_SHARE * (1.0 - (months / EMPLOYMENT_FULL_MONTHS).min(1.0)),
                false,
            )
        }
        Characteristic::Inquiries => (
            INQUIRY_DEFICIT * evidence.inquiries.scored(),
            evidence.inquiries.assumed(),
        ),
        Characteristic::AccountMix => match kinds_held(application) {
            Some(kinds) => (MIX_DEFICITS[kinds.min(3)], false),
            None => (assumed::ACCOUNT_MIX_DEFICIT, true),
        },
    }
}

/// How many kinds of account the applicant holds: from `account_types`, or none when
/// `open_accounts` is 0; unknown otherwise.
pub fn kinds_held(application: &Application) -> Option<usize> {
    match (application.account_types, application.open_accounts) {
        (Some(types), _) => Some(types.held().len()),
        (None, Some(0)) => Some(0),
        _ => None,
    }
}

/// Whether the file is too thin to score on evidence: no credit history of six months (FICO's
/// minimum scoring criterion), or no open account.
pub fn thin_file(application: &Application) -> bool {
    let no_accounts = application.open_accounts == Some(0)
        || application.account_types == Some(AccountTypes::default());
    no_accounts
        || application
            .credit_history_months
            .is_none_or(|months| months < 6)
}

/// Clamps into 0..1 and rounds to the two decimals the response shows, so that the score is
/// computed from exactly the factors the applicant is shown.
fn unit(value: f64) -> f64 {
    (value.clamp(0.0, 1.0) * 100.0).round() / 100.0
}
