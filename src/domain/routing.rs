//! Where mail for an address goes besides (or instead of) a mailbox: the
//! destinations of aliases, catch-alls and forwarding.

use std::collections::HashSet;

use super::{FieldError, MailAddress};

/// Destinations of one alias, catch-all or forwarding, by default; configurable
/// (`MAILPANEL_MAX_DESTINATIONS`) up to `MAX_DESTINATIONS_CEILING`.
pub const DEFAULT_MAX_DESTINATIONS: usize = 100;
/// What the request bounds allow whatever the configuration says.
pub const MAX_DESTINATIONS_CEILING: usize = 1000;
/// An alias's free-text description.
pub const MAX_DESCRIPTION: usize = 200;

/// 1..=max valid addresses, local or external, normalised (lowercase local part,
/// A-label domain) and without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destinations(Vec<MailAddress>);

impl Destinations {
    /// Every bad entry is reported, named `field[index]`.
    pub fn parse(field: &str, raw: &[String], max: usize) -> Result<Self, Vec<FieldError>> {
        if raw.is_empty() || raw.len() > max {
            return Err(vec![FieldError::new(
                field,
                "invalid_length",
                format!("needs 1 to {max} addresses"),
            )]);
        }
        let mut seen = HashSet::new();
        let mut errors = Vec::new();
        let mut addresses = Vec::with_capacity(raw.len());
        for (i, entry) in raw.iter().enumerate() {
            let name = format!("{field}[{i}]");
            match MailAddress::parse(entry.trim()) {
                Ok(a) if !seen.insert(a.clone()) => errors.push(FieldError::new(
                    name,
                    "duplicate",
                    format!("{a} is listed twice"),
                )),
                Ok(a) => addresses.push(a),
                Err(e) => errors.push(FieldError::new(
                    name,
                    "invalid_address",
                    format!("address {e}"),
                )),
            }
        }
        if errors.is_empty() {
            Ok(Self(addresses))
        } else {
            Err(errors)
        }
    }

    pub fn contains(&self, address: &MailAddress) -> bool {
        self.0.contains(address)
    }

    /// As stored: A-label addresses.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

/// Forwarding of an account's mail, with or without a copy kept in its mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarding {
    pub to: Destinations,
    pub keep_copy: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn destinations_are_normalised_and_unique() {
        let d = Destinations::parse("destinations", &strings(&["Max@Müller.at"]), 10).unwrap();
        assert_eq!(d.to_strings(), ["max@xn--mller-kva.at"]);
        let twice = strings(&["max@müller.at", "MAX@xn--mller-kva.at"]);
        let errors = Destinations::parse("destinations", &twice, 10).unwrap_err();
        assert_eq!(errors[0].field, "destinations[1]");
        assert_eq!(errors[0].code, "duplicate");
    }

    #[test]
    fn every_bad_destination_is_named() {
        let errors =
            Destinations::parse("to", &strings(&["nope", "a@b.at", "x@"]), 10).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["to[0]", "to[2]"]);
    }

    #[test]
    fn destinations_are_bounded() {
        assert!(Destinations::parse("d", &[], 10).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("u{i}@example.at")).collect();
        assert_eq!(
            Destinations::parse("d", &many, 10).unwrap_err()[0].code,
            "invalid_length"
        );
    }
}
