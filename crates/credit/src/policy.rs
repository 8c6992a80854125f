//! Hard policy rules: the lender's knock-outs, which decline whatever the score.

use crate::CreditConfig;
use crate::decision::Finding;
use crate::reasons::{money, round3};
use crate::scorecard::Evidence;

/// Every policy rule the application breaks, each with its figures.
pub fn breaches(evidence: &Evidence<'_>, config: &CreditConfig) -> Vec<Finding> {
    let application = evidence.application;
    let affordability = evidence.affordability;
    let income = application.monthly_income;
    let mut found = Vec::new();
    if income < config.min_monthly_income {
        found.push(
            Finding::policy(
                "MinimumIncomePolicy",
                "minimum_income",
                format!(
                    "Income insufficient for amount of credit requested: monthly income {} is below the {} minimum",
                    money(income),
                    money(config.min_monthly_income)
                ),
            )
            .with_metadata("monthly_income", income)
            .with_metadata("minimum", config.min_monthly_income),
        );
    }
    if let Some(ratio) = affordability
        .reported_ratio()
        .filter(|ratio| *ratio > config.max_debt_to_income)
    {
        let mut parts = Vec::new();
        if let Some(debts) = affordability.existing_debts {
            parts.push(format!("{} existing debt payments", money(debts)));
        }
        if let Some(instalment) = affordability.new_instalment {
            parts.push(format!("a {} new instalment", money(instalment)));
        }
        let bound = if affordability.existing_debts.is_some() {
            ""
        } else {
            "at least "
        };
        found.push(
            Finding::policy(
                "DebtToIncomePolicy",
                "debt_to_income_limit",
                format!(
                    "Excessive obligations in relation to income: debt-to-income {bound}{:.0}% ({} on {} monthly income) exceeds the {:.0}% maximum",
                    ratio * 100.0,
                    parts.join(" and "),
                    money(income),
                    config.max_debt_to_income * 100.0
                ),
            )
            .with_metadata("debt_to_income", round3(ratio))
            .with_metadata("maximum", config.max_debt_to_income),
        );
    }
    if let Some(count) = application
        .bankruptcies
        .filter(|count| *count > 0 && config.decline_on_bankruptcy)
    {
        found.push(
            Finding::policy(
                "BankruptcyPolicy",
                "bankruptcy_on_file",
                format!("Bankruptcy: {count} on file; policy declines applicants with a bankruptcy on file"),
            )
            .with_metadata("bankruptcies", count),
        );
    }
    let annual_income = income * 12.0;
    if let Some(requested) = application
        .requested_amount
        .filter(|requested| *requested > config.max_loan_to_annual_income * annual_income)
    {
        found.push(
            Finding::policy(
                "LoanToIncomePolicy",
                "loan_to_income_limit",
                format!(
                    "Amount requested too high for income: {} is {:.2}x annual income {} (maximum {:.2}x)",
                    money(requested),
                    requested / annual_income,
                    money(annual_income),
                    config.max_loan_to_annual_income
                ),
            )
            .with_metadata("requested_amount", requested)
            .with_metadata("annual_income", annual_income)
            .with_metadata("maximum_multiple", config.max_loan_to_annual_income),
        );
    }
    found
}
