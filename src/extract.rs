//! Request extractors that turn every kind of bad input into a problem+json error
//! with field-level detail: wrong content type (415), oversized body (413), malformed
//! JSON (400), wrong types, unknown or missing fields (422), bad query strings (422).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth::is_secured;
use crate::domain::{Caller, FieldError};
use crate::error::ApiError;

/// A JSON body, read up to the configured limit and deserialised with the path of
/// the offending field kept for the error.
pub struct Json<T>(pub T);

fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<App>>()
        .map(|a| body_limit_for(&a.settings, req.path()))
        .unwrap_or(64 * 1024)
}

/// The body limit of a path: batch imports carry up to a thousand accounts.
pub fn body_limit_for(settings: &crate::config::Settings, path: &str) -> usize {
    if path.ends_with("/accounts/batch") {
        settings.max_batch_body_bytes
    } else {
        settings.max_body_bytes
    }
}

/// Reads the whole body, refusing more than `limit` bytes before buffering them.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let timeout = req
        .app_data::<web::Data<App>>()
        .map(|a| a.settings.body_timeout_ms)
        .unwrap_or(10_000);
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::Malformed(format!("could not read the body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    // A client that trickles its body does not hold the request (and its memory) open.
    tokio::time::timeout(std::time::Duration::from_millis(timeout), read)
        .await
        .map_err(|_| ApiError::Timeout)?
}

pub fn media_type(req: &HttpRequest) -> Option<String> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Deserialises JSON, classifying the failure: syntax errors are 400, everything that
/// parses but does not fit the shape is 422 with the field named.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let message = inner.to_string();
                    // For an unknown field the path already ends in its name.
                    let (field, code) = if unknown_field(&message).is_some() {
                        (path, "unknown_field")
                    } else if let Some(name) = missing_field(&message) {
                        let field = if path == "." {
                            name
                        } else {
                            format!("{path}.{name}")
                        };
                        (field, "required")
                    } else {
                        (
                            if path == "." { "body".to_owned() } else { path },
                            "invalid_type",
                        )
                    };
                    Err(FieldError::new(field, code, strip_position(&message)).into())
                }
                _ => Err(ApiError::Malformed(format!(
                    "the body is not valid JSON: {inner}"
                ))),
            }
        }
    }
}

fn quoted_name(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    let rest = rest.strip_prefix('`')?;
    let end = rest.find('`')?;
    Some(rest[..end].chars().take(64).collect())
}

fn unknown_field(message: &str) -> Option<String> {
    quoted_name(message, "unknown field ")
}

fn missing_field(message: &str) -> Option<String> {
    quoted_name(message, "missing field ")
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            // On a route that needs a key, who may call it is settled before the body
            // is judged (actix polls all of a handler's extractors at once).
            if is_secured(&req) {
                Caller::extract(&req).await?;
            }
            match media_type(&req) {
                Some(m) if is_json(&m) => {}
                Some(m) => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "send application/json, not {m}"
                    )))
                }
                None => {
                    return Err(ApiError::UnsupportedMediaType(
                        "send Content-Type: application/json".into(),
                    ))
                }
            }
            let body = read_body(&req, payload, body_limit(&req)).await?;
            from_json(&body).map(Json)
        })
    }
}

/// A body that may come as JSON or as an HTML form
/// (`application/x-www-form-urlencoded`), as webmail password plugins send it.
pub struct JsonOrForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonOrForm<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let media = media_type(&req);
            let form = match media.as_deref() {
                Some(m) if is_json(m) => false,
                Some("application/x-www-form-urlencoded") => true,
                _ => {
                    return Err(ApiError::UnsupportedMediaType(
                        "send application/json or application/x-www-form-urlencoded".into(),
                    ))
                }
            };
            let body = read_body(&req, payload, body_limit(&req)).await?;
            if form {
                serde_urlencoded::from_bytes(&body)
                    .map(JsonOrForm)
                    .map_err(|e| {
                        let message = e.to_string();
                        let field = unknown_field(&message)
                            .or_else(|| missing_field(&message))
                            .unwrap_or_else(|| "body".to_owned());
                        let code = if message.starts_with("missing") {
                            "required"
                        } else {
                            "invalid_form"
                        };
                        ApiError::field(&field, code, message)
                    })
            } else {
                from_json(&body).map(JsonOrForm)
            }
        })
    }
}

/// A query string, with unknown parameters and bad values answered 422.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    if qs.len() > 4096 {
        return Err(ApiError::field(
            "query",
            "too_long",
            "the query string is longer than 4096 bytes",
        ));
    }
    serde_urlencoded::from_str(qs).map_err(|e| {
        let message = e.to_string();
        let field = unknown_field(&message)
            .or_else(|| missing_field(&message))
            .unwrap_or_else(|| "query".to_owned());
        ApiError::field(&field, "invalid_query", message)
    })
}

/// `If-Match` preconditions against a resource version; `ETag`s are `"v<version>"`.
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The version the caller requires, `None` when there is no `If-Match` or it is `*`.
/// Entity tags that name no version of ours can never match: `Some(-1)`. A value that
/// is not a list of entity tags at all is malformed (`400`).
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::Malformed(
            "If-Match must be * or entity tags as ETag gives them, e.g. \"v3\"".into(),
        )
    };
    let raw = raw.to_str().map_err(|_| malformed())?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let mut ours = None;
    for tag in raw.split(',') {
        let tag = tag.trim();
        let opaque = tag
            .strip_prefix("W/")
            .unwrap_or(tag)
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.contains('"'))
            .ok_or_else(malformed)?;
        if ours.is_none() {
            ours = opaque.strip_prefix('v').and_then(|v| v.parse::<i32>().ok());
        }
    }
    Ok(Some(ours.unwrap_or(-1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        flag: bool,
    }

    fn field_of(err: ApiError) -> (String, String) {
        match err {
            ApiError::App(crate::app::Error::Invalid(errors)) => {
                (errors[0].field.clone(), errors[0].code.clone())
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_and_wrongly_typed_fields_are_named() {
        assert_eq!(
            field_of(from_json::<Body>(br#"{"name":"a","role":"admin"}"#).unwrap_err()),
            ("role".into(), "unknown_field".into())
        );
        assert_eq!(
            field_of(from_json::<Body>(br#"{"name":"a","nested":{"flag":1}}"#).unwrap_err()),
            ("nested.flag".into(), "invalid_type".into())
        );
        assert_eq!(
            field_of(from_json::<Body>(br#"{}"#).unwrap_err()),
            ("name".into(), "required".into())
        );
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(
            from_json::<Body>(b"{\"name\":"),
            Err(ApiError::Malformed(_))
        ));
        assert!(matches!(
            from_json::<Body>(b"\xff\xfe"),
            Err(ApiError::Malformed(_))
        ));
    }
}
