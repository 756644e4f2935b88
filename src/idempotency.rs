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
//!
//! Its records are not an `app::Write`: they keep a request's answer around the use
//! case that does the write (which is one), and change no object.
//!
//! A kept body is sealed (ChaCha20-Poly1305, `ring`) under a key derived from the
//! caller's API key and the Idempotency-Key. The database holds neither (only
//! hashes), so an answer that shows a secret once, such as a new API key or a
//! webhook's signing secret, cannot be read from the table; only the retry that
//! brings both can open it.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
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

/// The key a kept answer is sealed under: only a request that brings the same API
/// key and Idempotency-Key can derive it.
fn answer_key(authorization: &[u8], key: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"mailpanel idempotent answer\0");
    hasher.update(authorization);
    hasher.update([0]);
    hasher.update(key.as_bytes());
    hasher.finalize().into()
}

fn cipher(key: &[u8; 32]) -> Option<LessSafeKey> {
    Some(LessSafeKey::new(
        UnboundKey::new(&CHACHA20_POLY1305, key).ok()?,
    ))
}

/// A random nonce, then the body encrypted and authenticated.
fn seal(key: &[u8; 32], body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| anyhow::anyhow!("no random nonce"))?;
    let mut sealed = body.to_vec();
    cipher(key)
        .ok_or_else(|| anyhow::anyhow!("no cipher"))?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut sealed,
        )
        .map_err(|_| anyhow::anyhow!("sealing failed"))?;
    Ok([nonce.as_slice(), &sealed].concat())
}

/// The body `seal` sealed; `None` for another key or a changed body.
fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let len = cipher(key)?
        .open_in_place(nonce, Aad::empty(), &mut body)
        .ok()?
        .len();
    body.truncate(len);
    Some(body)
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
        Ok(false) => {
            let answer_key = answer_key(&authorization, &key);
            return Ok(answer_again(req, &state, &scope, &key, &fingerprint, &answer_key).await);
        }
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
    let stored = match seal(&answer_key(&authorization, &key), &bytes) {
        Ok(sealed) => store::idempotency::complete(
            &state.pool,
            &scope,
            &key,
            status.as_u16(),
            &headers,
            &sealed,
        )
        .await
        .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        // Unkept, a retry would hear "still being served" for a day: let it run again.
        tracing::warn!(error = %format!("{e:#}"), "storing an idempotent answer failed");
        let _ = store::idempotency::release(&state.pool, &scope, &key).await;
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
    answer_key: &[u8; 32],
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
    let body = match (stored.sealed_body, stored.body) {
        (Some(sealed), _) => match open(answer_key, &sealed) {
            Some(opened) => opened,
            // The fingerprint matched, so the key is the same: the row was changed.
            None => {
                let err = anyhow::anyhow!("a kept answer does not open with its key");
                return problem(req, app::Error::Internal(err).into());
            }
        },
        (None, body) => body.unwrap_or_default(),
    };
    let mut res = HttpResponse::build(status);
    for (name, value) in stored.headers.map(|h| h.0).unwrap_or_default() {
        res.insert_header((name, value));
    }
    res.insert_header((REPLAYED, "true"));
    req.into_response(res.body(body))
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
    fn a_sealed_answer_opens_only_with_the_same_api_key_and_idempotency_key() {
        let body = br#"{"key":"mpk_secret"}"#;
        let key = answer_key(b"Bearer mpk_a", "k1");
        let sealed = seal(&key, body).unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"mpk_secret"));
        assert_eq!(open(&key, &sealed).as_deref(), Some(&body[..]));
        assert_eq!(open(&answer_key(b"Bearer mpk_b", "k1"), &sealed), None);
        assert_eq!(open(&answer_key(b"Bearer mpk_a", "k2"), &sealed), None);
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(open(&key, &changed), None);
        assert_eq!(open(&key, &sealed[..5]), None);
    }

    #[test]
    fn try_again_answers_are_not_kept() {
        assert!(kept(StatusCode::CREATED));
        assert!(kept(StatusCode::CONFLICT));
        assert!(!kept(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!kept(StatusCode::TOO_MANY_REQUESTS));
    }
}
