//! Verifying the hash schemes accepted on import, in Dovecot's `{SCHEME}` form.
//! Runs on the blocking pool (see `Hasher`), never on the async workers.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// Splits `{SCHEME}rest` into an upper-case scheme and the rest.
pub fn split_scheme(stored: &str) -> Option<(String, &str)> {
    let rest = stored.strip_prefix('{')?;
    let (scheme, hash) = rest.split_once('}')?;
    Some((scheme.to_ascii_uppercase(), hash))
}

/// True when `password` matches `stored`. Unknown schemes and malformed hashes never match.
pub fn verify(password: &[u8], stored: &str) -> bool {
    let Some((scheme, hash)) = split_scheme(stored) else {
        return false;
    };
    match scheme.as_str() {
        "ARGON2ID" | "ARGON2I" => PasswordHash::new(hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password, &parsed).is_ok()),
        "BLF-CRYPT" => bcrypt::verify(password, hash).unwrap_or(false),
        "SHA512-CRYPT" => {
            std::str::from_utf8(password).is_ok_and(|pw| sha_crypt::sha512_check(pw, hash).is_ok())
        }
        "SHA256-CRYPT" => {
            std::str::from_utf8(password).is_ok_and(|pw| sha_crypt::sha256_check(pw, hash).is_ok())
        }
        "SSHA512" => verify_ssha512(password, hash),
        _ => false,
    }
}

/// `{SSHA512}`: base64 of SHA-512(password ‖ salt) ‖ salt.
fn verify_ssha512(password: &[u8], encoded: &str) -> bool {
    let Ok(raw) = STANDARD.decode(encoded) else {
        return false;
    };
    if raw.len() <= 64 {
        return false;
    }
    let (digest, salt) = raw.split_at(64);
    let mut h = Sha512::new();
    h.update(password);
    h.update(salt);
    bool::from(h.finalize().as_slice().ct_eq(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssha512_round_trips() {
        let salt = b"0123456789abcdef";
        let mut h = Sha512::new();
        h.update(b"secret password");
        h.update(salt);
        let mut raw = h.finalize().to_vec();
        raw.extend_from_slice(salt);
        let stored = format!("{{SSHA512}}{}", STANDARD.encode(raw));
        assert!(verify(b"secret password", &stored));
        assert!(!verify(b"secret passwort", &stored));
    }

    #[test]
    fn crypt_schemes_verify() {
        let sha512 = sha_crypt::sha512_simple("pw", &sha_crypt::Sha512Params::default()).unwrap();
        assert!(verify(b"pw", &format!("{{SHA512-CRYPT}}{sha512}")));
        assert!(!verify(b"px", &format!("{{SHA512-CRYPT}}{sha512}")));
        let bcrypt = bcrypt::hash("pw", 4).unwrap();
        assert!(verify(b"pw", &format!("{{BLF-CRYPT}}{bcrypt}")));
        assert!(!verify(b"pw", "{MD5}whatever"));
        assert!(!verify(b"pw", "no scheme"));
    }
}
