//! `/v1/partners`: resellers. Admin keys only.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    announce, audit_event, changed, created, into_page, page_request, parse_id, with_etag, Page,
};
use crate::auth::{Caller, Role};
use crate::domain::text;
use crate::error::ApiError;
use crate::extract::{if_match, Json, Query};
use crate::state::AppState;
use crate::store::changes::Change;
use crate::store::{self, partners::PartnerRow};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove);
}

const NAME_MAX: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct Partner {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PartnerRow> for Partner {
    fn from(r: PartnerRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePartner {
    /// Unique; a retried create answers 409 instead of creating a second partner.
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartner {
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPartners {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the name.
    pub q: Option<String>,
}

/// Create a partner.
#[utoipa::path(tag = "partners", security(("api_key" = [])), request_body = CreatePartner,
    responses((status = 201, body = Partner, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Name taken")))]
#[post("/v1/partners")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreatePartner>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let name = text::bounded("name", &body.0.name, NAME_MAX)?;
    let mut tx = state.pool.begin().await?;
    let row = store::partners::insert(&mut *tx, &name).await?;
    let mut event = audit_event(&caller, "partner.created");
    event.partner_id = Some(row.id);
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(created(
        &format!("/v1/partners/{}", row.id),
        row.version,
        &Partner::from(row),
    ))
}

/// List partners.
#[utoipa::path(tag = "partners", security(("api_key" = [])), params(ListPartners),
    responses((status = 200, body = Page<Partner>, description = "One page")))]
#[get("/v1/partners")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListPartners>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let q = query.0;
    let (page, limit) = page_request(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let rows = store::partners::list(&state.pool, &page).await?;
    Ok(HttpResponse::Ok().json(into_page(rows, limit, |r| r.id.to_string(), Partner::from)))
}

/// Show a partner.
#[utoipa::path(tag = "partners", security(("api_key" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Partner, description = "The partner", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such partner")))]
#[get("/v1/partners/{id}")]
async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(&id, "partner")?;
    let row = store::partners::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))?;
    Ok(with_etag(StatusCode::OK, row.version, &Partner::from(row)))
}

/// Rename a partner; honours `If-Match`.
#[utoipa::path(tag = "partners", security(("api_key" = [])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdatePartner,
    responses((status = 200, body = Partner, description = "Updated"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such partner"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Name taken"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/partners/{id}")]
async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdatePartner>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(&id, "partner")?;
    let name = body
        .0
        .name
        .map(|n| text::bounded("name", &n, NAME_MAX))
        .transpose()?;
    let mut tx = state.pool.begin().await?;
    let current = store::partners::get(&mut *tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))?;
    let expected = if_match(&req);
    if expected.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let row = store::partners::update(&mut *tx, id, name.as_deref(), Some(current.version))
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    let mut event = audit_event(&caller, "partner.updated");
    event.partner_id = Some(id);
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::OK, row.version, &Partner::from(row)))
}

/// Delete a partner that has no customers left.
#[utoipa::path(tag = "partners", security(("api_key" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such partner"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The partner still has customers")))]
#[delete("/v1/partners/{id}")]
async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(&id, "partner")?;
    let mut tx = state.pool.begin().await?;
    if !store::partners::delete(&mut *tx, id).await? {
        return Err(ApiError::not_found("partner"));
    }
    let mut event = audit_event(&caller, "partner.deleted");
    event.partner_id = Some(id);
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Keys]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Keys]).await;
    Ok(HttpResponse::NoContent().finish())
}
