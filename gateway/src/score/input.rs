//! The events of a file to score: CSV with a header row of field names, or NDJSON (one JSON
//! object per line), each read as the HTTP path reads a request body.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use redflag_core::ValidationErrors;
use serde_json::{Map, Value};

use super::ScoreError;
use crate::errors::ApiError;

/// How a file is laid out, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.csv`: a header row naming the request fields, one event per row.
    Csv,
    /// `.ndjson` or `.jsonl`: one request body per line.
    Ndjson,
}

impl Format {
    pub fn of(path: &Path) -> Result<Self, ScoreError> {
        let extension = path
            .extension()
            .and_then(OsStr::to_str)
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("ndjson" | "jsonl") => Ok(Self::Ndjson),
            _ => Err(ScoreError::Format(path.display().to_string())),
        }
    }
}

/// One event of the file: the line it starts on (1-based, the header being line 1 of a CSV
/// file), and its body, or why it is not one.
pub struct InputEvent {
    pub line: u64,
    pub body: Result<Value, ApiError>,
}

/// An input file, opened: [`Input::for_each`] reads it.
pub struct Input {
    path: String,
    format: Format,
    file: File,
}

impl Input {
    pub fn open(path: &Path) -> Result<Self, ScoreError> {
        let format = Format::of(path)?;
        let file = File::open(path).map_err(|source| ScoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self {
            path: path.display().to_string(),
            format,
            file,
        })
    }

    /// Hands each event of the file to `take`, one at a time (a file of millions of events is
    /// never held parsed); a line that does not read is an event with its error, so that the
    /// output answers each line once.
    pub fn for_each(
        self,
        max_depth: usize,
        take: impl FnMut(InputEvent) -> Result<(), ScoreError>,
    ) -> Result<(), ScoreError> {
        let reader = BufReader::new(self.file);
        match self.format {
            Format::Ndjson => read_ndjson(&self.path, reader, max_depth, take),
            Format::Csv => read_csv(&self.path, reader, max_depth, take),
        }
    }
}

fn read_ndjson(
    path: &str,
    reader: impl BufRead,
    max_depth: usize,
    mut take: impl FnMut(InputEvent) -> Result<(), ScoreError>,
) -> Result<(), ScoreError> {
    for (index, text) in reader.split(b'\n').enumerate() {
        let text = text.map_err(|source| ScoreError::Io {
            path: path.to_owned(),
            source,
        })?;
        let text = text.strip_suffix(b"\r").unwrap_or(&text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        take(InputEvent {
            line: index as u64 + 1,
            body: crate::body::parse_json(text, max_depth),
        })?;
    }
    Ok(())
}

/// A CSV row becomes the JSON object of its non-empty cells under their column names: text as
/// text (the detectors read numbers sent as text, as DRF does), and a cell holding a JSON object
/// or array (credit's `account_types`) as that value.
fn read_csv(
    path: &str,
    reader: impl std::io::Read,
    max_depth: usize,
    mut take: impl FnMut(InputEvent) -> Result<(), ScoreError>,
) -> Result<(), ScoreError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = reader
        .headers()
        .map_err(|error| ScoreError::Input {
            path: path.to_owned(),
            message: format!("its header row does not read: {error}"),
        })?
        .clone();
    for record in reader.records() {
        let (line, body) = match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                (line, Ok(row_object(&headers, &record, max_depth)))
            }
            Err(error) => {
                if let csv::ErrorKind::Io(_) = error.kind() {
                    return Err(ScoreError::Input {
                        path: path.to_owned(),
                        message: error.to_string(),
                    });
                }
                let line = error.position().map_or(0, csv::Position::line);
                let message = match error.into_kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("The row has {len} fields; the header has {expected_len}."),
                    csv::ErrorKind::Utf8 { .. } => "The row is not UTF-8 text.".to_owned(),
                    other => format!("The row does not read: {other:?}"),
                };
                (line, Err(ValidationErrors::non_field(message).into()))
            }
        };
        take(InputEvent { line, body })?;
    }
    Ok(())
}

fn row_object(headers: &csv::StringRecord, row: &csv::StringRecord, max_depth: usize) -> Value {
    let mut object = Map::new();
    for (field, cell) in headers.iter().zip(row.iter()) {
        if field.is_empty() || cell.is_empty() {
            continue;
        }
        let value = if cell.starts_with(['{', '[']) {
            crate::body::parse_json(cell.as_bytes(), max_depth)
                .unwrap_or_else(|_| Value::String(cell.to_owned()))
        } else {
            Value::String(cell.to_owned())
        };
        object.insert(field.to_owned(), value);
    }
    Value::Object(object)
}
