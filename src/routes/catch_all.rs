//! `/v1/domains/{domain}/catch-all`: mail for addresses of the domain that are
//! neither account nor alias. Postfix looks it up only after every full address
//! missed, so it never takes an account's or an alias's mail.

use actix_web::http::StatusCode;
use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{path, with_etag};
use crate::app::catch_all as use_case;
use crate::app::App;
use crate::domain::routing::Destinations;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::extract::{if_match, Json};
use crate::store::catch_alls::CatchAllRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(show).service(replace).service(remove);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatchAll {
    pub destinations: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CatchAllRow> for CatchAll {
    fn from(r: CatchAllRow) -> Self {
        Self {
            destinations: r.destinations,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCatchAll {
    /// 1..=100 (configurable) addresses, local or external, without duplicates.
    #[schema(example = json!(["max@mustermann.at"]))]
    pub destinations: Vec<String>,
}

/// Show a domain's catch-all.
#[utoipa::path(operation_id = "getCatchAll", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)),
    responses((status = 200, body = CatchAll, description = "The catch-all", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach, or it has no catch-all")))]
#[get("/v1/domains/{domain}/catch-all")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, &path::domain(&domain)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &CatchAll::from(row)))
}

/// Set or replace a domain's catch-all; honours `If-Match` (a catch-all that does
/// not exist matches no tag). Not for alias domains: theirs is their target's.
#[utoipa::path(operation_id = "setCatchAll", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = SetCatchAll,
    responses((status = 200, body = CatchAll, description = "Replaced", headers(("ETag" = String))),
              (status = 201, body = CatchAll, description = "Created", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain is an alias domain"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Invalid destinations, or a routing loop (`routing_loop`)")))]
#[put("/v1/domains/{domain}/catch-all")]
async fn replace(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    domain: web::Path<String>,
    body: Json<SetCatchAll>,
) -> Result<HttpResponse, ApiError> {
    let destinations = Destinations::parse(
        "destinations",
        &body.0.destinations,
        app.settings.max_destinations,
    )?;
    let domain = path::domain(&domain)?;
    let (row, new) = use_case::put(&app, &caller, &domain, destinations, if_match(&req)?).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(status, row.version, &CatchAll::from(row)))
}

/// Remove a domain's catch-all; removing none changes nothing (`204`).
#[utoipa::path(operation_id = "deleteCatchAll", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)),
    responses((status = 204, description = "Removed"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[delete("/v1/domains/{domain}/catch-all")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, &path::domain(&domain)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
