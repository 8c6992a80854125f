//! Claimants' contact identifiers, kept only as keyed hashes.
//!
//! Ring detection needs to know that two claims share a bank account, never which account. So
//! each identifier is normalised and hashed with keyed BLAKE2b (a MAC: without the deployment's
//! key, a hash cannot be confirmed against guesses) the moment the request is read. The clear
//! value is never stored, logged, or echoed in an error.

use redflag_core::{derive_key, keyed_hash as keyed};
use serde::Serialize;

/// The kinds of contact identifier a claim may carry, with their request field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    Phone,
    Email,
    BankAccount,
    Address,
}

impl IdentifierKind {
    pub const ALL: [Self; 4] = [Self::Phone, Self::Email, Self::BankAccount, Self::Address];

    /// The request field that carries it.
    pub fn field(self) -> &'static str {
        match self {
            Self::Phone => "claimant_phone",
            Self::Email => "claimant_email",
            Self::BankAccount => "claimant_bank_account",
            Self::Address => "claimant_address",
        }
    }

    /// How evidence names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Phone => "phone number",
            Self::Email => "e-mail address",
            Self::BankAccount => "bank account",
            Self::Address => "address",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::BankAccount => "bank_account",
            Self::Address => "address",
        }
    }

    /// What [`IdentifierKind::normalise`] accepts, as a regular expression (for the request
    /// schema; the normalising code is the rule).
    pub fn pattern(self) -> &'static str {
        match self {
            Self::Phone => r"^\D*(\d\D*){6,15}$",
            Self::Email => r"^\s*[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\s*$",
            Self::BankAccount => r"^[^A-Za-z0-9]*([A-Za-z0-9][^A-Za-z0-9]*){6,34}$",
            Self::Address => r"[^\W_]",
        }
    }

    /// The canonical form that is hashed, so that "+1 (555) 010-2030" and "15550102030" match;
    /// `None` (with the reason, which never quotes the value) when it cannot be an identifier of
    /// this kind.
    pub fn normalise(self, raw: &str) -> Result<String, &'static str> {
        match self {
            Self::Phone => {
                let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
                if (6..=15).contains(&digits.len()) {
                    Ok(digits)
                } else {
                    Err("Enter a valid phone number (6 to 15 digits).")
                }
            }
            Self::Email => {
                let email = raw.trim().to_lowercase();
                match email.split_once('@') {
                    Some((local, domain))
                        if !local.is_empty()
                            && domain.contains('.')
                            && !domain.starts_with('.')
                            && !domain.ends_with('.')
                            && !email.chars().any(char::is_whitespace) =>
                    {
                        Ok(email)
                    }
                    _ => Err("Enter a valid email address."),
                }
            }
            Self::BankAccount => {
                let account: String = raw
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                if (6..=34).contains(&account.len()) {
                    Ok(account)
                } else {
                    Err("Enter a valid bank account number or IBAN (6 to 34 letters and digits).")
                }
            }
            Self::Address => {
                let words: Vec<String> = raw
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|word| !word.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                if words.is_empty() {
                    Err("Enter a valid address.")
                } else {
                    Ok(words.join(" "))
                }
            }
        }
    }
}

/// The claim's contact identifiers as keyed hashes (hex, 128 bits), by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactHashes {
    #[serde(
        rename = "claimant_phone_hash",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone: Option<String>,
    #[serde(
        rename = "claimant_email_hash",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    #[serde(
        rename = "claimant_bank_account_hash",
        skip_serializing_if = "Option::is_none"
    )]
    pub bank_account: Option<String>,
    #[serde(
        rename = "claimant_address_hash",
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<String>,
}

impl ContactHashes {
    pub fn get(&self, kind: IdentifierKind) -> Option<&str> {
        match kind {
            IdentifierKind::Phone => self.phone.as_deref(),
            IdentifierKind::Email => self.email.as_deref(),
            IdentifierKind::BankAccount => self.bank_account.as_deref(),
            IdentifierKind::Address => self.address.as_deref(),
        }
        .filter(|hash| !hash.is_empty())
    }

    pub(crate) fn set(&mut self, kind: IdentifierKind, hash: String) {
        let slot = match kind {
            IdentifierKind::Phone => &mut self.phone,
            IdentifierKind::Email => &mut self.email,
            IdentifierKind::BankAccount => &mut self.bank_account,
            IdentifierKind::Address => &mut self.address,
        };
        *slot = Some(hash);
    }
}

/// Hashes identifiers with the deployment's secret key.
#[derive(Clone)]
pub struct IdentifierHasher {
    /// The secret, stretched to BLAKE2b's 64-byte key.
    key: [u8; 64],
}

impl std::fmt::Debug for IdentifierHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentifierHasher(..)")
    }
}

impl IdentifierHasher {
    /// A hasher keyed by `secret` (any length; the same secret gives the same hashes, so rings
    /// are found across restarts and replicas, and changing it starts the linkage afresh).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: derive_key(b"redflag-identifier-key", secret),
        }
    }

    /// The hash of an already normalised identifier of `kind`, as 32 hex digits.
    pub fn hash(&self, kind: IdentifierKind, normalised: &str) -> String {
        let mut input = Vec::with_capacity(normalised.len() + 16);
        input.extend_from_slice(kind.code().as_bytes());
        input.push(0);
        input.extend_from_slice(normalised.as_bytes());
        keyed(&self.key, &input)[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_hash_alike_and_nothing_of_the_value_shows() {
        let hasher = IdentifierHasher::new(b"secret");
        let hash = |kind: IdentifierKind, raw: &str| {
            hasher.hash(kind, &kind.normalise(raw).expect("valid"))
        };
        let phone = hash(IdentifierKind::Phone, "+1 (555) 010-2030");
        assert_eq!(phone, hash(IdentifierKind::Phone, "15550102030"));
        assert_eq!(phone.len(), 32);
        assert!(!phone.contains("5550102030"));
        assert_eq!(
            hash(IdentifierKind::Email, " Jane.Doe@Example.com"),
            hash(IdentifierKind::Email, "jane.doe@example.com")
        );
        assert_eq!(
            hash(IdentifierKind::BankAccount, "GB29 NWBK 6016 1331 9268 19"),
            hash(IdentifierKind::BankAccount, "gb29nwbk60161331926819")
        );
        assert_eq!(
            hash(IdentifierKind::Address, "12, High Street  Springfield"),
            hash(IdentifierKind::Address, "12 high street springfield")
        );
    }

    #[test]
    fn the_key_and_the_kind_change_the_hash() {
        let a = IdentifierHasher::new(b"secret-a");
        let b = IdentifierHasher::new(b"secret-b");
        assert_ne!(
            a.hash(IdentifierKind::Phone, "5550102030"),
            b.hash(IdentifierKind::Phone, "5550102030")
        );
        assert_ne!(
            a.hash(IdentifierKind::Phone, "5550102030"),
            a.hash(IdentifierKind::BankAccount, "5550102030")
        );
        assert_eq!(
            IdentifierHasher::new(b"")
                .hash(IdentifierKind::Email, "a@b.co")
                .len(),
            32
        );
    }

    #[test]
    fn malformed_identifiers_are_refused_without_quoting_them() {
        assert!(IdentifierKind::Phone.normalise("12-34").is_err());
        assert!(IdentifierKind::Email.normalise("jane@localhost").is_err());
        assert!(IdentifierKind::Email.normalise("@example.com").is_err());
        assert!(IdentifierKind::BankAccount.normalise("12 34").is_err());
        assert!(IdentifierKind::Address.normalise(" ,. ").is_err());
    }
}
