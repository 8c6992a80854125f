//! Reading request bodies: size limit, media type, JSON.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::Payload;
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
    let limit = server.body_limit_bytes;
    if let Some(content_type) = request.headers().get(header::CONTENT_TYPE) {
        let media_type = content_type.to_str().unwrap_or_default();
        let essence = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json"
            && !(essence.starts_with("application/") && essence.ends_with("+json"))
        {
            return Err(ApiError::UnsupportedMediaType(media_type.to_owned()));
        }
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let body = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))?
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    let value: Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    if depth(&value) > server.max_json_depth {
        return Err(ApiError::MalformedJson(format!(
            "nesting deeper than {} levels",
            server.max_json_depth
        )));
    }
    Ok(value)
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
