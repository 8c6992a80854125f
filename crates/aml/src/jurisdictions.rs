use redflag_core::{Alert, History, Rule, Severity};
use serde::Deserialize;

use crate::{AmlConfig, Transaction};

/// The bundled FATF lists, with their date (`data/high_risk_jurisdictions.json`).
const BUNDLED: &str = include_str!("../data/high_risk_jurisdictions.json");

#[derive(Debug, Clone, Deserialize)]
struct FatfLists {
    as_of: String,
    call_for_action: Vec<String>,
    increased_monitoring: Vec<String>,
}

/// A party in a high-risk jurisdiction: a country on the FATF "call for action" list (critical)
/// or under "increased monitoring" (high), or on the configured list that replaces them.
#[derive(Debug, Clone)]
pub struct HighRiskJurisdictionRule {
    /// (country, list name, whether it is a call-for-action country).
    countries: Vec<(String, String, bool)>,
}

impl HighRiskJurisdictionRule {
    pub fn new(config: &AmlConfig) -> Self {
        let countries = if config.high_risk_countries.is_empty() {
            // The file is compiled in and parsed by this crate's tests, so it cannot be malformed.
            let lists: FatfLists = serde_json::from_str(BUNDLED)
                .expect("the bundled FATF list is valid JSON (tested)");
            let call = format!("FATF call-for-action list (as of {})", lists.as_of);
            let monitored = format!("FATF increased-monitoring list (as of {})", lists.as_of);
            lists
                .call_for_action
                .into_iter()
                .map(|country| (country, call.clone(), true))
                .chain(
                    lists
                        .increased_monitoring
                        .into_iter()
                        .map(|country| (country, monitored.clone(), false)),
                )
                .collect()
        } else {
            config
                .high_risk_countries
                .iter()
                .map(|country| {
                    (
                        country.to_ascii_uppercase(),
                        "configured high-risk list".to_owned(),
                        false,
                    )
                })
                .collect()
        };
        Self { countries }
    }

    /// Whether the country is on the list in force; false without a country.
    pub(crate) fn is_high_risk(&self, country: Option<&str>) -> bool {
        self.lookup(country).is_some()
    }

    fn lookup(&self, country: Option<&str>) -> Option<&(String, String, bool)> {
        let country = country?;
        self.countries
            .iter()
            .find(|(listed, _, _)| listed == country)
    }
}

impl Rule<Transaction> for HighRiskJurisdictionRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "HighRiskJurisdictionRule"
    }

    fn evaluate(&self, transaction: &Transaction, _history: &History) -> Option<Alert> {
        let hits: Vec<(&str, &(String, String, bool))> = [
            ("sender", transaction.sender_country.as_deref()),
            ("receiver", transaction.receiver_country.as_deref()),
        ]
        .into_iter()
        .filter_map(|(party, country)| self.lookup(country).map(|hit| (party, hit)))
        .collect();
        let (party, (country, list, call_for_action)) = hits.first()?;
        let (severity, confidence) = if hits.iter().any(|(_, (_, _, call))| *call) {
            (Severity::Critical, 0.9)
        } else {
            (Severity::High, 0.7)
        };
        let mut alert = Alert::new(
            self.name(),
            "high_risk_jurisdiction",
            severity,
            confidence,
            format!("High-risk jurisdiction: {party} country {country} is on the {list}"),
        )
        .with_metadata("country", country.as_str())
        .with_metadata("party", *party)
        .with_metadata("list", list.as_str())
        .with_metadata("call_for_action", *call_for_action);
        for (party, (country, list, _)) in &hits {
            alert = alert.with_evidence(format!("{party} country {country}: {list}"));
        }
        Some(alert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_fatf_lists_parse_and_hold_the_call_for_action_countries() {
        let rule = HighRiskJurisdictionRule::new(&AmlConfig::default());
        for country in ["KP", "IR", "MM"] {
            assert!(
                rule.lookup(Some(country)).is_some_and(|(_, _, call)| *call),
                "{country}"
            );
        }
        assert!(rule.lookup(Some("US")).is_none());
    }
}
