//! `GET /v1/events`: the change feed.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::events as use_case;
use crate::app::App;
use crate::domain::event::Event;
use crate::domain::paging::Paging;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::extract::Query;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(feed);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    pub items: Vec<Event>,
    /// Pass as `?after=` for what comes next; present even when no event is new, so
    /// a reader keeps polling from it (`null` only for an empty feed read from the start).
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A cursor from this feed; without it, from the beginning.
    pub after: Option<String>,
    /// 1..=500, default 50.
    pub limit: Option<u32>,
}

/// The changes in reach, oldest first: partners, customers, domains, accounts,
/// aliases, catch-alls, password changes (never a password), API keys, server
/// profiles. Ordered by the transactions that wrote them and shown only once every
/// older transaction has ended, so a reader that follows `next_cursor` sees every
/// event once, even while writes commit out of order on several instances (an event
/// appears once every transaction older than it, on the whole PostgreSQL cluster, has
/// ended).
#[utoipa::path(operation_id = "listEvents", tag = "audit", security(("api_key" = ["admin", "partner", "customer"])), params(FeedQuery),
    responses((status = 200, body = Feed, description = "The next events")))]
#[get("/v1/events")]
async fn feed(
    app: web::Data<App>,
    caller: Caller,
    query: Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let paging = Paging::parse(q.limit, q.after.as_deref(), None).map_err(|errors| {
        let errors = errors
            .into_iter()
            .map(|e| {
                if e.field == "cursor" {
                    e.at("after")
                } else {
                    e
                }
            })
            .collect::<Vec<_>>();
        ApiError::App(crate::app::Error::Invalid(errors))
    })?;
    let page = use_case::feed(&app, &caller, &paging).await?;
    Ok(HttpResponse::Ok().json(Feed {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
