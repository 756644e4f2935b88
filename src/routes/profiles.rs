//! `/v1/server-profiles`: host names and endpoints that domains' mail clients use.
//! Admin keys write them; every key may read them (domains name their profile).

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{announce, audit_event, changed, created, with_etag, Page};
use crate::auth::{Caller, Role};
use crate::domain::profile::{self, Endpoint, ProfileInput};
use crate::error::ApiError;
use crate::extract::{if_match, Json};
use crate::state::AppState;
use crate::store::changes::Change;
use crate::store::{self, profiles::ProfileRow};

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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProfile {
    /// 1 to 64 of a-z, 0-9, `-` and `_`.
    #[schema(max_length = 64, example = "reseller-a")]
    pub name: String,
    #[schema(max_length = 253)]
    pub incoming_host: String,
    #[schema(max_length = 253)]
    pub outgoing_host: String,
    #[schema(max_length = 2048)]
    pub webmail_url: Option<String>,
    #[schema(max_items = 32)]
    pub endpoints: Vec<Endpoint>,
}

fn not_found() -> ApiError {
    ApiError::not_found("server profile")
}

async fn save(
    state: &AppState,
    caller: &Caller,
    name: String,
    input: ProfileInput,
    expected: Option<i32>,
    must_be_new: bool,
) -> Result<store::profiles::Upserted, ApiError> {
    let profile = input.into_profile(name).map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    if must_be_new
        && store::profiles::get(&mut *tx, &profile.name)
            .await?
            .is_some()
    {
        return Err(ApiError::Conflict(
            "a server profile with this name exists; PUT replaces it".into(),
        ));
    }
    let saved = store::profiles::upsert(&mut *tx, &profile, expected)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    let mut event = audit_event(
        caller,
        if saved.inserted {
            "server_profile.created"
        } else {
            "server_profile.updated"
        },
    );
    event.details = serde_json::json!({ "name": profile.name });
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Directory]).await?;
    tx.commit().await?;
    changed(state, &[Change::Directory]).await;
    Ok(saved)
}

/// Create a server profile.
#[utoipa::path(tag = "server-profiles", security(("api_key" = [])), request_body = CreateProfile,
    responses((status = 201, body = Profile, description = "Created"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The name is taken")))]
#[post("/v1/server-profiles")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateProfile>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let b = body.0;
    let name = profile::parse_name(&b.name)?;
    let input = ProfileInput {
        incoming_host: b.incoming_host,
        outgoing_host: b.outgoing_host,
        webmail_url: b.webmail_url,
        endpoints: b.endpoints,
    };
    let saved = save(&state, &caller, name, input, None, true).await?;
    Ok(created(
        &format!("/v1/server-profiles/{}", saved.row.name),
        saved.row.version,
        &Profile::from(saved.row),
    ))
}

/// List the server profiles.
#[utoipa::path(tag = "server-profiles", security(("api_key" = [])),
    responses((status = 200, body = Page<Profile>, description = "All profiles (there are few; one page)")))]
#[get("/v1/server-profiles")]
async fn list(state: web::Data<AppState>, _caller: Caller) -> Result<HttpResponse, ApiError> {
    let items = store::profiles::all(&state.pool)
        .await?
        .into_iter()
        .map(Profile::from)
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Show a server profile.
#[utoipa::path(tag = "server-profiles", security(("api_key" = [])), params(("name" = String, Path)),
    responses((status = 200, body = Profile, description = "The profile", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such profile")))]
#[get("/v1/server-profiles/{name}")]
async fn show(
    state: web::Data<AppState>,
    _caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = store::profiles::get(&state.pool, &name)
        .await?
        .ok_or_else(not_found)?;
    Ok(with_etag(StatusCode::OK, row.version, &Profile::from(row)))
}

/// Create or replace a server profile; honours `If-Match`. Domains using it, and
/// the auto-configuration they serve, follow at once.
#[utoipa::path(tag = "server-profiles", security(("api_key" = [])), params(("name" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ProfileInput,
    responses((status = 200, body = Profile, description = "Replaced"),
              (status = 201, body = Profile, description = "Created"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch")))]
#[put("/v1/server-profiles/{name}")]
async fn replace(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: Json<ProfileInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let name = profile::parse_name(&name).map_err(|_| not_found())?;
    let saved = save(&state, &caller, name, body.0, if_match(&req), false).await?;
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
#[utoipa::path(tag = "server-profiles", security(("api_key" = [])), params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such profile"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "`default`, or used by domains")))]
#[delete("/v1/server-profiles/{name}")]
async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if name.as_str() == "default" {
        return Err(ApiError::Conflict(
            "the default profile cannot be deleted".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    let used = store::profiles::domains_using(&mut *tx, &name).await?;
    if used > 0 {
        return Err(ApiError::Conflict(format!(
            "{used} domain(s) use this profile; move them first"
        )));
    }
    if !store::profiles::delete(&mut *tx, &name).await? {
        return Err(not_found());
    }
    let mut event = audit_event(&caller, "server_profile.deleted");
    event.details = serde_json::json!({ "name": name.as_str() });
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Directory]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Directory]).await;
    Ok(HttpResponse::NoContent().finish())
}
