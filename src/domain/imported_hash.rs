//! Password hashes imported from another mail system (migration), in Dovecot's
//! `{SCHEME}hash` form. Only schemes that Dovecot verifies and that mailpanel can
//! later verify itself (to upgrade them to Argon2id) are accepted.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::field::FieldError;

pub const SCHEMES: [&str; 6] = [
    "ARGON2ID",
    "ARGON2I",
    "BLF-CRYPT",
    "SHA512-CRYPT",
    "SHA256-CRYPT",
    "SSHA512",
];
pub const MAX_LEN: usize = 512;

/// A `{SCHEME}hash` string whose scheme is supported and whose hash has that scheme's shape.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedHash(String);

impl std::fmt::Debug for ImportedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportedHash(..)")
    }
}

fn invalid(message: String) -> FieldError {
    FieldError::new("password_hash", "invalid_hash", message)
}

impl ImportedHash {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        if input.len() > MAX_LEN {
            return Err(invalid(format!("must be at most {MAX_LEN} characters")));
        }
        if input
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || !b.is_ascii())
        {
            return Err(invalid("must be printable ASCII without spaces".into()));
        }
        let (scheme, hash) = input
            .strip_prefix('{')
            .and_then(|rest| rest.split_once('}'))
            .ok_or_else(|| {
                invalid("must start with a {SCHEME} prefix, e.g. {SHA512-CRYPT}$6$...".into())
            })?;
        let scheme = scheme.to_ascii_uppercase();
        let well_formed = match scheme.as_str() {
            "ARGON2ID" => hash.starts_with("$argon2id$"),
            "ARGON2I" => hash.starts_with("$argon2i$"),
            "BLF-CRYPT" => {
                ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) && hash.len() == 60
            }
            "SHA512-CRYPT" => hash.starts_with("$6$"),
            "SHA256-CRYPT" => hash.starts_with("$5$"),
            // SHA-512 digest (64 bytes) followed by the salt, base64.
            "SSHA512" => STANDARD.decode(hash).is_ok_and(|raw| raw.len() > 64),
            other => {
                return Err(invalid(format!(
                    "scheme {other:.32} is not supported; use one of {}",
                    SCHEMES.join(", ")
                )))
            }
        };
        if !well_formed {
            return Err(invalid(format!("is not a well-formed {scheme} hash")));
        }
        Ok(Self(format!("{{{scheme}}}{hash}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn scheme(&self) -> &str {
        self.0.get(1..self.0.find('}').unwrap_or(1)).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_schemes_are_accepted_and_normalised() {
        let h = ImportedHash::parse("{sha512-crypt}$6$salt$abc").unwrap();
        assert_eq!(h.as_str(), "{SHA512-CRYPT}$6$salt$abc");
        assert_eq!(h.scheme(), "SHA512-CRYPT");
    }

    #[test]
    fn unknown_or_malformed_hashes_are_refused() {
        for bad in [
            "$6$salt$abc",
            "{MD5}abc",
            "{PLAIN}secret",
            "{SHA512-CRYPT}$1$x",
            "{BLF-CRYPT}$2y$short",
            "{SSHA512}!!",
            "{SHA256-CRYPT}$5$a b",
        ] {
            assert!(ImportedHash::parse(bad).is_err(), "{bad}");
        }
    }
}
