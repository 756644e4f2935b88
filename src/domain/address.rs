//! Mail addresses: an RFC 5322 dot-atom local part (ASCII, stored lowercase) at a
//! hosted domain. Addresses are unique case-insensitively, so the stored form is the
//! lowercase one and comparisons never need to care about case again.

use std::fmt;

use super::domain_name::{DomainName, DomainNameError};

pub const MAX_LOCAL_LEN: usize = 64;
pub const MAX_ADDRESS_LEN: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalPart(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalPartError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_LOCAL_LEN} octets")]
    TooLong,
    #[error("must be a dot-atom: letters, digits and !#$%&'*+-/=?^_`{{|}}~, with single dots between them")]
    Invalid,
}

/// RFC 5322 `atext`.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

impl LocalPart {
    pub fn parse(input: &str) -> Result<Self, LocalPartError> {
        if input.is_empty() {
            return Err(LocalPartError::Empty);
        }
        if input.len() > MAX_LOCAL_LEN {
            return Err(LocalPartError::TooLong);
        }
        let dot_atom = input
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext));
        if !dot_atom {
            return Err(LocalPartError::Invalid);
        }
        Ok(Self(input.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

impl fmt::Display for LocalPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailAddress {
    local: LocalPart,
    domain: DomainName,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("must have the form local-part@domain")]
    NoAt,
    #[error("local part {0}")]
    Local(#[from] LocalPartError),
    #[error("domain {0}")]
    Domain(#[from] DomainNameError),
    #[error("is longer than {MAX_ADDRESS_LEN} octets")]
    TooLong,
}

impl MailAddress {
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        if input.len() > MAX_ADDRESS_LEN * 4 {
            return Err(AddressError::TooLong);
        }
        let (local, domain) = input.rsplit_once('@').ok_or(AddressError::NoAt)?;
        let local = LocalPart::parse(local)?;
        let domain = DomainName::parse(domain)?;
        Self::new(local, domain)
    }

    pub fn new(local: LocalPart, domain: DomainName) -> Result<Self, AddressError> {
        if local.as_str().len() + 1 + domain.as_str().len() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong);
        }
        Ok(Self { local, domain })
    }

    pub fn local_part(&self) -> &LocalPart {
        &self.local
    }

    pub fn domain(&self) -> &DomainName {
        &self.domain
    }
}

impl fmt::Display for MailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn local_parts_are_stored_lowercase() {
        assert_eq!(
            LocalPart::parse("Max.Mustermann").unwrap().as_str(),
            "max.mustermann"
        );
    }

    #[test]
    fn rejects_what_is_not_a_dot_atom() {
        for bad in [
            "", ".max", "max.", "ma..x", "max mu", "\"max\"", "mäx", "a@b", "x\0",
        ] {
            assert!(LocalPart::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(LocalPart::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn addresses_normalise_the_domain() {
        let a = MailAddress::parse("Max@Müller.at").unwrap();
        assert_eq!(a.to_string(), "max@xn--mller-kva.at");
    }

    proptest! {
        #[test]
        fn accepted_addresses_respect_the_length_limits(input in "\\PC{0,300}") {
            if let Ok(a) = MailAddress::parse(&input) {
                let s = a.to_string();
                prop_assert!(s.len() <= MAX_ADDRESS_LEN);
                prop_assert!(a.local_part().as_str().len() <= MAX_LOCAL_LEN);
                prop_assert_eq!(MailAddress::parse(&s), Ok(a));
            }
        }

        #[test]
        fn dot_atoms_round_trip(atoms in prop::collection::vec("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}", 1..5)) {
            let input = atoms.join(".");
            prop_assume!(input.len() <= MAX_LOCAL_LEN);
            let lp = LocalPart::parse(&input).unwrap();
            prop_assert_eq!(lp.as_str(), input.to_ascii_lowercase());
            prop_assert_eq!(LocalPart::parse(lp.as_str()), Ok(lp.clone()));
        }
    }
}
