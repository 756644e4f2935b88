//! `/v1/accounts/{address}/app-passwords`: a generated password per device.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::path;
use crate::app::app_passwords::{self as use_case, NewAppPassword};
use crate::app::App;
use crate::domain::app_password::{Scope, MAX_NAME};
use crate::domain::field::collect;
use crate::domain::{text, Caller, FieldError};
use crate::error::ApiError;
use crate::extract::Json;
use crate::store::app_passwords::AppPasswordRow;

#[derive(Debug, Serialize, ToSchema)]
pub struct AppPassword {
    pub id: Uuid,
    #[schema(example = "iPhone")]
    pub name: String,
    /// What it logs in to: `imap`, `pop3`, `smtp`.
    #[schema(example = json!(["imap", "smtp"]))]
    pub protocols: Vec<&'static str>,
    pub created_at: DateTime<Utc>,
    /// The last login with it Dovecot allowed (noted at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// From then on it is refused; `null` never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<AppPasswordRow> for AppPassword {
    fn from(r: AppPasswordRow) -> Self {
        let scope = Scope {
            imap: r.imap,
            pop3: r.pop3,
            smtp: r.smtp,
        };
        Self {
            id: r.id,
            name: r.name,
            protocols: scope.names(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAppPassword {
    /// The password to type into the device: shown only in this response. 24
    /// characters (120 random bits) in groups of four, lowercase letters and digits
    /// that cannot be mistaken for each other; type it with the dashes.
    #[schema(example = "k3fp-2x9q-m7rd-4hts-8vbn-q2we")]
    pub password: String,
    #[serde(flatten)]
    pub app_password: AppPassword,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppPassword {
    /// What the device is called, for the owner (1..=64 characters).
    #[schema(example = "iPhone")]
    pub name: String,
    /// 1..=3 of `imap`, `pop3`, `smtp`.
    #[schema(example = json!(["imap", "smtp"]))]
    pub protocols: Vec<String>,
    /// When it stops working; `null` (default) never. Must lie in the future.
    pub expires_at: Option<DateTime<Utc>>,
}

impl CreateAppPassword {
    fn into_command(self) -> Result<NewAppPassword, Vec<FieldError>> {
        let name = text::bounded("name", &self.name, MAX_NAME);
        let scope = Scope::parse("protocols", &self.protocols);
        match (name, scope) {
            (Ok(name), Ok(scope)) => Ok(NewAppPassword {
                name,
                scope,
                expires_at: self.expires_at,
            }),
            (n, s) => Err(collect([n.err(), s.err()])),
        }
    }
}

/// Create an app password (shown once).
#[utoipa::path(operation_id = "createAppPassword", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
    request_body = CreateAppPassword,
    responses((status = 201, body = CreatedAppPassword, description = "Created; the response holds the only copy of the password", headers(("Location" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted, or has the most app passwords allowed (`limit_reached`)"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Invalid fields")))]
#[post("/v1/accounts/{address}/app-passwords")]
pub async fn create(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
    body: Json<CreateAppPassword>,
) -> Result<HttpResponse, ApiError> {
    let address = path::address(&address)?;
    let command = body.0.into_command()?;
    let created = use_case::create(&app, &caller, &address, command).await?;
    let location = format!("/v1/accounts/{address}/app-passwords/{}", created.row.id);
    let body = CreatedAppPassword {
        password: created.secret.expose_secret().to_owned(),
        app_password: created.row.into(),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppPasswords {
    pub items: Vec<AppPassword>,
}

/// List an account's app passwords (never the passwords themselves), oldest first.
#[utoipa::path(operation_id = "listAppPasswords", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
    responses((status = 200, body = AppPasswords, description = "All of them (at most 20 by default)"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach")))]
#[get("/v1/accounts/{address}/app-passwords")]
pub async fn list(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = use_case::list(&app, &caller, &path::address(&address)?).await?;
    Ok(HttpResponse::Ok().json(AppPasswords {
        items: rows.into_iter().map(AppPassword::from).collect(),
    }))
}

/// Revoke an app password: it stops working, and the account's open sessions end.
#[utoipa::path(operation_id = "revokeAppPassword", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account or app password in reach")))]
#[delete("/v1/accounts/{address}/app-passwords/{id}")]
pub async fn revoke(
    app: web::Data<App>,
    caller: Caller,
    path_params: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (address, id) = path_params.into_inner();
    let address = path::address(&address)?;
    let id = path::id(&id, "app password")?;
    use_case::revoke(&app, &caller, &address, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
