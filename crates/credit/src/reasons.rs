//! The sentences an applicant is given: the specific reason behind each characteristic's lost
//! points (Regulation B wants specific reasons, not "internal standards"), and the strengths an
//! approval lists.

use crate::scorecard::{Characteristic, Evidence, Scored, assumed, kinds_held};

/// The reason a characteristic cost points, with the applicant's own figures.
pub fn adverse(scored: &Scored, evidence: &Evidence<'_>) -> String {
    let application = evidence.application;
    let average = "not supplied (the average";
    match scored.characteristic {
        Characteristic::LatePayments => match application.late_payments_12m {
            Some(late) => format!(
                "Delinquent past or present credit obligations: {late} late payments in the last 12 months"
            ),
            None => format!(
                "Payment history {average}, {} late payments, assumed)",
                assumed::LATE_PAYMENTS_12M
            ),
        },
        Characteristic::Delinquencies => match application.delinquencies_24m {
            Some(count) => format!(
                "Serious delinquency: {count} accounts 60 or more days past due in the last 24 months"
            ),
            None => format!(
                "Delinquency record {average}, {}, assumed)",
                assumed::DELINQUENCIES_24M
            ),
        },
        Characteristic::Bankruptcies => match application.bankruptcies {
            Some(count) => format!("Bankruptcy: {count} on file"),
            None => format!("Public-record information {average} assumed)"),
        },
        Characteristic::Utilization => match application.utilization() {
            Some(utilization) => format!(
                "Proportion of balances to credit limits is too high: {:.0}% revolving utilisation (points are lost above 30%)",
                utilization * 100.0
            ),
            None => format!(
                "Revolving balances and limits {average}, {:.0}% utilisation, assumed)",
                assumed::CREDIT_UTILIZATION * 100.0
            ),
        },
        Characteristic::DebtToIncome => {
            let affordability = evidence.affordability;
            let ratio = affordability.scored_ratio(assumed::DEBT_TO_INCOME) * 100.0;
            match (affordability.existing_debts, affordability.new_instalment) {
                (Some(_), Some(instalment)) => format!(
                    "Excessive obligations in relation to income: debt-to-income {ratio:.0}% including the new instalment of {}",
                    money(instalment)
                ),
                (Some(_), None) => format!(
                    "Excessive obligations in relation to income: debt-to-income {ratio:.0}%"
                ),
                (None, _) => format!(
                    "Existing debt payments {average} {:.0}% of income, assumed): debt-to-income {ratio:.0}%",
                    assumed::DEBT_TO_INCOME * 100.0
                ),
            }
        }
        Characteristic::HistoryLength => match application.credit_history_months {
            Some(months) => format!(
                "Length of credit history is too short: {months} months (full points from 120)"
            ),
            None => format!(
                "Length of credit history {average}, {} months, assumed)",
                assumed::CREDIT_HISTORY_MONTHS
            ),
        },
        Characteristic::EmploymentLength => format!(
            "Length of employment is too short: {} months (full points from 60)",
            application.employment_length
        ),
        Characteristic::Inquiries => {
            let inquiries = evidence.inquiries;
            match inquiries.reported {
                _ if inquiries.seen as f64 >= inquiries.scored() && inquiries.seen > 0 => format!(
                    "Too many recent credit applications: {} earlier applications in the last {} days",
                    inquiries.seen, inquiries.window_days
                ),
                Some(count) => {
                    format!("Too many inquiries in the last 6 months: {count}")
                }
                None => format!(
                    "Recent inquiries {average}, {}, assumed)",
                    assumed::RECENT_INQUIRIES
                ),
            }
        }
        Characteristic::AccountMix => match (kinds_held(application), application.account_types) {
            (Some(0), _) => "No open credit accounts".to_owned(),
            (Some(_), Some(types)) => format!(
                "Lack of a mix of account types: {} only",
                types.held().join(" and ")
            ),
            _ => format!("Mix of account types {average} assumed)"),
        },
    }
}

/// The strength a characteristic shows, when the applicant's own figures earned (nearly) all its
/// points; assumed figures are never strengths.
pub fn positive(scored: &Scored, evidence: &Evidence<'_>) -> Option<String> {
    let characteristic = scored.characteristic;
    if scored.assumed || scored.deficit > 0.1 * characteristic.max_deficit() {
        return None;
    }
    let application = evidence.application;
    let sentence = match characteristic {
        Characteristic::LatePayments => "No late payments in the last 12 months".to_owned(),
        Characteristic::Delinquencies => "No delinquencies in the last 24 months".to_owned(),
        Characteristic::Bankruptcies => "No bankruptcies on file".to_owned(),
        Characteristic::Utilization => format!(
            "Low revolving utilisation: {:.0}%",
            application.utilization()? * 100.0
        ),
        Characteristic::DebtToIncome => format!(
            "Low debt-to-income: {:.0}%",
            evidence.affordability.scored_ratio(assumed::DEBT_TO_INCOME) * 100.0
        ),
        Characteristic::HistoryLength => format!(
            "Long credit history: {} months",
            application.credit_history_months?
        ),
        Characteristic::EmploymentLength => format!(
            "Stable employment: {} months",
            application.employment_length
        ),
        Characteristic::Inquiries => "No recent credit inquiries".to_owned(),
        Characteristic::AccountMix => format!(
            "A mix of {} accounts",
            application.account_types?.held().join(", ")
        ),
    };
    Some(sentence)
}

/// Money as the contract's sentences show it: `$4200.00`.
pub fn money(amount: f64) -> String {
    format!("${amount:.2}")
}

/// Rounds a ratio to the three decimals responses and metadata carry.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
