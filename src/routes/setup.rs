//! `GET /setup?emailaddress=…`: the mailbox owner's page, public like the
//! auto-configuration it sits beside (also on `autoconfig.<domain>`). HTML for
//! people, so its errors are pages too, and no input is ever shown back raw.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::language;
use crate::app::autoconfig as use_case;
use crate::app::{App, Error};
use crate::autoconfig::setup_page::{self, Problem};
use crate::domain::guidance::Language;
use crate::domain::MailAddress;
use crate::error::ApiError;
use crate::extract::parse_query;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(page)
        .service(stylesheet)
        .service(script)
        .service(icon);
}

/// Everything the page loads comes from here; nothing inline runs, and nothing
/// from elsewhere loads (the QR code is inline SVG, which is markup, not an image).
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetupQuery {
    /// The address to show the settings for; without it the page asks for one.
    pub emailaddress: Option<String>,
    /// `de` or `en`; default from `Accept-Language`, else German.
    pub lang: Option<String>,
}

/// The help page for one address: user name, servers and ports (the recommended ones
/// marked), why encryption, IMAP or POP3, webmail, the Apple profile and a QR code
/// that opens it on a phone. German or English. Works without JavaScript.
#[utoipa::path(operation_id = "getSetupPage", tag = "autoconfig", params(SetupQuery, ("Accept-Language" = Option<String>, Header)),
    responses((status = 200, content_type = "text/html", body = String, description = "The page (a form asking for the address when none is given)"),
              (status = 404, content_type = "text/html", body = String, description = "A page saying the domain is not hosted here"),
              (status = 422, content_type = "text/html", body = String, description = "A page saying the address is not one")))]
#[get("/setup")]
async fn page(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    let query: Result<SetupQuery, _> = parse_query(req.query_string());
    let requested = query.as_ref().ok().and_then(|q| q.lang.as_deref());
    let language = language(&req, requested).unwrap_or(Language::De);
    let (status, html) = match query {
        Ok(SetupQuery {
            emailaddress: Some(raw),
            ..
        }) => match MailAddress::parse(raw.trim()) {
            Ok(address) => settings_page(&app, &req, &address, language),
            Err(_) => problem(language, Problem::BadAddress),
        },
        Ok(_) => problem(language, Problem::None),
        Err(_) => problem(language, Problem::BadAddress),
    };
    html_response(status, language, html)
}

fn settings_page(
    app: &App,
    req: &HttpRequest,
    address: &MailAddress,
    language: Language,
) -> (StatusCode, Result<String, askama::Error>) {
    match use_case::owner_settings(app, address, language) {
        Ok(settings) => {
            let info = req.connection_info();
            let url = format!(
                "{}://{}/apple/mobileconfig?{}",
                info.scheme(),
                info.host(),
                setup_page::query_of(&settings.address)
            );
            (
                StatusCode::OK,
                setup_page::render(&settings, language, &url),
            )
        }
        Err(Error::NotFound(_)) => problem(language, Problem::NotHosted),
        Err(e) => {
            tracing::error!(error = %e, "the setup page failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                setup_page::render_problem(language, Problem::None),
            )
        }
    }
}

fn problem(language: Language, problem: Problem) -> (StatusCode, Result<String, askama::Error>) {
    let status = match problem {
        Problem::None => StatusCode::OK,
        Problem::NotHosted => StatusCode::NOT_FOUND,
        Problem::BadAddress => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, setup_page::render_problem(language, problem))
}

fn html_response(
    status: StatusCode,
    language: Language,
    html: Result<String, askama::Error>,
) -> HttpResponse {
    let html = match html {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "rendering the setup page failed");
            return ApiError::App(Error::Internal(anyhow::anyhow!("template"))).error_response();
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_LANGUAGE, setup_page::labels(language).lang))
        .insert_header((header::VARY, "Accept-Language"))
        .body(html)
}

/// The owner's page's stylesheet (screen, phone and print).
#[utoipa::path(operation_id = "getSetupStylesheet", tag = "autoconfig",
    responses((status = 200, content_type = "text/css", body = String, description = "CSS")))]
#[get("/setup/setup.css")]
async fn stylesheet() -> HttpResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/setup.css"),
    )
}

/// The owner's page's script: copy buttons, where JavaScript runs.
#[utoipa::path(operation_id = "getSetupScript", tag = "autoconfig",
    responses((status = 200, content_type = "text/javascript", body = String, description = "JavaScript")))]
#[get("/setup/setup.js")]
async fn script() -> HttpResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/setup.js"),
    )
}

/// The page's icon (browsers ask for one).
#[utoipa::path(operation_id = "getSetupIcon", tag = "autoconfig",
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "SVG")))]
#[get("/setup/icon.svg")]
async fn icon() -> HttpResponse {
    asset("image/svg+xml", include_str!("../../static/icon.svg"))
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}
