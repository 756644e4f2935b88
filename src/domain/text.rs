//! Bounded free-text fields (names, descriptions): trimmed, non-empty where required,
//! no control characters, length in Unicode code points. The bounds of the free-text
//! fields that have no type of their own are stated here, once.

use super::field::FieldError;

pub const MAX_PARTNER_NAME: usize = 200;
pub const MAX_CUSTOMER_NAME: usize = 200;
pub const MAX_EXTERNAL_REF: usize = 100;
pub const MAX_KEY_DESCRIPTION: usize = 200;
/// Longest `?q=` search text.
pub const MAX_SEARCH: usize = 100;

/// Checks a free-text value and returns it trimmed.
pub fn bounded(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An optional free-text value: `None` stays `None`.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    value.map(|v| bounded(field, v, max_chars)).transpose()
}
