//! Sanctions and PEP screening over HTTP: `POST /api/screening/` screens one name, the admin
//! API imports a list's new version (`POST /api/screening/lists/<name>/versions/`, the files as
//! a `multipart/form-data` body), `GET /api/screening/lists/` lists the lists and their
//! versions, and `POST /api/screening/suppressions/` resolves a match as a false positive for
//! one party and one entry.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use redflag_audit::AuditEvent;
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use redflag_screening::{
    Agreement, BirthDate, ListFormat, Match, PartyKind, Query, SANCTIONS_MATCH_RULE,
};
use redflag_service::screening::{ImportError, Imported, Screening, check_list_name};
use redflag_store::{ListVersionError, StoredListVersion, SuppressionToWrite};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::detect::format_timestamp;
use super::pages::query_object;
use super::review::ResolvedMatch;
use super::rules::blocking;
use crate::auth::{Authenticated, Role};
use crate::body::{read_form, read_json};
use crate::errors::ApiError;
use crate::state::AppState;

/// Largest list import body: a whole OFAC publication is about 3.5 MiB, a large OpenSanctions
/// export some tens.
const LIST_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// How a fact compared, as answers spell it.
fn agreement(agreement: Agreement) -> &'static str {
    match agreement {
        Agreement::Agrees => "agrees",
        Agreement::Disagrees => "disagrees",
        Agreement::Unknown => "unknown",
    }
}

/// Why a match scored what it did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreParts {
    /// The names' similarity alone, 0..1.
    pub name: f64,
    /// Whether the entry's name that matched is an alias, and a weak one (counts for less).
    pub alias: bool,
    pub weak_alias: bool,
    /// How the query's date of birth compares with the entry's.
    #[schema(example = "agrees")]
    pub date_of_birth: &'static str,
    #[schema(example = "unknown")]
    pub country: &'static str,
    /// Whether the query's `entity_type` is the entry's.
    #[schema(example = "unknown")]
    pub kind: &'static str,
}

/// One listed entry the name matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningMatch {
    pub list: String,
    /// The list's own id (OFAC `ent_num`, UN `DATAID`, senzing `RECORD_ID`).
    pub entry_id: String,
    /// The entry's primary name.
    pub name: String,
    /// The entry's name (primary or alias) that matched.
    pub matched_name: String,
    /// 0..1; matches below the threshold are not listed.
    pub score: f64,
    pub parts: ScoreParts,
    pub programs: Vec<String>,
}

impl ScreeningMatch {
    fn of(found: Match) -> Self {
        Self {
            list: found.list,
            entry_id: found.entry_id,
            name: found.name,
            matched_name: found.matched_name,
            score: found.score,
            parts: ScoreParts {
                name: found.parts.name,
                alias: found.parts.alias,
                weak_alias: found.parts.weak_alias,
                date_of_birth: agreement(found.parts.date_of_birth),
                country: agreement(found.parts.country),
                kind: agreement(found.parts.kind),
            },
            programs: found.programs,
        }
    }
}

/// A list as screening used it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListInUse {
    pub name: String,
    pub version: i64,
}

/// The answer of `POST /api/screening/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningResult {
    /// Best first, one per entry.
    pub matches: Vec<ScreeningMatch>,
    /// The lists screened against, with the versions in use.
    pub lists: Vec<ListInUse>,
    /// The score from which a match is listed.
    pub threshold: f64,
}

/// What `POST /api/screening/` screens.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreeningRequest {
    pub query: Query,
    pub threshold: Option<f64>,
}

/// `{"name", "entity_type"?, "date_of_birth"?, "country"?, "threshold"?}`.
pub fn read_screening_request(body: &Value) -> Result<ScreeningRequest, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let name = fields.required_name("name");
    let kind = fields
        .optional_exact_choice("entity_type", &PartyKind::NAMES)
        .and_then(PartyKind::from_name);
    let date_of_birth = fields.optional_birth_date("date_of_birth");
    let country = fields.optional_id("country");
    let threshold = fields.optional_number("threshold", NumberBounds::FRACTION);
    fields.reject_unknown(&[
        "name",
        "entity_type",
        "date_of_birth",
        "country",
        "threshold",
    ]);
    fields.finish(|| ScreeningRequest {
        query: Query {
            name: name.unwrap_or_default(),
            kind,
            date_of_birth: date_of_birth.as_deref().and_then(BirthDate::parse_iso),
            country,
        },
        threshold,
    })
}

/// POST /api/screening/: the listed entries a name matches, best first, each with its score's
/// parts. Every search is audited (`screening.searched`, with the name's keyed hash, never the
/// name, and what matched).
#[tracing::instrument(skip_all)]
pub async fn screen(
    state: web::Data<AppState>,
    user: Authenticated,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&request, payload, &state.settings.server).await?;
    let ScreeningRequest { query, threshold } = read_screening_request(&body)?;
    let screening = state.detectors.screening.clone();
    let threshold = threshold.unwrap_or(screening.threshold);
    let lists = screening.lists.current();
    let matches = lists.screener().screen(&query, threshold);
    let name_hash = screening.hasher.name_hash(&query.name);
    let event = AuditEvent {
        kind: AuditEvent::SCREENING_SEARCHED,
        module: Some(redflag_store::SCREENING_MODULE.to_owned()),
        entity_id: format!("name:{}", name_hash.unwrap_or_default()),
        actor: user.username.clone(),
        details: json!({
            "threshold": threshold,
            "lists": lists.screener().lists(),
            "matches": matches.iter().map(|found| json!({
                "list": found.list, "entry_id": found.entry_id, "score": found.score
            })).collect::<Vec<_>>(),
        }),
        recorded_at: Utc::now(),
    };
    let db = state.db.clone();
    blocking(move || Ok(db.record_audit_event(&event)?)).await?;
    Ok(HttpResponse::Ok().json(ScreeningResult {
        matches: matches.into_iter().map(ScreeningMatch::of).collect(),
        lists: lists
            .screener()
            .lists()
            .iter()
            .map(|list| ListInUse {
                name: list.name.clone(),
                version: list.version,
            })
            .collect(),
        threshold,
    }))
}

/// One imported version of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListVersionBody {
    pub name: String,
    pub version: i64,
    /// `ofac-csv`, `un-xml`, `senzing-json` or `csv`.
    pub format: String,
    pub entries: i64,
    /// SHA-256 of the entries as stored.
    pub sha256: String,
    pub imported_by: String,
    pub imported_at: String,
    /// Entries added, changed and removed against the version before.
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// When the remembered parties were screened against the added and changed entries.
    pub rescreened_at: Option<String>,
}

impl ListVersionBody {
    fn of(version: &StoredListVersion) -> Self {
        let delta: Value = serde_json::from_str(&version.delta_json).unwrap_or(Value::Null);
        let count = |key: &str| delta[key].as_array().map_or(0, Vec::len);
        Self {
            name: version.list_name.clone(),
            version: version.version,
            format: version.format.clone(),
            entries: version.entry_count,
            sha256: version.sha256.clone(),
            imported_by: version.imported_by.clone(),
            imported_at: format_timestamp(version.imported_at()),
            added: count("added"),
            changed: count("changed"),
            removed: count("removed"),
            rescreened_at: version.rescreened_at().map(format_timestamp),
        }
    }
}

/// A list: its version in use (the latest) and every version, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningListBody {
    pub name: String,
    /// The version in use.
    pub version: i64,
    pub versions: Vec<ListVersionBody>,
}

/// The answer of `GET /api/screening/lists/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningLists {
    pub lists: Vec<ScreeningListBody>,
    /// Names and aliases the screener holds across the lists in use.
    pub names_indexed: usize,
    /// Parties remembered from the flow, screened again on every list update.
    pub remembered_parties: i64,
    pub threshold: f64,
}

/// GET /api/screening/lists/: every list with its versions.
#[tracing::instrument(skip_all)]
pub async fn lists(
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let (versions, parties) =
        blocking(move || Ok((db.screening_list_versions()?, db.screening_party_count()?))).await?;
    let mut lists: Vec<ScreeningListBody> = Vec::new();
    for version in &versions {
        let body = ListVersionBody::of(version);
        match lists.last_mut() {
            Some(list) if list.name == version.list_name => list.versions.push(body),
            _ => lists.push(ScreeningListBody {
                name: version.list_name.clone(),
                version: version.version,
                versions: vec![body],
            }),
        }
    }
    let screening = &state.detectors.screening;
    Ok(HttpResponse::Ok().json(ScreeningLists {
        lists,
        names_indexed: screening.lists.current().screener().len(),
        remembered_parties: parties,
        threshold: screening.threshold,
    }))
}

/// What an import wrote and what its re-screen raised.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListImportResult {
    #[serde(flatten)]
    pub version: ListVersionBody,
    /// Remembered parties screened against the added and changed entries.
    pub rescreened_parties: i64,
    /// New alerts (module `screening`) those matches raised.
    pub alerts: usize,
    /// Matches left out because they were resolved as false positives for that party.
    pub suppressed: usize,
}

impl ListImportResult {
    fn of(imported: &Imported) -> Self {
        Self {
            version: ListVersionBody::of(&imported.version),
            rescreened_parties: imported.rescreen.parties,
            alerts: imported.rescreen.alerts,
            suppressed: imported.rescreen.suppressed,
        }
    }
}

/// The format named by `?format=`.
fn read_format(query: &Value) -> Result<ListFormat, ValidationErrors> {
    let mut fields = FieldReader::new(query)?;
    let format = fields.required_exact_choice("format", &ListFormat::NAMES);
    fields.reject_unknown(&["format"]);
    fields.finish(|| {
        format
            .and_then(ListFormat::from_name)
            .unwrap_or(ListFormat::Csv)
    })
}

/// The form's files in the format's order; each missing, repeated or unexpected part named.
fn files_of(
    format: ListFormat,
    parts: Vec<(String, web::Bytes)>,
) -> Result<Vec<web::Bytes>, ApiError> {
    let expected = format.files();
    let mut errors = serde_json::Map::new();
    let mut seen = HashSet::new();
    for (name, _) in &parts {
        if !expected.contains(&name.as_str()) {
            errors.insert(
                if name.is_empty() {
                    "file".to_owned()
                } else {
                    name.clone()
                },
                json!([format!(
                    "The {} format takes the file(s) {}; this part is not one of them.",
                    format.as_str(),
                    expected.join(", ")
                )]),
            );
        } else if !seen.insert(name.clone()) {
            errors.insert(name.clone(), json!(["This file was sent twice."]));
        }
    }
    let mut files = Vec::with_capacity(expected.len());
    for name in expected {
        match parts.iter().find(|(part, _)| part == name) {
            Some((_, content)) => files.push(content.clone()),
            None => {
                errors.insert((*name).to_owned(), json!(["This file is required."]));
            }
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(ApiError::Invalid(Value::Object(errors)))
    }
}

/// POST /api/screening/lists/<name>/versions/?format=... (admins): a new version of the list
/// from the files of a `multipart/form-data` body (`sdn`, `alt`, `add` for ofac-csv; `file`
/// otherwise). A file that does not read answers 400 with the file, the line and the reason,
/// and the list in use does not change. Audited; the remembered parties are screened against
/// the added and changed entries before the answer.
#[tracing::instrument(skip_all)]
pub async fn import_version(
    state: web::Data<AppState>,
    user: Authenticated,
    path: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let name = check_list_name(&path)
        .map_err(|message| ApiError::Invalid(json!({ "name": [message] })))?
        .to_owned();
    let format = read_format(&query_object(&request)?)?;
    let limit = state.settings.server.body_limit_bytes.max(LIST_BODY_LIMIT);
    let parts = read_form(&request, payload, limit).await?;
    let files = files_of(format, parts)?;
    let state = state.into_inner();
    let imported = blocking(move || {
        let files: Vec<&[u8]> = files.iter().map(|file| file.as_ref()).collect();
        let screening: &Screening = &state.detectors.screening;
        screening
            .import(
                &state.db,
                (&name, format),
                &files,
                &user.username,
                Utc::now(),
            )
            .map_err(import_error)
    })
    .await?;
    Ok(HttpResponse::Created().json(ListImportResult::of(&imported)))
}

fn import_error(error: ImportError) -> ApiError {
    match error {
        ImportError::Name(message) => ApiError::Invalid(json!({ "name": [message] })),
        ImportError::Malformed(error) => ApiError::Invalid(json!({
            "file": [format!("{}, line {}: {}", error.file, error.line, error.reason)]
        })),
        ImportError::Empty => ApiError::Invalid(json!({"file": ["The file holds no entries."]})),
        ImportError::Version(ListVersionError::Concurrent(list)) => ApiError::Conflict(format!(
            "Another import of list `{list}` ran at the same time; import again."
        )),
        ImportError::Version(ListVersionError::Delta(reason)) => ApiError::internal(reason),
        ImportError::Version(ListVersionError::Store(error)) => error.into(),
        ImportError::Service(error) => error.into(),
    }
}

/// What an analyst resolves: one party's match with one entry, from the alert that raised it.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionRequest {
    pub alert_id: i64,
    pub party_id: String,
    pub list: String,
    pub entry_id: String,
    pub note: String,
}

/// `{"alert_id", "party_id", "list", "entry_id", "note"?}`.
pub fn read_suppression(body: &Value) -> Result<SuppressionRequest, ValidationErrors> {
    let mut fields = FieldReader::new(body)?;
    let alert_id = fields.required_integer("alert_id", NumberBounds::COUNT);
    let party_id = fields.required_id("party_id");
    let list = fields.required_id("list");
    let entry_id = fields.required_id("entry_id");
    let note = fields.optional_text("note");
    fields.reject_unknown(&["alert_id", "party_id", "list", "entry_id", "note"]);
    fields.finish(|| SuppressionRequest {
        alert_id: alert_id.unwrap_or_default(),
        party_id: party_id.unwrap_or_default(),
        list: list.unwrap_or_default(),
        entry_id: entry_id.unwrap_or_default(),
        note: note.unwrap_or_default(),
    })
}

/// POST /api/screening/suppressions/ (analysts): resolves the alert's match of that party and
/// entry as a false positive. The match is not raised again for the party until the entry
/// changes; the resolution is audited (`screening.match_suppressed`) and shown on the alert.
#[tracing::instrument(skip_all)]
pub async fn suppress(
    state: web::Data<AppState>,
    user: Authenticated,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&request, payload, &state.settings.server).await?;
    let wanted = read_suppression(&body)?;
    let state = state.into_inner();
    let resolved = blocking(move || {
        let alert = state
            .db
            .alerts_by_ids(&[wanted.alert_id])?
            .into_iter()
            .next()
            .filter(|alert| alert.rule == SANCTIONS_MATCH_RULE)
            .ok_or_else(|| {
                ApiError::Invalid(json!({"alert_id": ["No sanctions match alert has this id."]}))
            })?;
        let details: Value = serde_json::from_str(&alert.details_json).unwrap_or(Value::Null);
        let listed = details["metadata"]["matches"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|found| {
                found["party_id"] == wanted.party_id.as_str()
                    && found["list"] == wanted.list.as_str()
                    && found["entry_id"] == wanted.entry_id.as_str()
            });
        if !listed {
            return Err(ApiError::Invalid(json!({
                "entry_id": ["The alert has no match of this party with this entry."]
            })));
        }
        let screening = &state.detectors.screening;
        let lists = screening.lists.current();
        let digest = lists
            .entry_digest(&wanted.list, &wanted.entry_id)
            .ok_or_else(|| {
                ApiError::Invalid(json!({
                    "entry_id": ["The entry is no longer on the list in use: nothing to suppress."]
                }))
            })?
            .to_owned();
        let stored = state.db.suppress_screening_match(
            SuppressionToWrite {
                party_id: &wanted.party_id,
                list_name: &wanted.list,
                entry_id: &wanted.entry_id,
                entry_sha256: &digest,
                note: &wanted.note,
                alert_id: Some(alert.id),
            },
            &user.username,
            Utc::now(),
        )?;
        screening.refresh(&state.db)?;
        Ok(ResolvedMatch::of(&stored))
    })
    .await?;
    Ok(HttpResponse::Created().json(resolved))
}

/// Every resolved false positive.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionList {
    pub suppressions: Vec<ResolvedMatch>,
}

/// GET /api/screening/suppressions/: the matches resolved as false positives, oldest first.
#[tracing::instrument(skip_all)]
pub async fn suppressions(
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let stored = blocking(move || Ok(db.screening_suppressions()?)).await?;
    Ok(HttpResponse::Ok().json(SuppressionList {
        suppressions: stored.iter().map(ResolvedMatch::of).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screening_request_is_read_with_its_facts_and_mistakes_named() {
        let read = read_screening_request(&json!({
            "name": " Manuel Noriega ", "entity_type": "individual",
            "date_of_birth": "1934-02-11", "country": "PA", "threshold": 0.9
        }))
        .expect("reads");
        assert_eq!(read.query.name, "Manuel Noriega");
        assert_eq!(read.query.kind, Some(PartyKind::Individual));
        assert_eq!(read.query.date_of_birth.map(|date| date.year), Some(1934));
        assert_eq!(read.threshold, Some(0.9));
        let errors = read_screening_request(&json!({
            "name": "...", "entity_type": "ship", "date_of_birth": "11/02/1934", "extra": 1
        }))
        .expect_err("refused");
        let body = serde_json::to_value(&errors).expect("serialises");
        assert_eq!(
            body["name"],
            json!(["Enter a name with at least one letter or digit."])
        );
        assert_eq!(
            body["date_of_birth"],
            json!(["Enter a date of birth as YYYY or YYYY-MM-DD."])
        );
        assert!(body["entity_type"].is_array() && body["extra"].is_array());
        let missing = read_screening_request(&json!({})).expect_err("no name");
        assert_eq!(
            serde_json::to_value(&missing).expect("serialises")["name"],
            json!(["This field is required."])
        );
    }

    #[test]
    fn a_form_gives_the_format_files_in_order_and_names_what_is_wrong() {
        let part = |name: &str, text: &str| (name.to_owned(), web::Bytes::from(text.to_owned()));
        let files = files_of(
            ListFormat::OfacCsv,
            vec![part("add", "3"), part("sdn", "1"), part("alt", "2")],
        )
        .expect("all three");
        assert_eq!(
            files,
            ["1", "2", "3"].map(|text| web::Bytes::from(text.to_owned()))
        );
        let Err(ApiError::Invalid(errors)) = files_of(
            ListFormat::OfacCsv,
            vec![part("sdn", "1"), part("sdn", "1"), part("extra", "")],
        ) else {
            panic!("refused");
        };
        assert_eq!(errors["alt"], json!(["This file is required."]));
        assert_eq!(errors["sdn"], json!(["This file was sent twice."]));
        assert!(
            errors["extra"][0]
                .as_str()
                .is_some_and(|m| m.contains("sdn, alt, add"))
        );
    }
}
