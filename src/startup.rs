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

use crate::config::Settings;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::passwords::Hasher;
use crate::routes::{self, fallback};
use crate::state::{AppState, KeyUsage};
use crate::telemetry::request_id_middleware;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Creates and migrates the database if needed, then binds `settings.bind`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = crate::store::database::prepare(
            &settings.database_url,
            settings.database_max_connections,
        )
        .await?;
        Self::build_with_pool(settings, pool).await
    }

    pub async fn build_with_pool(settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let spec = routes::openapi::spec();
        let settings = Arc::new(settings);
        let memory = Arc::new(crate::changes::Memory::load(&pool).await?);
        crate::changes::spawn_listener(pool.clone(), memory.clone());
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            hasher: Hasher::new(
                settings.argon2,
                settings.hash_concurrency,
                settings.hash_queue,
            )?,
            memory,
            key_usage: KeyUsage::default(),
            metrics: Metrics::new()?,
            routes: fallback::RouteTable::from_openapi(&spec),
            settings: settings.clone(),
        });
        spawn_purger(
            pool,
            Duration::from_secs(settings.purge_interval_secs),
            settings.webmail_window_secs,
        );

        let workers = settings.workers;
        let server = HttpServer::new(move || {
            let (app, _) = actix_web::App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|err, _| ApiError::NotFound(format!("{err}")).into()),
                )
                .configure(routes::configure)
                .split_for_parts();
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec.clone()))
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
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
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

/// Purges accounts past their retention period and failure counters past their
/// window, now and then. Several instances may run it at once: each purge is one
/// statement, so they cannot purge twice.
fn spawn_purger(pool: PgPool, every: Duration, throttle_window_secs: i64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match routes::accounts::purge_expired(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "purged accounts past their retention period"),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "purging deleted accounts failed")
                }
            }
            if let Err(e) = crate::store::throttle::prune(&pool, throttle_window_secs).await {
                tracing::warn!(error = %e, "pruning failure counters failed");
            }
            if let Err(e) =
                crate::store::idempotency::prune(&pool, crate::idempotency::KEEP_HOURS).await
            {
                tracing::warn!(error = %e, "pruning idempotency keys failed");
            }
        }
    });
}
