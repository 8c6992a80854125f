use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How urgently an analyst should look at an alert.
///
/// Ordered from least to most urgent so that `max()` over a decision's alerts gives its severity.
/// The wire spelling differs per module (the AML and insurance contracts use lower case, market
/// surveillance upper case), so renderers choose [`Severity::as_str`] or [`Severity::as_upper`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least urgent first; statistics report each even when its count is zero.
    pub const ALL: [Severity; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    pub fn as_upper(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }

    /// The severity that a confidence in 0..=1 earns when a rule has no stronger opinion.
    ///
    /// Cut-offs: 0.9 critical, 0.7 high, 0.4 medium, below that low.
    pub fn from_confidence(confidence: f64) -> Self {
        if confidence >= 0.9 {
            Self::Critical
        } else if confidence >= 0.7 {
            Self::High
        } else if confidence >= 0.4 {
            Self::Medium
        } else {
            Self::Low
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored severity that is not one of the four known ones.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity `{0}`")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            _ => Err(UnknownSeverity(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_bands_map_to_increasing_severity() {
        assert_eq!(Severity::from_confidence(0.1), Severity::Low);
        assert_eq!(Severity::from_confidence(0.4), Severity::Medium);
        assert_eq!(Severity::from_confidence(0.78), Severity::High);
        assert_eq!(Severity::from_confidence(0.95), Severity::Critical);
    }

    #[test]
    fn parses_either_case_and_rejects_unknown() {
        assert_eq!("HIGH".parse::<Severity>().ok(), Some(Severity::High));
        assert_eq!("low".parse::<Severity>().ok(), Some(Severity::Low));
        assert!("severe".parse::<Severity>().is_err());
    }
}
