//! Operations: liveness, readiness (database reachable) and Prometheus metrics.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::App;
use crate::error::ApiError;
use crate::metrics::Metrics;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// Liveness: the process serves requests.
#[utoipa::path(operation_id = "getHealth", tag = "operations", responses((status = 200, body = Health, description = "Alive")))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(operation_id = "getReadiness", tag = "operations", responses((status = 200, body = Health, description = "Ready"),
    (status = 503, body = crate::error::Problem, content_type = "application/problem+json", description = "Database unreachable")))]
#[get("/readyz")]
async fn readyz(app: web::Data<App>) -> Result<HttpResponse, ApiError> {
    app.ping().await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(operation_id = "getMetrics", tag = "operations", responses((status = 200, content_type = "text/plain; version=0.0.4", body = String, description = "Metrics")))]
#[get("/metrics")]
async fn metrics(
    app: web::Data<App>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    // Metrics must answer while the database is away: the gauge then keeps its value.
    let backlogs = crate::metrics::Backlogs {
        outbox: crate::app::background::outbox::pending(&app).await.ok(),
        webhooks: crate::app::background::webhook_delivery::pending(&app)
            .await
            .ok(),
        kicks: crate::app::background::sessions::pending(&app).await.ok(),
    };
    let text = metrics
        .render(
            &app.pool,
            backlogs,
            crate::metrics::Held {
                directory_domains: app.caches.directory.domains(),
            },
        )
        .map_err(crate::app::Error::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}
