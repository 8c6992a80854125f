//! The built-in dashboard at `/`: a small single-page app whose files are compiled into the
//! binary, so that the embedded default serves it with no other server, build step or network.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::errors::ApiError;

/// The dashboard's files, as `/dashboard/<name>` serves them.
const ASSETS: [(&str, &str, &str); 6] = [
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../dashboard/app.js"),
    ),
    (
        "rules.js",
        "text/javascript; charset=utf-8",
        include_str!("../../dashboard/rules.js"),
    ),
    (
        "screening.js",
        "text/javascript; charset=utf-8",
        include_str!("../../dashboard/screening.js"),
    ),
    (
        "webhooks.js",
        "text/javascript; charset=utf-8",
        include_str!("../../dashboard/webhooks.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../dashboard/app.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../dashboard/icon.svg"),
    ),
];

const INDEX: &str = include_str!("../../dashboard/index.html");

/// GET /: the page every dashboard view starts from (the views are in its URL's fragment).
pub async fn index() -> HttpResponse {
    page("text/html; charset=utf-8", INDEX)
}

/// GET /dashboard/<name>: one of the page's scripts, styles or images.
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    ASSETS
        .iter()
        .find(|(file, _, _)| *file == name.as_str())
        .map(|(_, content_type, body)| page(content_type, body))
        .ok_or(ApiError::NotFound)
}

/// Revalidated on every load (`no-cache`), so an upgraded binary's dashboard is never mixed with
/// an old one's cached files.
fn page(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(body)
}
