//! `/v1/customers`: the owners of domains. Admins manage all, partners their own;
//! a customer key may read its own customer record.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{created, nullable, path, with_etag};
use crate::app::customers::{self as use_case, Change, NewCustomer};
use crate::app::App;
use crate::domain::field::collect;
use crate::domain::paging::{Page, Paging};
use crate::domain::text::{self, MAX_CUSTOMER_NAME, MAX_EXTERNAL_REF};
use crate::domain::{Caller, FieldError};
use crate::error::ApiError;
use crate::extract::{if_match, Json, Query};
use crate::store::customers::CustomerRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove);
}

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
    pub name: String,
    /// Admin keys only: the partner the customer belongs to (none: the provider's own).
    /// A partner key creates customers of its own partner.
    pub partner_id: Option<Uuid>,
    /// Your own reference, unique per partner: a retried create with the same
    /// reference answers 409 instead of creating the customer twice.
    pub external_ref: Option<String>,
}

impl TryFrom<CreateCustomer> for NewCustomer {
    type Error = Vec<FieldError>;

    fn try_from(b: CreateCustomer) -> Result<Self, Self::Error> {
        let name = text::bounded("name", &b.name, MAX_CUSTOMER_NAME);
        let external_ref =
            text::optional("external_ref", b.external_ref.as_deref(), MAX_EXTERNAL_REF);
        match (name, external_ref) {
            (Ok(name), Ok(external_ref)) => Ok(Self {
                name,
                partner_id: b.partner_id,
                external_ref,
            }),
            (n, r) => Err(collect([n.err(), r.err()])),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomer {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
}

impl TryFrom<UpdateCustomer> for Change {
    type Error = Vec<FieldError>;

    fn try_from(b: UpdateCustomer) -> Result<Self, Self::Error> {
        let name = text::optional("name", b.name.as_deref(), MAX_CUSTOMER_NAME);
        let external_ref = match b.external_ref {
            Some(r) => text::optional("external_ref", r.as_deref(), MAX_EXTERNAL_REF).map(Some),
            None => Ok(None),
        };
        match (name, external_ref) {
            (Ok(name), Ok(external_ref)) => Ok(Self { name, external_ref }),
            (n, r) => Err(collect([n.err(), r.err()])),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCustomers {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Text found anywhere in the name or the external reference, in any case; `%`
    /// and `_` are plain characters.
    pub q: Option<String>,
}

/// Create a customer.
#[utoipa::path(operation_id = "createCustomer", tag = "customers", security(("api_key" = ["admin", "partner"])), request_body = CreateCustomer,
    responses((status = 201, body = Customer, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "external_ref taken")))]
#[post("/v1/customers")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    body: Json<CreateCustomer>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::create(&app, &caller, NewCustomer::try_from(body.0)?).await?;
    let location = format!("/v1/customers/{}", row.id);
    Ok(created(&location, row.version, &Customer::from(row)))
}

/// List the customers in reach.
#[utoipa::path(operation_id = "listCustomers", tag = "customers", security(("api_key" = ["admin", "partner", "customer"])), params(ListCustomers),
    responses((status = 200, body = Page<Customer>, description = "One page")))]
#[get("/v1/customers")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    query: Query<ListCustomers>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let page = use_case::list(&app, &caller, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Customer::from)))
}

/// Show a customer.
#[utoipa::path(operation_id = "getCustomer", tag = "customers", security(("api_key" = ["admin", "partner", "customer"])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Customer, description = "The customer", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such customer in reach")))]
#[get("/v1/customers/{id}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, path::id(&id, "customer")?).await?;
    Ok(with_etag(
        StatusCode::OK,
        row.version,
        &Customer::from(row.into_inner()),
    ))
}

/// Change a customer; honours `If-Match`.
#[utoipa::path(operation_id = "updateCustomer", tag = "customers", security(("api_key" = ["admin", "partner"])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateCustomer,
    responses((status = 200, body = Customer, description = "Updated"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such customer in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "external_ref taken"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/customers/{id}")]
async fn update(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateCustomer>,
) -> Result<HttpResponse, ApiError> {
    let id = path::id(&id, "customer")?;
    let change = Change::try_from(body.0)?;
    let row = use_case::update(&app, &caller, id, change, if_match(&req)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Customer::from(row)))
}

/// Delete a customer that has no domains left.
#[utoipa::path(operation_id = "deleteCustomer", tag = "customers", security(("api_key" = ["admin", "partner"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such customer in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The customer still has domains")))]
#[delete("/v1/customers/{id}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, path::id(&id, "customer")?).await?;
    Ok(HttpResponse::NoContent().finish())
}
