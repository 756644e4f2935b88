//! HTTP only: one module per resource, each exposing `configure()`. A handler parses
//! the request into a command, calls one use case (`crate::app`) and shapes the
//! answer; no SQL, no rules. Route modules do not import each other; what they share
//! is here.

pub mod accounts;
pub mod aliases;
pub mod api_keys;
pub mod audit;
pub mod autoconfig;
pub mod catch_all;
pub mod client_settings;
pub mod customers;
pub mod domains;
pub mod events;
pub mod fallback;
pub mod health;
pub mod openapi;
pub mod partners;
pub mod passwords;
pub mod profiles;
pub mod schema;
pub mod setup;
pub mod webhooks;

use actix_web::http::header::{self, AcceptLanguage, Header};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::app::autoconfig::AppleProfile;
use crate::domain::guidance::Language;
use crate::domain::{DomainName, MailAddress};
use crate::error::ApiError;
use crate::extract::etag;

/// Registers every route; the same function builds the served app and the spec.
pub fn configure(cfg: &mut ServiceConfig) {
    health::configure(cfg);
    // Early: actix tries routes in order, and every dynamic pattern before a match
    // costs a regex run; mail clients and the Control Panel ask these the most.
    autoconfig::configure(cfg);
    setup::configure(cfg);
    client_settings::configure(cfg);
    partners::configure(cfg);
    customers::configure(cfg);
    api_keys::configure(cfg);
    domains::configure(cfg);
    accounts::configure(cfg);
    aliases::configure(cfg);
    catch_all::configure(cfg);
    passwords::configure(cfg);
    profiles::configure(cfg);
    audit::configure(cfg);
    events::configure(cfg);
    webhooks::configure(cfg);
}

/// `?lang=`, else the client's `Accept-Language` (best first, refused ones left out).
pub fn language(req: &HttpRequest, lang: Option<&str>) -> Result<Language, ApiError> {
    let mut accepted = AcceptLanguage::parse(req).map(|h| h.0).unwrap_or_default();
    accepted.retain(|item| item.quality > header::Quality::ZERO);
    accepted.sort_by_key(|item| std::cmp::Reverse(item.quality));
    let tags: Vec<String> = accepted.iter().map(|item| item.item.to_string()).collect();
    Language::choose(lang, tags.iter().map(String::as_str))
        .ok_or_else(|| ApiError::field("lang", "unsupported_language", "must be de or en"))
}

/// `status` with the object and its `ETag`.
pub fn with_etag<T: Serialize>(status: StatusCode, version: i32, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// `201` with `Location`, `ETag` and the object.
pub fn created<T: Serialize>(location: &str, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// A downloadable `.mobileconfig` answer.
pub fn mobileconfig_download(profile: AppleProfile) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::autoconfig::mobileconfig::CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", profile.file_name),
        ))
        .body(profile.document)
}

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Path identifiers that cannot name anything answer 404, like any other object that
/// does not exist.
pub mod path {
    use super::*;

    pub fn id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
        Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what))
    }

    pub fn address(raw: &str) -> Result<MailAddress, ApiError> {
        MailAddress::parse(raw).map_err(|_| ApiError::not_found("account"))
    }

    pub fn domain(raw: &str) -> Result<DomainName, ApiError> {
        DomainName::parse(raw).map_err(|_| ApiError::not_found("domain"))
    }
}
