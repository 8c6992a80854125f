//! The audit log's hash chain: each entry's hash covers its own content and the previous entry's
//! hash, so editing, deleting or reordering any entry breaks every link after it.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The "previous hash" of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit-log entry says; its hash covers all of it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryContent<'a> {
    /// Unique per event: applying an event twice is a no-op.
    pub event_id: &'a str,
    pub kind: &'a str,
    pub module: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub actor: &'a str,
    pub payload: &'a str,
    pub occurred_at: DateTime<Utc>,
}

/// The entry's hash: SHA-256 over the previous hash and each field, length-prefixed so that no
/// two different entries can encode alike; lower-case hex.
pub fn link(previous: &str, entry: &EntryContent<'_>) -> String {
    let mut hasher = Sha256::new();
    let occurred = entry
        .occurred_at
        .to_rfc3339_opts(SecondsFormat::Micros, true);
    for field in [
        previous,
        entry.event_id,
        entry.kind,
        entry.module.unwrap_or_default(),
        entry.entity_id.unwrap_or_default(),
        entry.actor,
        entry.payload,
        occurred.as_str(),
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex(&hasher.finalize())
}

/// SHA-256 of a request body as stored (the canonical serialisation of the validated event).
pub fn digest(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Lower-case hex. The chain is hashed on the decision writer, once per decision, where a
/// `format!` per byte measured 3.6% of the service's time.
fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(payload: &str) -> EntryContent<'_> {
        EntryContent {
            event_id: "outbox-1",
            kind: "decision.recorded",
            module: Some("aml"),
            entity_id: Some("S-1"),
            actor: "analyst",
            payload,
            occurred_at: DateTime::parse_from_rfc3339("2026-02-09T09:12:33.221Z")
                .expect("valid")
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_link() {
        let first = link(GENESIS, &entry("{}"));
        assert_eq!(first.len(), 64);
        assert_eq!(first, link(GENESIS, &entry("{}")), "deterministic");
        assert_ne!(first, link(GENESIS, &entry("{ }")));
        assert_ne!(first, link(&first, &entry("{}")));
        let shifted = EntryContent {
            module: Some("am"),
            entity_id: Some("lS-1"),
            ..entry("{}")
        };
        assert_ne!(
            first,
            link(GENESIS, &shifted),
            "fields cannot bleed into each other"
        );
    }

    #[test]
    fn the_digest_is_sha256() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
