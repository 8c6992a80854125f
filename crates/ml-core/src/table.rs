//! A labelled table as a risk team exports one: a CSV with a header, quoted fields (a category may
//! hold a comma), empty cells for missing values, and a label column. Read with a real CSV reader,
//! so that a field never shifts into its neighbour; a malformed file is refused naming its line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::{FeatureKind, FeatureSpec, FeatureValue};

/// Why a table could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TableError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} has no column `{column}` (its columns: {columns})")]
    NoColumn {
        path: PathBuf,
        column: String,
        columns: String,
    },
    #[error("{path} line {line}: {fields} fields where the header has {expected}")]
    Width {
        path: PathBuf,
        line: u64,
        fields: usize,
        expected: usize,
    },
    #[error("{path} line {line}, column `{column}`: {reason}")]
    Value {
        path: PathBuf,
        line: u64,
        column: String,
        reason: String,
    },
    #[error("{path} has no rows")]
    Empty { path: PathBuf },
}

/// Which label values are the positive class (fraud, default).
#[derive(Debug, Clone, PartialEq)]
pub enum Positive {
    /// 1/0, true/false, yes/no (any case).
    Conventional,
    /// This value is positive; every other non-empty value is negative.
    Value(String),
}

impl Positive {
    fn read(&self, value: &str) -> Result<bool, String> {
        match self {
            Self::Value(positive) => Ok(value == positive),
            Self::Conventional => match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => Err(format!(
                    "`{value}` is not a label (1/0, true/false, yes/no; or name the positive value)"
                )),
            },
        }
    }
}

/// The rows of a labelled CSV, every column but the label a feature.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledTable {
    /// Each feature column: numeric when every non-empty training value is a finite number,
    /// categorical otherwise (its levels as the training file has them, plus `(missing)` when a
    /// cell is empty).
    pub features: Vec<FeatureSpec>,
    pub rows: Vec<Vec<FeatureValue>>,
    pub labels: Vec<bool>,
    /// Each row's line in the file (for a scores file a team can join back).
    pub lines: Vec<u64>,
    /// What an empty cell reads as, by feature: for a numeric column the training median (in
    /// [`Self::filled_rows`]; `rows` keep it missing, NaN); for a categorical one `(missing)`
    /// when the training file had empty cells, else its most frequent level.
    pub fill: Vec<FeatureValue>,
}

/// The level of an empty categorical cell, when the training file had some.
pub const MISSING_LEVEL: &str = "(missing)";

/// A file's header and records, with each record's line.
struct Raw {
    path: PathBuf,
    header: Vec<String>,
    records: Vec<(u64, Vec<String>)>,
}

impl Raw {
    fn read(path: &Path) -> Result<Self, TableError> {
        let read_error = |reason: String| TableError::Read {
            path: path.to_owned(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| read_error(e.to_string()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| read_error(e.to_string()))?
            .iter()
            .map(|name| name.trim().to_owned())
            .collect();
        let mut records = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| read_error(e.to_string()))?;
            let line = record.position().map_or(0, csv::Position::line);
            if record.len() != header.len() {
                return Err(TableError::Width {
                    path: path.to_owned(),
                    line,
                    fields: record.len(),
                    expected: header.len(),
                });
            }
            records.push((line, record.iter().map(|v| v.trim().to_owned()).collect()));
        }
        if records.is_empty() {
            return Err(TableError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            header,
            records,
        })
    }

    fn position(&self, column: &str) -> Result<usize, TableError> {
        self.header
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| TableError::NoColumn {
                path: self.path.clone(),
                column: column.to_owned(),
                columns: self.header.join(", "),
            })
    }

    fn labels(&self, label: usize, positive: &Positive) -> Result<Vec<bool>, TableError> {
        self.records
            .iter()
            .map(|(line, record)| {
                positive
                    .read(&record[label])
                    .map_err(|reason| self.value_error(*line, label, reason))
            })
            .collect()
    }

    fn value_error(&self, line: u64, column: usize, reason: String) -> TableError {
        TableError::Value {
            path: self.path.clone(),
            line,
            column: self.header[column].clone(),
            reason,
        }
    }
}

impl LabelledTable {
    /// Reads a training file: every column but `label` is a feature, its kind inferred here.
    pub fn read(path: &Path, label: &str, positive: &Positive) -> Result<Self, TableError> {
        let raw = Raw::read(path)?;
        let label_at = raw.position(label)?;
        let labels = raw.labels(label_at, positive)?;
        let columns: Vec<usize> = (0..raw.header.len()).filter(|&j| j != label_at).collect();
        let mut features = Vec::new();
        let mut fill = Vec::new();
        for &j in &columns {
            let values: Vec<&str> = raw
                .records
                .iter()
                .map(|(_, record)| record[j].as_str())
                .filter(|value| !value.is_empty())
                .collect();
            let numbers: Option<Vec<f64>> = values
                .iter()
                .map(|value| value.parse::<f64>().ok().filter(|n| n.is_finite()))
                .collect();
            match numbers {
                Some(mut numbers) if !numbers.is_empty() => {
                    numbers.sort_by(f64::total_cmp);
                    features.push(FeatureSpec {
                        name: raw.header[j].clone(),
                        kind: FeatureKind::Numeric,
                    });
                    fill.push(FeatureValue::Number(numbers[numbers.len() / 2]));
                }
                _ => {
                    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                    for value in &values {
                        *counts.entry(value).or_default() += 1;
                    }
                    let most_frequent = counts
                        .iter()
                        // The most frequent; of a tie, the first in order.
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                        .map_or(MISSING_LEVEL, |(level, _)| level);
                    let mut levels: BTreeSet<String> =
                        values.iter().map(|value| (*value).to_owned()).collect();
                    if values.len() < raw.records.len() {
                        levels.insert(MISSING_LEVEL.to_owned());
                        fill.push(FeatureValue::Category(MISSING_LEVEL.to_owned()));
                    } else {
                        fill.push(FeatureValue::Category(most_frequent.to_owned()));
                    }
                    features.push(FeatureSpec {
                        name: raw.header[j].clone(),
                        kind: FeatureKind::Categorical {
                            levels: levels.into_iter().collect(),
                        },
                    });
                }
            }
        }
        let mut table = Self {
            features,
            rows: Vec::new(),
            labels,
            lines: Vec::new(),
            fill,
        };
        table.take_rows(&raw, &columns)?;
        Ok(table)
    }

    /// Reads a file to score with a model trained on `training`: the same feature columns (in any
    /// order) and the label, every value as the training file's kinds read it. A category the
    /// training file never had is refused naming its line: the model knows nothing of it.
    pub fn read_like(
        path: &Path,
        training: &Self,
        label: &str,
        positive: &Positive,
    ) -> Result<Self, TableError> {
        let raw = Raw::read(path)?;
        let label_at = raw.position(label)?;
        let labels = raw.labels(label_at, positive)?;
        let columns = training
            .features
            .iter()
            .map(|feature| raw.position(&feature.name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut table = Self {
            features: training.features.clone(),
            rows: Vec::new(),
            labels,
            lines: Vec::new(),
            fill: training.fill.clone(),
        };
        table.take_rows(&raw, &columns)?;
        Ok(table)
    }

    /// Reads each record's feature cells (`columns`, in feature order) as the features' kinds.
    fn take_rows(&mut self, raw: &Raw, columns: &[usize]) -> Result<(), TableError> {
        for (line, record) in &raw.records {
            let mut row = Vec::with_capacity(columns.len());
            for ((feature, fill), &j) in self.features.iter().zip(&self.fill).zip(columns) {
                let cell = record[j].as_str();
                let value = match &feature.kind {
                    // Kept missing (a scorecard bins it); `filled_rows` reads it as the median.
                    FeatureKind::Numeric if cell.is_empty() => FeatureValue::Number(f64::NAN),
                    FeatureKind::Categorical { .. } if cell.is_empty() => fill.clone(),
                    FeatureKind::Numeric => FeatureValue::Number(
                        cell.parse::<f64>()
                            .ok()
                            .filter(|n| n.is_finite())
                            .ok_or_else(|| {
                                raw.value_error(*line, j, format!("`{cell}` is not a number"))
                            })?,
                    ),
                    FeatureKind::Categorical { levels } => {
                        if !levels.iter().any(|known| known == cell) {
                            return Err(raw.value_error(
                                *line,
                                j,
                                format!("`{cell}` is a category the training file does not have"),
                            ));
                        }
                        FeatureValue::Category(cell.to_owned())
                    }
                };
                row.push(value);
            }
            self.rows.push(row);
            self.lines.push(*line);
        }
        Ok(())
    }

    /// The rows with each missing number (NaN) read as the training median: for models that
    /// take no missing values.
    pub fn filled_rows(&self) -> Vec<Vec<FeatureValue>> {
        self.rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&self.fill)
                    .map(|(value, fill)| match value {
                        FeatureValue::Number(number) if number.is_nan() => fill.clone(),
                        value => value.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    /// The numeric features as a matrix row per record, missing numbers filled (for models
    /// that take numbers only); `None` when a feature is categorical.
    pub fn numeric_rows(&self) -> Option<Vec<Vec<f64>>> {
        self.filled_rows()
            .iter()
            .map(|row| {
                row.iter()
                    .map(|value| match value {
                        FeatureValue::Number(number) => Some(*number),
                        FeatureValue::Category(_) => None,
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("a temp file");
        path
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("redflag-table-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir
    }

    #[test]
    fn a_quoted_comma_stays_in_its_category_and_the_label_is_read_where_it_is() {
        let dir = temp_dir("quoted");
        let train = file(
            &dir,
            "train.csv",
            "income,housing,default\n\
             4200,\"yes, registered\",0\n\
             1800,rent,1\n\
             ,\"yes, registered\",0\n",
        );
        let table = LabelledTable::read(&train, "default", &Positive::Conventional).expect("reads");
        assert_eq!(table.labels, [false, true, false]);
        assert_eq!(table.lines, [2, 3, 4]);
        assert_eq!(
            table.features[1].kind,
            FeatureKind::Categorical {
                levels: vec!["rent".to_owned(), "yes, registered".to_owned()]
            }
        );
        assert_eq!(
            table.rows[0],
            [
                FeatureValue::Number(4200.0),
                FeatureValue::Category("yes, registered".to_owned())
            ]
        );
        // The empty income stays missing, and fills as the training median (of 1,800 and 4,200:
        // the upper one).
        assert!(matches!(table.rows[2][0], FeatureValue::Number(n) if n.is_nan()));
        assert_eq!(table.filled_rows()[2][0], FeatureValue::Number(4200.0));
    }

    #[test]
    fn a_malformed_file_is_refused_naming_the_line_and_column() {
        let dir = temp_dir("malformed");
        let shifted = file(
            &dir,
            "shifted.csv",
            "a,b,label\n1,2,0\n1,yes, registered,1\n",
        );
        assert_eq!(
            LabelledTable::read(&shifted, "label", &Positive::Conventional),
            Err(TableError::Width {
                path: shifted.clone(),
                line: 3,
                fields: 4,
                expected: 3
            })
        );
        let bad_label = file(&dir, "label.csv", "a,label\n1,0\n2,maybe\n");
        let error = LabelledTable::read(&bad_label, "label", &Positive::Conventional)
            .expect_err("maybe is no label")
            .to_string();
        assert!(error.ends_with("label.csv line 3, column `label`: `maybe` is not a label (1/0, true/false, yes/no; or name the positive value)"), "{error}");
        let named = LabelledTable::read(&bad_label, "label", &Positive::Value("maybe".to_owned()))
            .expect("maybe is the positive value");
        assert_eq!(named.labels, [false, true]);
        let train = file(&dir, "train.csv", "a,kind,label\n1,x,0\n2,y,1\n");
        let trained = LabelledTable::read(&train, "label", &Positive::Conventional).expect("reads");
        let gaps = file(&dir, "gaps.csv", "kind,label,a\n,1,\ny,0,4\n");
        let filled = LabelledTable::read_like(&gaps, &trained, "label", &Positive::Conventional)
            .expect("empty cells read as the training file's fill");
        assert_eq!(
            filled.filled_rows()[0],
            [
                FeatureValue::Number(2.0),
                FeatureValue::Category("x".to_owned())
            ],
            "the median of 1 and 2 (the upper), the most frequent level (the first of a tie)"
        );
        let test = file(&dir, "test.csv", "kind,label,a\ny,1,3\nz,0,4\n");
        let error = LabelledTable::read_like(&test, &trained, "label", &Positive::Conventional)
            .expect_err("z is unknown")
            .to_string();
        assert!(
            error.ends_with(
                "test.csv line 3, column `kind`: `z` is a category the training file does not have"
            ),
            "{error}"
        );
        let no_label = LabelledTable::read(&train, "outcome", &Positive::Conventional)
            .expect_err("no such column")
            .to_string();
        assert!(
            no_label.ends_with("has no column `outcome` (its columns: a, kind, label)"),
            "{no_label}"
        );
    }
}
