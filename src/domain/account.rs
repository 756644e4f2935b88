//! Mail accounts' vocabulary: status, protocols, quota and display name, each with
//! its bounds stated once here (the checks and the OpenAPI schema both read them).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::field::FieldError;
use super::text;

/// 10 TiB: a bound, not a product limit.
pub const MAX_QUOTA_MB: i32 = 10 * 1024 * 1024;
pub const DEFAULT_QUOTA_MB: i32 = 2048;
pub const MAX_DISPLAY_NAME: usize = 128;
/// The highest package limit of accounts or aliases a domain may be given.
pub const MAX_ITEMS_LIMIT: i64 = 1_000_000;
/// The highest total quota a domain may be given, in MB (1 EB).
pub const MAX_QUOTA_LIMIT: i64 = 1 << 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AccountStatus {
    /// Can log in.
    Active,
    /// Login refused, mail and data kept.
    Suspended,
}

/// Which protocols an account may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocols {
    pub imap: bool,
    pub pop3: bool,
    /// SMTP submission (sending).
    pub smtp: bool,
}

impl Default for Protocols {
    /// A new account may use everything.
    fn default() -> Self {
        Self {
            imap: true,
            pop3: true,
            smtp: true,
        }
    }
}

/// A change of some protocols; the ones not named stay as they are.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolsChange {
    pub imap: Option<bool>,
    pub pop3: Option<bool>,
    pub smtp: Option<bool>,
}

/// A mailbox size in MiB, 1..=`MAX_QUOTA_MB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota(i32);

impl Quota {
    pub fn parse(mb: i32) -> Result<Self, FieldError> {
        if (1..=MAX_QUOTA_MB).contains(&mb) {
            Ok(Self(mb))
        } else {
            Err(FieldError::new(
                "quota_mb",
                "out_of_range",
                format!("must be between 1 and {MAX_QUOTA_MB}"),
            ))
        }
    }

    pub fn mb(self) -> i32 {
        self.0
    }
}

impl Default for Quota {
    fn default() -> Self {
        Self(DEFAULT_QUOTA_MB)
    }
}

/// The name shown beside the address: bounded text, trimmed.
pub fn display_name(raw: &str) -> Result<String, FieldError> {
    text::bounded("display_name", raw, MAX_DISPLAY_NAME)
}
