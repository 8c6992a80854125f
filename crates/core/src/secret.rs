use std::fmt;

use serde::{Deserialize, Serialize};

/// A key the service signs or hashes with. Its `Debug` form is redacted, so that settings logged
/// or printed in a panic never carry it; the key itself is read with [`Secret::expose`].
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key, for the one place that signs or hashes with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key_and_serde_reads_it_as_a_plain_string() {
        let secret: Secret = serde_json::from_str("\"hunter2-hunter2\"").expect("a string");
        assert_eq!(secret.expose(), "hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(\"[redacted]\")");
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
    }
}
