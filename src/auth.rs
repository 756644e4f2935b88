//! API keys and the caller they identify.
//!
//! A key is `mpk_` + a lookup id + a secret. Only a SHA-256 of the whole key is stored
//! (the key has 256 random bits, so a slow hash adds nothing); the row is found by the
//! lookup id and the hash compared in constant time.
//!
//! Reach: an admin reaches everything, a partner its own customers and all below them,
//! a customer its own domains and accounts. Objects outside the reach answer 404 as if
//! they did not exist, so that no caller can probe for other tenants' objects.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

pub const KEY_PREFIX: &str = "mpk_";
const LOOKUP_BYTES: usize = 9;
const SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Partner,
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Partner => "partner",
            Role::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "partner" => Some(Role::Partner),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }
}

/// Which tenants' objects a caller may see. Store queries filter by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    All,
    Partner(Uuid),
    Customer(Uuid),
}

impl Reach {
    /// The `(partner_id, customer_id)` filter pair that store queries bind.
    pub fn filters(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Reach::All => (None, None),
            Reach::Partner(p) => (Some(p), None),
            Reach::Customer(c) => (None, Some(c)),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: Uuid,
    pub role: Role,
    pub reach: Reach,
    pub read_only: bool,
    /// The client's address, for the audit trail.
    pub client_addr: Option<String>,
}

impl Caller {
    /// Functions outside the role answer 403 (unlike objects outside the reach: 404).
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} key may not do this",
                self.role.as_str()
            )))
        }
    }
}

/// A freshly minted key: the plaintext is shown once, only the hash is kept.
pub struct NewKey {
    pub plaintext: SecretString,
    pub lookup: String,
    pub hash: Vec<u8>,
}

pub fn mint_key() -> NewKey {
    let mut lookup = [0u8; LOOKUP_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut lookup);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let lookup = URL_SAFE_NO_PAD.encode(lookup).replace(['-', '_'], "x");
    let plaintext = format!("{KEY_PREFIX}{lookup}_{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = digest(&plaintext);
    NewKey {
        plaintext: SecretString::from(plaintext),
        lookup,
        hash,
    }
}

fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Splits `mpk_<lookup>_<secret>` and returns the lookup id.
fn lookup_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    (lookup.len() == 12 && !secret.is_empty() && key.len() < 200).then_some(lookup)
}

fn bearer(req: &HttpRequest) -> Option<SecretString> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| SecretString::from(token.trim().to_owned()))
}

/// The client's address: the socket's peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.trusted_proxies.as_slice())
        .unwrap_or(&[]);
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let client = forwarded
        .iter()
        .rev()
        .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer);
    Some(client.to_string())
}

async fn authenticate(req: HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let token = bearer(&req).ok_or(ApiError::Unauthorized)?;
    let key = token.expose_secret();
    let lookup = lookup_of(key).ok_or(ApiError::Unauthorized)?;
    // Keys are read on every request: from memory when this instance has seen the
    // key since the last key change anywhere (see `changes`).
    let cache = &state.memory.keys;
    let row = match cache.get(&lookup.to_owned()) {
        Some(row) => row,
        None => {
            let generation = cache.generation();
            let row = store::api_keys::find_active_by_lookup(&state.pool, lookup)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            cache.insert(generation, lookup.to_owned(), row.clone());
            row
        }
    };
    if !bool::from(row.secret_hash.as_slice().ct_eq(&digest(key))) {
        return Err(ApiError::Unauthorized);
    }
    let role = Role::parse(&row.role).ok_or_else(|| anyhow::anyhow!("unknown role in database"))?;
    let reach = match (role, row.partner_id, row.customer_id) {
        (Role::Admin, _, _) => Reach::All,
        (Role::Partner, Some(p), _) => Reach::Partner(p),
        (Role::Customer, _, Some(c)) => Reach::Customer(c),
        _ => return Err(anyhow::anyhow!("api key {} has no owner", row.id).into()),
    };
    if state.key_usage.due(row.id) {
        store::api_keys::touch(&state.pool, row.id).await?;
    }
    let read_only = row.read_only;
    if read_only && !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::Forbidden("this API key is read-only".into()));
    }
    Ok(Caller {
        key_id: row.id,
        role,
        reach,
        read_only,
        client_addr: client_addr(&req),
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_are_recognisable_and_parse_back() {
        let key = mint_key();
        let text = key.plaintext.expose_secret();
        assert!(text.starts_with("mpk_"));
        assert_eq!(lookup_of(text), Some(key.lookup.as_str()));
        assert_eq!(digest(text), key.hash);
        // 32 random bytes of secret: at least 256 bits.
        assert!(text.len() >= 4 + 12 + 1 + 43);
    }

    #[test]
    fn malformed_keys_have_no_lookup() {
        for bad in [
            "",
            "mpk_",
            "mpk_short_x",
            "abc_123456789012_x",
            "mpk_123456789012_",
        ] {
            assert_eq!(lookup_of(bad), None, "{bad}");
        }
    }
}
