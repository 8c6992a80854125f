//! The JSON Schema of a request body, written by the parser that reads it.
//!
//! A parser describes what it accepts by being run once under [`describe`] on an empty body:
//! every field it reads through [`crate::FieldReader`] records its type, bounds and whether it is
//! required. The API's published schema is therefore the parser's own account of itself and cannot
//! drift from it.

use std::cell::RefCell;

use serde_json::{Map, Value, json};

use crate::NumberBounds;

thread_local! {
    /// The objects being described, innermost last; empty outside [`describe`].
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct Frame {
    properties: Map<String, Value>,
    required: Vec<String>,
}

impl Frame {
    fn into_schema(self) -> Value {
        let mut schema = json!({"type": "object", "properties": self.properties});
        if !self.required.is_empty() {
            schema["required"] = json!(self.required);
        }
        schema
    }
}

/// Runs `parse` on an empty JSON object and returns the schema of the object its reads describe.
pub fn describe(parse: impl FnOnce(&Value)) -> Value {
    FRAMES.with(|frames| frames.borrow_mut().push(Frame::default()));
    parse(&Value::Object(Map::new()));
    FRAMES
        .with(|frames| frames.borrow_mut().pop())
        .unwrap_or_default()
        .into_schema()
}

/// Whether a [`describe`] is running on this thread.
pub(crate) fn describing() -> bool {
    FRAMES.with(|frames| !frames.borrow().is_empty())
}

/// Notes a field of the object being described; `schema` is only built while describing. An
/// optional field may also be `null`, which reads as absent.
pub(crate) fn field(name: &str, required: bool, schema: impl FnOnce() -> Value) {
    FRAMES.with(|frames| {
        if let Some(frame) = frames.borrow_mut().last_mut() {
            let mut schema = schema();
            if !required {
                admit_null(&mut schema);
            }
            frame.properties.insert(name.to_owned(), schema);
            if required && !frame.required.iter().any(|known| known == name) {
                frame.required.push(name.to_owned());
            }
        }
    });
}

fn admit_null(schema: &mut Value) {
    let types = match schema.get("type") {
        Some(Value::String(kind)) => vec![json!(kind)],
        Some(Value::Array(kinds)) => kinds.clone(),
        _ => return,
    };
    let mut types = types;
    types.push(json!("null"));
    schema["type"] = Value::Array(types);
    if let Some(Value::Array(choices)) = schema.get_mut("enum") {
        choices.push(Value::Null);
    }
}

/// Describes a nested object: `read` runs with its own frame, whose schema becomes `name`'s.
pub(crate) fn nested(name: &str, read: impl FnOnce()) {
    FRAMES.with(|frames| frames.borrow_mut().push(Frame::default()));
    read();
    let schema = FRAMES
        .with(|frames| frames.borrow_mut().pop())
        .unwrap_or_default()
        .into_schema();
    field(name, false, || schema);
}

/// Text without control characters (Unicode category Cc) with something besides white space.
const TEXT_PATTERN: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// A name: text without control characters holding a letter or a digit, or an integer (DRF
/// reads it as its text).
pub(crate) fn name(max_chars: usize) -> Value {
    json!({"type": ["string", "integer"], "minLength": 1, "maxLength": max_chars,
           "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\W_][^\\u0000-\\u001F\\u007F-\\u009F]*$"})
}

/// A non-blank text of at most `max_chars` characters without control characters (as sent;
/// surrounding spaces are trimmed after), or
/// an integer (which DRF accepts as its text).
pub(crate) fn text(max_chars: usize) -> Value {
    json!({"type": ["string", "integer"], "minLength": 1, "maxLength": max_chars,
           "pattern": TEXT_PATTERN})
}

pub(crate) fn number(kind: &str, bounds: NumberBounds) -> Value {
    let mut schema = json!({"type": kind, "maximum": bounds.max});
    if bounds.exclusive_min {
        schema["exclusiveMinimum"] = json!(bounds.min);
    } else {
        schema["minimum"] = json!(bounds.min);
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldReader;

    #[test]
    fn a_parser_describes_its_fields_bounds_and_required_ones() {
        let schema = describe(|body| {
            let mut fields = FieldReader::new(body).expect("an object");
            fields.required_id("id");
            fields.optional_number("amount", NumberBounds::AMOUNT);
            fields.optional_choice("kind", &["a", "b"]);
            fields.optional_object("counts", |nested| {
                nested.optional_integer("x", NumberBounds::COUNT)
            });
        });
        assert_eq!(
            schema,
            json!({"type": "object", "required": ["id"], "properties": {
                "id": {"type": ["string", "integer"], "minLength": 1, "maxLength": 100,
                       "pattern": TEXT_PATTERN},
                "amount": {"type": ["number", "null"], "maximum": 1e12, "exclusiveMinimum": 0.0},
                "kind": {"type": ["string", "null"], "enum": ["a", "b", null],
                         "description": crate::validation::LENIENT_CHOICE},
                "counts": {"type": ["object", "null"], "properties": {
                    "x": {"type": ["integer", "null"], "maximum": 1e6, "minimum": 0.0}}}
            }})
        );
        assert!(!describing(), "the recorder is off again");
    }
}
