//! One error type at the HTTP edge, rendered as RFC 9457 `application/problem+json`.
//!
//! Every error has a fixed status and a stable machine `code`, both from one table
//! (`ApiError::kind`). A 5xx body never carries internals: the cause goes to the
//! log, tagged with the request id.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::Error;
use crate::domain::{FieldError, FieldErrors};
use crate::telemetry::current_request_id;

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
    /// What a use case (or the parsing before it) refused.
    #[error(transparent)]
    App(#[from] Error),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The client did not send its body in time.
    #[error("request timeout")]
    Timeout,
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::App(e.into())
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        Self::App(e.into())
    }
}

impl ApiError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::App(Error::field(field, code, message))
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::App(Error::not_found(what))
    }

    /// Status and machine code: the one table.
    pub fn kind(&self) -> (StatusCode, &'static str) {
        match self {
            Self::App(e) => match e {
                Error::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                Error::PasswordPolicy(_) => (StatusCode::UNPROCESSABLE_ENTITY, "password_policy"),
                Error::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized"),
                Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
                Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
                Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                Error::LimitReached(_) => (StatusCode::CONFLICT, "limit_reached"),
                Error::PreconditionFailed => {
                    (StatusCode::PRECONDITION_FAILED, "precondition_failed")
                }
                Error::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
                Error::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            },
            Self::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed_request"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Timeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().1
    }

    fn detail(&self) -> String {
        match self {
            Self::App(e) => match e {
                Error::Invalid(errors) => match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    _ => "the request has invalid fields; see errors".to_owned(),
                },
                Error::PasswordPolicy(errors) => errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                Error::Unauthenticated => {
                    "send a valid, unrevoked API key as 'Authorization: Bearer mpk_…'".to_owned()
                }
                // One answer for unknown address, wrong password, suspended or deleted
                // account: nothing here tells them apart.
                Error::InvalidCredentials => {
                    "the address or the current password is wrong".to_owned()
                }
                Error::RateLimited { .. } => {
                    "too many failed attempts; retry after the indicated time".to_owned()
                }
                Error::PreconditionFailed => {
                    "If-Match does not match the current ETag; fetch the resource again".to_owned()
                }
                Error::Overloaded { .. } => {
                    "the server is busy; retry after the indicated time".to_owned()
                }
                Error::Unavailable => {
                    "the database cannot be reached; retry after the indicated time".to_owned()
                }
                // Never leak internals; the cause is logged with the request id.
                Error::Internal(_) => "an internal error occurred; quote the request id".to_owned(),
                Error::Forbidden(d)
                | Error::NotFound(d)
                | Error::Conflict(d)
                | Error::LimitReached(d) => d.clone(),
            },
            Self::MethodNotAllowed(allow) => format!("this resource allows {}", methods(allow)),
            Self::Malformed(d) => d.clone(),
            Self::Timeout => "the request body did not arrive in time".to_owned(),
            other => other.to_string(),
        }
    }

    fn errors(&self) -> Vec<FieldError> {
        match self {
            Self::App(Error::Invalid(errors) | Error::PasswordPolicy(errors)) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

fn methods(allow: &[Method]) -> String {
    allow
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().0
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::App(Error::Internal(cause)) = self {
            tracing::error!(request_id = %current_request_id().unwrap_or_default(), error = %format!("{cause:#}"), "internal error");
        }
        let (status, code) = self.kind();
        let mut res = problem_response(status, code, self.detail(), self.errors());
        let headers = res.headers_mut();
        match self {
            Self::App(Error::Unauthenticated) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            Self::MethodNotAllowed(allow) => {
                if let Ok(v) = header::HeaderValue::from_str(&methods(allow)) {
                    headers.insert(header::ALLOW, v);
                }
            }
            Self::App(
                Error::Overloaded { retry_after_secs } | Error::RateLimited { retry_after_secs },
            ) => {
                headers.insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(*retry_after_secs),
                );
            }
            Self::App(Error::Unavailable) => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from(2u64));
            }
            _ => {}
        }
        res
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
        408 => "request_timeout",
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
