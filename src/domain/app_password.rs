//! App passwords: generated secrets that a device logs in with, each for some
//! protocols. `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`: 24 characters from 32 that cannot be
//! mistaken for each other (no i, l, o, u), lowercase, 120 random bits; the first
//! nine characters (`xxxx-xxxx`) name the row Dovecot checks it against.

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

use super::FieldError;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const GROUPS: usize = 6;
const GROUP_LEN: usize = 4;
/// The leading part that names the row: two groups and their dash.
pub const LOOKUP_LEN: usize = 2 * GROUP_LEN + 1;
pub const MAX_NAME: usize = 64;

/// A new app password: the secret, shown once, and the part that names its row.
pub struct Generated {
    pub secret: SecretString,
    pub lookup: String,
}

pub fn generate() -> Generated {
    let mut rng = rand::rngs::OsRng;
    let groups: Vec<String> = (0..GROUPS)
        .map(|_| {
            (0..GROUP_LEN)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect()
        })
        .collect();
    let secret = groups.join("-");
    let lookup = secret[..LOOKUP_LEN].to_owned();
    Generated {
        secret: SecretString::from(secret),
        lookup,
    }
}

/// The protocols an app password is for: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    pub imap: bool,
    pub pop3: bool,
    pub smtp: bool,
}

impl Scope {
    pub fn parse(field: &str, raw: &[String]) -> Result<Self, FieldError> {
        let mut scope = Scope::default();
        if raw.is_empty() || raw.len() > 3 {
            return Err(FieldError::new(
                field,
                "out_of_range",
                "names 1 to 3 of imap, pop3, smtp",
            ));
        }
        for (i, p) in raw.iter().enumerate() {
            if raw[..i].contains(p) {
                return Err(FieldError::new(
                    format!("{field}[{i}]"),
                    "duplicate",
                    "names a protocol twice",
                ));
            }
            match p.as_str() {
                "imap" => scope.imap = true,
                "pop3" => scope.pop3 = true,
                "smtp" => scope.smtp = true,
                _ => {
                    return Err(FieldError::new(
                        format!("{field}[{i}]"),
                        "unknown_protocol",
                        "must be imap, pop3 or smtp",
                    ))
                }
            }
        }
        Ok(scope)
    }

    pub fn names(self) -> Vec<&'static str> {
        [
            ("imap", self.imap),
            ("pop3", self.pop3),
            ("smtp", self.smtp),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n)
        .collect()
    }
}

/// Whether `secret` looks like one of ours (for tests and logs: never printed).
pub fn well_formed(secret: &SecretString) -> bool {
    let s = secret.expose_secret();
    s.len() == GROUPS * GROUP_LEN + GROUPS - 1
        && s.split('-').count() == GROUPS
        && s.split('-')
            .all(|g| g.len() == GROUP_LEN && g.bytes().all(|b| ALPHABET.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_easy_to_type_and_name_their_row() {
        let g = generate();
        assert!(well_formed(&g.secret));
        assert!(g.secret.expose_secret().starts_with(&g.lookup));
        assert_eq!(g.lookup.len(), 9);
        // 24 characters of 5 bits each.
        const { assert!(GROUPS * GROUP_LEN * 5 >= 100) };
        assert_ne!(generate().lookup, g.lookup);
    }

    #[test]
    fn scopes_name_known_protocols() {
        let s = Scope::parse("protocols", &["imap".into(), "smtp".into()]).unwrap();
        assert_eq!(s.names(), ["imap", "smtp"]);
        assert!(Scope::parse("protocols", &[]).is_err());
        assert!(Scope::parse("protocols", &["imap".into(), "imap".into()]).is_err());
        assert_eq!(
            Scope::parse("protocols", &["ftp".into()])
                .unwrap_err()
                .field,
            "protocols[0]"
        );
    }
}
