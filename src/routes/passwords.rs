//! Passwords: the policy, the Control Panel's set (`PUT`, key-authorized) and the
//! webmail change (`POST /v1/password-change`, authorized by the current password).
//!
//! The webmail change answers the same `401 invalid_credentials`, after the same
//! work, for an unknown address, a wrong password, a suspended and a deleted
//! account: an unknown account is checked against a dummy hash with the same
//! parameters. Failures are counted per address and per client address in Postgres,
//! shared by every instance.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::audit_event;
use crate::auth::{client_addr, Caller};
use crate::domain::password::{self, Context, PublishedPolicy, Rule};
use crate::domain::MailAddress;
use crate::error::ApiError;
use crate::extract::{Json, JsonOrForm};
use crate::passwords::legacy::split_scheme;
use crate::state::AppState;
use crate::store::{self, throttle::Limit};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(show_policy).service(set).service(change);
}

/// Longest current password the webmail change accepts (the policy bounds new ones).
const MAX_CURRENT_LEN: usize = 1024;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// Stored exactly as sent: no trimming, no Unicode normalisation.
    #[schema(value_type = String, format = Password, max_length = 128)]
    pub password: SecretString,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The full mail address, as the user logs in with it.
    #[schema(max_length = 254, example = "max@mustermann.at")]
    pub address: String,
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password, max_length = 128)]
    pub new_password: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOk {
    /// `ok`
    pub status: &'static str,
}

/// Rejections of a new password, each with its machine code and a German and an
/// English message.
fn policy_errors(field: &str, rules: &[Rule], policy: &password::Policy) -> ApiError {
    ApiError::PasswordPolicy(rules.iter().map(|r| r.field_error(field, policy)).collect())
}

/// Checks a new password against the policy for this account.
pub fn check_policy(
    state: &AppState,
    field: &str,
    pw: &SecretString,
    ctx: &Context<'_>,
) -> Result<(), ApiError> {
    let policy = state.settings.password_policy();
    let broken = password::violations(&policy, pw, ctx);
    if broken.is_empty() {
        Ok(())
    } else {
        Err(policy_errors(field, &broken, &policy))
    }
}

/// The password policy, for forms that want to explain it before the user types.
#[utoipa::path(tag = "passwords", responses((status = 200, body = PublishedPolicy, description = "The policy in force")))]
#[get("/v1/password-policy")]
async fn show_policy(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(PublishedPolicy::of(&state.settings.password_policy()))
}

/// Set an account's password (Control Panel, partners).
#[utoipa::path(tag = "passwords", security(("api_key" = [])), params(("address" = String, Path)), request_body = SetPassword,
    responses((status = 204, description = "Set; IMAP, POP3 and SMTP logins use it at once"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted, or its password changed meanwhile"),
              (status = 503, body = crate::error::Problem, content_type = "application/problem+json", description = "Hashing queue full; see Retry-After")))]
#[put("/v1/accounts/{address}/password")]
async fn set(
    state: web::Data<AppState>,
    caller: Caller,
    address: web::Path<String>,
    body: Json<SetPassword>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("account");
    let parsed = MailAddress::parse(&address).map_err(|_| not_found())?;
    let found = store::accounts::get_with_hash(
        &state.pool,
        caller.reach,
        parsed.domain().as_str(),
        parsed.local_part().as_str(),
    )
    .await?
    .ok_or_else(not_found)?;
    let (account, current) = (found.account, found.password_hash);
    if account.deleted_at.is_some() {
        return Err(ApiError::Conflict(
            "the account is deleted; restore it first".into(),
        ));
    }
    let address = account.address();
    let pw = body.0.password;
    let ctx = Context {
        address: &address,
        local_part: &account.local_part,
        domain: &account.domain,
        display_name: account.display_name.as_deref(),
    };
    check_policy(&state, "password", &pw, &ctx)?;
    let (hash, same) = state.hasher.hash_replacing(pw, current.clone()).await?;
    if same {
        return Err(policy_errors(
            "password",
            &[Rule::SameAsCurrent],
            &state.settings.password_policy(),
        ));
    }
    let mut event = audit_event(&caller, "password.set");
    event.partner_id = account.partner_id;
    event.customer_id = Some(account.customer_id);
    event.domain = Some(&account.domain);
    event.account = Some(&address);
    if !store::accounts::set_password_recorded(&state.pool, account.id, &hash, &current, &event)
        .await?
    {
        return Err(ApiError::Conflict(
            "the password was changed meanwhile; try again".into(),
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Change a password with the current one (webmail). Takes no API key.
///
/// Accepts JSON or an HTML form (`application/x-www-form-urlencoded`) with the
/// fields `address`, `current_password` and `new_password`.
#[utoipa::path(tag = "passwords",
    request_body(content(
        (ChangePassword = "application/json"),
        (ChangePassword = "application/x-www-form-urlencoded"))),
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
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonOrForm<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let settings = &state.settings;
    let client = client_addr(&req).unwrap_or_else(|| "unknown".to_owned());
    let parsed = MailAddress::parse(body.address.trim()).ok();
    // Unparseable addresses still count against one subject: bounded, and without
    // control characters (Postgres text cannot hold NUL; logs should not hold any).
    let subject = parsed.as_ref().map(|a| a.to_string()).unwrap_or_else(|| {
        body.address
            .chars()
            .filter(|c| !c.is_control())
            .take(254)
            .collect()
    });
    let limits = [
        Limit {
            scope: "address",
            subject: &subject,
            max_failures: settings.webmail_max_failures_per_address,
        },
        Limit {
            scope: "client",
            subject: &client,
            max_failures: settings.webmail_max_failures_per_client,
        },
    ];
    if let Some(retry_after_secs) =
        store::throttle::blocked(&state.pool, &limits, settings.webmail_window_secs).await?
    {
        return Err(ApiError::RateLimited { retry_after_secs });
    }

    let account = match &parsed {
        Some(a) => {
            store::accounts::credentials(&state.pool, a.domain().as_str(), a.local_part().as_str())
                .await?
        }
        None => None,
    };
    let usable = account.filter(|a| a.status == "active" && !a.deleted);
    let current = body.current_password;
    let too_long = current.expose_secret().chars().count() > MAX_CURRENT_LEN;
    let stored = usable
        .as_ref()
        .filter(|_| !too_long)
        .map(|a| a.password_hash.clone());
    let verification = state
        .hasher
        .verify(
            SecretString::from(current.expose_secret().to_owned()),
            stored,
        )
        .await?;

    let webmail_event = |action| store::audit::NewEvent {
        action,
        channel: "webmail",
        client_addr: Some(&client),
        partner_id: usable.as_ref().and_then(|a| a.partner_id),
        customer_id: usable.as_ref().map(|a| a.customer_id),
        domain: usable.as_ref().map(|a| a.domain.as_str()),
        account: Some(&subject),
        ..Default::default()
    };
    let (Some(account), true) = (usable.as_ref(), verification.matches) else {
        let mut tx = state.pool.begin().await?;
        store::throttle::record_failure(&mut *tx, &limits, settings.webmail_window_secs).await?;
        store::audit::record(&mut *tx, &webmail_event("password.change_failed")).await?;
        tx.commit().await?;
        return Err(ApiError::InvalidCredentials);
    };

    let new = body.new_password;
    let ctx = Context {
        address: &subject,
        local_part: &account.local_part,
        domain: &account.domain,
        display_name: account.display_name.as_deref(),
    };
    let mut refused = check_policy(&state, "new_password", &new, &ctx).err();
    if refused.is_none() && new.expose_secret() == current.expose_secret() {
        refused = Some(policy_errors(
            "new_password",
            &[Rule::SameAsCurrent],
            &settings.password_policy(),
        ));
    }
    if let Some(refused) = refused {
        // The current password was proven: a legacy hash can be upgraded anyway.
        if verification.needs_upgrade {
            upgrade(
                &state,
                account,
                current,
                &webmail_event("password.hash_upgraded"),
            )
            .await?;
        }
        return Err(refused);
    }

    let hash = state.hasher.hash(new).await?;
    let mut tx = state.pool.begin().await?;
    if !store::accounts::set_password(&mut *tx, account.id, &hash, &account.password_hash).await? {
        return Err(ApiError::Conflict(
            "the password was changed meanwhile; try again".into(),
        ));
    }
    store::throttle::clear(&mut *tx, "address", &subject).await?;
    let mut event = webmail_event("password.changed");
    let previous = split_scheme(&account.password_hash)
        .map(|(s, _)| s)
        .unwrap_or_default();
    event.details = serde_json::json!({ "previous_scheme": previous });
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(ChangeOk { status: "ok" }))
}

/// Rehashes a verified password with the current scheme and parameters.
async fn upgrade(
    state: &AppState,
    account: &store::accounts::CredentialRow,
    password: SecretString,
    event: &store::audit::NewEvent<'_>,
) -> Result<(), ApiError> {
    let hash = state.hasher.hash(password).await?;
    let mut tx = state.pool.begin().await?;
    if store::accounts::upgrade_hash(&mut *tx, account.id, &hash, &account.password_hash).await? {
        let mut event = event.clone();
        let previous = split_scheme(&account.password_hash)
            .map(|(s, _)| s)
            .unwrap_or_default();
        event.details = serde_json::json!({ "previous_scheme": previous });
        store::audit::record(&mut *tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}
