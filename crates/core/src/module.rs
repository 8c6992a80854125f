use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The four detection modules of the contract; every stored decision belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Module {
    Aml,
    Credit,
    Insurance,
    Market,
}

impl Module {
    /// Every module, in the order the dashboard lists them.
    pub const ALL: [Module; 4] = [Self::Aml, Self::Credit, Self::Insurance, Self::Market];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aml => "aml",
            Self::Credit => "credit",
            Self::Insurance => "insurance",
            Self::Market => "market",
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored module name that this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown module `{0}`")]
pub struct UnknownModule(pub String);

impl FromStr for Module {
    type Err = UnknownModule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|module| module.as_str() == s)
            .ok_or_else(|| UnknownModule(s.to_owned()))
    }
}
