//! Mail accounts: `/v1/domains/{domain}/accounts` and `/v1/accounts/{address}`.
//!
//! Deleting is soft: the account leaves the mail servers at once and can be restored,
//! password included, until its retention period ends; then it is purged.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::domains::find_in_reach;
use super::passwords::check_policy;
use super::{
    announce, audit_event, changed, created, into_page, nullable, page_request, with_etag, Page,
};
use crate::auth::{Caller, Role};
use crate::domain::imported_hash::ImportedHash;
use crate::domain::password::Context;
use crate::domain::text::{self, Checks};
use crate::domain::{LocalPart, MailAddress};
use crate::error::{ApiError, FieldError};
use crate::extract::{if_match, Json, Query};
use crate::state::AppState;
use crate::store::changes::Change;
use crate::store::{self, accounts::AccountChange, accounts::AccountRow, accounts::NewAccount};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove)
        .service(restore);
}

pub const DEFAULT_QUOTA_MB: i32 = 2048;
/// 10 TiB: a bound, not a product limit.
pub const MAX_QUOTA_MB: i32 = 10 * 1024 * 1024;
const DISPLAY_NAME_MAX: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Can log in.
    Active,
    /// Login refused, mail and data kept.
    Suspended,
}

impl AccountStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocols {
    pub imap: bool,
    pub pop3: bool,
    /// SMTP submission (sending).
    pub smtp: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolsChange {
    pub imap: Option<bool>,
    pub pop3: Option<bool>,
    pub smtp: Option<bool>,
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
    #[schema(value_type = String, example = "active")]
    pub status: String,
    pub protocols: Protocols,
    pub password_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while the account is deleted; it can be restored until `restorable_until`.
    pub deleted_at: Option<DateTime<Utc>>,
    pub restorable_until: Option<DateTime<Utc>>,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Self {
            address: r.address(),
            local_part: r.local_part,
            domain: r.domain,
            display_name: r.display_name,
            quota_mb: r.quota_mb,
            status: r.status,
            protocols: Protocols {
                imap: r.imap_enabled,
                pop3: r.pop3_enabled,
                smtp: r.smtp_enabled,
            },
            password_changed_at: r.password_changed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            restorable_until: r.purge_after,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// RFC 5322 dot-atom, at most 64 octets; stored lowercase.
    #[schema(max_length = 64, example = "max")]
    pub local_part: String,
    /// The new account's password (see `GET /v1/password-policy`). Exactly one of
    /// `password` and `password_hash` is required.
    #[schema(value_type = Option<String>, format = Password, max_length = 128)]
    pub password: Option<SecretString>,
    /// Migration import (admin and partner keys): a Dovecot `{SCHEME}` hash, one of
    /// ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, SSHA512.
    #[schema(max_length = 512, example = "{SHA512-CRYPT}$6$...")]
    pub password_hash: Option<String>,
    #[schema(max_length = 128)]
    pub display_name: Option<String>,
    /// Default 2048.
    #[schema(minimum = 1, maximum = 10485760)]
    pub quota_mb: Option<i32>,
    /// Default: all enabled.
    pub protocols: Option<Protocols>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 128)]
    pub display_name: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 10485760)]
    pub quota_mb: Option<i32>,
    pub status: Option<AccountStatus>,
    /// Only the protocols named change.
    pub protocols: Option<ProtocolsChange>,
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

fn display_name(raw: &str) -> Result<String, FieldError> {
    text::bounded("display_name", raw, DISPLAY_NAME_MAX)
}

fn quota(q: i32) -> Result<i32, FieldError> {
    if (1..=MAX_QUOTA_MB).contains(&q) {
        Ok(q)
    } else {
        Err(FieldError::new(
            "quota_mb",
            "out_of_range",
            format!("must be between 1 and {MAX_QUOTA_MB}"),
        ))
    }
}

/// The account named in a path, within the caller's reach, deleted ones included.
async fn find(state: &AppState, caller: &Caller, raw: &str) -> Result<AccountRow, ApiError> {
    let not_found = || ApiError::not_found("account");
    let address = MailAddress::parse(raw).map_err(|_| not_found())?;
    store::accounts::get(
        &state.pool,
        caller.reach,
        address.domain().as_str(),
        address.local_part().as_str(),
    )
    .await?
    .ok_or_else(not_found)
}

fn account_event<'a>(
    caller: &'a Caller,
    action: &'a str,
    row: &'a AccountRow,
    address: &'a str,
) -> store::audit::NewEvent<'a> {
    let mut event = audit_event(caller, action);
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.customer_id);
    event.domain = Some(&row.domain);
    event.account = Some(address);
    event
}

enum Credential {
    Password(SecretString),
    Imported(ImportedHash),
}

/// Create an account.
#[utoipa::path(tag = "accounts", security(("api_key" = [])), params(("domain" = String, Path)), request_body = CreateAccount,
    responses((status = 201, body = Account, description = "Created", headers(("Location" = String), ("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json",
               description = "The address exists, or is held by a deleted account until it is purged")))]
#[post("/v1/domains/{domain}/accounts")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    domain: web::Path<String>,
    body: Json<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let domain = find_in_reach(&state, &caller, &domain).await?;
    let mut checks = Checks::default();
    let local = checks.take(LocalPart::parse(&body.local_part).map_err(|e| {
        FieldError::new(
            "local_part",
            "invalid_local_part",
            format!("local part {e}"),
        )
    }));
    let display = body
        .display_name
        .as_deref()
        .and_then(|d| checks.take(display_name(d)));
    let quota_mb = checks.take(quota(body.quota_mb.unwrap_or(DEFAULT_QUOTA_MB)));
    let credential = match (body.password, body.password_hash) {
        (Some(pw), None) => Some(Credential::Password(pw)),
        (None, Some(hash)) => {
            if !matches!(caller.role, Role::Admin | Role::Partner) {
                return Err(ApiError::Forbidden(
                    "only admin and partner keys may import password hashes".into(),
                ));
            }
            checks
                .take(ImportedHash::parse(&hash))
                .map(Credential::Imported)
        }
        _ => {
            checks.push(FieldError::new(
                "password",
                "required",
                "send exactly one of password and password_hash",
            ));
            None
        }
    };
    let address = local.as_ref().and_then(|l| {
        let a = MailAddress::new(
            l.clone(),
            crate::domain::DomainName::from_trusted(domain.name.clone()),
        );
        checks.take(
            a.map_err(|e| FieldError::new("local_part", "too_long", format!("the address {e}"))),
        )
    });
    // The password rules need the address; their errors join the others, or stand
    // alone as password_policy when everything else is fine.
    let policy_error = match &credential {
        Some(Credential::Password(pw)) => {
            let text = address
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let ctx = Context {
                address: &text,
                local_part: local.as_ref().map(LocalPart::as_str).unwrap_or_default(),
                domain: &domain.name,
                display_name: display.as_deref(),
            };
            check_policy(&state, "password", pw, &ctx).err()
        }
        _ => None,
    };
    match (checks.finish(), policy_error) {
        (Err(ApiError::Validation(mut errors)), Some(ApiError::PasswordPolicy(rules))) => {
            errors.extend(rules);
            return Err(ApiError::Validation(errors));
        }
        (Err(e), _) | (Ok(()), Some(e)) => return Err(e),
        (Ok(()), None) => {}
    }
    let (Some(address), Some(quota_mb), Some(credential)) = (address, quota_mb, credential) else {
        return Err(anyhow::anyhow!("checks passed without values").into());
    };
    // Hash before taking a connection: no pool connection is held while hashing.
    let (hash, origin) = match credential {
        Credential::Password(pw) => (state.hasher.hash(pw).await?, "set".to_owned()),
        Credential::Imported(h) => (h.as_str().to_owned(), format!("imported {}", h.scheme())),
    };
    let protocols = body.protocols.unwrap_or(Protocols {
        imap: true,
        pop3: true,
        smtp: true,
    });
    let local = address.local_part().as_str();

    let mut tx = state.pool.begin().await?;
    store::accounts::purge_expired_address(&mut *tx, domain.id, local).await?;
    if let Some(until) = store::accounts::deleted_holder(&mut *tx, domain.id, local).await? {
        return Err(ApiError::Conflict(format!(
            "{address} was deleted and can be restored until {}; restore it, or create it anew after that",
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    let id = store::accounts::insert(
        &mut *tx,
        &NewAccount {
            domain_id: domain.id,
            local_part: local,
            display_name: display.as_deref(),
            quota_mb,
            protocols: store::accounts::Protocols {
                imap: protocols.imap,
                pop3: protocols.pop3,
                smtp: protocols.smtp,
            },
            password_hash: &hash,
        },
    )
    .await?;
    let row = store::accounts::get_by_id(&mut *tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("inserted account vanished"))?;
    let address = row.address();
    let mut event = account_event(&caller, "account.created", &row, &address);
    event.details = serde_json::json!({ "password": origin });
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Accounts]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Accounts]).await;
    Ok(created(
        &format!("/v1/accounts/{address}"),
        row.version,
        &Account::from(row),
    ))
}

/// List a domain's accounts, by local part.
#[utoipa::path(tag = "accounts", security(("api_key" = [])), params(("domain" = String, Path), ListAccounts),
    responses((status = 200, body = Page<Account>, description = "One page"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}/accounts")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    domain: web::Path<String>,
    query: Query<ListAccounts>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let (page, limit) = page_request(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let domain = find_in_reach(&state, &caller, &domain).await?;
    let rows =
        store::accounts::list(&state.pool, domain.id, q.deleted.unwrap_or(false), &page).await?;
    Ok(HttpResponse::Ok().json(into_page(
        rows,
        limit,
        |r| r.local_part.clone(),
        Account::from,
    )))
}

/// Show an account (also a deleted one, with `deleted_at` set).
#[utoipa::path(tag = "accounts", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 200, body = Account, description = "The account", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach")))]
#[get("/v1/accounts/{address}")]
async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = find(&state, &caller, &address).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Account::from(row)))
}

/// Change display name, quota, status or protocols; honours `If-Match`.
#[utoipa::path(tag = "accounts", security(("api_key" = [])), params(("address" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateAccount,
    responses((status = 200, body = Account, description = "Updated", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/accounts/{address}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    address: web::Path<String>,
    body: Json<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::default();
    let display = match &body.display_name {
        Some(Some(d)) => checks.take(display_name(d)).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let quota_mb = body.quota_mb.and_then(|q| checks.take(quota(q)));
    checks.finish()?;
    let current = find(&state, &caller, &address).await?;
    if current.deleted_at.is_some() {
        return Err(ApiError::Conflict(
            "the account is deleted; restore it first".into(),
        ));
    }
    if if_match(&req).is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let protocols = body.protocols.unwrap_or_default();
    let change = AccountChange {
        display_name: display.as_ref().map(|d| d.as_deref()),
        quota_mb,
        status: body.status.map(AccountStatus::as_str),
        imap: protocols.imap,
        pop3: protocols.pop3,
        smtp: protocols.smtp,
    };
    let mut tx = state.pool.begin().await?;
    if !store::accounts::update(&mut *tx, current.id, &change, Some(current.version)).await? {
        return Err(ApiError::PreconditionFailed);
    }
    let row = store::accounts::get_by_id(&mut *tx, current.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("updated account vanished"))?;
    let address = row.address();
    let mut event = account_event(&caller, "account.updated", &row, &address);
    event.details = serde_json::json!({
        "display_name": change.display_name.is_some(),
        "quota_mb": change.quota_mb,
        "status": change.status,
        "protocols": {"imap": change.imap, "pop3": change.pop3, "smtp": change.smtp},
    });
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Accounts]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Accounts]).await;
    Ok(with_etag(StatusCode::OK, row.version, &Account::from(row)))
}

/// Delete an account: it leaves the mail servers at once and stays restorable for
/// the retention period. Deleting a deleted account again changes nothing (`204`).
#[utoipa::path(tag = "accounts", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 204, description = "Deleted (restorable)"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach")))]
#[delete("/v1/accounts/{address}")]
async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let current = find(&state, &caller, &address).await?;
    if current.deleted_at.is_some() {
        return Ok(HttpResponse::NoContent().finish());
    }
    let mut tx = state.pool.begin().await?;
    if store::accounts::soft_delete(&mut *tx, current.id, state.settings.account_retention_days)
        .await?
    {
        let address = current.address();
        let mut event = account_event(&caller, "account.deleted", &current, &address);
        event.details =
            serde_json::json!({ "retention_days": state.settings.account_retention_days });
        store::audit::record(&mut *tx, &event).await?;
    }
    announce(&mut tx, &[Change::Accounts]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Accounts]).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore a deleted account as it was, password included.
#[utoipa::path(tag = "accounts", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 200, body = Account, description = "Restored", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach, or purged"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is not deleted")))]
#[post("/v1/accounts/{address}/restore")]
async fn restore(
    state: web::Data<AppState>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let current = find(&state, &caller, &address).await?;
    if current.deleted_at.is_none() {
        return Err(ApiError::Conflict("the account is not deleted".into()));
    }
    let mut tx = state.pool.begin().await?;
    if !store::accounts::restore(&mut *tx, current.id).await? {
        return Err(ApiError::NotFound(format!(
            "account {} is past its retention period",
            current.address()
        )));
    }
    let row = store::accounts::get_by_id(&mut *tx, current.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("restored account vanished"))?;
    let address = row.address();
    let event = account_event(&caller, "account.restored", &row, &address);
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Accounts]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Accounts]).await;
    Ok(with_etag(StatusCode::OK, row.version, &Account::from(row)))
}

/// Purges accounts past their retention period; runs in the background.
pub async fn purge_expired(pool: &sqlx::PgPool) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let purged = store::accounts::purge_expired(&mut *tx).await?;
    for p in &purged {
        store::audit::record(
            &mut *tx,
            &store::audit::NewEvent {
                action: "account.purged",
                channel: "system",
                partner_id: p.partner_id,
                customer_id: Some(p.customer_id),
                domain: Some(&p.domain),
                account: Some(&p.address),
                ..Default::default()
            },
        )
        .await?;
    }
    announce(&mut tx, &[Change::Accounts]).await?;
    tx.commit().await?;
    Ok(purged.len())
}
