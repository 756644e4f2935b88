//! What an account's owner needs to set up a mail client: the settings with
//! guidance, an Apple profile, and the DNS records that let clients find it all.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{language, mobileconfig_download, path};
use crate::app::client_settings as use_case;
use crate::app::App;
use crate::domain::client_settings::ClientSettings;
use crate::domain::dns::{self, Record};
use crate::domain::guidance::Language;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::extract::Query;

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

/// Mail-client settings and connection guidance for an account.
#[utoipa::path(operation_id = "getClientSettings", tag = "client-settings", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path), SettingsQuery,
        ("Accept-Language" = Option<String>, Header)),
    responses((status = 200, body = ClientSettings, description = "Settings for the account's enabled protocols, best first"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted")))]
#[get("/v1/accounts/{address}/client-settings")]
async fn settings(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    address: web::Path<String>,
    query: Query<SettingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let language = language(&req, query.0.lang.as_deref())?;
    let address = path::address(&address)?;
    let body = use_case::settings(&app, &caller, &address, language).await?;
    let content_language = if language == Language::De { "de" } else { "en" };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, content_language))
        .insert_header((header::VARY, "Accept-Language"))
        .json(body))
}

/// An Apple configuration profile for the account (IMAP + SMTP).
#[utoipa::path(operation_id = "getAccountAppleProfile", tag = "client-settings", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
    responses((status = 200, content_type = "application/x-apple-aspen-config", body = String, description = "A .mobileconfig property list"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such account in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The account is deleted, or the profile offers no encrypted IMAP and SMTP")))]
#[get("/v1/accounts/{address}/mobileconfig")]
async fn apple_profile(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let address = path::address(&address)?;
    let profile = use_case::account_apple_profile(&app, &caller, &address).await?;
    Ok(mobileconfig_download(profile))
}

/// The DNS records the domain's zone should hold for mail and auto-configuration.
#[utoipa::path(operation_id = "listDnsRecords", tag = "client-settings", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path), DnsQuery),
    responses((status = 200, description = "As JSON; `?format=zone` gives a zone-file snippet as text/plain",
                content((Vec<Record> = "application/json"), (String = "text/plain"))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}/dns-records")]
async fn dns_records(
    app: web::Data<App>,
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
    let records = use_case::dns_records(&app, &caller, &path::domain(&domain)?).await?;
    Ok(if zone {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(dns::zone(&records))
    } else {
        HttpResponse::Ok().json(records)
    })
}
