//! The API-key extractor: turns a request's `Authorization: Bearer mpk_…` into the
//! [`Caller`] (`app::api_keys::authenticate` decides who that is) and refuses a role
//! the route does not admit; and the client's address, for the audit trail and the
//! webmail limits.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpMessage as _, HttpRequest};
use clap::ValueEnum as _;
use secrecy::SecretString;

use crate::app::{self, App};
use crate::domain::{Caller, Role};
use crate::error::ApiError;

/// The roles each secured operation admits (none listed: every role), read from the
/// OpenAPI document's security requirements, where OpenAPI 3.1 lets a bearer scheme
/// name roles. Checked when the caller is extracted, before any body is read, so a
/// caller who may not use a route learns that first, whatever it sent.
#[derive(Debug, Default)]
pub struct RouteRoles(HashMap<(String, Method), Vec<Role>>);

impl RouteRoles {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let mut roles = HashMap::new();
        for (path, item) in &api.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                let Some(requirements) = op.as_ref().and_then(|op| op.security.as_ref()) else {
                    continue;
                };
                let Ok(value) = serde_json::to_value(requirements) else {
                    continue;
                };
                let names = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get("api_key")?.as_array())
                    .flatten()
                    .filter_map(|name| Role::from_str(name.as_str()?, false).ok());
                let admitted: Vec<Role> = names.collect();
                let secured = value.as_array().is_some_and(|r| !r.is_empty());
                if secured {
                    roles.insert((path.clone(), method), admitted);
                }
            }
        }
        Self(roles)
    }

    /// `None` for a public route; else the roles it admits (empty: all).
    fn admitted(&self, req: &HttpRequest) -> Option<&[Role]> {
        let pattern = req.match_pattern()?;
        self.0
            .get(&(pattern, req.method().clone()))
            .map(Vec::as_slice)
    }
}

/// Whether the route needs a key; body extractors authenticate first on such routes.
pub fn is_secured(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<RouteRoles>>()
        .is_some_and(|r| r.admitted(req).is_some())
}

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
    // A JSON body extractor authenticates first too (see `extract::Json`): whichever
    // runs second takes the caller the first one found.
    if let Some(caller) = req.extensions().get::<Caller>() {
        return Ok(caller.clone());
    }
    let app = req
        .app_data::<web::Data<App>>()
        .ok_or_else(|| app::Error::Internal(anyhow::anyhow!("application state missing")))?;
    let key = bearer(&req).ok_or(app::Error::Unauthenticated)?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let caller = app::api_keys::authenticate(app, &key, writes, client_addr(&req)).await?;
    let admitted = req
        .app_data::<web::Data<RouteRoles>>()
        .and_then(|r| r.admitted(&req))
        .unwrap_or_default();
    if !admitted.is_empty() {
        caller.require(admitted).map_err(app::Error::from)?;
    }
    req.extensions_mut().insert(caller.clone());
    Ok(caller)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}
