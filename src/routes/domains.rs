//! `/v1/domains`: hosted mail domains. Names arrive as Unicode or A-label and are
//! kept as the lowercase A-label (UTS #46), which is what mail servers see.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{created, path, with_etag};
use crate::app::domains::{self as use_case, Change, NewDomain};
use crate::app::App;
use crate::domain::account::{MAX_ITEMS_LIMIT, MAX_QUOTA_LIMIT};
use crate::domain::field::collect;
use crate::domain::integer::nullable_whole;
use crate::domain::paging::{Page, Paging};
use crate::domain::profile::MAX_NAME_LEN;
use crate::domain::{text, Caller, DomainName, FieldError};
use crate::error::ApiError;
use crate::extract::{if_match, Json, Query};
use crate::store::domains::DomainRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Domain {
    /// Lowercase A-label, e.g. `xn--mller-kva.at`.
    pub name: String,
    /// The same name in Unicode, e.g. `müller.at`.
    pub name_unicode: String,
    pub customer_id: Uuid,
    pub server_profile: String,
    /// Live (not deleted) accounts.
    pub account_count: i64,
    pub alias_count: i64,
    /// The sum of the live accounts' quotas, in MB.
    pub quota_mb_allocated: i64,
    /// For an alias domain, the domain its mail goes to (`x@this` is delivered as
    /// `x@alias_of`); `null` for an ordinary domain.
    pub alias_of: Option<String>,
    /// Package limits; `null` is unlimited. Creating past a limit answers `409
    /// limit_reached`. A limit set below what is used already blocks growth only.
    pub max_accounts: Option<i32>,
    pub max_aliases: Option<i32>,
    /// The most the live accounts' quotas may add up to, in MB.
    pub max_quota_mb: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DomainRow> for Domain {
    fn from(r: DomainRow) -> Self {
        Self {
            name_unicode: DomainName::from_trusted(r.name.clone()).to_unicode(),
            name: r.name,
            customer_id: r.customer_id,
            server_profile: r.server_profile,
            account_count: r.account_count,
            alias_count: r.alias_count,
            quota_mb_allocated: r.quota_mb_allocated,
            alias_of: r.alias_of,
            max_accounts: r.max_accounts,
            max_aliases: r.max_aliases,
            max_quota_mb: r.max_quota_mb,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDomain {
    /// Unicode or A-label.
    pub name: String,
    /// Required for admin and partner keys, except for an alias domain (which
    /// belongs to its target's customer); a customer key creates its own domains.
    pub customer_id: Option<Uuid>,
    /// Default `default` (for an alias domain: its target's).
    pub server_profile: Option<String>,
    /// Makes this an alias domain of a hosted domain in reach (Unicode or A-label):
    /// `x@this` is delivered as `x@alias_of` for every account and alias there, and
    /// auto-configuration answers with the target's user name. An alias domain holds
    /// no accounts, aliases or catch-all of its own.
    pub alias_of: Option<String>,
}

fn profile_name(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    text::optional("server_profile", raw, MAX_NAME_LEN)
}

impl TryFrom<CreateDomain> for NewDomain {
    type Error = Vec<FieldError>;

    fn try_from(b: CreateDomain) -> Result<Self, Self::Error> {
        let name = DomainName::parse(&b.name)
            .map_err(|e| FieldError::new("name", "invalid_domain", format!("domain name {e}")));
        let profile = profile_name(b.server_profile.as_deref());
        let alias_of = b
            .alias_of
            .as_deref()
            .map(|a| {
                DomainName::parse(a).map_err(|e| {
                    FieldError::new("alias_of", "invalid_domain", format!("domain name {e}"))
                })
            })
            .transpose();
        match (name, profile, alias_of) {
            (Ok(name), Ok(server_profile), Ok(alias_of)) => Ok(Self {
                name,
                customer_id: b.customer_id,
                server_profile,
                alias_of,
            }),
            (n, p, a) => Err(collect([n.err(), p.err(), a.err()])),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDomain {
    pub server_profile: Option<String>,
    /// Move the domain (and its alias domains) to another customer in reach.
    pub customer_id: Option<Uuid>,
    /// `null` makes it unlimited.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = Option<i32>)]
    pub max_accounts: Option<Option<i32>>,
    /// `null` makes it unlimited.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = Option<i32>)]
    pub max_aliases: Option<Option<i32>>,
    /// `null` makes it unlimited.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = Option<i64>)]
    pub max_quota_mb: Option<Option<i64>>,
}

impl TryFrom<UpdateDomain> for Change {
    type Error = Vec<FieldError>;

    fn try_from(b: UpdateDomain) -> Result<Self, Self::Error> {
        let profile = profile_name(b.server_profile.as_deref());
        let accounts = limit("max_accounts", b.max_accounts, MAX_ITEMS_LIMIT);
        let aliases = limit("max_aliases", b.max_aliases, MAX_ITEMS_LIMIT);
        let quota = limit("max_quota_mb", b.max_quota_mb, MAX_QUOTA_LIMIT);
        match (profile, accounts, aliases, quota) {
            (Ok(server_profile), Ok(max_accounts), Ok(max_aliases), Ok(max_quota_mb)) => Ok(Self {
                server_profile,
                customer_id: b.customer_id,
                max_accounts,
                max_aliases,
                max_quota_mb,
            }),
            (p, a, l, q) => Err(collect([p.err(), a.err(), l.err(), q.err()])),
        }
    }
}

/// A package limit: absent, `null` (unlimited) or 0..=max.
fn limit<T: Copy + PartialOrd + Into<i64>>(
    field: &str,
    value: Option<Option<T>>,
    max: i64,
) -> Result<Option<Option<T>>, FieldError> {
    match value {
        Some(Some(n)) if n.into() < 0 || n.into() > max => Err(FieldError::new(
            field,
            "out_of_range",
            format!("must be between 0 and {max}, or null for unlimited"),
        )),
        v => Ok(v),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDomains {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Text found anywhere in the name, in its A-label or its Unicode form
    /// (`xn--mller-kva` and `müller` both find `müller.at`), in any case; `%` and `_`
    /// are plain characters.
    pub q: Option<String>,
}

/// Add a domain.
#[utoipa::path(operation_id = "createDomain", tag = "domains", security(("api_key" = ["admin", "partner", "customer"])), request_body = CreateDomain,
    responses((status = 201, body = Domain, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain is already hosted")))]
#[post("/v1/domains")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    body: Json<CreateDomain>,
) -> Result<HttpResponse, ApiError> {
    let command = NewDomain::try_from(body.0)?;
    let row = use_case::create(&app, &caller, command).await?;
    let location = format!("/v1/domains/{}", row.name);
    Ok(created(&location, row.version, &Domain::from(row)))
}

/// List the domains in reach, by name.
#[utoipa::path(operation_id = "listDomains", tag = "domains", security(("api_key" = ["admin", "partner", "customer"])), params(ListDomains),
    responses((status = 200, body = Page<Domain>, description = "One page")))]
#[get("/v1/domains")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    query: Query<ListDomains>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let page = use_case::list(&app, &caller, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Domain::from)))
}

/// Show a domain (Unicode or A-label in the path).
#[utoipa::path(operation_id = "getDomain", tag = "domains", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)),
    responses((status = 200, body = Domain, description = "The domain", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, &path::domain(&domain)?).await?;
    Ok(with_etag(
        StatusCode::OK,
        row.version,
        &Domain::from(row.into_inner()),
    ))
}

/// Change a domain's server profile, owner or package limits (admin and partner
/// keys); honours `If-Match`.
#[utoipa::path(operation_id = "updateDomain", tag = "domains", security(("api_key" = ["admin", "partner"])), params(("domain" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateDomain,
    responses((status = 200, body = Domain, description = "Updated"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "An alias domain has no limits or owner of its own"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/domains/{domain}")]
async fn update(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    domain: web::Path<String>,
    body: Json<UpdateDomain>,
) -> Result<HttpResponse, ApiError> {
    let change = Change::try_from(body.0)?;
    let domain = path::domain(&domain)?;
    let row = use_case::update(&app, &caller, &domain, change, if_match(&req)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Domain::from(row)))
}

/// Delete a domain without live accounts. Deleted accounts still in their retention
/// period are purged with it.
#[utoipa::path(operation_id = "deleteDomain", tag = "domains", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain still has accounts, or alias domains point to it")))]
#[delete("/v1/domains/{domain}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, &path::domain(&domain)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
