//! The output of a scoring run: one record per input line, written as each batch is decided, so
//! that a run cut off is resumed from what its output holds.
//!
//! NDJSON records carry the whole answer: `{"line", "status", "risk_score", "flagged", "rules",
//! "answer"}` for a decision, `{"line", "status", "error"}` for an event refused. CSV records are
//! the columns `line,status,id,risk_score,flagged,rules,error` (rules separated by `;`, the error
//! as its JSON text).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::ScoreError;
use super::input::Format;

/// One input line's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: u64,
    /// The status the HTTP path answers: 201 decided now, 200 the stored decision of its
    /// business id, 4xx refused.
    pub status: u16,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Decided {
        id: i64,
        risk_score: f64,
        flagged: bool,
        rules: Vec<String>,
        /// The answer's JSON text (NDJSON output only: a CSV record does not keep it).
        answer: Option<String>,
    },
    Refused {
        /// The DRF error body.
        error: Value,
    },
}

/// Where records are written.
pub struct Output {
    format: Format,
    file: BufWriter<File>,
}

/// The CSV columns, in order.
const CSV_HEADER: &str = "line,status,id,risk_score,flagged,rules,error\n";

impl Output {
    /// A new output file; one already there is refused unless the run resumes it, when its
    /// records are returned (a record cut off by an interruption is dropped: its line is scored
    /// again).
    pub fn open(path: &Path, resume: bool) -> Result<(Self, Vec<Record>), ScoreError> {
        let format = Format::of(path)?;
        let io = |source| ScoreError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() || !resume {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|source| {
                    if source.kind() == std::io::ErrorKind::AlreadyExists {
                        ScoreError::OutputExists(path.display().to_string())
                    } else {
                        io(source)
                    }
                })?;
            let mut output = Self {
                format,
                file: BufWriter::new(file),
            };
            if format == Format::Csv {
                output.file.write_all(CSV_HEADER.as_bytes()).map_err(io)?;
            }
            output.flush().map_err(io)?;
            return Ok((output, Vec::new()));
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let complete = text.rfind('\n').map_or(0, |end| end + 1);
        let records = read_back(path, format, &text[..complete])?;
        file.set_len(complete as u64).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let mut output = Self {
            format,
            file: BufWriter::new(file),
        };
        if complete == 0 && format == Format::Csv {
            output.file.write_all(CSV_HEADER.as_bytes()).map_err(io)?;
        }
        Ok((output, records))
    }

    pub fn write(&mut self, record: &Record) -> std::io::Result<()> {
        let line = match self.format {
            Format::Ndjson => ndjson_line(record),
            Format::Csv => csv_line(record)?,
        };
        self.file.write_all(line.as_bytes())
    }

    /// Hands what was written to the system: a process killed afterwards loses none of it.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn ndjson_line(record: &Record) -> String {
    let Record { line, status, .. } = record;
    match &record.outcome {
        Outcome::Decided {
            risk_score,
            flagged,
            rules,
            answer,
            id,
        } => {
            let rules = serde_json::to_string(rules).unwrap_or_else(|_| "[]".to_owned());
            let answer = answer.clone().unwrap_or_else(|| format!("{{\"id\":{id}}}"));
            format!(
                "{{\"line\":{line},\"status\":{status},\"risk_score\":{},\"flagged\":{flagged},\"rules\":{rules},\"answer\":{answer}}}\n",
                Value::from(*risk_score)
            )
        }
        Outcome::Refused { error } => {
            format!("{{\"line\":{line},\"status\":{status},\"error\":{error}}}\n")
        }
    }
}

fn csv_line(record: &Record) -> std::io::Result<String> {
    let line = record.line.to_string();
    let status = record.status.to_string();
    let fields: [String; 5] = match &record.outcome {
        Outcome::Decided {
            id,
            risk_score,
            flagged,
            rules,
            ..
        } => [
            id.to_string(),
            risk_score.to_string(),
            flagged.to_string(),
            rules.join(";"),
            String::new(),
        ],
        Outcome::Refused { error } => [
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            error.to_string(),
        ],
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer
        .write_record(
            [line.as_str(), status.as_str()]
                .into_iter()
                .chain(fields.iter().map(String::as_str)),
        )
        .map_err(std::io::Error::other)?;
    let bytes = writer
        .into_inner()
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    String::from_utf8(bytes).map_err(std::io::Error::other)
}

/// An NDJSON record as read back: the answer itself is not needed to resume.
#[derive(Deserialize)]
struct NdjsonRecord {
    line: u64,
    status: u16,
    #[serde(default)]
    risk_score: f64,
    #[serde(default)]
    flagged: bool,
    #[serde(default)]
    rules: Vec<String>,
    answer: Option<AnswerId>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct AnswerId {
    id: i64,
}

#[derive(Deserialize)]
struct CsvRecord {
    line: u64,
    status: u16,
    id: Option<i64>,
    risk_score: Option<f64>,
    flagged: Option<bool>,
    rules: String,
    error: String,
}

/// The records of an output being resumed; one that is not a record this command wrote stops
/// the run rather than being overwritten.
fn read_back(path: &Path, format: Format, text: &str) -> Result<Vec<Record>, ScoreError> {
    let not_ours = |line: usize, problem: String| ScoreError::Input {
        path: path.display().to_string(),
        message: format!(
            "line {line} is not a record of `redflag score` ({problem}); score into a new output"
        ),
    };
    let mut records = Vec::new();
    match format {
        Format::Ndjson => {
            for (index, text) in text.lines().enumerate() {
                if text.trim().is_empty() {
                    continue;
                }
                let read: NdjsonRecord = serde_json::from_str(text)
                    .map_err(|error| not_ours(index + 1, error.to_string()))?;
                let outcome = match (read.answer, read.error) {
                    (Some(answer), None) => Outcome::Decided {
                        id: answer.id,
                        risk_score: read.risk_score,
                        flagged: read.flagged,
                        rules: read.rules,
                        answer: None,
                    },
                    (None, Some(error)) => Outcome::Refused { error },
                    _ => {
                        return Err(not_ours(
                            index + 1,
                            "neither an answer nor an error".to_owned(),
                        ));
                    }
                };
                records.push(Record {
                    line: read.line,
                    status: read.status,
                    outcome,
                });
            }
        }
        Format::Csv => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for (index, row) in reader.deserialize::<CsvRecord>().enumerate() {
                let read = row.map_err(|error| not_ours(index + 2, error.to_string()))?;
                let outcome = match read.id {
                    Some(id) => Outcome::Decided {
                        id,
                        risk_score: read.risk_score.unwrap_or_default(),
                        flagged: read.flagged.unwrap_or_default(),
                        rules: read
                            .rules
                            .split(';')
                            .filter(|rule| !rule.is_empty())
                            .map(str::to_owned)
                            .collect(),
                        answer: None,
                    },
                    None => Outcome::Refused {
                        error: serde_json::from_str(&read.error)
                            .map_err(|error| not_ours(index + 2, error.to_string()))?,
                    },
                };
                records.push(Record {
                    line: read.line,
                    status: read.status,
                    outcome,
                });
            }
        }
    }
    Ok(records)
}
