use serde::Serialize;

/// The five FICO-style factor scores, each 0..1 where 1 is the best attainable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Factors {
    pub payment_history: f64,
    pub amounts_owed: f64,
    pub length_of_credit: f64,
    pub new_credit: f64,
    pub credit_mix: f64,
}

/// One of the five factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    PaymentHistory,
    AmountsOwed,
    LengthOfCredit,
    NewCredit,
    CreditMix,
}

impl Factor {
    pub const ALL: [Self; 5] = [
        Self::PaymentHistory,
        Self::AmountsOwed,
        Self::LengthOfCredit,
        Self::NewCredit,
        Self::CreditMix,
    ];

    /// The factor's share of the score (FICO's published weights: 35/30/15/10/10).
    pub fn weight(self) -> f64 {
        match self {
            Self::PaymentHistory => 0.35,
            Self::AmountsOwed => 0.30,
            Self::LengthOfCredit => 0.15,
            Self::NewCredit | Self::CreditMix => 0.10,
        }
    }
}

impl Factors {
    /// Builds the factors from each one's value.
    pub(crate) fn from_fn(mut value: impl FnMut(Factor) -> f64) -> Self {
        Self {
            payment_history: value(Factor::PaymentHistory),
            amounts_owed: value(Factor::AmountsOwed),
            length_of_credit: value(Factor::LengthOfCredit),
            new_credit: value(Factor::NewCredit),
            credit_mix: value(Factor::CreditMix),
        }
    }

    pub fn get(&self, factor: Factor) -> f64 {
        match factor {
            Factor::PaymentHistory => self.payment_history,
            Factor::AmountsOwed => self.amounts_owed,
            Factor::LengthOfCredit => self.length_of_credit,
            Factor::NewCredit => self.new_credit,
            Factor::CreditMix => self.credit_mix,
        }
    }

    /// The weighted sum, 0..1.
    pub fn weighted(&self) -> f64 {
        Factor::ALL
            .iter()
            .map(|factor| self.get(*factor) * factor.weight())
            .sum()
    }
}
