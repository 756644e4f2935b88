//! Background upkeep, now and then: purge accounts past their retention period,
//! failure counters past their window, idempotency answers past their day, webhook
//! deliveries delivered more than `KEEP_DAYS` ago; and read the directory again if
//! a refresh of it failed and no change has healed it since. Several
//! instances may run it at once: each purge is one statement, so none purges twice.

use std::sync::Arc;
use std::time::Duration;

use crate::app::{accounts, App};
use crate::store;

pub fn spawn(app: Arc<App>) {
    let every = Duration::from_secs(app.settings.purge_interval_secs);
    tokio::spawn(async move {
        loop {
            run_once(&app).await;
            if !app.pause(every, None).await {
                return;
            }
        }
    });
}

async fn run_once(app: &App) {
    if let Err(e) = app.caches.directory.heal(&app.pool).await {
        tracing::warn!(error = %format!("{e:#}"), "reading the directory again failed");
    }
    match accounts::purge_expired(app).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "purged accounts past their retention period"),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "purging deleted accounts failed"),
    }
    let window = app.settings.webmail_window_secs;
    if let Err(e) = store::throttle::prune(&app.pool, window).await {
        tracing::warn!(error = %e, "pruning failure counters failed");
    }
    if let Err(e) = store::idempotency::prune(&app.pool, store::idempotency::KEEP_HOURS).await {
        tracing::warn!(error = %e, "pruning idempotency keys failed");
    }
    if let Err(e) = store::kicks::prune(&app.pool, app.doveadm.is_none()).await {
        tracing::warn!(error = %e, "pruning session kicks failed");
    }
    if let Err(e) =
        store::webhook_deliveries::prune_delivered(&app.pool, store::webhook_deliveries::KEEP_DAYS)
            .await
    {
        tracing::warn!(error = %e, "pruning delivered webhooks failed");
    }
}
