//! What an account's owner needs to set up a mail client: the settings with
//! guidance, an Apple profile, and the DNS records that let clients find it all.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::domains::find_in_reach;
use crate::auth::{Caller, Reach};
use crate::autoconfig::mobileconfig;
use crate::domain::client_settings::{self, ClientSettings, Enabled};
use crate::domain::dns::{self, Record};
use crate::domain::guidance::Language;
use crate::domain::profile::ServerProfile;
use crate::domain::MailAddress;
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use crate::store::{self, accounts::AccountRow};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(settings)
        .service(apple_profile)
        .service(dns_records);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SettingsQuery {
    /// `de` or `en`; without it `Accept-Language` decides, else German.
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DnsQuery {
    /// `json` (default) or `zone` (a zone-file snippet, `text/plain`).
    pub format: Option<String>,
}

/// A live account in reach with its domain's profile. Read from the account cache:
/// settings are a read that tolerates a change arriving a moment late from another
/// instance (this instance's own changes empty the cache before they answer).
async fn account_and_profile(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<(AccountRow, std::sync::Arc<ServerProfile>), ApiError> {
    let not_found = || ApiError::not_found("account");
    let address = MailAddress::parse(raw).map_err(|_| not_found())?;
    let key = (
        address.domain().as_str().to_owned(),
        address.local_part().as_str().to_owned(),
    );
    let cache = &state.memory.accounts;
    let account = match cache.get(&key) {
        Some(account) => account,
        None => {
            let generation = cache.generation();
            let account = store::accounts::get(&state.pool, Reach::All, &key.0, &key.1)
                .await?
                .ok_or_else(not_found)?;
            cache.insert(generation, key, account.clone());
            account
        }
    };
    let in_reach = match caller.reach {
        Reach::All => true,
        Reach::Partner(p) => account.partner_id == Some(p),
        Reach::Customer(c) => account.customer_id == c,
    };
    if !in_reach {
        return Err(not_found());
    }
    if account.deleted_at.is_some() {
        return Err(ApiError::Conflict(
            "the account is deleted; restore it first".into(),
        ));
    }
    let profile = state
        .memory
        .directory
        .profile_for_domain(&account.domain)
        .ok_or_else(|| {
            anyhow::anyhow!("domain {} has no profile in the directory", account.domain)
        })?;
    Ok((account, profile))
}

/// Mail-client settings and connection guidance for an account.
#[utoipa::path(tag = "client-settings", security(("api_key" = [])), params(("address" = String, Path), SettingsQuery,
        ("Accept-Language" = Option<String>, Header)),
    responses((status = 200, body = ClientSettings, description = "Settings for the account's enabled protocols, best first"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted")))]
#[get("/v1/accounts/{address}/client-settings")]
async fn settings(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    address: web::Path<String>,
    query: Query<SettingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let language = Language::choose(query.0.lang.as_deref(), accept)
        .ok_or_else(|| ApiError::field("lang", "unsupported_language", "must be de or en"))?;
    let (account, profile) = account_and_profile(&state, &caller, &address).await?;
    let enabled = Enabled {
        imap: account.imap_enabled,
        pop3: account.pop3_enabled,
        smtp: account.smtp_enabled,
    };
    let body = client_settings::build(&profile, &account.address(), enabled, language);
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_LANGUAGE,
            if language == Language::De { "de" } else { "en" },
        ))
        .insert_header((header::VARY, "Accept-Language"))
        .json(body))
}

/// An Apple configuration profile for the account (IMAP + SMTP).
#[utoipa::path(tag = "client-settings", security(("api_key" = [])), params(("address" = String, Path)),
    responses((status = 200, content_type = "application/x-apple-aspen-config", body = String, description = "A .mobileconfig property list"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted, or the profile offers no encrypted IMAP and SMTP")))]
#[get("/v1/accounts/{address}/mobileconfig")]
async fn apple_profile(
    state: web::Data<AppState>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (account, profile) = account_and_profile(&state, &caller, &address).await?;
    let address = account.address();
    let id = mobileconfig::Identity {
        address: &address,
        display_name: account.display_name.as_deref(),
        organisation: &state.settings.profile_organisation,
    };
    mobileconfig_response(&id, &profile)
}

pub fn mobileconfig_response(
    id: &mobileconfig::Identity<'_>,
    profile: &ServerProfile,
) -> Result<HttpResponse, ApiError> {
    let body = mobileconfig::document(id, profile).ok_or_else(|| {
        ApiError::Conflict("the server profile offers no encrypted IMAP and SMTP endpoints".into())
    })?;
    let filename = format!(
        "{}.mobileconfig",
        id.address.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '@',
            "_"
        )
    );
    Ok(HttpResponse::Ok()
        .content_type(mobileconfig::CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body))
}

/// The DNS records the domain's zone should hold for mail and auto-configuration.
#[utoipa::path(tag = "client-settings", security(("api_key" = [])), params(("domain" = String, Path), DnsQuery),
    responses((status = 200, body = Vec<Record>, description = "As JSON; `?format=zone` gives a zone-file snippet as text/plain"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}/dns-records")]
async fn dns_records(
    state: web::Data<AppState>,
    caller: Caller,
    domain: web::Path<String>,
    query: Query<DnsQuery>,
) -> Result<HttpResponse, ApiError> {
    let zone = match query.0.format.as_deref() {
        None | Some("json") => false,
        Some("zone") => true,
        Some(_) => {
            return Err(ApiError::field(
                "format",
                "unsupported_format",
                "must be json or zone",
            ))
        }
    };
    let row = find_in_reach(&state, &caller, &domain).await?;
    let profile = state
        .memory
        .directory
        .profile_for_domain(&row.name)
        .ok_or_else(|| anyhow::anyhow!("domain {} has no profile in the directory", row.name))?;
    let records = dns::records(&row.name, &profile, &state.settings.autoconfig_host);
    Ok(if zone {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(dns::zone(&records))
    } else {
        HttpResponse::Ok().json(records)
    })
}
