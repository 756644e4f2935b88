//! Domain names, normalised with UTS #46 (IDNA 2008, non-transitional, STD3 rules) to
//! the lowercase A-label form that mail servers see.

use std::fmt;

/// RFC 1035: 253 octets for the presentation form without the root dot.
pub const MAX_LEN: usize = 253;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("is not a valid domain name (IDNA 2008 / UTS #46)")]
    Invalid,
    #[error("needs at least two labels, such as example.at")]
    SingleLabel,
    #[error("must not end in a numeric label")]
    NumericTld,
}

impl DomainName {
    pub fn parse(input: &str) -> Result<Self, DomainNameError> {
        if input.is_empty() {
            return Err(DomainNameError::Empty);
        }
        // Bound the work before IDNA processing; 4 bytes per char is the UTF-8 maximum.
        if input.len() > MAX_LEN * 4 {
            return Err(DomainNameError::TooLong);
        }
        let ascii = idna::domain_to_ascii_strict(input).map_err(|_| DomainNameError::Invalid)?;
        if ascii.is_empty() {
            return Err(DomainNameError::Empty);
        }
        if ascii.len() > MAX_LEN {
            return Err(DomainNameError::TooLong);
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.iter().any(|l| l.is_empty() || l.len() > 63) {
            return Err(DomainNameError::Invalid);
        }
        if labels.len() < 2 {
            return Err(DomainNameError::SingleLabel);
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(DomainNameError::NumericTld);
        }
        Ok(Self(ascii))
    }

    /// The A-label form (`xn--mller-kva.at`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unicode form for display (`müller.at`).
    pub fn to_unicode(&self) -> String {
        let (unicode, result) = idna::domain_to_unicode(&self.0);
        match result {
            Ok(()) => unicode,
            Err(_) => self.0.clone(),
        }
    }

    /// For values read back from the database, which only ever holds parsed names.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unicode_and_a_label_normalise_to_the_same_name() {
        let u = DomainName::parse("Müller.AT").unwrap();
        let a = DomainName::parse("xn--mller-kva.at").unwrap();
        assert_eq!(u, a);
        assert_eq!(u.as_str(), "xn--mller-kva.at");
        assert_eq!(u.to_unicode(), "müller.at");
    }

    #[test]
    fn rejects_what_mail_servers_cannot_use() {
        for bad in [
            "",
            "localhost",
            "a..b",
            "-a.at",
            "a_b.at",
            "1.2.3.4",
            "a b.at",
            "mail.ipax.at.",
            "x\0.at",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}.at", "a".repeat(64));
        assert!(DomainName::parse(&long).is_err());
    }

    proptest! {
        #[test]
        fn accepted_names_are_bounded_lowercase_ascii_and_stable(input in "\\PC{0,80}") {
            if let Ok(name) = DomainName::parse(&input) {
                prop_assert!(name.as_str().len() <= MAX_LEN);
                prop_assert!(name.as_str().is_ascii());
                prop_assert_eq!(name.as_str().to_ascii_lowercase(), name.as_str());
                // Round trip: the A-label and the Unicode form parse to the same name.
                prop_assert_eq!(DomainName::parse(name.as_str()), Ok(name.clone()));
                prop_assert_eq!(DomainName::parse(&name.to_unicode()), Ok(name.clone()));
            }
        }

        #[test]
        fn ldh_names_round_trip(labels in prop::collection::vec("[a-z][a-z0-9]{0,10}", 2..5)) {
            let input = labels.join(".");
            let name = DomainName::parse(&input).unwrap();
            prop_assert_eq!(name.as_str(), input.as_str());
        }
    }
}
