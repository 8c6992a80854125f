use crate::{Application, CreditConfig};

/// What the applicant already pays each month and what the new loan would add, against income.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affordability {
    pub monthly_income: f64,
    /// Existing monthly debt service, when reported.
    pub existing_debts: Option<f64>,
    /// The estimated monthly instalment of the loan applied for, when an amount was requested.
    pub new_instalment: Option<f64>,
}

impl Affordability {
    /// Estimates the new instalment as an annuity at `assumed_annual_rate` over the requested
    /// term (or `default_loan_term_months`): the contract carries no rate, and ignoring the new
    /// loan would understate the debt burden of exactly the applicants who borrow most.
    pub fn of(application: &Application, config: &CreditConfig) -> Self {
        let term = application
            .loan_term_months
            .unwrap_or(i64::from(config.default_loan_term_months));
        Self {
            monthly_income: application.monthly_income,
            existing_debts: application.monthly_debt_payments,
            new_instalment: application
                .requested_amount
                .map(|principal| instalment(principal, config.assumed_annual_rate, term)),
        }
    }

    /// The reported debt-to-income ratio: (existing debts + new instalment) / income, from the
    /// figures actually supplied. `None` when neither is known. When only the new loan is known
    /// it is a lower bound, which is what a policy rule may safely act on.
    pub fn reported_ratio(&self) -> Option<f64> {
        if self.existing_debts.is_none() && self.new_instalment.is_none() {
            return None;
        }
        Some(
            (self.existing_debts.unwrap_or(0.0) + self.new_instalment.unwrap_or(0.0))
                / self.monthly_income,
        )
    }

    /// The ratio to score: like [`Self::reported_ratio`], but unreported existing debts are taken
    /// at the population average ratio, so a missing figure neither punishes nor flatters.
    pub fn scored_ratio(&self, assumed_existing_ratio: f64) -> f64 {
        let existing = self
            .existing_debts
            .map_or(assumed_existing_ratio, |debts| debts / self.monthly_income);
        existing + self.new_instalment.unwrap_or(0.0) / self.monthly_income
    }
}

/// The level monthly payment that repays `principal` over `months` at `annual_rate`.
pub fn instalment(principal: f64, annual_rate: f64, months: i64) -> f64 {
    let months = months.max(1) as f64;
    let rate = annual_rate / 12.0;
    if rate <= 0.0 {
        return principal / months;
    }
    principal * rate / (1.0 - (1.0 + rate).powf(-months))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instalment_is_the_annuity_payment() {
        // 10,000 over 36 months at 12% a year: the textbook 332.14.
        assert!((instalment(10_000.0, 0.12, 36) - 332.143).abs() < 0.001);
        assert_eq!(instalment(1_200.0, 0.0, 12), 100.0);
    }

    #[test]
    fn unreported_debts_are_assumed_for_scoring_but_not_for_policy() {
        let affordability = Affordability {
            monthly_income: 4000.0,
            existing_debts: None,
            new_instalment: Some(400.0),
        };
        assert_eq!(affordability.reported_ratio(), Some(0.1));
        assert!((affordability.scored_ratio(0.25) - 0.35).abs() < 1e-12);
        let unknown = Affordability {
            new_instalment: None,
            ..affordability
        };
        assert_eq!(unknown.reported_ratio(), None);
    }
}
