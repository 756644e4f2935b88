//! One error type at the HTTP edge, rendered as RFC 9457 `application/problem+json`.
//!
//! Every variant has a fixed status and a stable machine `code`. A 5xx body never
//! carries internals: the cause goes to the log, tagged with the request id.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::telemetry::current_request_id;

/// One problem with one input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a JSON pointer-like dotted path (`protocols.imap`), or a query
    /// or path parameter name.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `invalid_format`, `unknown_field`.
    pub code: String,
    /// English.
    pub message: String,
    /// German and English, for texts a mailbox owner reads (the password rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Messages>,
}

/// One text in both languages the provider's customers read.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Messages {
    pub de: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
            messages: None,
        }
    }
}

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`tag:mailpanel,2026:problem:<code>`).
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code, e.g. `validation_failed`, `not_found`, `conflict`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The `X-Request-Id` of the request, to quote when asking for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("the password does not meet the policy")]
    PasswordPolicy(Vec<FieldError>),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("server overloaded")]
    Overloaded { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::Validation(vec![e])
    }
}

impl ApiError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Malformed(_) => "malformed_request",
            Self::PasswordPolicy(_) => "password_policy",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::RateLimited { .. } => "rate_limited",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Overloaded { .. } => "overloaded",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                _ => "the request has invalid fields; see errors".to_owned(),
            },
            Self::PasswordPolicy(errors) => errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            Self::Unauthorized => {
                "send a valid, unrevoked API key as 'Authorization: Bearer mpk_…'".to_owned()
            }
            // One answer for unknown address, wrong password, suspended or deleted
            // account: nothing here tells them apart.
            Self::InvalidCredentials => "the address or the current password is wrong".to_owned(),
            Self::RateLimited { .. } => {
                "too many failed attempts; retry after the indicated time".to_owned()
            }
            Self::MethodNotAllowed(allow) => format!(
                "this resource allows {}",
                allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::PreconditionFailed => {
                "If-Match does not match the current ETag; fetch the resource again".to_owned()
            }
            Self::Overloaded { .. } => {
                "the server is busy; retry after the indicated time".to_owned()
            }
            // Never leak internals; the cause is logged with the request id.
            Self::Internal(_) => "an internal error occurred; quote the request id".to_owned(),
            Self::Malformed(d) | Self::Forbidden(d) | Self::NotFound(d) | Self::Conflict(d) => {
                d.clone()
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::PasswordPolicy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(request_id = %current_request_id().unwrap_or_default(), error = %format!("{cause:#}"), "internal error");
        }
        let status = self.status_code();
        let mut res = problem_response(status, self.code(), self.detail(), self.errors());
        let headers = res.headers_mut();
        match self {
            Self::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            Self::MethodNotAllowed(allow) => {
                let allow = allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(v) = header::HeaderValue::from_str(&allow) {
                    headers.insert(header::ALLOW, v);
                }
            }
            Self::Overloaded { retry_after_secs } | Self::RateLimited { retry_after_secs } => {
                headers.insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(*retry_after_secs),
                );
            }
            _ => {}
        }
        res
    }
}

impl ApiError {
    fn errors(&self) -> Vec<FieldError> {
        match self {
            Self::Validation(errors) | Self::PasswordPolicy(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

/// Builds a problem+json response; also used to convert actix's own error responses.
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> HttpResponse {
    let problem = Problem {
        type_: format!("tag:mailpanel,2026:problem:{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors,
        request_id: current_request_id(),
    };
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(problem)
}

/// The machine code for a bare status, for responses that did not come from `ApiError`.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "malformed_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        412 => "precondition_failed",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "rate_limited",
        503 => "overloaded",
        s if s >= 500 => "internal_error",
        _ => "request_failed",
    }
}

/// Maps database errors once, by constraint name, so that a unique violation raced by
/// two requests still answers 409 and a foreign-key violation a clear 409/422.
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if let Some(mapped) = db.constraint().and_then(on_constraint) {
                return mapped;
            }
        }
        Self::Internal(anyhow::Error::new(err))
    }
}

fn on_constraint(name: &str) -> Option<ApiError> {
    Some(match name {
        "partners_name_key" => ApiError::Conflict("a partner with this name already exists".into()),
        "customers_external_ref_key" => ApiError::Conflict(
            "a customer with this external_ref already exists for this partner".into(),
        ),
        "domains_name_key" => ApiError::Conflict("this domain is already hosted here".into()),
        "accounts_address_key" => {
            ApiError::Conflict("an account with this address already exists".into())
        }
        "customers_partner_id_fkey" => {
            ApiError::Conflict("the partner still has customers; delete them first".into())
        }
        "domains_customer_id_fkey" => {
            ApiError::Conflict("the customer still has domains; delete them first".into())
        }
        // The domain was deleted while the account was being created.
        "accounts_domain_id_fkey" => ApiError::not_found("domain"),
        "domains_server_profile_fkey" => ApiError::field(
            "server_profile",
            "unknown",
            "no server profile with this name",
        ),
        _ => return None,
    })
}
