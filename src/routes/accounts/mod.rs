//! Mail accounts: `/v1/domains/{domain}/accounts` and `/v1/accounts/{address}`.
//! Deleting is soft: the account can be restored until its retention period ends.
//! The request and answer bodies are in `body.rs`, the batch import in `batch.rs`,
//! the app passwords in `app_passwords.rs`.

mod app_passwords;
mod batch;
mod body;

pub use batch::{CreateAccounts, CreatedAccounts};
pub use body::{Account, CreateAccount, ForwardingIn, ForwardingOut, UpdateAccount, WelcomeIn};

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{created, path, with_etag};
use crate::app::accounts::{self as use_case, Rename};
use crate::app::App;
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, FieldError, LocalPart};
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
        .service(batch::create_batch)
        .service(app_passwords::create)
        .service(app_passwords::list)
        .service(app_passwords::revoke);
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
#[utoipa::path(operation_id = "createAccount", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)), request_body = CreateAccount,
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
#[utoipa::path(operation_id = "listAccounts", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path), ListAccounts),
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
#[utoipa::path(operation_id = "getAccount", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
    responses((status = 200, body = Account, description = "The account", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach")))]
#[get("/v1/accounts/{address}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, &path::address(&address)?).await?;
    Ok(with_etag(
        StatusCode::OK,
        row.version,
        &Account::from(row.into_inner()),
    ))
}

/// Change display name, quota, status, protocols or forwarding; honours `If-Match`.
#[utoipa::path(operation_id = "updateAccount", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path), ("If-Match" = Option<String>, Header)),
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
#[utoipa::path(operation_id = "deleteAccount", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
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
#[utoipa::path(operation_id = "restoreAccount", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
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
#[utoipa::path(operation_id = "renameAccount", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path), ("If-Match" = Option<String>, Header)),
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
