//! Field errors: what is wrong with one input field, in a form every edge (JSON body,
//! query string, command line) reports the same way. A command is parsed from its
//! request in one go and reports every bad field at once, not the first one only.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a JSON pointer-like dotted path (`protocols.imap`), or a query
    /// or path parameter name.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `invalid_format`, `unknown_field`.
    pub code: String,
    /// English.
    pub message: String,
    /// German and English, for texts a mailbox owner reads (the password rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Messages>,
}

/// One text in both languages the provider's customers read.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Messages {
    pub de: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
            messages: None,
        }
    }

    /// The same problem reported for another field name (a parser knows the rule,
    /// the command knows where the value came from).
    pub fn at(mut self, field: &str) -> Self {
        self.field = field.to_owned();
        self
    }
}

/// Every field error of one input, in the order the fields were checked.
pub type FieldErrors = Vec<FieldError>;

/// The errors of several independently parsed fields, for a command whose fields
/// were all checked before it was refused.
pub fn collect<const N: usize>(results: [Option<FieldError>; N]) -> FieldErrors {
    results.into_iter().flatten().collect()
}
