//! `/v1/api-keys`: a key can mint keys only at or below its own reach, and revoke
//! the keys within it. The plaintext key is in the create response and nowhere else.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{announce, audit_event, changed, into_page, page_request, parse_id, Page};
use crate::auth::{mint_key, Caller, Reach, Role, KEY_PREFIX};
use crate::domain::text;
use crate::error::{ApiError, FieldError};
use crate::extract::{Json, Query};
use crate::state::AppState;
use crate::store::changes::Change;
use crate::store::{self, api_keys::KeyRow, api_keys::NewKeyRow};

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

impl TryFrom<KeyRow> for ApiKey {
    type Error = ApiError;
    fn try_from(r: KeyRow) -> Result<Self, ApiError> {
        Ok(Self {
            id: r.id,
            prefix: format!("{KEY_PREFIX}{}", r.lookup),
            role: Role::parse(&r.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", r.role))?,
            partner_id: r.partner_id,
            customer_id: r.customer_id,
            read_only: r.read_only,
            description: r.description,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
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
    #[schema(max_length = 200)]
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

/// Who the new key belongs to, checked against the creator's reach.
async fn owner(
    state: &AppState,
    caller: &Caller,
    body: &CreateApiKey,
) -> Result<(Option<Uuid>, Option<Uuid>), ApiError> {
    let unknown = |field: &str, what: &str| {
        ApiError::field(field, "unknown", format!("no {what} with this id"))
    };
    let unexpected = |field: &str| {
        ApiError::field(
            field,
            "not_allowed",
            format!("{field} does not go with role {}", body.role.as_str()),
        )
    };
    match body.role {
        Role::Admin => {
            caller.require(&[Role::Admin])?;
            if body.partner_id.is_some() {
                return Err(unexpected("partner_id"));
            }
            if body.customer_id.is_some() {
                return Err(unexpected("customer_id"));
            }
            Ok((None, None))
        }
        Role::Partner => {
            caller.require(&[Role::Admin, Role::Partner])?;
            if body.customer_id.is_some() {
                return Err(unexpected("customer_id"));
            }
            let partner = match (caller.reach, body.partner_id) {
                (Reach::Partner(own), None) => own,
                (Reach::Partner(own), Some(p)) if p == own => own,
                (Reach::All, Some(p)) if store::partners::get(&state.pool, p).await?.is_some() => p,
                (_, None) => {
                    return Err(FieldError::new(
                        "partner_id",
                        "required",
                        "is required for a partner key",
                    )
                    .into())
                }
                _ => return Err(unknown("partner_id", "partner")),
            };
            Ok((Some(partner), None))
        }
        Role::Customer => {
            if body.partner_id.is_some() {
                return Err(unexpected("partner_id"));
            }
            let customer = match (caller.reach, body.customer_id) {
                (Reach::Customer(own), None) => own,
                (_, None) => {
                    return Err(FieldError::new(
                        "customer_id",
                        "required",
                        "is required for a customer key",
                    )
                    .into())
                }
                (reach, Some(c)) => match store::customers::get(&state.pool, reach, c).await? {
                    Some(_) => c,
                    None => return Err(unknown("customer_id", "customer")),
                },
            };
            Ok((None, Some(customer)))
        }
    }
}

/// Create an API key (shown once).
#[utoipa::path(tag = "api-keys", security(("api_key" = [])), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey, description = "Created; the response holds the only copy of the key")))]
#[post("/v1/api-keys")]
async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let description = match body.description.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(d) => text::bounded("description", d, 200)?,
    };
    let (partner_id, customer_id) = owner(&state, &caller, &body).await?;
    let key = mint_key();
    let mut tx = state.pool.begin().await?;
    let row = store::api_keys::insert(
        &mut *tx,
        &NewKeyRow {
            lookup: &key.lookup,
            secret_hash: &key.hash,
            role: body.role.as_str(),
            partner_id,
            customer_id,
            read_only: body.read_only,
            description: &description,
        },
    )
    .await?;
    let mut event = audit_event(&caller, "api_key.created");
    event.partner_id = partner_id;
    event.customer_id = customer_id;
    event.details =
        serde_json::json!({"key_id": row.id, "role": row.role, "read_only": row.read_only});
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    let id = row.id;
    let created = CreatedApiKey {
        key: key.plaintext.expose_secret().to_owned(),
        api_key: row.try_into()?,
    };
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/api-keys/{id}"),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(created))
}

/// List the API keys in reach (never the keys themselves).
#[utoipa::path(tag = "api-keys", security(("api_key" = [])), params(ListApiKeys),
    responses((status = 200, body = Page<ApiKey>, description = "One page")))]
#[get("/v1/api-keys")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListApiKeys>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let (page, limit) = page_request(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let rows = store::api_keys::list(&state.pool, caller.reach, &page).await?;
    let page = into_page(rows, limit, |r| r.id.to_string(), ApiKey::try_from);
    let items = page.items.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Revoke an API key; revoking it again is harmless.
#[utoipa::path(tag = "api-keys", security(("api_key" = [])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such key in reach")))]
#[delete("/v1/api-keys/{id}")]
async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "API key")?;
    let mut tx = state.pool.begin().await?;
    let row = store::api_keys::revoke(&mut *tx, caller.reach, id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    let mut event = audit_event(&caller, "api_key.revoked");
    event.partner_id = row.partner_id;
    event.customer_id = row.customer_id;
    event.details = serde_json::json!({"key_id": row.id});
    store::audit::record(&mut *tx, &event).await?;
    announce(&mut tx, &[Change::Keys]).await?;
    tx.commit().await?;
    changed(&state, &[Change::Keys]).await;
    Ok(HttpResponse::NoContent().finish())
}
