//! `/v1/api-keys`: a key can mint keys only at or below its own reach, and revoke
//! the keys within it. The plaintext key is in the create response and nowhere else.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::path;
use crate::app::api_keys::{self as use_case, NewKey};
use crate::app::App;
use crate::domain::api_key::KEY_PREFIX;
use crate::domain::paging::{Page, Paging};
use crate::domain::text::{self, MAX_KEY_DESCRIPTION};
use crate::domain::{Caller, Role};
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::store::api_keys::KeyRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(revoke);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    /// The key's public beginning (`mpk_` + lookup id), to recognise it in lists.
    pub prefix: String,
    pub role: Role,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub read_only: bool,
    pub description: String,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> Self {
        Self {
            id: r.id,
            prefix: format!("{KEY_PREFIX}{}", r.lookup),
            role: r.role,
            partner_id: r.partner_id,
            customer_id: r.customer_id,
            read_only: r.read_only,
            description: r.description,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key itself. Shown only in this response; store it now.
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKey,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub role: Role,
    /// For `partner` keys; a partner key may omit it (its own partner).
    pub partner_id: Option<Uuid>,
    /// For `customer` keys; a customer key may omit it (its own customer).
    pub customer_id: Option<Uuid>,
    /// A read-only key may only `GET`.
    #[serde(default)]
    pub read_only: bool,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListApiKeys {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the description.
    pub q: Option<String>,
}

/// Create an API key (shown once).
#[utoipa::path(operation_id = "createApiKey", tag = "api-keys", security(("api_key" = ["admin", "partner", "customer"])), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey, description = "Created; the response holds the only copy of the key")))]
#[post("/v1/api-keys")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    body: Json<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    // An empty description is no description.
    let description = match b.description.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(d) => text::bounded("description", d, MAX_KEY_DESCRIPTION)?,
    };
    let key = NewKey {
        role: b.role,
        partner_id: b.partner_id,
        customer_id: b.customer_id,
        read_only: b.read_only,
        description,
    };
    let minted = use_case::create(&app, &caller, key).await?;
    let location = format!("/v1/api-keys/{}", minted.row.id);
    let created = CreatedApiKey {
        key: minted.plaintext.expose_secret().to_owned(),
        api_key: minted.row.into(),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(created))
}

/// List the API keys in reach (never the keys themselves).
#[utoipa::path(operation_id = "listApiKeys", tag = "api-keys", security(("api_key" = ["admin", "partner", "customer"])), params(ListApiKeys),
    responses((status = 200, body = Page<ApiKey>, description = "One page")))]
#[get("/v1/api-keys")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    query: Query<ListApiKeys>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let page = use_case::list(&app, &caller, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(ApiKey::from)))
}

/// Revoke an API key; revoking it again is harmless.
#[utoipa::path(operation_id = "revokeApiKey", tag = "api-keys", security(("api_key" = ["admin", "partner", "customer"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such key in reach")))]
#[delete("/v1/api-keys/{id}")]
async fn revoke(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::revoke(&app, &caller, path::id(&id, "API key")?).await?;
    Ok(HttpResponse::NoContent().finish())
}
