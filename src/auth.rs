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

/// The roles each secured operation admits, read from the OpenAPI document's
/// security requirements, where OpenAPI 3.1 lets a bearer scheme name roles: the
/// route's own attribute is the one place a route's roles are written. Checked when
/// the caller is extracted, before any body is read, so a caller who may not use a
/// route learns that first, whatever it sent.
#[derive(Debug, Default)]
pub struct RouteRoles(HashMap<(String, Method), Vec<Role>>);

/// A route whose roles cannot be read: the service refuses to start rather than
/// guess (an empty list read as "every role" would admit what nobody meant to).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    #[error("{method} {path}: unknown role {name:?} (admin, partner or customer)")]
    Unknown {
        method: Method,
        path: String,
        name: String,
    },
    #[error("{method} {path}: a secured operation must name the roles it admits")]
    Empty { method: Method, path: String },
    #[error("{method} {path}: only the api_key scheme secures operations, not {scheme:?}")]
    Scheme {
        method: Method,
        path: String,
        scheme: String,
    },
}

impl RouteRoles {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Result<Self, RolesError> {
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
                let requirements = op.as_ref().and_then(|op| op.security.as_ref());
                let value = serde_json::to_value(requirements).unwrap_or_default();
                let requirements = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if requirements.is_empty() {
                    continue; // public: `security: []`
                }
                let at = || (method.clone(), path.clone());
                let mut admitted = Vec::new();
                for (scheme, names) in requirements.iter().filter_map(|r| r.as_object()).flatten() {
                    if scheme != "api_key" {
                        let (method, path) = at();
                        let scheme = scheme.clone();
                        return Err(RolesError::Scheme {
                            method,
                            path,
                            scheme,
                        });
                    }
                    for name in names.as_array().into_iter().flatten() {
                        let name = name.as_str().unwrap_or_default();
                        let role = Role::from_str(name, false).map_err(|_| {
                            let (method, path) = at();
                            let name = name.to_owned();
                            RolesError::Unknown { method, path, name }
                        })?;
                        admitted.push(role);
                    }
                }
                if admitted.is_empty() {
                    let (method, path) = at();
                    return Err(RolesError::Empty { method, path });
                }
                roles.insert((path.clone(), method), admitted);
            }
        }
        Ok(Self(roles))
    }

    /// `None` for a public route; else the roles it admits.
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
    // Reached only on a secured route, whose roles were read at start; a route
    // without them admits no one.
    let admitted = req
        .app_data::<web::Data<RouteRoles>>()
        .and_then(|r| r.admitted(&req))
        .unwrap_or_default();
    caller.require(admitted).map_err(app::Error::from)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(security: serde_json::Value) -> utoipa::openapi::OpenApi {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/v1/things": {"get": {
                "responses": {"200": {"description": "ok"}},
                "security": security,
            }}},
        });
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn a_misspelled_role_stops_the_service_from_starting() {
        let refused = RouteRoles::from_openapi(&spec(serde_json::json!([{"api_key": ["admn"]}])));
        assert_eq!(
            refused.unwrap_err(),
            RolesError::Unknown {
                method: Method::GET,
                path: "/v1/things".into(),
                name: "admn".into()
            }
        );
    }

    #[test]
    fn a_secured_route_without_roles_admits_no_one_and_stops_the_start() {
        let refused = RouteRoles::from_openapi(&spec(serde_json::json!([{"api_key": []}])));
        assert!(matches!(refused, Err(RolesError::Empty { .. })));
        let refused = RouteRoles::from_openapi(&spec(serde_json::json!([{"basic": ["admin"]}])));
        assert!(matches!(refused, Err(RolesError::Scheme { .. })));
    }

    #[test]
    fn named_roles_are_admitted_and_public_routes_need_none() {
        let roles = RouteRoles::from_openapi(&spec(
            serde_json::json!([{"api_key": ["admin", "partner"]}]),
        ))
        .unwrap();
        let admitted = roles
            .0
            .get(&("/v1/things".to_owned(), Method::GET))
            .unwrap();
        assert_eq!(admitted, &[Role::Admin, Role::Partner]);
        let public = RouteRoles::from_openapi(&spec(serde_json::json!([]))).unwrap();
        assert!(public.0.is_empty());
    }

    #[test]
    fn every_route_of_the_service_names_its_roles() {
        let roles = RouteRoles::from_openapi(&crate::routes::openapi::spec());
        assert!(roles.is_ok(), "{roles:?}");
    }
}
