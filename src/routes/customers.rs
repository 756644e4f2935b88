//! `/v1/customers`: the owners of domains. Admins manage all, partners their own;
//! a customer key may read its own customer record.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    announce, audit_event, changed, created, into_page, nullable, page_request, parse_id,
    with_etag, Page,
};
use crate::auth::{Caller, Reach, Role};
use crate::domain::text::{self, Checks};
use crate::error::{ApiError, FieldError};
use crate::extract::{if_match, Json, Query};
use crate::state::AppState;
use crate::store::changes::Change;
use crate::store::{self, customers::CustomerChange, customers::CustomerRow};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove);
}

const NAME_MAX: usize = 200;
const REF_MAX: usize = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    pub id: Uuid,
    pub partner_id: Option<Uuid>,
    pub name: String,
    /// The partner's own reference for this customer, unique per partner.
    pub external_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Self {
        Self {
            id: r.id,
            partner_id: r.partner_id,
            name: r.name,
            external_ref: r.external_ref,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    #[schema(max_length = 200)]
    pub name: String,
    /// Admin keys only: the partner the customer belongs to (none: the provider's own).
    /// A partner key creates customers of its own partner.
    pub partner_id: Option<Uuid>,
    /// Your own reference, unique per partner: a retried create with the same
    /// reference answers 409 instead of creating the customer twice.
    #[schema(max_length = 100)]
    pub external_ref: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomer {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub external_ref: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCustomers {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the name or external reference.
    pub q: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found("customer")
}

/// Create a customer.
#[utoipa::path(tag = "customers", security(("api_key" = [])), request_body = CreateCustomer,
    responses((status = 201, body = Customer, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "external_ref taken")))]
#[post("/v1/customers")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateCustomer>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Partner])?;
    let body = body.0;
    let mut checks = Checks::default();
    let name = checks.take(text::bounded("name", &body.name, NAME_MAX));
    let external_ref = body
        .external_ref
        .as_deref()
        .map(|r| checks.take(text::bounded("external_ref", r, REF_MAX)));
    let partner_id = match (caller.reach, body.partner_id) {
        (Reach::All, p) => p,
        (Reach::Partner(own), None) => Some(own),
        (Reach::Partner(own), Some(p)) if p == own => Some(own),
        _ => {
            checks.push(FieldError::new(
                "partner_id",
                "not_allowed",
                "a partner key creates customers of its own partner",
            ));
            None
        }
    };
    checks.finish()?;
    let name = name.unwrap_or_default();
    let mut tx = state.pool.begin().await?;
    if let Some(p) = partner_id {
        if store::partners::get(&mut *tx, p).await?.is_none() {
            return Err(ApiError::field(
                "partner_id",
                "unknown",
                "no partner with this id",
            ));
        }
    }
    let row = store::customers::insert(
        &mut *tx,
        partner_id,
        &name,
        external_ref.flatten().as_deref(),
    )
    .await?;
    let mut event = audit_event(&caller, "customer.created");
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.id);
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(created(
        &format!("/v1/customers/{}", row.id),
        row.version,
        &Customer::from(row),
    ))
}

/// List the customers in reach.
#[utoipa::path(tag = "customers", security(("api_key" = [])), params(ListCustomers),
    responses((status = 200, body = Page<Customer>, description = "One page")))]
#[get("/v1/customers")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListCustomers>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let (page, limit) = page_request(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let rows = store::customers::list(&state.pool, caller.reach, &page).await?;
    Ok(HttpResponse::Ok().json(into_page(rows, limit, |r| r.id.to_string(), Customer::from)))
}

/// Show a customer.
#[utoipa::path(tag = "customers", security(("api_key" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Customer, description = "The customer", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such customer in reach")))]
#[get("/v1/customers/{id}")]
async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "customer")?;
    let row = store::customers::get(&state.pool, caller.reach, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(with_etag(StatusCode::OK, row.version, &Customer::from(row)))
}

/// Change a customer; honours `If-Match`.
#[utoipa::path(tag = "customers", security(("api_key" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateCustomer,
    responses((status = 200, body = Customer, description = "Updated"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such customer in reach"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/customers/{id}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateCustomer>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Partner])?;
    let id = parse_id(&id, "customer")?;
    let body = body.0;
    let mut checks = Checks::default();
    let name = body
        .name
        .as_deref()
        .and_then(|n| checks.take(text::bounded("name", n, NAME_MAX)));
    let external_ref = match &body.external_ref {
        Some(Some(r)) => checks
            .take(text::bounded("external_ref", r, REF_MAX))
            .map(Some),
        Some(None) => Some(None),
        None => None,
    };
    checks.finish()?;
    let mut tx = state.pool.begin().await?;
    let current = store::customers::get(&mut *tx, caller.reach, id)
        .await?
        .ok_or_else(not_found)?;
    if if_match(&req).is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let change = CustomerChange {
        name: name.as_deref(),
        external_ref: external_ref.as_ref().map(|r| r.as_deref()),
    };
    let row = store::customers::update(&mut *tx, caller.reach, id, &change, Some(current.version))
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    let mut event = audit_event(&caller, "customer.updated");
    event.partner_id = row.partner_id;
    event.customer_id = Some(id);
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::OK, row.version, &Customer::from(row)))
}

/// Delete a customer that has no domains left.
#[utoipa::path(tag = "customers", security(("api_key" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such customer in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The customer still has domains")))]
#[delete("/v1/customers/{id}")]
async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Partner])?;
    let id = parse_id(&id, "customer")?;
    let mut tx = state.pool.begin().await?;
    let current = store::customers::get(&mut *tx, caller.reach, id)
        .await?
        .ok_or_else(not_found)?;
    store::customers::delete(&mut *tx, caller.reach, id).await?;
    let mut event = audit_event(&caller, "customer.deleted");
    event.partner_id = current.partner_id;
    event.customer_id = Some(id);
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Keys]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Keys]).await;
    Ok(HttpResponse::NoContent().finish())
}
