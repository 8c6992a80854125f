//! The reference valuation table: what an item of a category is worth when the claim gives no
//! market value, so that inflation can still be checked.

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::ClaimType;

/// The bundled table, `config/valuations.csv`.
const BUNDLED: &str = include_str!("../../../config/valuations.csv");

/// One category's reference: its replacement (new) value and how much it loses a year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valuation {
    pub replacement_value: f64,
    /// Fraction of value lost per year of age, compounded.
    pub annual_depreciation: f64,
}

impl Valuation {
    /// The value of an item `age_years` old: replacement x (1 - depreciation)^age. Without an age
    /// the replacement value is used, the figure most favourable to the claimant.
    pub fn market_value(&self, age_years: Option<f64>) -> f64 {
        let age = age_years.unwrap_or(0.0).max(0.0);
        self.replacement_value * (1.0 - self.annual_depreciation).powf(age)
    }
}

/// Reference values by claim type and item category.
#[derive(Debug, Clone, Default)]
pub struct ValuationTable {
    entries: FxHashMap<ClaimType, FxHashMap<String, Valuation>>,
}

/// Why a valuation table could not be used; it names the file and the line.
#[derive(Debug, thiserror::Error)]
pub enum ValuationError {
    #[error("cannot read the valuation table {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("valuation table {source_name}, line {line}: {problem}")]
    Invalid {
        source_name: String,
        line: u64,
        problem: String,
    },
}

impl ValuationTable {
    /// The bundled table.
    pub fn bundled() -> Self {
        // The bundled file is checked by a test; were it broken, the table would be empty.
        Self::parse(BUNDLED, "config/valuations.csv").unwrap_or_default()
    }

    /// The table in `path`, or the bundled one when `path` is empty.
    pub fn load(path: &str) -> Result<Self, ValuationError> {
        if path.trim().is_empty() {
            return Ok(Self::bundled());
        }
        let text =
            std::fs::read_to_string(Path::new(path)).map_err(|source| ValuationError::Read {
                path: path.to_owned(),
                source,
            })?;
        Self::parse(&text, path)
    }

    /// Reads the CSV `claim_type,item_category,replacement_value,annual_depreciation`.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ValuationError> {
        let invalid = |line: u64, problem: String| ValuationError::Invalid {
            source_name: source_name.to_owned(),
            line,
            problem,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let expected = [
            "claim_type",
            "item_category",
            "replacement_value",
            "annual_depreciation",
        ];
        let headers = reader
            .headers()
            .map_err(|error| invalid(1, error.to_string()))?
            .clone();
        if headers.iter().collect::<Vec<_>>() != expected {
            return Err(invalid(
                1,
                format!("the header must be {}", expected.join(",")),
            ));
        }
        let mut entries: FxHashMap<ClaimType, FxHashMap<String, Valuation>> = FxHashMap::default();
        for record in reader.records() {
            let record = record.map_err(|error| {
                invalid(
                    error.position().map_or(0, csv::Position::line),
                    error.to_string(),
                )
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            let claim_type = ClaimType::from_name(&record[0]).ok_or_else(|| {
                invalid(
                    line,
                    format!(
                        "unknown claim type {:?}; expected one of {}",
                        &record[0],
                        ClaimType::NAMES.join(", ")
                    ),
                )
            })?;
            let number = |index: usize, name: &str| -> Result<f64, ValuationError> {
                record[index]
                    .parse::<f64>()
                    .ok()
                    .filter(|value| value.is_finite())
                    .ok_or_else(|| invalid(line, format!("{name} is not a number")))
            };
            let replacement_value = number(2, "replacement_value")?;
            let annual_depreciation = number(3, "annual_depreciation")?;
            if replacement_value <= 0.0 || !(0.0..1.0).contains(&annual_depreciation) {
                return Err(invalid(
                    line,
                    "replacement_value must be above 0 and annual_depreciation in 0..1".to_owned(),
                ));
            }
            entries.entry(claim_type).or_default().insert(
                record[1].to_lowercase(),
                Valuation {
                    replacement_value,
                    annual_depreciation,
                },
            );
        }
        Ok(Self { entries })
    }

    pub fn get(&self, claim_type: ClaimType, category: &str) -> Option<Valuation> {
        self.entries.get(&claim_type)?.get(category).copied()
    }

    pub fn len(&self) -> usize {
        self.entries.values().map(FxHashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_reads_and_depreciates() {
        let table = ValuationTable::parse(BUNDLED, "bundled").expect("the bundled table is valid");
        assert!(table.len() >= 20);
        let laptop = table.get(ClaimType::Property, "laptop").expect("listed");
        assert_eq!(laptop.market_value(None), 1500.0);
        assert!((laptop.market_value(Some(2.0)) - 843.75).abs() < 1e-9);
        assert!(table.get(ClaimType::Health, "laptop").is_none());
    }

    #[test]
    fn a_bad_table_names_the_line_and_the_problem() {
        let header = "claim_type,item_category,replacement_value,annual_depreciation\n";
        let error = ValuationTable::parse(&format!("{header}property,tv,lots,0.1\n"), "mine.csv")
            .expect_err("not a number");
        assert_eq!(
            error.to_string(),
            "valuation table mine.csv, line 2: replacement_value is not a number"
        );
        let error = ValuationTable::parse(&format!("{header}boat,dinghy,900,0.1\n"), "mine.csv")
            .expect_err("unknown type");
        assert!(
            error.to_string().contains("unknown claim type \"boat\""),
            "{error}"
        );
        let error = ValuationTable::parse("type,category\n", "mine.csv").expect_err("bad header");
        assert!(
            error.to_string().contains("line 1: the header must be"),
            "{error}"
        );
    }
}
