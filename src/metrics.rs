//! Prometheus metrics: request counts and latencies by route pattern and status,
//! and the database pool's use, read at scrape time.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    outbox_pending: IntGauge,
    webhooks_pending: IntGauge,
    kicks_pending: IntGauge,
    directory_domains: IntGauge,
}

/// Work queued in the database, shared by every instance.
pub struct Backlogs {
    pub outbox: Option<i64>,
    pub webhooks: Option<i64>,
    pub kicks: Option<i64>,
}

/// What this instance holds in memory.
pub struct Held {
    pub directory_domains: usize,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "mailpanel_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "mailpanel_http_request_duration_seconds",
                "HTTP request latency by route and method",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )?;
        let pool_size =
            IntGauge::new("mailpanel_db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new(
            "mailpanel_db_pool_idle_connections",
            "Idle database connections",
        )?;
        let outbox_pending = IntGauge::new(
            "mailpanel_outbox_pending",
            "Mail mailpanel sends itself (welcome messages) queued, not yet sent nor given up on",
        )?;
        registry.register(Box::new(outbox_pending.clone()))?;
        let webhooks_pending = IntGauge::new(
            "mailpanel_webhook_deliveries_pending",
            "Webhook deliveries owed to active subscriptions, not yet delivered",
        )?;
        registry.register(Box::new(webhooks_pending.clone()))?;
        let kicks_pending = IntGauge::new(
            "mailpanel_dovecot_kicks_pending",
            "Session ends (password changed, suspended, deleted, protocol off) not yet sent to Dovecot",
        )?;
        registry.register(Box::new(kicks_pending.clone()))?;
        let directory_domains = IntGauge::new(
            "mailpanel_directory_domains",
            "Domains in this instance's in-memory auto-configuration directory",
        )?;
        registry.register(Box::new(directory_domains.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            outbox_pending,
            webhooks_pending,
            kicks_pending,
            directory_domains,
        })
    }

    /// The text exposition, with the gauges read now (the backlogs from the database,
    /// since every instance's queue is the same table; `None` when one could not be
    /// read, and its gauge keeps its last value).
    pub fn render(
        &self,
        pool: &sqlx::PgPool,
        backlogs: Backlogs,
        held: Held,
    ) -> anyhow::Result<String> {
        self.directory_domains
            .set(i64::try_from(held.directory_domains).unwrap_or(i64::MAX));
        if let Some(pending) = backlogs.outbox {
            self.outbox_pending.set(pending);
        }
        if let Some(pending) = backlogs.webhooks {
            self.webhooks_pending.set(pending);
        }
        if let Some(pending) = backlogs.kicks {
            self.kicks_pending.set(pending);
        }
        self.pool_size.set(i64::from(pool.size()));
        self.pool_idle
            .set(i64::try_from(pool.num_idle()).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
        // The route pattern, not the path: paths hold addresses and would explode cardinality.
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let status = res.status().as_u16().to_string();
        metrics
            .requests
            .with_label_values(&[&route, &method, &status])
            .inc();
        metrics
            .latency
            .with_label_values(&[&route, &method])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}
