//! `Idempotency-Key` for writes: a client that may retry (a partner's integration
//! after a timeout, say) sends a key of its choosing; the first request with it is
//! served and its answer kept for a day, and every retry with the same key and the
//! same request gets that answer again (marked `Idempotent-Replayed: true`) instead of
//! a second execution. The same key with a different request is refused (`422`), and
//! a retry while the first is still running gets `409`. Keys are scoped by the API
//! key that sent them; requests without an API key ignore the header.
//!
//! Answers that say "try again" (5xx, 408, 425, 429) are not kept, so that the retry
//! does run again.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

use crate::app::{self, App};
use crate::error::ApiError;
use crate::store;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_KEY_LEN: usize = 255;
/// Response headers a replay repeats.
const KEPT_HEADERS: [header::HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::CACHE_CONTROL,
];

fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn kept(status: StatusCode) -> bool {
    !(status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429))
}

fn problem(req: ServiceRequest, err: ApiError) -> ServiceResponse<BoxBody> {
    let res = err.error_response();
    req.into_response(res)
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let applies = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let key = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_owned));
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let (Some(key), Some(authorization), true) = (key, authorization, applies) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(key) = key.ok().filter(|k| valid_key(k)) else {
        let err = ApiError::field(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "must be 1 to 255 visible ASCII characters",
        );
        return Ok(problem(req, err));
    };
    let Some(state) = req.app_data::<web::Data<App>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };

    let limit = crate::extract::body_limit_for(&state.settings, req.path());
    let payload = req.take_payload();
    // A clone of the request must be gone before routing, which needs it unshared.
    let read = {
        let http_req = req.request().clone();
        crate::extract::read_body(&http_req, payload, limit).await
    };
    let body = match read {
        Ok(body) => body,
        Err(err) => return Ok(problem(req, err)),
    };
    // The request as the fingerprint sees it: method, path, query and body. Bodies
    // may hold passwords, so the (secret, 256-bit) API key goes in first: without it
    // the stored fingerprint cannot be tested against guesses.
    let mut hasher = Sha256::new();
    hasher.update(&authorization);
    hasher.update([0]);
    hasher.update(req.method().as_str());
    hasher.update([0]);
    hasher.update(req.uri().to_string());
    hasher.update([0]);
    hasher.update(&body);
    let fingerprint = hasher.finalize().to_vec();
    let scope = hex::encode(Sha256::digest(&authorization));

    match store::idempotency::claim(&state.pool, &scope, &key, &fingerprint).await {
        Ok(true) => {}
        Ok(false) => return Ok(answer_again(req, &state, &scope, &key, &fingerprint).await),
        Err(e) => return Ok(problem(req, app::Error::from(e).into())),
    }

    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    req.set_payload(payload.into());
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            let _ = store::idempotency::release(&state.pool, &scope, &key).await;
            return Err(e);
        }
    };
    let status = res.status();
    if !kept(status) {
        let _ = store::idempotency::release(&state.pool, &scope, &key).await;
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let _ = store::idempotency::release(&state.pool, &scope, &key).await;
            let res = ApiError::from(app::Error::Internal(anyhow::anyhow!(
                "response body unreadable"
            )))
            .error_response();
            return Ok(ServiceResponse::new(http_req, res));
        }
    };
    let headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            Some((
                name.as_str().to_owned(),
                head.headers().get(name)?.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    if let Err(e) =
        store::idempotency::complete(&state.pool, &scope, &key, status.as_u16(), &headers, &bytes)
            .await
    {
        tracing::warn!(error = %e, "storing an idempotent answer failed");
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(BoxBody::new(bytes)),
    ))
}

/// A retry: the kept answer, or why there is none.
async fn answer_again(
    req: ServiceRequest,
    state: &App,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
) -> ServiceResponse<BoxBody> {
    let stored = match store::idempotency::get(&state.pool, scope, key).await {
        Ok(Some(stored)) => stored,
        // Released between our claim and this read: the caller may simply retry.
        Ok(None) => {
            return problem(
                req,
                app::Error::Conflict(
                    "the first request with this Idempotency-Key failed; retry".into(),
                )
                .into(),
            )
        }
        Err(e) => return problem(req, app::Error::from(e).into()),
    };
    if stored.fingerprint != fingerprint {
        let err = ApiError::field(
            "Idempotency-Key",
            "idempotency_key_reused",
            "was used before for a different request; use a new key for a new request",
        );
        return problem(req, err);
    }
    let Some(status) = stored
        .status
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
    else {
        return problem(
            req,
            app::Error::Conflict(
                "the first request with this Idempotency-Key is still being served".into(),
            )
            .into(),
        );
    };
    let mut res = HttpResponse::build(status);
    for (name, value) in stored.headers.map(|h| h.0).unwrap_or_default() {
        res.insert_header((name, value));
    }
    res.insert_header((REPLAYED, "true"));
    req.into_response(res.body(stored.body.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(valid_key("order-4711"));
        assert!(!valid_key(""));
        assert!(!valid_key("with space"));
        assert!(!valid_key(&"k".repeat(256)));
    }

    #[test]
    fn try_again_answers_are_not_kept() {
        assert!(kept(StatusCode::CREATED));
        assert!(kept(StatusCode::CONFLICT));
        assert!(!kept(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!kept(StatusCode::TOO_MANY_REQUESTS));
    }
}
