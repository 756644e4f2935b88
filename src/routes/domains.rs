//! `/v1/domains`: hosted mail domains. Names arrive as Unicode or A-label and are
//! kept as the lowercase A-label (UTS #46), which is what mail servers see.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{announce, audit_event, changed, created, into_page, page_request, with_etag, Page};
use crate::auth::{Caller, Reach, Role};
use crate::domain::{text, DomainName};
use crate::error::{ApiError, FieldError};
use crate::extract::{if_match, Json, Query};
use crate::state::AppState;
use crate::store::changes::Change;
use crate::store::{self, domains::DomainChange, domains::DomainRow};

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
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDomain {
    /// Unicode or A-label.
    #[schema(max_length = 253)]
    pub name: String,
    /// Required for admin and partner keys; a customer key creates its own domains.
    pub customer_id: Option<Uuid>,
    /// Default `default`.
    #[schema(max_length = 64)]
    pub server_profile: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDomain {
    #[schema(max_length = 64)]
    pub server_profile: Option<String>,
    /// Move the domain to another customer in reach.
    pub customer_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDomains {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the A-label name.
    pub q: Option<String>,
}

pub fn parse_domain(raw: &str) -> Result<DomainName, FieldError> {
    DomainName::parse(raw)
        .map_err(|e| FieldError::new("name", "invalid_domain", format!("domain name {e}")))
}

/// The domain named in a path, within the caller's reach; anything else is 404.
pub async fn find_in_reach(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<DomainRow, ApiError> {
    let not_found = || ApiError::not_found("domain");
    let name = DomainName::parse(raw).map_err(|_| not_found())?;
    store::domains::get(&state.pool, caller.reach, name.as_str())
        .await?
        .ok_or_else(not_found)
}

/// A customer named in a body must be in the caller's reach; otherwise it is unknown.
async fn customer_in_reach(state: &AppState, reach: Reach, id: Uuid) -> Result<(), ApiError> {
    match store::customers::get(&state.pool, reach, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::field(
            "customer_id",
            "unknown",
            "no customer with this id",
        )),
    }
}

fn profile_name(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    raw.map(|p| text::bounded("server_profile", p, 64))
        .transpose()
}

/// Add a domain.
#[utoipa::path(tag = "domains", security(("api_key" = [])), request_body = CreateDomain,
    responses((status = 201, body = Domain, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain is already hosted")))]
#[post("/v1/domains")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateDomain>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let name = parse_domain(&body.name)?;
    let profile =
        profile_name(body.server_profile.as_deref())?.unwrap_or_else(|| "default".to_owned());
    let customer_id = match (caller.reach, body.customer_id) {
        (Reach::Customer(own), None) => own,
        (_, None) => {
            return Err(FieldError::new(
                "customer_id",
                "required",
                "is required for admin and partner keys",
            )
            .into())
        }
        (reach, Some(c)) => {
            customer_in_reach(&state, reach, c).await?;
            c
        }
    };
    let mut tx = state.pool.begin().await?;
    store::domains::insert(&mut *tx, name.as_str(), customer_id, &profile).await?;
    let row = store::domains::get(&mut *tx, Reach::All, name.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("inserted domain vanished"))?;
    let mut event = audit_event(&caller, "domain.created");
    event.partner_id = row.partner_id;
    event.customer_id = Some(customer_id);
    event.domain = Some(name.as_str());
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Directory]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Directory]).await;
    Ok(created(
        &format!("/v1/domains/{}", row.name),
        row.version,
        &Domain::from(row),
    ))
}

/// List the domains in reach, by name.
#[utoipa::path(tag = "domains", security(("api_key" = [])), params(ListDomains),
    responses((status = 200, body = Page<Domain>, description = "One page")))]
#[get("/v1/domains")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListDomains>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let (page, limit) = page_request(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let rows = store::domains::list(&state.pool, caller.reach, &page).await?;
    Ok(HttpResponse::Ok().json(into_page(rows, limit, |r| r.name.clone(), Domain::from)))
}

/// Show a domain (Unicode or A-label in the path).
#[utoipa::path(tag = "domains", security(("api_key" = [])), params(("domain" = String, Path)),
    responses((status = 200, body = Domain, description = "The domain", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}")]
async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = find_in_reach(&state, &caller, &domain).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Domain::from(row)))
}

/// Change a domain's server profile or owner; honours `If-Match`.
#[utoipa::path(tag = "domains", security(("api_key" = [])), params(("domain" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateDomain,
    responses((status = 200, body = Domain, description = "Updated"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/domains/{domain}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    domain: web::Path<String>,
    body: Json<UpdateDomain>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Partner])?;
    let body = body.0;
    let profile = profile_name(body.server_profile.as_deref())?;
    let current = find_in_reach(&state, &caller, &domain).await?;
    if let Some(c) = body.customer_id {
        customer_in_reach(&state, caller.reach, c).await?;
    }
    if if_match(&req).is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let change = DomainChange {
        server_profile: profile.as_deref(),
        customer_id: body.customer_id,
    };
    let mut tx = state.pool.begin().await?;
    if !store::domains::update(&mut *tx, current.id, &change, Some(current.version)).await? {
        return Err(ApiError::PreconditionFailed);
    }
    let row = store::domains::get(&mut *tx, Reach::All, &current.name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("updated domain vanished"))?;
    let mut event = audit_event(&caller, "domain.updated");
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.customer_id);
    event.domain = Some(&current.name);
    event.details = serde_json::json!({"server_profile": change.server_profile, "customer_id": change.customer_id});
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Directory, Change::Accounts]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Directory, Change::Accounts]).await;
    Ok(with_etag(StatusCode::OK, row.version, &Domain::from(row)))
}

/// Delete a domain without live accounts. Deleted accounts still in their retention
/// period are purged with it.
#[utoipa::path(tag = "domains", security(("api_key" = [])), params(("domain" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain still has accounts")))]
#[delete("/v1/domains/{domain}")]
async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let current = find_in_reach(&state, &caller, &domain).await?;
    let mut tx = state.pool.begin().await?;
    if !store::domains::delete_if_empty(&mut tx, current.id).await? {
        return Err(ApiError::Conflict(format!(
            "the domain still has {} account(s); delete them first",
            current.account_count.max(1)
        )));
    }
    let mut event = audit_event(&caller, "domain.deleted");
    event.partner_id = current.partner_id;
    event.customer_id = Some(current.customer_id);
    event.domain = Some(&current.name);
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Directory, Change::Accounts]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Directory, Change::Accounts]).await;
    Ok(HttpResponse::NoContent().finish())
}
