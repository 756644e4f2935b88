//! `GET /v1/audit-events`: the trail of changes within the caller's reach, newest first.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::app::audit::{self as use_case, Filter};
use crate::app::App;
use crate::domain::field::collect;
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, DomainName, FieldError, MailAddress};
use crate::error::ApiError;
use crate::extract::Query;
use crate::store::audit::EventRow;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// e.g. `account.created`, `account.deleted`, `password.set`.
    pub action: String,
    /// `api`, `webmail`, `cli` or `system`.
    pub channel: String,
    pub actor_key_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub client_addr: Option<String>,
    pub domain: Option<String>,
    pub account: Option<String>,
    /// What changed; never a password or a hash.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<EventRow> for AuditEvent {
    fn from(r: EventRow) -> Self {
        Self {
            id: r.id,
            occurred_at: r.occurred_at,
            action: r.action,
            channel: r.channel,
            actor_key_id: r.actor_key_id,
            actor_role: r.actor_role,
            client_addr: r.client_addr,
            domain: r.domain,
            account: r.account,
            details: r.details,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    /// Only events of this account (full address).
    pub account: Option<String>,
    /// Only events of this domain.
    pub domain: Option<String>,
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl TryFrom<&ListEvents> for Filter {
    type Error = Vec<FieldError>;

    fn try_from(q: &ListEvents) -> Result<Self, Self::Error> {
        let account = q
            .account
            .as_deref()
            .map(MailAddress::parse)
            .transpose()
            .map_err(|e| FieldError::new("account", "invalid_address", format!("address {e}")));
        let domain = q
            .domain
            .as_deref()
            .map(DomainName::parse)
            .transpose()
            .map_err(|e| FieldError::new("domain", "invalid_domain", format!("domain name {e}")));
        match (account, domain) {
            (Ok(account), Ok(domain)) => Ok(Self { account, domain }),
            (a, d) => Err(collect([a.err(), d.err()])),
        }
    }
}

/// List audit events in reach, newest first.
#[utoipa::path(operation_id = "listAuditEvents", tag = "audit", security(("api_key" = ["admin", "partner", "customer"])), params(ListEvents),
    responses((status = 200, body = Page<AuditEvent>, description = "One page")))]
#[get("/v1/audit-events")]
async fn list(
    app: web::Data<App>,
    caller: Caller,
    query: Query<ListEvents>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.cursor.as_deref(), None)?;
    let filter = Filter::try_from(&q)?;
    let page = use_case::list(&app, &caller, &filter, &paging).await?;
    Ok(HttpResponse::Ok().json(page.map(AuditEvent::from)))
}
