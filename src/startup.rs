//! Building the application: database, state, routes, middleware, listener. Tests
//! bind port 0 and read the port back.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, HttpResponse, HttpServer};
use anyhow::Context;
use sqlx::PgPool;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::{self, App};
use crate::auth::RouteRoles;
use crate::config::Settings;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routes::{self, fallback};
use crate::telemetry::request_id_middleware;

pub struct Application {
    port: u16,
    server: Server,
    app: Arc<App>,
}

/// Stops a running instance from elsewhere: its server and its background work.
#[derive(Clone)]
pub struct Stopper {
    server: actix_web::dev::ServerHandle,
    app: Arc<App>,
}

impl Stopper {
    /// Stops at once, as a crash would: requests in flight are cut, and background
    /// work (deliveries, the outbox) ends at its next pause. What was leased is taken
    /// up by another instance once the lease runs out.
    pub async fn stop(&self) {
        self.app.stop();
        self.server.stop(false).await;
    }
}

impl Application {
    /// Creates and migrates the database if needed, then binds `settings.bind`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = crate::store::database::prepare_with(
            &settings.database_url,
            settings.database_max_connections,
            Duration::from_millis(settings.database_acquire_timeout_ms),
        )
        .await?;
        Self::build_with_pool(settings, pool).await
    }

    pub async fn build_with_pool(settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let spec = routes::openapi::spec();
        let document = routes::openapi::spec_value();
        let settings = Arc::new(settings);
        crate::app::domains::backfill_unicode_names(&pool).await?;
        let state = web::Data::new(App::start(settings.clone(), pool).await?);
        app::background::spawn_all(&state.clone().into_inner());
        let app_handle = state.clone().into_inner();
        let metrics = web::Data::new(Metrics::new()?);
        let route_table = web::Data::new(fallback::RouteTable::from_openapi(&spec));
        let route_roles = web::Data::new(RouteRoles::from_openapi(&spec)?);

        let workers = settings.workers;
        let server = HttpServer::new(move || {
            let (app, _) = actix_web::App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(route_table.clone())
                .app_data(route_roles.clone())
                .app_data(web::PathConfig::default().error_handler(|err, _| {
                    ApiError::from(app::Error::NotFound(format!("{err}"))).into()
                }))
                .configure(routes::configure)
                .split_for_parts();
            let docs = SwaggerUi::new("/docs/{_:.*}")
                .external_url_unchecked("/openapi.json", document.clone());
            app.service(docs)
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::Found()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .default_service(web::to(fallback::default_handler))
                .wrap(from_fn(crate::idempotency::middleware))
                .wrap(from_fn(routes::autoconfig::autodiscover_path_case))
                .wrap(from_fn(crate::metrics::middleware))
                .wrap(cors(&state.settings.cors_origins))
                // Outside CORS, so that its rejections become problem+json too.
                .wrap(ErrorHandlers::new().default_handler(fallback::problem_backstop))
                .wrap(from_fn(request_id_middleware))
        })
        .workers(workers)
        .client_request_timeout(Duration::from_millis(settings.head_timeout_ms))
        .keep_alive(Duration::from_secs(settings.keep_alive_secs))
        .max_connections(settings.max_connections)
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            app: app_handle,
        })
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            app: self.app.clone(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT (or a [`Stopper`]), then ends the background work:
    /// what is running finishes its statement, and the pool closes once every
    /// connection is back (at most a few seconds).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.app.stop();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.app.pool.close()).await;
        served
    }
}

/// Browsers may call the API from the configured origins, and from its own origin
/// (the Swagger UI at `/docs`).
fn cors(origins: &[String]) -> Cors {
    let origins = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let same_origin = head
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .zip(origin.to_str().ok())
                .is_some_and(|(host, origin)| {
                    origin
                        .split_once("://")
                        .is_some_and(|(_, authority)| authority == host)
                });
            same_origin || origins.iter().any(|o| o.as_bytes() == origin.as_bytes())
        })
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_MATCH,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(crate::idempotency::HEADER),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(crate::idempotency::REPLAYED),
        ])
        .max_age(3600)
}
