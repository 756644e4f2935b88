//! `POST /v1/domains/{domain}/accounts/batch`: up to 1000 accounts at once, all or
//! none.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Account, CreateAccount};
use crate::app::accounts::{self as use_case, NewAccount};
use crate::app::{App, Error};
use crate::domain::password::Policy;
use crate::domain::{Caller, DomainName};
use crate::error::ApiError;
use crate::extract::Json;
use crate::routes::path;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccounts {
    /// 1..=1000 accounts of the create shape.
    pub accounts: Vec<CreateAccount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccounts {
    /// The new accounts, by local part.
    pub items: Vec<Account>,
}

/// Create up to 1000 accounts of one domain at once (a migration, a customer moving
/// in): every item is validated first, then all are created or none. Errors name the
/// item (`accounts[17].local_part`): invalid fields, broken password rules, an
/// address taken or twice in the batch (`422`). The domain's limits hold for the
/// whole batch (`409 limit_reached`). Bodies may be up to `MAILPANEL_MAX_BATCH_BODY_BYTES`.
#[utoipa::path(operation_id = "createAccounts", tag = "accounts", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)), request_body = CreateAccounts,
    responses((status = 201, body = CreatedAccounts, description = "All created"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The domain's limits would be passed (`limit_reached`), or it is an alias domain"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Items refused, each named; nothing was created")))]
#[post("/v1/domains/{domain}/accounts/batch")]
pub(super) async fn create_batch(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
    body: Json<CreateAccounts>,
) -> Result<HttpResponse, ApiError> {
    let domain = path::domain(&domain)?;
    let commands = batch_commands(body.0.accounts, &domain, &app.settings.password_policy())?;
    let rows = use_case::create_batch(&app, &caller, &domain, commands).await?;
    let items = rows.into_iter().map(Account::from).collect();
    Ok(HttpResponse::Created().json(CreatedAccounts { items }))
}

/// Every item parsed; the errors of all of them, each field named by its item.
fn batch_commands(
    items: Vec<CreateAccount>,
    domain: &DomainName,
    policy: &Policy,
) -> Result<Vec<NewAccount>, Error> {
    if items.is_empty() || items.len() > use_case::MAX_BATCH {
        return Err(Error::field(
            "accounts",
            "invalid_length",
            format!("needs 1 to {} accounts", use_case::MAX_BATCH),
        ));
    }
    let mut commands = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item.into_command(domain, policy) {
            Ok(command) => commands.push(command),
            Err(Error::Invalid(e) | Error::PasswordPolicy(e)) => {
                errors.extend(e.into_iter().map(|f| {
                    let field = format!("accounts[{i}].{}", f.field);
                    f.at(&field)
                }))
            }
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(commands)
    } else {
        Err(Error::Invalid(errors))
    }
}
