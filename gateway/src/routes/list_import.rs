//! POST /api/rules/lists/<name>/import/: a team's list from a CSV file (an export of confirmed
//! mules, a block list), replacing the list or added to it. The file's first row names its
//! columns; the values are one column's cells, trimmed, blanks skipped, each kept once.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use redflag_core::{FieldReader, ValidationErrors};
use redflag_store::ListImportError;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::pages::query_object;
use super::rules::{
    ListBody, MAX_LIST_VALUE, blocking, list_name, list_value, rules_body_limit, swap_in,
};
use crate::auth::{Authenticated, Role};
use crate::body::read_csv;
use crate::errors::ApiError;
use crate::state::AppState;

/// Most values a list holds after an import (a JSON `PUT` sends at most 10,000 at once).
pub const MAX_IMPORTED_VALUES: usize = 100_000;

/// How an import is read: which column, whether it replaces the list, its description.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportQuery {
    /// The header of the values' column; the first column when `None`.
    pub column: Option<String>,
    pub append: bool,
    /// The list's new description; it keeps its own when `None`.
    pub description: Option<String>,
}

/// `?column=<header>&mode=replace|append&description=...`, all optional.
pub fn read_import_query(query: &Value) -> Result<ImportQuery, ValidationErrors> {
    let mut fields = FieldReader::new(query)?;
    let column = fields.optional_text("column");
    let mode = fields.optional_exact_choice("mode", &["replace", "append"]);
    let description = fields.optional_text("description");
    fields.reject_unknown(&["column", "mode", "description"]);
    fields.finish(|| ImportQuery {
        column,
        append: mode == Some("append"),
        description,
    })
}

/// What an import read and what the list holds now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListImport {
    pub list: ListBody,
    /// Rows read after the header.
    pub rows: usize,
    /// Rows whose cell in the column was empty (skipped).
    pub blank: usize,
    /// Distinct values the file gave.
    pub values: usize,
}

/// A column's values, with what was read.
struct Column {
    values: Vec<String>,
    rows: usize,
    blank: usize,
}

/// Reads `column` (the first when `None`) of a CSV text whose first row names the columns;
/// every problem as DRF field errors (`csv` with the row, or `column`).
fn read_column(text: &str, column: Option<&str>) -> Result<Column, Value> {
    let csv_error = |message: String| json!({ "csv": [message] });
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| csv_error(format!("row 1: {error}")))?
        .clone();
    if headers.iter().all(|header| header.trim().is_empty()) {
        return Err(csv_error(
            "The file is empty: its first row names the columns.".to_owned(),
        ));
    }
    let index = match column {
        None => 0,
        Some(name) => headers
            .iter()
            .position(|header| header.trim() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = headers.iter().map(str::trim).collect();
                json!({"column": [format!("The file has no column `{name}`; its columns are {}.", names.join(", "))]})
            })?,
    };
    let (mut values, mut rows, mut blank) = (Vec::new(), 0, 0);
    for record in reader.records() {
        rows += 1;
        // The header is row 1.
        let row = rows + 1;
        let record = record.map_err(|error| csv_error(format!("row {row}: {error}")))?;
        let cell = record.get(index).unwrap_or_default();
        if cell.trim().is_empty() {
            blank += 1;
            continue;
        }
        let value = list_value(cell).ok_or_else(|| {
            csv_error(format!(
                "row {row}: each value is text of 1 to {MAX_LIST_VALUE} characters without control characters."
            ))
        })?;
        values.push(value.to_owned());
        if values.len() > MAX_IMPORTED_VALUES {
            return Err(csv_error(format!(
                "The file has more than {MAX_IMPORTED_VALUES} values; a list holds at most that many."
            )));
        }
    }
    values.sort_unstable();
    values.dedup();
    Ok(Column {
        values,
        rows,
        blank,
    })
}

/// POST /api/rules/lists/<name>/import/ (admins): the list from a CSV body, audited; rules
/// reading it see it at once here, on other gateways within `rules.poll_seconds`.
#[tracing::instrument(skip_all)]
pub async fn import_list(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let name = list_name(&path)?.to_owned();
    let query = read_import_query(&query_object(&request)?)?;
    let text = read_csv(&request, payload, rules_body_limit(&state)).await?;
    let state = state.into_inner();
    // Parsing a file of up to 16 MiB is work for the blocking pool, not the request's thread.
    let body = blocking(move || {
        let column = read_column(&text, query.column.as_deref()).map_err(ApiError::Invalid)?;
        let read = (column.rows, column.blank, column.values.len());
        let (list, entries) = state
            .db
            .import_rule_list(
                (&name, query.description.as_deref()),
                column.values,
                (query.append, MAX_IMPORTED_VALUES),
                &user.username,
                Utc::now(),
            )
            .map_err(|error| match error {
                ListImportError::TooLarge { entries, max } => ApiError::Invalid(json!({
                    "csv": [format!("The list would hold {entries} values; a list holds at most {max}.")]
                })),
                ListImportError::Store(error) => error.into(),
            })?;
        swap_in(&state);
        let (rows, blank, values) = read;
        Ok(ListImport {
            list: ListBody::of(&list, i64::try_from(entries).unwrap_or(i64::MAX), None),
            rows,
            blank,
            values,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_read_by_its_header_trimmed_with_blanks_skipped_and_each_value_once() {
        let text = "account,name\n ACC-1 ,Alice\n,Nobody\nACC-2,\"Bob, Jr\"\nACC-1,Alice again\n";
        let column = read_column(text, Some("account")).expect("reads");
        assert_eq!(column.values, ["ACC-1", "ACC-2"]);
        assert_eq!((column.rows, column.blank), (4, 1));
        let names = read_column(text, Some("name")).expect("reads");
        assert_eq!(names.values, ["Alice", "Alice again", "Bob, Jr", "Nobody"]);
        let first = read_column("id\nX\n", None).expect("reads");
        assert_eq!(first.values, ["X"]);
    }

    #[test]
    fn a_file_of_more_values_than_a_list_holds_is_refused() {
        let text = format!(
            "account\n{}",
            (0..=MAX_IMPORTED_VALUES)
                .map(|n| format!("A-{n}\n"))
                .collect::<String>()
        );
        assert_eq!(
            read_column(&text, None).err(),
            Some(json!({"csv": [format!(
                "The file has more than {MAX_IMPORTED_VALUES} values; a list holds at most that many."
            )]}))
        );
    }

    #[test]
    fn mistakes_name_the_row_or_the_column() {
        assert_eq!(
            read_column("account\nA\n", Some("iban")).err(),
            Some(json!({"column": ["The file has no column `iban`; its columns are account."]}))
        );
        assert_eq!(
            read_column("", None).err(),
            Some(json!({"csv": ["The file is empty: its first row names the columns."]}))
        );
        let long = "x".repeat(MAX_LIST_VALUE + 1);
        assert_eq!(
            read_column(&format!("id\nA\n{long}\n"), None).err(),
            Some(
                json!({"csv": ["row 3: each value is text of 1 to 200 characters without control characters."]})
            )
        );
    }
}
