//! The password rules that need no I/O. Passwords are kept exactly as received (no
//! Unicode normalisation, no trimming): a mail client sends the bytes the user typed,
//! and the stored hash must match those bytes.

use secrecy::{ExposeSecret, SecretString};

use crate::error::FieldError;

pub const MAX_LEN: usize = 128;

pub fn check(field: &str, password: &SecretString, min_len: usize) -> Result<(), FieldError> {
    let pw = password.expose_secret();
    let len = pw.chars().count();
    if len < min_len {
        return Err(FieldError::new(
            field,
            "password_too_short",
            format!("must be at least {min_len} characters"),
        ));
    }
    if len > MAX_LEN {
        return Err(FieldError::new(
            field,
            "password_too_long",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    if pw.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "password_control_characters",
            "must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_code_points_not_bytes() {
        let pw = SecretString::from("Grüße aus Wien!");
        assert_eq!(pw.expose_secret().chars().count(), 15);
        assert!(check("password", &pw, 15).is_ok());
        assert!(check("password", &SecretString::from("short"), 15).is_err());
        assert!(check(
            "password",
            &SecretString::from("with a NUL \0 inside it"),
            15
        )
        .is_err());
    }
}
