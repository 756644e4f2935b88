//! Passwords: the policy, the Control Panel's set (`PUT`, key-authorized) and the
//! webmail change (`POST /v1/password-change`, authorized by the current password).

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::path;
use crate::app::passwords::{self as use_case, OwnerChange};
use crate::app::App;
use crate::auth::client_addr;
use crate::domain::password::PublishedPolicy;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::extract::{Json, JsonOrForm};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(show_policy).service(set).service(change);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// Stored exactly as sent: no trimming, no Unicode normalisation.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The full mail address, as the user logs in with it.
    #[schema(example = "max@mustermann.at")]
    pub address: String,
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOk {
    /// `ok`
    pub status: &'static str,
}

/// The password policy, for forms that want to explain it before the user types.
#[utoipa::path(operation_id = "getPasswordPolicy", tag = "passwords", responses((status = 200, body = PublishedPolicy, description = "The policy in force")))]
#[get("/v1/password-policy")]
async fn show_policy(app: web::Data<App>) -> HttpResponse {
    HttpResponse::Ok().json(PublishedPolicy::of(&app.settings.password_policy()))
}

/// Set an account's password (Control Panel, partners).
#[utoipa::path(operation_id = "setPassword", tag = "passwords", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)), request_body = SetPassword,
    responses((status = 204, description = "Set; IMAP, POP3 and SMTP logins use it at once"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted, or its password changed meanwhile"),
              (status = 503, body = crate::error::Problem, content_type = "application/problem+json", description = "Hashing queue full; see Retry-After")))]
#[put("/v1/accounts/{address}/password")]
async fn set(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
    body: Json<SetPassword>,
) -> Result<HttpResponse, ApiError> {
    let address = path::address(&address)?;
    use_case::set(&app, &caller, &address, body.0.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change a password with the current one (webmail). Takes no API key.
///
/// Accepts JSON, or the same three fields as an HTML form
/// (`application/x-www-form-urlencoded`), as webmail password plugins send them. The
/// form is described here rather than as a second request content: client
/// generators (openapi-python-client 0.29) produce code that does not import for an
/// operation with two request contents.
#[utoipa::path(operation_id = "changePassword", tag = "passwords",
    request_body = ChangePassword,
    responses((status = 200, body = ChangeOk, description = "Changed; IMAP, POP3 and SMTP logins use the new password at once"),
              (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Malformed body"),
              (status = 401, body = crate::error::Problem, content_type = "application/problem+json",
               description = "invalid_credentials: unknown address, wrong password, suspended or deleted account, all alike"),
              (status = 415, body = crate::error::Problem, content_type = "application/problem+json", description = "Neither JSON nor a form"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "password_policy: the new password is refused; each rule in both languages"),
              (status = 429, body = crate::error::Problem, content_type = "application/problem+json", description = "Too many failures for this address or client; see Retry-After"),
              (status = 503, body = crate::error::Problem, content_type = "application/problem+json", description = "Hashing queue full; see Retry-After")))]
#[post("/v1/password-change")]
async fn change(
    app: web::Data<App>,
    req: HttpRequest,
    body: JsonOrForm<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let change = OwnerChange {
        address: body.address,
        current: body.current_password,
        new: body.new_password,
        client: client_addr(&req).unwrap_or_else(|| "unknown".to_owned()),
    };
    use_case::change(&app, change).await?;
    Ok(HttpResponse::Ok().json(ChangeOk { status: "ok" }))
}
