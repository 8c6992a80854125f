//! DRF's page-number pagination, shared by the listing endpoints: `?page=` (from 1) and
//! `?page_size=` (1-500, default 50), and `next`/`previous` links that keep the other filters.

use actix_web::HttpRequest;
use redflag_core::{FieldReader, NumberBounds, ValidationErrors};
use serde_json::{Map, Value};

use crate::errors::ApiError;

pub(super) const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;

/// Which page of a listing is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Page {
    /// Reads `page` and `page_size` along with a listing's own parameters.
    pub fn read(fields: &mut FieldReader<'_>) -> (Option<i64>, Option<i64>) {
        let number = fields.optional_integer(
            "page",
            NumberBounds {
                min: 1.0,
                exclusive_min: false,
                max: 1e9,
            },
        );
        let size = fields.optional_integer(
            "page_size",
            NumberBounds {
                min: 1.0,
                exclusive_min: false,
                max: MAX_PAGE_SIZE as f64,
            },
        );
        (number, size)
    }

    pub fn of(number: Option<i64>, size: Option<i64>) -> Self {
        Self {
            number: number.unwrap_or(1),
            size: size.unwrap_or(DEFAULT_PAGE_SIZE),
        }
    }

    pub fn offset(self) -> i64 {
        (self.number - 1) * self.size
    }

    /// The next and previous pages' links, given the listing's `count`; a page past the last
    /// one with anything to show is 404 `Invalid page.`, as DRF's paginator says.
    pub fn links(
        self,
        request: &HttpRequest,
        filters: &[(&str, String)],
        count: i64,
        shown: usize,
    ) -> Result<(Option<String>, Option<String>), ApiError> {
        if shown == 0 && self.number > 1 {
            return Err(ApiError::InvalidPage);
        }
        let link = |number: i64| {
            let mut pairs: Vec<(&str, String)> = filters.to_vec();
            pairs.push(("page", number.to_string()));
            if self.size != DEFAULT_PAGE_SIZE {
                pairs.push(("page_size", self.size.to_string()));
            }
            let connection = request.connection_info();
            format!(
                "{}://{}{}?{}",
                connection.scheme(),
                connection.host(),
                request.path(),
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        };
        let next = (self.number * self.size < count).then(|| link(self.number + 1));
        let previous = (self.number > 1).then(|| link(self.number - 1));
        Ok((next, previous))
    }
}

/// The query string as a JSON object of strings, for a [`FieldReader`].
pub fn query_object(request: &HttpRequest) -> Result<Value, ValidationErrors> {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
        .map_err(|_| ValidationErrors::non_field("Invalid query string."))?;
    Ok(Value::Object(
        pairs
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect::<Map<String, Value>>(),
    ))
}
