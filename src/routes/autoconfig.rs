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

use super::mobileconfig_download;
use crate::app::autoconfig as use_case;
use crate::app::App;
use crate::autoconfig::autodiscover;
use crate::domain::{DomainName, MailAddress};
use crate::error::ApiError;
use crate::extract::{parse_query, read_body};

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

fn thunderbird_answer(app: &App, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let domain = thunderbird_domain(req)?;
    Ok(xml(use_case::thunderbird(app, &domain)?))
}

/// Thunderbird autoconfig (`clientConfig` 1.1).
#[utoipa::path(operation_id = "getThunderbirdConfig", tag = "autoconfig", params(AddressQuery),
    responses((status = 200, content_type = "application/xml", body = String, description = "clientConfig 1.1; encrypted endpoints only"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "No usable address")))]
#[get("/mail/config-v1.1.xml")]
async fn thunderbird_config(
    app: web::Data<App>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    thunderbird_answer(&app, &req)
}

/// Thunderbird autoconfig at the well-known path (also answering for the domain of
/// a `Host: autoconfig.<domain>` header).
#[utoipa::path(operation_id = "getThunderbirdConfigWellKnown", tag = "autoconfig", params(AddressQuery),
    responses((status = 200, content_type = "application/xml", body = String, description = "clientConfig 1.1; encrypted endpoints only"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "No usable address")))]
#[get("/.well-known/autoconfig/mail/config-v1.1.xml")]
async fn thunderbird_well_known(
    app: web::Data<App>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    thunderbird_answer(&app, &req)
}

/// Microsoft Autodiscover (POX), for Outlook; the path in any letter case.
#[utoipa::path(operation_id = "postAutodiscover", tag = "autoconfig",
    request_body(content = String, content_type = "text/xml", description = "An Autodiscover request naming EMailAddress"),
    responses((status = 200, content_type = "application/xml", body = String, description = "IMAP, POP3 and SMTP Protocol blocks"),
              (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not a usable Autodiscover request"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 413, body = crate::error::Problem, content_type = "application/problem+json", description = "Body over 16 KiB")))]
#[post("/autodiscover/autodiscover.xml")]
async fn outlook_autodiscover(
    app: web::Data<App>,
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
    Ok(xml(use_case::autodiscover(&app, &address)?))
}

/// Apple configuration profile for any address of a hosted domain.
#[utoipa::path(operation_id = "getAppleProfileForAddress", tag = "autoconfig", params(AddressQuery),
    responses((status = 200, content_type = "application/x-apple-aspen-config", body = String, description = "A .mobileconfig property list"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Domain not hosted here"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "No usable address")))]
#[get("/apple/mobileconfig")]
async fn apple_mobileconfig(
    app: web::Data<App>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query: AddressQuery = parse_query(req.query_string()).map_err(|_| bad_address())?;
    let raw = query.emailaddress.ok_or_else(bad_address)?;
    let address = MailAddress::parse(raw.trim()).map_err(|_| bad_address())?;
    let profile = use_case::apple_profile_for_address(&app, &address)?;
    Ok(mobileconfig_download(profile))
}
