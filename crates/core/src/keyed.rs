//! Keyed hashing of personal identifiers (claimants' contacts, parties' names): a MAC, so that
//! without the deployment's key a stored hash cannot be confirmed against guesses.

use blake2::Blake2bMac512;
use blake2::digest::{KeyInit, Mac};

/// Keyed BLAKE2b-512 of `message`; an empty key is replaced by one zero byte (BLAKE2 refuses
/// empty keys), and a key longer than 64 bytes is cut to BLAKE2b's 64.
pub fn keyed_hash(key: &[u8], message: &[u8]) -> [u8; 64] {
    let key = if key.is_empty() { &[0u8][..] } else { key };
    let key = &key[..key.len().min(64)];
    let mut mac = <Blake2bMac512 as KeyInit>::new_from_slice(key)
        .expect("BLAKE2b accepts any key of 1 to 64 bytes, which the two lines above guarantee");
    mac.update(message);
    let mut out = [0u8; 64];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// A deployment secret of any length stretched to a 64-byte key for [`keyed_hash`], separated
/// by `purpose` so that one secret gives unrelated keys for unrelated uses.
pub fn derive_key(purpose: &[u8], secret: &[u8]) -> [u8; 64] {
    keyed_hash(purpose, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_and_the_purpose_change_the_hash() {
        assert_eq!(keyed_hash(b"k", b"m"), keyed_hash(b"k", b"m"));
        assert_ne!(keyed_hash(b"k", b"m"), keyed_hash(b"l", b"m"));
        assert_eq!(keyed_hash(b"", b"m"), keyed_hash(&[0], b"m"));
        assert_ne!(derive_key(b"a", b"secret"), derive_key(b"b", b"secret"));
    }
}
