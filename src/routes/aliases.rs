//! Aliases: `/v1/domains/{domain}/aliases` and `/v1/aliases/{address}`. An address is
//! an account or an alias, never both.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{created, nullable, path, with_etag};
use crate::app::aliases::{self as use_case, Change, NewAlias};
use crate::app::App;
use crate::domain::field::collect;
use crate::domain::paging::{Page, Paging};
use crate::domain::routing::{Destinations, MAX_DESCRIPTION};
use crate::domain::{text, Caller, DomainName, FieldError, LocalPart, MailAddress};
use crate::error::ApiError;
use crate::extract::{if_match, Json, Query};
use crate::store::aliases::AliasRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Alias {
    #[schema(example = "info@mustermann.at")]
    pub address: String,
    pub local_part: String,
    /// A-label form.
    pub domain: String,
    /// Where its mail goes: local or external addresses.
    pub destinations: Vec<String>,
    /// An inactive alias delivers nothing (mail to it is refused at `RCPT TO`, not
    /// given to the catch-all); its address still cannot become an account.
    pub active: bool,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AliasRow> for Alias {
    fn from(r: AliasRow) -> Self {
        Self {
            address: r.address,
            local_part: r.local_part,
            domain: r.domain,
            destinations: r.destinations,
            active: r.active,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlias {
    /// RFC 5322 dot-atom, at most 64 octets; stored lowercase. Not an account's.
    #[schema(example = "info")]
    pub local_part: String,
    /// 1..=100 (configurable) addresses, local or external, without duplicates.
    /// Refused with `422 routing_loop` when mail would come back to the alias.
    #[schema(example = json!(["max@mustermann.at", "office@example.net"]))]
    pub destinations: Vec<String>,
    /// Default `true`.
    pub active: Option<bool>,
    pub description: Option<String>,
}

impl CreateAlias {
    fn into_command(self, domain: &DomainName, max: usize) -> Result<NewAlias, Vec<FieldError>> {
        let address = LocalPart::parse(&self.local_part)
            .map_err(|e| {
                FieldError::new(
                    "local_part",
                    "invalid_local_part",
                    format!("local part {e}"),
                )
            })
            .and_then(|local| {
                MailAddress::new(local, domain.clone()).map_err(|e| {
                    FieldError::new("local_part", "too_long", format!("the address {e}"))
                })
            });
        let destinations = Destinations::parse("destinations", &self.destinations, max);
        let description =
            text::optional("description", self.description.as_deref(), MAX_DESCRIPTION);
        match (address, destinations, description) {
            (Ok(address), Ok(destinations), Ok(description)) => Ok(NewAlias {
                address,
                destinations,
                active: self.active.unwrap_or(true),
                description,
            }),
            (a, d, t) => {
                let mut errors = collect([a.err(), t.err()]);
                errors.extend(d.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlias {
    /// Replaces the destinations.
    pub destinations: Option<Vec<String>>,
    pub active: Option<bool>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

impl UpdateAlias {
    fn into_change(self, max: usize) -> Result<Change, Vec<FieldError>> {
        let destinations = self
            .destinations
            .map(|d| Destinations::parse("destinations", &d, max))
            .transpose();
        let description = match self.description {
            Some(Some(d)) => {
                text::bounded("description", &d, MAX_DESCRIPTION).map(|d| Some(Some(d)))
            }
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        match (destinations, description) {
            (Ok(destinations), Ok(description)) => Ok(Change {
                destinations,
                active: self.active,
                description,
            }),
            (d, t) => {
                let mut errors = collect([t.err()]);
                errors.extend(d.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAliases {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the local part or a destination.
    pub q: Option<String>,
}

fn location(row: &AliasRow) -> String {
    format!("/v1/aliases/{}", row.address)
}

/// Create an alias.
#[utoipa::path(operation_id = "createAlias", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path)), request_body = CreateAlias,
    responses((status = 201, body = Alias, description = "Created", headers(("Location" = String), ("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach"),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json",
               description = "The address is an account (also a deleted, restorable one) or an alias, or the domain is an alias domain (`conflict`); or the domain's `max_aliases` is reached (`limit_reached`)"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Invalid fields, or a routing loop (`routing_loop`)")))]
#[post("/v1/domains/{domain}/aliases")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
    body: Json<CreateAlias>,
) -> Result<HttpResponse, ApiError> {
    let domain = path::domain(&domain)?;
    let command = body
        .0
        .into_command(&domain, app.settings.max_destinations)?;
    let row = use_case::create(&app, &caller, command).await?;
    Ok(created(&location(&row), row.version, &Alias::from(row)))
}

/// List a domain's aliases, by local part.
#[utoipa::path(operation_id = "listAliases", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("domain" = String, Path), ListAliases),
    responses((status = 200, body = Page<Alias>, description = "One page"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such domain in reach")))]
#[get("/v1/domains/{domain}/aliases")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    domain: web::Path<String>,
    query: Query<ListAliases>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let page = use_case::list(&app, &caller, &path::domain(&domain)?, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Alias::from)))
}

/// Show an alias.
#[utoipa::path(operation_id = "getAlias", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
    responses((status = 200, body = Alias, description = "The alias", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such alias in reach")))]
#[get("/v1/aliases/{address}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, &alias_path(&address)?).await?;
    Ok(with_etag(
        StatusCode::OK,
        row.version,
        &Alias::from(row.into_inner()),
    ))
}

/// Change an alias's destinations, state or description; honours `If-Match`.
#[utoipa::path(operation_id = "updateAlias", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateAlias,
    responses((status = 200, body = Alias, description = "Updated", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such alias in reach"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Invalid fields, or a routing loop (`routing_loop`)")))]
#[patch("/v1/aliases/{address}")]
async fn update(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    address: web::Path<String>,
    body: Json<UpdateAlias>,
) -> Result<HttpResponse, ApiError> {
    let change = body.0.into_change(app.settings.max_destinations)?;
    let address = alias_path(&address)?;
    let row = use_case::update(&app, &caller, &address, change, if_match(&req)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Alias::from(row)))
}

/// Delete an alias.
#[utoipa::path(operation_id = "deleteAlias", tag = "aliases", security(("api_key" = ["admin", "partner", "customer"])), params(("address" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such alias in reach")))]
#[delete("/v1/aliases/{address}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    address: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, &alias_path(&address)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn alias_path(raw: &str) -> Result<MailAddress, ApiError> {
    MailAddress::parse(raw).map_err(|_| ApiError::not_found("alias"))
}
