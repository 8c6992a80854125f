//! Reading request bodies: size limit, media type, JSON.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, Payload};
use serde_json::Value;

use crate::errors::ApiError;
use redflag_service::settings::ServerSettings;

/// Reads a JSON body within the server's size and nesting limits.
///
/// Like DRF: an absent media type or any JSON one (`application/json`, `application/*+json`) is
/// read as JSON and anything else is 415; an empty body is an empty object, so that each required
/// field is reported missing; a body that is not JSON is 400 `{"detail": "JSON parse error - ..."}`.
pub async fn read_json(
    request: &HttpRequest,
    payload: Payload,
    server: &ServerSettings,
) -> Result<Value, ApiError> {
    accept_media_type(request, |essence| {
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
    })?;
    let body = read_limited(request, payload, server.body_limit_bytes)
        .await?
        .map_err(ApiError::MalformedJson)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    parse_json(&body, server.max_json_depth)
}

/// A JSON document read as a request body is: 400 `{"detail": "JSON parse error - ..."}` when it
/// does not parse or nests deeper than `max_depth`. Stream messages are read the same way.
pub fn parse_json(text: &[u8], max_depth: usize) -> Result<Value, ApiError> {
    let value: Value =
        serde_json::from_slice(text).map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    if depth(&value) > max_depth {
        return Err(ApiError::MalformedJson(format!(
            "nesting deeper than {max_depth} levels"
        )));
    }
    Ok(value)
}

/// Reads a CSV file sent as the body (`text/csv`, `text/plain` or no media type; 415 otherwise)
/// within `limit` bytes, as UTF-8 text without a byte-order mark; 400 `{"csv": [...]}` when it
/// is not UTF-8.
pub async fn read_csv(
    request: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<String, ApiError> {
    accept_media_type(request, |essence| {
        matches!(essence, "text/csv" | "text/plain" | "application/csv")
    })?;
    let body = read_limited(request, payload, limit)
        .await?
        .map_err(|error| csv_error(format!("The file could not be read: {error}")))?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| csv_error("The file is not UTF-8 text.".to_owned()))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

/// Reads a `multipart/form-data` body (415 for another media type) within `limit` bytes: each
/// part's name and content, in order. A form that does not read is 400 `{"detail": "Multipart
/// form parse error - ..."}`, as DRF words it.
pub async fn read_form(
    request: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<Vec<(String, Bytes)>, ApiError> {
    let malformed = |reason: String| ApiError::MalformedForm(reason);
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence != "multipart/form-data" {
        return Err(ApiError::UnsupportedMediaType(content_type));
    }
    let boundary = multer::parse_boundary(&content_type)
        .map_err(|error| malformed(format!("Invalid boundary in multipart: {error}")))?;
    let body = read_limited(request, payload, limit)
        .await?
        .map_err(malformed)?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|error| malformed(error.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let content = field
            .bytes()
            .await
            .map_err(|error| malformed(error.to_string()))?;
        parts.push((name, content));
    }
    Ok(parts)
}

fn csv_error(message: String) -> ApiError {
    ApiError::Invalid(serde_json::json!({ "csv": [message] }))
}

/// 415 unless the request names no media type or one `accepted` takes (compared lower-case,
/// without parameters).
fn accept_media_type(
    request: &HttpRequest,
    accepted: impl Fn(&str) -> bool,
) -> Result<(), ApiError> {
    let Some(content_type) = request.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media_type = content_type.to_str().unwrap_or_default();
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if accepted(&essence) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(media_type.to_owned()))
    }
}

/// The body, refused with 413 past `limit` bytes (by its declared length first); the inner error
/// is a stream that broke off.
async fn read_limited(
    request: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<Result<Bytes, String>, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    Ok(payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))?
        .map_err(|error| error.to_string()))
}

/// How deeply arrays and objects nest in `value` (a scalar is 0, `{}` is 1), without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((value, level)) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|child| (child, level + 1))),
            Value::Object(fields) => stack.extend(fields.values().map(|child| (child, level + 1))),
            _ => continue,
        }
        deepest = deepest.max(level + 1);
    }
    deepest
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn depth_counts_nested_containers() {
        assert_eq!(super::depth(&json!(1)), 0);
        assert_eq!(super::depth(&json!({})), 1);
        assert_eq!(super::depth(&json!({"a": [1, {"b": [[]]}], "c": 2})), 5);
    }
}
