//! Mail accounts: `/v1/domains/{domain}/accounts` and `/v1/accounts/{address}`.
//! Deleting is soft: the account can be restored until its retention period ends.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{created, nullable, path, with_etag};
use crate::app::accounts::{
    self as use_case, AccountChange, Credential, NewAccount, Rename, Welcome,
};
use crate::app::{App, Error};
use crate::domain::account::{self, AccountStatus, Protocols, ProtocolsChange, Quota};
use crate::domain::field::collect;
use crate::domain::guidance::Language;
use crate::domain::imported_hash::ImportedHash;
use crate::domain::integer::optional_whole;
use crate::domain::paging::{Page, Paging};
use crate::domain::password::{Context, NewPassword, Policy};
use crate::domain::routing::{Destinations, Forwarding};
use crate::domain::{Caller, DomainName, FieldError, LocalPart, MailAddress};
use crate::error::ApiError;
use crate::extract::{if_match, Json, Query};
use crate::store::accounts::AccountRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove)
        .service(restore)
        .service(rename)
        .service(create_batch);
}

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
        Self {
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
    fn into_command(self, domain: &DomainName, policy: &Policy) -> Result<NewAccount, Error> {
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
}

impl UpdateAccount {
    fn into_change(self, max_destinations: usize) -> Result<AccountChange, Vec<FieldError>> {
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
            }),
            (d, q, f) => {
                let mut errors = collect([d.err(), q.err()]);
                errors.extend(f.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAccounts {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the local part or display name.
    pub q: Option<String>,
    /// `true` lists the deleted, still restorable accounts instead of the live ones.
    pub deleted: Option<bool>,
}

fn location(row: &AccountRow) -> String {
    format!("/v1/accounts/{}", row.address())
}

/// Create an account.
#[utoipa::path(operation_id = "createAccount", tag = "accounts", security(("api_key" = [])), params(("domain" = String, Path)), request_body = CreateAccount,
    responses((status = 201, body = Account, description = "Created", headers(("Location" = String), ("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json",
               description = "The address is an account or alias, or held by a deleted account until it is purged (`conflict`); or the domain's `max_accounts` or `max_quota_mb` is reached (`limit_reached`)")))]
#[post("/v1/domains/{domain}/accounts")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
    body: Json<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    let domain = path::domain(&domain)?;
    let command = body
        .0
        .into_command(&domain, &app.settings.password_policy())?;
    let row = use_case::create(&app, &caller, command).await?;
    Ok(created(&location(&row), row.version, &Account::from(row)))
}

/// List a domain's accounts, by local part.
#[utoipa::path(operation_id = "listAccounts", tag = "accounts", security(("api_key" = [])), params(("domain" = String, Path), ListAccounts),
    responses((status = 200, body = Page<Account>, description = "One page"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}/accounts")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
    query: Query<ListAccounts>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let domain = path::domain(&domain)?;
    let deleted = q.deleted.unwrap_or(false);
    let page = use_case::list(&app, &caller, &domain, deleted, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Account::from)))
}

/// Show an account (also a deleted one, with `deleted_at` set).
#[utoipa::path(operation_id = "getAccount", tag = "accounts", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 200, body = Account, description = "The account", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach")))]
#[get("/v1/accounts/{address}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, &path::address(&address)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Account::from(row)))
}

/// Change display name, quota, status, protocols or forwarding; honours `If-Match`.
#[utoipa::path(operation_id = "updateAccount", tag = "accounts", security(("api_key" = [])), params(("address" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateAccount,
    responses((status = 200, body = Account, description = "Updated", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted, or a larger quota would pass the domain's `max_quota_mb` (`limit_reached`)"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/accounts/{address}")]
async fn update(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    address: web::Path<String>,
    body: Json<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    let change = body.0.into_change(app.settings.max_destinations)?;
    let address = path::address(&address)?;
    let row = use_case::update(&app, &caller, &address, change, if_match(&req)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Account::from(row)))
}

/// Delete an account: it leaves the mail servers at once and stays restorable for
/// the retention period. Deleting a deleted account again changes nothing (`204`).
#[utoipa::path(operation_id = "deleteAccount", tag = "accounts", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 204, description = "Deleted (restorable)"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach")))]
#[delete("/v1/accounts/{address}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, &path::address(&address)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore a deleted account as it was, password included.
#[utoipa::path(operation_id = "restoreAccount", tag = "accounts", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 200, body = Account, description = "Restored", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach, or purged"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is not deleted, or the domain's limits are reached (`limit_reached`)")))]
#[post("/v1/accounts/{address}/restore")]
async fn restore(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::restore(&app, &caller, &path::address(&address)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Account::from(row)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameAccount {
    /// The new local part in the same domain.
    #[schema(example = "neu")]
    pub local_part: String,
    /// Keep the old address as an alias that delivers to the account (it counts
    /// against the domain's `max_aliases`). Default `false`.
    pub keep_old_as_alias: Option<bool>,
}

impl TryFrom<RenameAccount> for Rename {
    type Error = FieldError;

    fn try_from(b: RenameAccount) -> Result<Self, Self::Error> {
        let local_part = LocalPart::parse(&b.local_part).map_err(|e| {
            FieldError::new(
                "local_part",
                "invalid_local_part",
                format!("local part {e}"),
            )
        })?;
        Ok(Self {
            local_part,
            keep_old_as_alias: b.keep_old_as_alias.unwrap_or(false),
        })
    }
}

/// Give an account a new address in its domain. Its mailbox is named by the account,
/// not the address, so mail, password and settings stay; honours `If-Match`.
#[utoipa::path(operation_id = "renameAccount", tag = "accounts", security(("api_key" = [])), params(("address" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = RenameAccount,
    responses((status = 200, body = Account, description = "Renamed; `Location` names the new address", headers(("Location" = String), ("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The new address is taken, the account is deleted, or `max_aliases` is reached (`limit_reached`)"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[post("/v1/accounts/{address}/rename")]
async fn rename(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    address: web::Path<String>,
    body: Json<RenameAccount>,
) -> Result<HttpResponse, ApiError> {
    let command = Rename::try_from(body.0)?;
    let address = path::address(&address)?;
    let row = use_case::rename(&app, &caller, &address, command, if_match(&req)?).await?;
    let mut res = with_etag(StatusCode::OK, row.version, &Account::from(row.clone()));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&location(&row)) {
        res.headers_mut()
            .insert(actix_web::http::header::LOCATION, value);
    }
    Ok(res)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccounts {
    /// 1..=1000 accounts of the create shape.
    pub accounts: Vec<CreateAccount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccounts {
    /// The new accounts, by local part.
    pub items: Vec<Account>,
}

/// Create up to 1000 accounts of one domain at once (a migration, a customer moving
/// in): every item is validated first, then all are created or none. Errors name the
/// item (`accounts[17].local_part`): invalid fields, broken password rules, an
/// address taken or twice in the batch (`422`). The domain's limits hold for the
/// whole batch (`409 limit_reached`). Bodies may be up to `MAILPANEL_MAX_BATCH_BODY_BYTES`.
#[utoipa::path(operation_id = "createAccounts", tag = "accounts", security(("api_key" = [])), params(("domain" = String, Path)), request_body = CreateAccounts,
    responses((status = 201, body = CreatedAccounts, description = "All created"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain's limits would be passed (`limit_reached`), or it is an alias domain"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Items refused, each named; nothing was created")))]
#[post("/v1/domains/{domain}/accounts/batch")]
async fn create_batch(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
    body: Json<CreateAccounts>,
) -> Result<HttpResponse, ApiError> {
    let domain = path::domain(&domain)?;
    let commands = batch_commands(body.0.accounts, &domain, &app.settings.password_policy())?;
    let rows = use_case::create_batch(&app, &caller, &domain, commands).await?;
    let items = rows.into_iter().map(Account::from).collect();
    Ok(HttpResponse::Created().json(CreatedAccounts { items }))
}

/// Every item parsed; the errors of all of them, each field named by its item.
fn batch_commands(
    items: Vec<CreateAccount>,
    domain: &DomainName,
    policy: &Policy,
) -> Result<Vec<NewAccount>, Error> {
    if items.is_empty() || items.len() > use_case::MAX_BATCH {
        return Err(Error::field(
            "accounts",
            "invalid_length",
            format!("needs 1 to {} accounts", use_case::MAX_BATCH),
        ));
    }
    let mut commands = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item.into_command(domain, policy) {
            Ok(command) => commands.push(command),
            Err(Error::Invalid(e) | Error::PasswordPolicy(e)) => {
                errors.extend(e.into_iter().map(|f| {
                    let field = format!("accounts[{i}].{}", f.field);
                    f.at(&field)
                }))
            }
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(commands)
    } else {
        Err(Error::Invalid(errors))
    }
}
