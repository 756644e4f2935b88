//! `/v1/server-profiles`: host names and endpoints that domains' mail clients use.
//! Admin keys write them; every key may read them (domains name their profile).

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{created, with_etag};
use crate::app::profiles::{self as use_case, Save};
use crate::app::App;
use crate::domain::paging::Page;
use crate::domain::profile::{self, Endpoint, ProfileInput};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::extract::{if_match, Json};
use crate::store::profiles::ProfileRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(replace)
        .service(remove);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub name: String,
    pub incoming_host: String,
    pub outgoing_host: String,
    pub webmail_url: Option<String>,
    pub endpoints: Vec<Endpoint>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ProfileRow> for Profile {
    fn from(r: ProfileRow) -> Self {
        Self {
            name: r.name,
            incoming_host: r.incoming_host,
            outgoing_host: r.outgoing_host,
            webmail_url: r.webmail_url,
            endpoints: r.endpoints.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A profile with its name: what `POST` takes (`PUT` names it in the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProfile {
    /// 1 to 64 of a-z, 0-9, `-` and `_`.
    #[schema(example = "reseller-a")]
    pub name: String,
    pub incoming_host: String,
    pub outgoing_host: String,
    pub webmail_url: Option<String>,
    pub endpoints: Vec<Endpoint>,
}

/// Create a server profile.
#[utoipa::path(operation_id = "createServerProfile", tag = "server-profiles", security(("api_key" = ["admin"])), request_body = CreateProfile,
    responses((status = 201, body = Profile, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The name is taken")))]
#[post("/v1/server-profiles")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    body: Json<CreateProfile>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let name = profile::parse_name(&b.name)?;
    let input = ProfileInput {
        incoming_host: b.incoming_host,
        outgoing_host: b.outgoing_host,
        webmail_url: b.webmail_url,
        endpoints: b.endpoints,
    };
    let profile = input.into_profile(name)?;
    let saved = use_case::save(&app, &caller, profile, Save::CreateOnly).await?;
    let location = format!("/v1/server-profiles/{}", saved.row.name);
    Ok(created(
        &location,
        saved.row.version,
        &Profile::from(saved.row),
    ))
}

/// List the server profiles.
#[utoipa::path(operation_id = "listServerProfiles", tag = "server-profiles", security(("api_key" = ["admin", "partner", "customer"])),
    responses((status = 200, body = Page<Profile>, description = "All profiles (there are few; one page)")))]
#[get("/v1/server-profiles")]
async fn list(app: web::Data<App>, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let rows = use_case::list(&app).await?;
    Ok(HttpResponse::Ok().json(Page::all(rows).map(Profile::from)))
}

/// Show a server profile.
#[utoipa::path(operation_id = "getServerProfile", tag = "server-profiles", security(("api_key" = ["admin", "partner", "customer"])), params(("name" = String, Path)),
    responses((status = 200, body = Profile, description = "The profile", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such profile")))]
#[get("/v1/server-profiles/{name}")]
async fn show(
    app: web::Data<App>,
    _caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &name).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Profile::from(row)))
}

/// Create or replace a server profile; honours `If-Match`. Domains using it, and
/// the auto-configuration they serve, follow at once.
#[utoipa::path(operation_id = "replaceServerProfile", tag = "server-profiles", security(("api_key" = ["admin"])), params(("name" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ProfileInput,
    responses((status = 200, body = Profile, description = "Replaced"),
              (status = 201, body = Profile, description = "Created"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "The name is not a profile name (1 to 64 of a-z, 0-9, `-` and `_`)"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[put("/v1/server-profiles/{name}")]
async fn replace(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: Json<ProfileInput>,
) -> Result<HttpResponse, ApiError> {
    let name = profile::parse_name(&name).map_err(|_| ApiError::not_found("server profile"))?;
    let profile = body.0.into_profile(name)?;
    let how = Save::CreateOrReplace {
        expected: if_match(&req)?,
    };
    let saved = use_case::save(&app, &caller, profile, how).await?;
    let status = if saved.inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_etag(
        status,
        saved.row.version,
        &Profile::from(saved.row),
    ))
}

/// Delete a server profile no domain uses. `default` cannot be deleted.
#[utoipa::path(operation_id = "deleteServerProfile", tag = "server-profiles", security(("api_key" = ["admin"])), params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such profile"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "`default`, or used by domains")))]
#[delete("/v1/server-profiles/{name}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}
