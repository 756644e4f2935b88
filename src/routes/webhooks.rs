//! Webhook subscriptions: `/v1/webhooks`, `/v1/webhooks/{id}` and its deliveries.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{path, with_etag};
use crate::app::webhooks::{self as use_case, Change, NewWebhook};
use crate::app::App;
use crate::domain::field::collect;
use crate::domain::paging::{Page, Paging};
use crate::domain::webhook::{parse_url, EventTypes};
use crate::domain::{Caller, FieldError};
use crate::error::ApiError;
use crate::extract::{etag, if_match, Json, Query};
use crate::store::webhook_deliveries::DeliveryRow;
use crate::store::webhooks::WebhookRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(show)
        .service(update)
        .service(remove)
        .service(deliveries);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    /// The receiver.
    #[schema(example = "https://crm.example.net/hooks/mailpanel")]
    pub url: String,
    /// `*`, families such as `account.*`, or single types such as `alias.created`.
    #[schema(example = json!(["account.*", "password.changed"]))]
    pub event_types: Vec<String>,
    /// An inactive subscription is sent nothing; switched on again, it resumes where it
    /// stopped, and what it missed is delivered.
    pub active: bool,
    /// Why mailpanel switched it off (a delivery failed for the whole retry period);
    /// cleared when it is switched on.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The owner whose reach the events come from (both `null`: the provider's).
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Self {
            id: r.id,
            url: r.url,
            event_types: r.event_types,
            active: r.active,
            disabled_reason: r.disabled_reason,
            disabled_at: r.disabled_at,
            partner_id: r.partner_id,
            customer_id: r.customer_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The key the receiver checks signatures with (`whsec_` and base64, as Standard
    /// Webhooks libraries take it). Shown only in this response; store it now.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwWcpsyVg0ScI=")]
    pub signing_secret: String,
    #[serde(flatten)]
    pub webhook: Webhook,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `https://` (plain `http://` only where the provider allows it), at most 2000
    /// characters, without credentials or fragment. Receivers on private, loopback or
    /// link-local addresses are refused (`422 receiver_not_allowed`) unless the
    /// provider allows their network.
    #[schema(example = "https://crm.example.net/hooks/mailpanel")]
    pub url: String,
    /// 1..=50 of: `*`, a family (`account.*`), a type (`alias.created`). Default `["*"]`.
    pub event_types: Option<Vec<String>>,
    /// Default `true`.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `true` switches a subscription on again (also one mailpanel switched off):
    /// retries start afresh and what it missed is delivered.
    pub active: Option<bool>,
}

fn url_of(raw: &str, allow_http: bool) -> Result<url::Url, FieldError> {
    parse_url("url", raw, allow_http)
}

fn types_of(raw: &[String]) -> Result<EventTypes, FieldError> {
    EventTypes::parse("event_types", raw)
}

impl CreateWebhook {
    fn into_command(self, allow_http: bool) -> Result<NewWebhook, Vec<FieldError>> {
        let all = vec!["*".to_owned()];
        let url = url_of(&self.url, allow_http);
        let types = types_of(self.event_types.as_ref().unwrap_or(&all));
        match (url, types) {
            (Ok(url), Ok(event_types)) => Ok(NewWebhook {
                url,
                event_types,
                active: self.active.unwrap_or(true),
            }),
            (u, t) => Err(collect([u.err(), t.err()])),
        }
    }
}

impl UpdateWebhook {
    fn into_change(self, allow_http: bool) -> Result<Change, Vec<FieldError>> {
        let url = self
            .url
            .as_deref()
            .map(|u| url_of(u, allow_http))
            .transpose();
        let types = self.event_types.as_deref().map(types_of).transpose();
        match (url, types) {
            (Ok(url), Ok(event_types)) => Ok(Change {
                url,
                event_types,
                active: self.active,
            }),
            (u, t) => Err(collect([u.err(), t.err()])),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooks {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Substring of the URL.
    pub q: Option<String>,
}

/// Create a webhook subscription; its signing secret is shown once.
#[utoipa::path(operation_id = "createWebhook", tag = "webhooks", security(("api_key" = ["admin", "partner", "customer"])), request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook, description = "Created; the response holds the only copy of the signing secret", headers(("Location" = String), ("ETag" = String))),
              (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "The owner has the most subscriptions allowed (`limit_reached`)"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json",
               description = "Invalid fields; a receiver that is not `https` (`https_required`) or in a private or loopback network (`receiver_not_allowed`)")))]
#[post("/v1/webhooks")]
async fn create(
    app: web::Data<App>,
    caller: Caller,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let command = body.0.into_command(app.settings.webhook_allow_http)?;
    let created = use_case::create(&app, &caller, command).await?;
    let location = format!("/v1/webhooks/{}", created.row.id);
    let version = created.row.version;
    let body = CreatedWebhook {
        signing_secret: created.signing_secret.expose_secret().to_owned(),
        webhook: created.row.into(),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// List the webhook subscriptions in reach.
#[utoipa::path(operation_id = "listWebhooks", tag = "webhooks", security(("api_key" = ["admin", "partner", "customer"])), params(ListWebhooks),
    responses((status = 200, body = Page<Webhook>, description = "One page")))]
#[get("/v1/webhooks")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    query: Query<ListWebhooks>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), q.q.as_deref())?;
    let page = use_case::list(&app, &caller, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Webhook::from)))
}

/// Show a webhook subscription (never its secret).
#[utoipa::path(operation_id = "getWebhook", tag = "webhooks", security(("api_key" = ["admin", "partner", "customer"])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Webhook, description = "The subscription", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such subscription in reach")))]
#[get("/v1/webhooks/{id}")]
async fn show(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = use_case::find(&app, &caller, path::id(&id, "webhook")?).await?;
    Ok(with_etag(
        StatusCode::OK,
        row.version,
        &Webhook::from(row.into_inner()),
    ))
}

/// Change a subscription's receiver, event types or state; honours `If-Match`.
#[utoipa::path(operation_id = "updateWebhook", tag = "webhooks", security(("api_key" = ["admin", "partner", "customer"])), params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateWebhook,
    responses((status = 200, body = Webhook, description = "Updated", headers(("ETag" = String))),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such subscription in reach"),
              (status = 412, body = crate::error::Problem, content_type = "application/problem+json", description = "ETag mismatch"),
              (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "Invalid fields, or a receiver that is not allowed")))]
#[patch("/v1/webhooks/{id}")]
async fn update(
    app: web::Data<App>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let id = path::id(&id, "webhook")?;
    let change = body.0.into_change(app.settings.webhook_allow_http)?;
    let row = use_case::update(&app, &caller, id, change, if_match(&req)?).await?;
    Ok(with_etag(StatusCode::OK, row.version, &Webhook::from(row)))
}

/// Delete a subscription; what it was still owed is not sent.
#[utoipa::path(operation_id = "deleteWebhook", tag = "webhooks", security(("api_key" = ["admin", "partner", "customer"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such subscription in reach")))]
#[delete("/v1/webhooks/{id}")]
async fn remove(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&app, &caller, path::id(&id, "webhook")?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    /// The event's id in the feed, and the request's `webhook-id`.
    pub event_id: i64,
    pub event_type: String,
    /// `pending` (owed: waiting for its next attempt) or `delivered` (a `2xx` came back).
    #[schema(example = "delivered")]
    pub status: &'static str,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status of the last attempt, if it answered.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When a pending delivery is tried next (while its subscription is active).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        let delivered = r.delivered_at.is_some();
        Self {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            status: if delivered { "delivered" } else { "pending" },
            attempts: r.attempts,
            last_attempt_at: r.last_attempt_at,
            last_status: r.last_status,
            last_error: r.last_error,
            next_attempt_at: (!delivered).then_some(r.next_attempt_at),
            delivered_at: r.delivered_at,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Only deliveries in this state.
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
}

/// A subscription's deliveries, newest first.
#[utoipa::path(operation_id = "listWebhookDeliveries", tag = "webhooks", security(("api_key" = ["admin", "partner", "customer"])), params(("id" = Uuid, Path), ListDeliveries),
    responses((status = 200, body = Page<Delivery>, description = "One page"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "No such subscription in reach")))]
#[get("/v1/webhooks/{id}/deliveries")]
async fn deliveries(
    app: web::Data<App>,
    caller: Caller,
    id: web::Path<String>,
    query: Query<ListDeliveries>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), None)?;
    let pending = q.status.map(|s| matches!(s, DeliveryStatus::Pending));
    let id = path::id(&id, "webhook")?;
    let page = use_case::deliveries(&app, &caller, id, pending, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(Delivery::from)))
}
