//! The password policy: pure rules, no I/O.
//!
//! Passwords are kept exactly as received (no Unicode normalisation, no trimming): a
//! mail client sends the bytes the user typed, and the stored hash must match those
//! bytes. There are no composition rules (NIST SP 800-63B); instead a length floor and
//! zxcvbn's strength estimate, fed with what an attacker would try first: the
//! address, its parts and the display name.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use utoipa::ToSchema;

use super::field::{FieldError, FieldErrors, Messages};

pub const MAX_LEN: usize = 128;
/// API.md: configurable, never below this.
pub const MIN_LEN_FLOOR: usize = 8;
/// The local-part rule applies to local parts at least this long.
pub const MIN_LOCAL_PART_RULE: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub min_len: usize,
    pub max_len: usize,
    /// zxcvbn score (0..=4) a password needs at least.
    pub min_score: u8,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_len: 15,
            max_len: MAX_LEN,
            min_score: 3,
        }
    }
}

/// What the password must not be built from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub address: &'a str,
    pub local_part: &'a str,
    pub domain: &'a str,
    pub display_name: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    TooShort,
    TooLong,
    ControlCharacters,
    ContainsLocalPart,
    TooWeak,
    SameAsCurrent,
}

pub const RULES: [Rule; 6] = [
    Rule::TooShort,
    Rule::TooLong,
    Rule::ControlCharacters,
    Rule::ContainsLocalPart,
    Rule::TooWeak,
    Rule::SameAsCurrent,
];

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::TooShort => "password_too_short",
            Rule::TooLong => "password_too_long",
            Rule::ControlCharacters => "password_control_characters",
            Rule::ContainsLocalPart => "password_contains_local_part",
            Rule::TooWeak => "password_too_weak",
            Rule::SameAsCurrent => "password_unchanged",
        }
    }

    /// German and English, with the policy's numbers filled in.
    pub fn messages(self, policy: &Policy) -> Messages {
        let (de, en) = match self {
            Rule::TooShort => (
                format!("Das Passwort muss mindestens {} Zeichen lang sein.", policy.min_len),
                format!("The password must be at least {} characters long.", policy.min_len),
            ),
            Rule::TooLong => (
                format!("Das Passwort darf höchstens {} Zeichen lang sein.", policy.max_len),
                format!("The password must be at most {} characters long.", policy.max_len),
            ),
            Rule::ControlCharacters => (
                "Das Passwort darf keine Steuerzeichen enthalten.".to_owned(),
                "The password must not contain control characters.".to_owned(),
            ),
            Rule::ContainsLocalPart => (
                "Das Passwort darf den Namen des E-Mail-Kontos nicht enthalten.".to_owned(),
                "The password must not contain the mailbox name.".to_owned(),
            ),
            Rule::TooWeak => (
                "Das Passwort ist zu leicht zu erraten. Verwenden Sie zum Beispiel mehrere zufällige Wörter.".to_owned(),
                "The password is too easy to guess. Try several random words, for example.".to_owned(),
            ),
            Rule::SameAsCurrent => (
                "Das neue Passwort muss sich vom bisherigen unterscheiden.".to_owned(),
                "The new password must differ from the current one.".to_owned(),
            ),
        };
        Messages { de, en }
    }

    pub fn field_error(self, field: &str, policy: &Policy) -> FieldError {
        let messages = self.messages(policy);
        FieldError {
            field: field.to_owned(),
            code: self.code().to_owned(),
            message: messages.en.clone(),
            messages: Some(messages),
        }
    }
}

impl Policy {
    /// The rules `password` breaks for this account, as field errors of `field`.
    pub fn check(
        &self,
        field: &str,
        password: &SecretString,
        ctx: &Context<'_>,
    ) -> Result<(), FieldErrors> {
        let broken = violations(self, password, ctx);
        if broken.is_empty() {
            Ok(())
        } else {
            Err(self.refusal(field, &broken))
        }
    }

    /// The field errors of broken rules, each in both languages.
    pub fn refusal(&self, field: &str, rules: &[Rule]) -> FieldErrors {
        rules.iter().map(|r| r.field_error(field, self)).collect()
    }
}

/// A new password that passed the policy for its account: the only way to hand a
/// new password to a use case, so that none is stored unchecked.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn check(
        policy: &Policy,
        field: &str,
        password: SecretString,
        ctx: &Context<'_>,
    ) -> Result<Self, FieldErrors> {
        policy.check(field, &password, ctx).map(|()| Self(password))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

/// Every rule the password breaks, cheapest checks first; zxcvbn runs only on
/// passwords that pass the others (its cost grows with the length, bounded by `max_len`).
pub fn violations(policy: &Policy, password: &SecretString, ctx: &Context<'_>) -> Vec<Rule> {
    let pw = password.expose_secret();
    let len = pw.chars().count();
    let mut broken = Vec::new();
    if len < policy.min_len {
        broken.push(Rule::TooShort);
    }
    if len > policy.max_len {
        broken.push(Rule::TooLong);
    }
    if pw.chars().any(char::is_control) {
        broken.push(Rule::ControlCharacters);
    }
    // A local part of one or two characters ("a", "jo") would forbid half the
    // alphabet; zxcvbn still gets it as context.
    if ctx.local_part.chars().count() >= MIN_LOCAL_PART_RULE
        && pw.to_lowercase().contains(&ctx.local_part.to_lowercase())
    {
        broken.push(Rule::ContainsLocalPart);
    }
    if broken.is_empty() {
        let mut inputs = vec![ctx.address, ctx.local_part, ctx.domain];
        inputs.extend(ctx.domain.split('.').filter(|l| l.len() > 2));
        if let Some(name) = ctx.display_name {
            inputs.push(name);
            inputs.extend(name.split_whitespace());
        }
        inputs.retain(|i| !i.is_empty());
        let score = u8::from(zxcvbn::zxcvbn(pw, &inputs).score());
        if score < policy.min_score {
            broken.push(Rule::TooWeak);
        }
    }
    broken
}

/// The policy as `GET /v1/password-policy` publishes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedPolicy {
    /// In Unicode code points.
    pub min_length: usize,
    pub max_length: usize,
    /// zxcvbn score 0..=4 a password needs at least.
    pub min_strength_score: u8,
    /// No upper/lower/digit/symbol rules.
    pub composition_rules: bool,
    /// Passwords are stored exactly as sent: no trimming, no Unicode normalisation.
    pub normalisation: &'static str,
    pub rules: Vec<PublishedRule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedRule {
    pub code: &'static str,
    pub messages: Messages,
}

impl PublishedPolicy {
    pub fn of(policy: &Policy) -> Self {
        Self {
            min_length: policy.min_len,
            max_length: policy.max_len,
            min_strength_score: policy.min_score,
            composition_rules: false,
            normalisation: "none",
            rules: RULES
                .iter()
                .map(|r| PublishedRule {
                    code: r.code(),
                    messages: r.messages(policy),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            address: "max@mustermann.at",
            local_part: "max",
            domain: "mustermann.at",
            display_name: Some("Max Mustermann"),
        }
    }

    fn check(pw: &str) -> Vec<Rule> {
        violations(
            &Policy::default(),
            &SecretString::from(pw.to_owned()),
            &ctx(),
        )
    }

    #[test]
    fn each_rule_names_itself() {
        assert_eq!(check("Fahrrad-Kaffee-Wien-2026"), vec![]);
        assert_eq!(check("Kurz-2026!"), vec![Rule::TooShort]);
        assert_eq!(check(&"Lang".repeat(33)), vec![Rule::TooLong]);
        assert_eq!(
            check("Fahrrad\tKaffee-Wien-2026"),
            vec![Rule::ControlCharacters]
        );
        assert_eq!(
            check("Fahrrad\0Kaffee-Wien-2026"),
            vec![Rule::ControlCharacters]
        );
        assert_eq!(
            check("MAX-Fahrrad-Kaffee-2026"),
            vec![Rule::ContainsLocalPart]
        );
        assert_eq!(check("passwordpassword"), vec![Rule::TooWeak]);
        assert_eq!(check("mustermann.at2026"), vec![Rule::TooWeak]);
    }

    #[test]
    fn very_short_local_parts_do_not_forbid_their_letters() {
        let ctx = Context {
            address: "a@x.at",
            local_part: "a",
            domain: "x.at",
            display_name: None,
        };
        let pw = SecretString::from("Fahrrad-Kaffee-Wien-2026");
        assert_eq!(violations(&Policy::default(), &pw, &ctx), vec![]);
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        // 15 code points, 17 bytes.
        let pw = "Grüße aus Wien!";
        assert_eq!(pw.chars().count(), 15);
        assert!(!check(pw).contains(&Rule::TooShort));
    }

    #[test]
    fn every_rule_has_both_languages() {
        for rule in RULES {
            let m = rule.messages(&Policy::default());
            assert!(
                !m.de.is_empty() && !m.en.is_empty() && m.de != m.en,
                "{rule:?}"
            );
        }
    }
}
