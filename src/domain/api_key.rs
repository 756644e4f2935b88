//! API keys as text: `mpk_` + a lookup id + a secret. Only a SHA-256 of the whole key
//! is stored (the key has 256 random bits, so a slow hash adds nothing); the row is
//! found by the lookup id and the hash compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "mpk_";
const LOOKUP_BYTES: usize = 9;
const SECRET_BYTES: usize = 32;
/// Longest key text looked at; minted keys are 60 characters.
const MAX_KEY_LEN: usize = 200;

/// A freshly minted key: the plaintext is shown once, only the hash is kept.
pub struct NewKey {
    pub plaintext: SecretString,
    pub lookup: String,
    pub hash: Vec<u8>,
}

pub fn mint() -> NewKey {
    let mut lookup = [0u8; LOOKUP_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut lookup);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let lookup = URL_SAFE_NO_PAD.encode(lookup).replace(['-', '_'], "x");
    let plaintext = format!("{KEY_PREFIX}{lookup}_{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = digest(&plaintext);
    NewKey {
        plaintext: SecretString::from(plaintext),
        lookup,
        hash,
    }
}

fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Splits `mpk_<lookup>_<secret>` and returns the lookup id.
pub fn lookup_of(key: &SecretString) -> Option<&str> {
    let key = key.expose_secret();
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    (lookup.len() == 12 && !secret.is_empty() && key.len() < MAX_KEY_LEN).then_some(lookup)
}

/// Whether `key` is the key whose hash is `stored`, in constant time.
pub fn matches(key: &SecretString, stored: &[u8]) -> bool {
    bool::from(stored.ct_eq(&digest(key.expose_secret())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_are_recognisable_and_parse_back() {
        let key = mint();
        assert!(key.plaintext.expose_secret().starts_with("mpk_"));
        assert_eq!(lookup_of(&key.plaintext), Some(key.lookup.as_str()));
        assert!(matches(&key.plaintext, &key.hash));
        // 32 random bytes of secret: at least 256 bits.
        assert!(key.plaintext.expose_secret().len() >= 4 + 12 + 1 + 43);
    }

    #[test]
    fn malformed_keys_have_no_lookup() {
        for bad in [
            "",
            "mpk_",
            "mpk_short_x",
            "abc_123456789012_x",
            "mpk_123456789012_",
        ] {
            assert_eq!(lookup_of(&SecretString::from(bad)), None, "{bad}");
        }
    }
}
