//! What a use case answers when it does not do what was asked. The HTTP edge
//! (`crate::error`) turns each into a status and a machine code, from one table.

use crate::domain::tenancy::Forbidden;
use crate::domain::{FieldError, FieldErrors};
use crate::passwords::HashError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields of the command are bad; each is named.
    #[error("validation failed")]
    Invalid(FieldErrors),
    /// A new password breaks the policy; each rule in both languages.
    #[error("the password does not meet the policy")]
    PasswordPolicy(FieldErrors),
    /// No valid, unrevoked API key.
    #[error("missing or invalid API key")]
    Unauthenticated,
    /// Unknown address, wrong password, suspended or deleted account: all alike.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Also what an object outside the caller's reach answers.
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The domain's package limit (accounts, aliases, quota) is used up.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// The object changed since the version the caller named.
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("server overloaded")]
    Overloaded { retry_after_secs: u64 },
    /// The database cannot be reached (down, restarting, no connection free in time).
    #[error("database unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }

    /// The account is deleted; most changes need it restored first.
    pub fn deleted_account() -> Self {
        Self::Conflict("the account is deleted; restore it first".into())
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

impl From<FieldErrors> for Error {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<Forbidden> for Error {
    fn from(e: Forbidden) -> Self {
        Self::Forbidden(e.0)
    }
}

impl From<HashError> for Error {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Overloaded {
                retry_after_secs: 1,
            },
            HashError::Failed(e) => Self::Internal(e),
        }
    }
}

/// Maps database errors once, by constraint name, so that a unique violation raced by
/// two requests still answers 409 and a foreign-key violation a clear 409/422.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) => {
                if let Some(mapped) = db.constraint().and_then(on_constraint) {
                    return mapped;
                }
                // Class 08 (connection exception) and 57P (the server shutting down or
                // starting): the database is away, not the request wrong.
                let code = db.code().unwrap_or_default();
                // Two writes that locked in opposite orders: one is cancelled, and
                // the same request again goes through.
                if code == "40P01" || code == "40001" {
                    tracing::warn!(error = %err, "transaction cancelled, the client may retry");
                    return Self::Overloaded {
                        retry_after_secs: 1,
                    };
                }
                if code.starts_with("08") || code.starts_with("57P") {
                    tracing::warn!(error = %err, "database unavailable");
                    return Self::Unavailable;
                }
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "database unavailable");
                return Self::Unavailable;
            }
            _ => {}
        }
        Self::Internal(anyhow::Error::new(err))
    }
}

fn on_constraint(name: &str) -> Option<Error> {
    let conflict = |text: &str| Error::Conflict(text.to_owned());
    Some(match name {
        "partners_name_key" => conflict("a partner with this name already exists"),
        "customers_external_ref_key" => {
            conflict("a customer with this external_ref already exists for this partner")
        }
        "domains_name_key" => conflict("this domain is already hosted here"),
        "accounts_address_key" => conflict("an account with this address already exists"),
        "aliases_address_key" => conflict("an alias with this address already exists"),
        "domains_alias_of_fkey" => {
            conflict("alias domains point to this domain; delete them first")
        }
        "aliases_domain_id_fkey" | "catch_alls_domain_id_fkey" => Error::not_found("domain"),
        "customers_partner_id_fkey" => {
            conflict("the partner still has customers; delete them first")
        }
        "domains_customer_id_fkey" => conflict("the customer still has domains; delete them first"),
        // The domain was deleted while the account was being created.
        "accounts_domain_id_fkey" => Error::not_found("domain"),
        "domains_server_profile_fkey" => Error::field(
            "server_profile",
            "unknown",
            "no server profile with this name",
        ),
        _ => return None,
    })
}
