//! The API-key extractor: turns a request's `Authorization: Bearer mpk_…` into the
//! [`Caller`] (`app::api_keys::authenticate` decides who that is), and the client's
//! address, for the audit trail and the webmail limits.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use secrecy::SecretString;

use crate::app::{self, App};
use crate::domain::Caller;
use crate::error::ApiError;

fn bearer(req: &HttpRequest) -> Option<SecretString> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
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
        .app_data::<web::Data<App>>()
        .map(|a| a.settings.trusted_proxies.as_slice())
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
    let app = req
        .app_data::<web::Data<App>>()
        .ok_or_else(|| app::Error::Internal(anyhow::anyhow!("application state missing")))?;
    let key = bearer(&req).ok_or(app::Error::Unauthenticated)?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    Ok(app::api_keys::authenticate(app, &key, writes, client_addr(&req)).await?)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}
