//! The bodies of the account routes: what a create or a change sends, and what an
//! account looks like in an answer. Each request body becomes a use case's command
//! here, with every bad field named.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::accounts::{AccountChange, Credential, NewAccount, Welcome};
use crate::app::Error;
use crate::domain::account::{self, AccountStatus, Protocols, ProtocolsChange, Quota};
use crate::domain::field::collect;
use crate::domain::guidance::Language;
use crate::domain::imported_hash::ImportedHash;
use crate::domain::integer::optional_whole;
use crate::domain::password::{Context, NewPassword, Policy};
use crate::domain::routing::{Destinations, Forwarding};
use crate::domain::{DomainName, FieldError, LocalPart, MailAddress};
use crate::routes::nullable;
use crate::store::accounts::AccountRow;

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub address: String,
    pub local_part: String,
    /// A-label form.
    pub domain: String,
    pub display_name: Option<String>,
    pub quota_mb: i32,
    /// The status the account has (and gets back on restore).
    pub status: AccountStatus,
    pub protocols: Protocols,
    pub password_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while the account is deleted; it can be restored until `restorable_until`.
    pub deleted_at: Option<DateTime<Utc>>,
    pub restorable_until: Option<DateTime<Utc>>,
    /// `null` when the account's mail is not forwarded.
    pub forwarding: Option<ForwardingOut>,
    /// Mail clients must log in with an app password (`/app-passwords`).
    pub require_app_passwords: bool,
    /// The mailbox's use as Dovecot last reported it; `null` until it has.
    pub usage: Option<Usage>,
    /// The last IMAP or POP3 login Dovecot reported; `null` until there was one.
    pub last_login: Option<LastLogin>,
}

/// A mailbox's use, as Dovecot counts it (its quota plugin) and reports it after each
/// change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub storage_bytes: i64,
    pub messages: i64,
    /// `quota_mb` in bytes: where Dovecot refuses more.
    pub quota_bytes: i64,
    /// `storage_bytes` of `quota_bytes`, 0..=100 (rounded down; may pass 100 when the
    /// quota was lowered below the use).
    pub percent: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LastLogin {
    pub at: DateTime<Utc>,
}

/// Forwarding of an account's mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForwardingOut {
    pub to: Vec<String>,
    /// The mailbox keeps a copy.
    pub keep_copy: bool,
}

/// Forwarding to set: 1..=100 (configurable) addresses, local or external, not the
/// account itself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardingIn {
    pub to: Vec<String>,
    /// Keep a copy in the mailbox; default `true`.
    pub keep_copy: Option<bool>,
}

impl ForwardingIn {
    fn parse(self, max: usize) -> Result<Forwarding, Vec<FieldError>> {
        Ok(Forwarding {
            to: Destinations::parse("forwarding.to", &self.to, max)?,
            keep_copy: self.keep_copy.unwrap_or(true),
        })
    }
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        let quota_bytes = i64::from(r.quota_mb) * 1024 * 1024;
        let usage = r.usage_updated_at.map(|updated_at| {
            let storage_bytes = r.usage_storage_bytes.unwrap_or(0);
            Usage {
                storage_bytes,
                messages: r.usage_messages.unwrap_or(0),
                quota_bytes,
                percent: storage_bytes.saturating_mul(100) / quota_bytes.max(1),
                updated_at,
            }
        });
        Self {
            require_app_passwords: r.require_app_passwords,
            usage,
            last_login: r.last_login_at.map(|at| LastLogin { at }),
            address: r.address(),
            protocols: r.protocols(),
            local_part: r.local_part,
            domain: r.domain,
            display_name: r.display_name,
            quota_mb: r.quota_mb,
            status: r.status,
            password_changed_at: r.password_changed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            restorable_until: r.purge_after,
            forwarding: r.forward_to.map(|to| ForwardingOut {
                to,
                keep_copy: r.forward_keep_copy,
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// RFC 5322 dot-atom, at most 64 octets; stored lowercase.
    #[schema(example = "max")]
    pub local_part: String,
    /// The new account's password (see `GET /v1/password-policy`). Exactly one of
    /// `password` and `password_hash` is required.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// Migration import (admin and partner keys): a Dovecot `{SCHEME}` hash, one of
    /// ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, SSHA512.
    #[schema(example = "{SHA512-CRYPT}$6$...")]
    pub password_hash: Option<String>,
    pub display_name: Option<String>,
    /// Default 2048.
    #[serde(default, deserialize_with = "optional_whole")]
    pub quota_mb: Option<i32>,
    /// Default: all enabled.
    pub protocols: Option<Protocols>,
    /// Send a welcome message with the account's settings (the same as
    /// `GET /setup`, as text and HTML; never the password) to this address, through
    /// the configured relay. Queued with the account: a relay that is down delays
    /// it (retried for 24 hours) without failing the create. `422
    /// mail_not_configured` when no relay is configured.
    pub welcome: Option<WelcomeIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WelcomeIn {
    #[schema(example = "max.privat@example.net")]
    pub send_to: String,
    /// Default `de`.
    pub language: Option<Language>,
}

impl WelcomeIn {
    fn parse(self) -> Result<Welcome, FieldError> {
        let send_to = MailAddress::parse(self.send_to.trim()).map_err(|e| {
            FieldError::new("welcome.send_to", "invalid_address", format!("address {e}"))
        })?;
        Ok(Welcome {
            send_to,
            language: self.language.unwrap_or(Language::De),
        })
    }
}

impl CreateAccount {
    /// The command, with every bad field named; the password is judged against the
    /// policy for the new address, and its errors join the others (or stand alone as
    /// `password_policy` when everything else is fine).
    pub(super) fn into_command(
        self,
        domain: &DomainName,
        policy: &Policy,
    ) -> Result<NewAccount, Error> {
        let address = LocalPart::parse(&self.local_part)
            .map_err(|e| {
                FieldError::new(
                    "local_part",
                    "invalid_local_part",
                    format!("local part {e}"),
                )
            })
            .and_then(|local| {
                MailAddress::new(local, domain.clone()).map_err(|e| {
                    FieldError::new("local_part", "too_long", format!("the address {e}"))
                })
            });
        let display_name = self
            .display_name
            .as_deref()
            .map(account::display_name)
            .transpose();
        let quota = self.quota_mb.map_or(Ok(Quota::default()), Quota::parse);
        let welcome = self.welcome.map(WelcomeIn::parse).transpose();
        let (credential, policy_errors) = match (self.password, self.password_hash) {
            (Some(pw), None) => {
                let text = address
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let ctx = Context {
                    address: &text,
                    local_part: address
                        .as_ref()
                        .map(|a| a.local_part().as_str())
                        .unwrap_or_default(),
                    domain: domain.as_str(),
                    display_name: display_name.as_ref().ok().and_then(Option::as_deref),
                };
                match NewPassword::check(policy, "password", pw, &ctx) {
                    Ok(pw) => (Ok(Credential::Password(pw)), Vec::new()),
                    Err(rules) => (Err(None), rules),
                }
            }
            (None, Some(hash)) => (
                ImportedHash::parse(&hash)
                    .map(Credential::Imported)
                    .map_err(Some),
                Vec::new(),
            ),
            _ => (
                Err(Some(FieldError::new(
                    "password",
                    "required",
                    "send exactly one of password and password_hash",
                ))),
                Vec::new(),
            ),
        };
        match (address, display_name, quota, credential, welcome) {
            (Ok(address), Ok(display_name), Ok(quota), Ok(credential), Ok(welcome)) => {
                Ok(NewAccount {
                    address,
                    display_name,
                    quota,
                    protocols: self.protocols.unwrap_or_default(),
                    credential,
                    welcome,
                })
            }
            (a, d, q, c, w) => {
                let mut errors = collect([a.err(), d.err(), q.err(), c.err().flatten(), w.err()]);
                if errors.is_empty() {
                    return Err(Error::PasswordPolicy(policy_errors));
                }
                errors.extend(policy_errors);
                Err(Error::Invalid(errors))
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "optional_whole")]
    pub quota_mb: Option<i32>,
    pub status: Option<AccountStatus>,
    /// Only the protocols named change.
    pub protocols: Option<ProtocolsChange>,
    /// Forward the account's mail; `null` ends forwarding. Refused with `422
    /// routing_loop` when the mail would come back.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ForwardingIn>)]
    pub forwarding: Option<Option<ForwardingIn>>,
    /// `true`: the main password stops working in mail clients (IMAP, POP3, SMTP);
    /// only app passwords log in there. Open sessions end.
    pub require_app_passwords: Option<bool>,
}

impl UpdateAccount {
    pub(super) fn into_change(
        self,
        max_destinations: usize,
    ) -> Result<AccountChange, Vec<FieldError>> {
        let b = self;
        let display_name = match b.display_name {
            Some(Some(d)) => account::display_name(&d).map(|d| Some(Some(d))),
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        let quota = b.quota_mb.map(Quota::parse).transpose();
        let forwarding = match b.forwarding {
            Some(Some(f)) => f.parse(max_destinations).map(|f| Some(Some(f))),
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        match (display_name, quota, forwarding) {
            (Ok(display_name), Ok(quota), Ok(forwarding)) => Ok(AccountChange {
                display_name,
                quota,
                status: b.status,
                protocols: b.protocols.unwrap_or_default(),
                forwarding,
                require_app_passwords: b.require_app_passwords,
            }),
            (d, q, f) => {
                let mut errors = collect([d.err(), q.err()]);
                errors.extend(f.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}
