//! Where a case stands and how it ended: closed vocabularies, stored as their snake_case names.

use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::sql_types::Text;
use serde::Serialize;

/// A stored name this build does not know: a database written by a newer version, or edited.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} `{name}` in the database")]
pub struct UnknownName {
    kind: &'static str,
    name: String,
}

/// Declares a closed vocabulary stored by name: its names in order, reading and writing them.
macro_rules! stored_names {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, FromSqlRow)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every name, in the order the API lists them.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value named `name` exactly, as the API and the database spell it.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let name = String::from_sql(bytes)?;
                Self::parse(&name).ok_or_else(|| UnknownName { kind: $kind, name }.into())
            }
        }
    };
}

stored_names!(
    /// Where a case stands.
    CaseStatus, "case status", {
        Open => "open",
        Investigating => "investigating",
        Closed => "closed",
    }
);

stored_names!(
    /// How a closed case ended; its decisions are labelled so for retraining.
    Resolution, "case resolution", {
        ConfirmedFraud => "confirmed_fraud",
        FalsePositive => "false_positive",
        Inconclusive => "inconclusive",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_their_values_and_nothing_else() {
        for name in CaseStatus::NAMES {
            assert_eq!(CaseStatus::parse(name).map(CaseStatus::as_str), Some(*name));
        }
        for name in Resolution::NAMES {
            assert_eq!(Resolution::parse(name).map(Resolution::as_str), Some(*name));
        }
        assert_eq!(CaseStatus::parse("Closed"), None);
        assert_eq!(Resolution::parse("fraud"), None);
        assert_eq!(
            serde_json::to_value(Resolution::FalsePositive).expect("serialises"),
            "false_positive"
        );
    }
}
