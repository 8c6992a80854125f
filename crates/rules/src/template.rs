//! Reason templates: `"{{sender_count_24h}} transfers in 24h"`.

use crate::FeatureSpec;

/// A reason split into text and the catalogue features it shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    Text(String),
    Feature(usize),
}

/// A placeholder that names no feature, or is not closed: the message and its character offset.
pub(crate) struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// Splits `template` into segments, resolving each `{{name}}` in `catalogue`.
pub(crate) fn parse(
    template: &str,
    catalogue: &[FeatureSpec],
) -> Result<Vec<Segment>, TemplateError> {
    let mut segments = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            segments.push(Segment::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(TemplateError {
                offset: offset + open,
                message: "`{{` is not closed by `}}`".to_owned(),
            });
        };
        let name = after[..close].trim();
        let index = catalogue
            .iter()
            .position(|feature| feature.name == name)
            .ok_or_else(|| TemplateError {
                offset: offset + open,
                message: format!("unknown feature `{name}`"),
            })?;
        segments.push(Segment::Feature(index));
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Text(rest.to_owned()));
    }
    Ok(segments)
}
