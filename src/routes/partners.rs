//! `/v1/partners`: resellers. Admin keys only.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{created, path, with_etag};
use crate::app::partners as use_case;
use crate::app::App;
use crate::domain::paging::{Page, Paging};
use crate::domain::text::{self, MAX_PARTNER_NAME};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::extract::{if_match, Json, Query};
use crate::store::partners::PartnerRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove);
}

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
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartner {
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
#[utoipa::path(operation_id = "createPartner", tag = "partners", security(("api_key" = ["admin"])), request_body = CreatePartner,
    responses((status = 201, body = Partner, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Name taken")))]
#[post("/v1/partners")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    body: Json<CreatePartner>,
) -> Result<HttpResponse, ApiError> {
    let name = text::bounded("name", &body.0.name, MAX_PARTNER_NAME)?;
    let row = use_case::create(&app, &caller, &name).await?;
    let location = format!("/v1/partners/{}", row.id);
    Ok(created(&location, row.version, &Partner::from(row)))
}

/// List partners.
#[utoipa::path(operation_id = "listPartners", tag = "partners", security(("api_key" = ["admin"])), params(ListPartners),
    responses((status = 200, body = Page<Partner>, description = "One page")))]
#[get("/v1/partners")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    query: Query<ListPartners>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let page = use_case::list(&app, &caller, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Partner::from)))
}

/// Show a partner.
#[utoipa::path(operation_id = "getPartner", tag = "partners", security(("api_key" = ["admin"])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Partner, description = "The partner", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such partner")))]
#[get("/v1/partners/{id}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, path::id(&id, "partner")?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Partner::from(row)))
}

/// Rename a partner; honours `If-Match`.
#[utoipa::path(operation_id = "updatePartner", tag = "partners", security(("api_key" = ["admin"])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdatePartner,
    responses((status = 200, body = Partner, description = "Updated"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such partner"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Name taken"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[patch("/v1/partners/{id}")]
async fn update(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdatePartner>,
) -> Result<HttpResponse, ApiError> {
    let id = path::id(&id, "partner")?;
    let name = text::optional("name", body.0.name.as_deref(), MAX_PARTNER_NAME)?;
    let row = use_case::rename(&app, &caller, id, name.as_deref(), if_match(&req)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Partner::from(row)))
}

/// Delete a partner that has no customers left.
#[utoipa::path(operation_id = "deletePartner", tag = "partners", security(("api_key" = ["admin"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such partner"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The partner still has customers")))]
#[delete("/v1/partners/{id}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, path::id(&id, "partner")?).await?;
    Ok(HttpResponse::NoContent().finish())
}
