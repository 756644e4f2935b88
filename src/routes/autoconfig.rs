//! Public auto-configuration endpoints, asked by mail clients without a key. They
//! answer for any local part of a hosted domain (so they reveal no accounts), `404`
//! for domains not hosted here, and are served from the in-memory directory.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Uri};
use actix_web::middleware::Next;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::client_settings::mobileconfig_response;
use crate::autoconfig::{autodiscover, mobileconfig, thunderbird};
use crate::domain::profile::ServerProfile;
use crate::domain::{DomainName, MailAddress};
use crate::error::ApiError;
use crate::extract::{parse_query, read_body};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(thunderbird_config)
        .service(thunderbird_well_known)
        .service(outlook_autodiscover)
        .service(apple_mobileconfig);
}

const AUTODISCOVER_PATH: &str = "/autodiscover/autodiscover.xml";
/// Autodiscover requests are a few hundred bytes.
const AUTODISCOVER_MAX_BODY: usize = 16 * 1024;
const CACHE: &str = "public, max-age=300";
/// Stands for the login name in the rendered Autodiscover document; XML escaping
/// leaves it as it is.
const LOGIN_PLACEHOLDER: &str = "%LOGINNAME%";

/// Outlook spells the Autodiscover path in any letter case; route them all to one.
pub async fn autodiscover_path_case(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    if path != AUTODISCOVER_PATH && path.eq_ignore_ascii_case(AUTODISCOVER_PATH) {
        let rewritten = match req.uri().query() {
            Some(q) => format!("{AUTODISCOVER_PATH}?{q}"),
            None => AUTODISCOVER_PATH.to_owned(),
        };
        if let Ok(uri) = rewritten.parse::<Uri>() {
            req.head_mut().uri = uri.clone();
            req.match_info_mut().get_mut().update(&uri);
        }
    }
    next.call(req).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddressQuery {
    /// The address being set up; any local part of a hosted domain.
    pub emailaddress: Option<String>,
}

fn bad_address() -> ApiError {
    ApiError::field(
        "emailaddress",
        "invalid_address",
        "must be a mail address, e.g. max@mustermann.at",
    )
}

/// The profile for an address's domain, or 404 when the domain is not hosted here.
fn profile_for(
    state: &AppState,
    address: &MailAddress,
) -> Result<std::sync::Arc<ServerProfile>, ApiError> {
    state
        .memory
        .directory
        .profile_for_domain(address.domain().as_str())
        .ok_or_else(|| ApiError::not_found("hosted domain"))
}

fn xml(body: impl Into<web::Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(body.into())
}

/// The domain Thunderbird asks about: from `emailaddress`, else from a
/// `Host: autoconfig.<domain>` header.
fn thunderbird_domain(req: &HttpRequest) -> Result<DomainName, ApiError> {
    let query: AddressQuery = parse_query(req.query_string()).map_err(|_| bad_address())?;
    if let Some(raw) = query.emailaddress {
        return MailAddress::parse(raw.trim())
            .map(|a| a.domain().clone())
            .map_err(|_| bad_address());
    }
    let host = req.connection_info().host().to_owned();
    let host = host
        .rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .unwrap_or(host);
    host.strip_prefix("autoconfig.")
        .and_then(|d| DomainName::parse(d).ok())
        .ok_or_else(|| {
            ApiError::field(
                "emailaddress",
                "required",
                "name the address, or ask on autoconfig.<domain>",
            )
        })
}

fn thunderbird_answer(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let domain = thunderbird_domain(req)?;
    let doc = state
        .memory
        .directory
        .rendered("thunderbird", domain.as_str(), |profile| {
            thunderbird::document(domain.as_str(), &domain.to_unicode(), profile)
        })
        .ok_or_else(|| ApiError::not_found("hosted domain"))?
        .map_err(anyhow::Error::from)?;
    Ok(xml(doc))
}

/// Thunderbird autoconfig (`clientConfig` 1.1).
#[utoipa::path(tag = "autoconfig", params(AddressQuery),
    responses((status = 200, content_type = "application/xml", body = String, description = "clientConfig 1.1; encrypted endpoints only"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "No usable address")))]
#[get("/mail/config-v1.1.xml")]
async fn thunderbird_config(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    thunderbird_answer(&state, &req)
}

/// Thunderbird autoconfig at the well-known path (also answering for the domain of
/// a `Host: autoconfig.<domain>` header).
#[utoipa::path(tag = "autoconfig", params(AddressQuery),
    responses((status = 200, content_type = "application/xml", body = String, description = "clientConfig 1.1; encrypted endpoints only"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "No usable address")))]
#[get("/.well-known/autoconfig/mail/config-v1.1.xml")]
async fn thunderbird_well_known(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    thunderbird_answer(&state, &req)
}

/// Microsoft Autodiscover (POX), for Outlook; the path in any letter case.
#[utoipa::path(tag = "autoconfig",
    request_body(content = String, content_type = "text/xml", description = "An Autodiscover request naming EMailAddress"),
    responses((status = 200, content_type = "application/xml", body = String, description = "IMAP, POP3 and SMTP Protocol blocks"),
              (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not a usable Autodiscover request"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 413, body = crate::error::Problem, content_type = "application/problem+json", description = "Body over 16 KiB")))]
#[post("/autodiscover/autodiscover.xml")]
async fn outlook_autodiscover(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload.into_inner(), AUTODISCOVER_MAX_BODY).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::Malformed("the request is not UTF-8".into()))?;
    let raw =
        autodiscover::requested_address(text).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let address = MailAddress::parse(&raw)
        .map_err(|_| ApiError::Malformed("EMailAddress is not a mail address".into()))?;
    // The document differs between addresses only in LoginName: render it once per
    // domain with a placeholder, then put in the escaped address.
    let template = state
        .memory
        .directory
        .rendered("autodiscover", address.domain().as_str(), |profile| {
            autodiscover::response(LOGIN_PLACEHOLDER, profile)
        })
        .ok_or_else(|| ApiError::not_found("hosted domain"))?
        .map_err(anyhow::Error::from)?;
    let template = std::str::from_utf8(&template).map_err(anyhow::Error::from)?;
    let login = address.to_string();
    let body = template.replace(
        LOGIN_PLACEHOLDER,
        &quick_xml::escape::escape(login.as_str()),
    );
    Ok(xml(body.into_bytes()))
}

/// Apple configuration profile for any address of a hosted domain.
#[utoipa::path(tag = "autoconfig", params(AddressQuery),
    responses((status = 200, content_type = "application/x-apple-aspen-config", body = String, description = "A .mobileconfig property list"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "No usable address")))]
#[get("/apple/mobileconfig")]
async fn apple_mobileconfig(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query: AddressQuery = parse_query(req.query_string()).map_err(|_| bad_address())?;
    let raw = query.emailaddress.ok_or_else(bad_address)?;
    let address = MailAddress::parse(raw.trim()).map_err(|_| bad_address())?;
    let profile = profile_for(&state, &address)?;
    let text = address.to_string();
    let id = mobileconfig::Identity {
        address: &text,
        display_name: None,
        organisation: &state.settings.profile_organisation,
    };
    mobileconfig_response(&id, &profile)
}
