//! HTTP routes: one module per resource, each exposing `configure()`. Handlers parse
//! input into domain types, check the caller's role, call the store and shape the
//! answer; they hold no SQL.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod autoconfig;
pub mod client_settings;
pub mod customers;
pub mod domains;
pub mod fallback;
pub mod health;
pub mod openapi;
pub mod partners;
pub mod passwords;
pub mod profiles;

use actix_web::http::header;
use actix_web::HttpResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::etag;
use crate::store::changes::Change;
use crate::store::{self, PageRequest};

/// Registers every route; the same function builds the served app and the spec.
pub fn configure(cfg: &mut ServiceConfig) {
    health::configure(cfg);
    // Early: actix tries routes in order, and every dynamic pattern before a match
    // costs a regex run; mail clients and the Control Panel ask these the most.
    autoconfig::configure(cfg);
    client_settings::configure(cfg);
    partners::configure(cfg);
    customers::configure(cfg);
    api_keys::configure(cfg);
    domains::configure(cfg);
    accounts::configure(cfg);
    passwords::configure(cfg);
    profiles::configure(cfg);
    audit::configure(cfg);
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
const MAX_Q_CHARS: usize = 100;

/// Validates `limit`, `cursor` and `q` into a store page request.
pub fn page_request(
    limit: Option<u32>,
    cursor: Option<&str>,
    q: Option<&str>,
) -> Result<(PageRequest, usize), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            "out_of_range",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let after = match cursor {
        None | Some("") => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::field(
                "cursor",
                "invalid_cursor",
                "is not a cursor this API returned",
            )
        })?),
    };
    let pattern = match q.map(str::trim) {
        None | Some("") => None,
        Some(q) if q.chars().count() > MAX_Q_CHARS => {
            return Err(ApiError::field(
                "q",
                "too_long",
                format!("must be at most {MAX_Q_CHARS} characters"),
            ))
        }
        Some(q) if q.chars().any(char::is_control) => {
            return Err(ApiError::field(
                "q",
                "invalid_characters",
                "must not contain control characters",
            ))
        }
        Some(q) => Some(store::contains_pattern(q)),
    };
    let limit = limit as usize;
    Ok((
        PageRequest {
            after,
            limit: limit as i64 + 1,
            pattern,
        },
        limit,
    ))
}

fn decode_cursor(c: &str) -> Option<String> {
    if c.len() > 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(c).ok()?;
    String::from_utf8(bytes).ok().filter(|s| !s.contains('\0'))
}

/// Cuts the extra row off and turns the last key into the next cursor.
pub fn into_page<R, T>(
    mut rows: Vec<R>,
    limit: usize,
    key: impl Fn(&R) -> String,
    map: impl Fn(R) -> T,
) -> Page<T> {
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| URL_SAFE_NO_PAD.encode(key(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

/// An audit event pre-filled with who is acting, through the API.
pub fn audit_event<'a>(caller: &'a Caller, action: &'a str) -> store::audit::NewEvent<'a> {
    store::audit::NewEvent {
        action,
        channel: "api",
        actor_key_id: Some(caller.key_id),
        actor_role: Some(caller.role.as_str()),
        client_addr: caller.client_addr.as_deref(),
        ..Default::default()
    }
}

/// `200` with the object and its `ETag`.
pub fn with_etag<T: Serialize>(
    status: actix_web::http::StatusCode,
    version: i32,
    body: &T,
) -> HttpResponse {
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

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// After a committed change: this instance applies it to its memory before the
/// answer goes out (other instances hear the NOTIFY sent inside the transaction).
pub async fn changed(state: &crate::state::AppState, changes: &[Change]) {
    for change in changes {
        state.memory.apply(&state.pool, *change).await;
    }
}

/// Announces changes inside the transaction that makes them.
pub async fn announce(tx: &mut sqlx::PgConnection, changes: &[Change]) -> Result<(), ApiError> {
    for change in changes {
        store::changes::announce(&mut *tx, *change).await?;
    }
    Ok(())
}

/// Parses an id from the path; an id that is not a UUID names nothing, so 404.
pub fn parse_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what))
}
