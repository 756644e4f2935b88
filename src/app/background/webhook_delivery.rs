//! Delivering webhooks, in the background, on every instance at once:
//! 1. each subscription behind the feed has its new events written as deliveries, and
//!    its cursor moved, in one transaction that locks only that subscription (others
//!    skip it): every event in its reach becomes one delivery, whichever instance and
//!    however many run;
//! 2. due deliveries are taken for one attempt each (a lease past the request's
//!    timeout, so a crashed instance's attempt is made again elsewhere) and sent
//!    signed; a failure is retried with a doubling wait, and a delivery that has
//!    failed for `MAILPANEL_WEBHOOK_GIVE_UP_SECS` switches its subscription off with
//!    the reason. Switching it on again resumes; nothing is dropped.
//!
//! At least once, then: a receiver may see an event twice (a crash after its `2xx`
//! and before it was recorded) and should skip a `webhook-id` it has seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::app::{events, App, Result};
use crate::domain::webhook::EventTypes;
use crate::store;
use crate::store::webhook_deliveries::{Attempt, NewDelivery, Take};

/// Subscriptions brought up to date per transaction, and events read per subscription.
const SUBSCRIPTIONS_PER_TX: i64 = 20;
const EVENTS_PER_READ: i64 = 500;
/// Requests in flight per instance, and per subscription (about: a poll may add this
/// many to a subscription below it), so that a receiver that hangs holds a few slots,
/// not all of them.
const IN_FLIGHT: usize = 64;
const PER_WEBHOOK: usize = 8;
const MAX_WAIT_SECS: f64 = 3600.0;

/// Starts the deliverer of this instance.
pub fn spawn(app: Arc<App>) {
    let every = Duration::from_millis(app.settings.webhook_poll_ms);
    let slots = Slots::default();
    tokio::spawn(async move {
        // A finished attempt frees a slot and wakes the loop at once: a receiver that
        // answers quickly is sent to as fast as it answers, not once per poll.
        while app.pause(every, Some(&slots.freed)).await {
            match fan_out(&app).await {
                Ok(0) => {}
                Ok(_) => slots.freed.notify_one(),
                Err(e) if !app.is_stopping() => {
                    tracing::warn!(error = %format!("{e:#}"), "writing webhook deliveries failed")
                }
                Err(_) => {}
            }
            match send_due(&app, &slots).await {
                Err(e) if !app.is_stopping() => {
                    tracing::warn!(error = %format!("{e:#}"), "taking due webhook deliveries failed")
                }
                _ => {}
            }
        }
    });
}

/// Writes the new events of every subscription behind the feed as its deliveries.
pub async fn fan_out(app: &App) -> Result<usize> {
    let mut written = 0;
    loop {
        let mut tx = app.pool.begin().await?;
        let behind = store::webhook_deliveries::lock_behind(&mut tx, SUBSCRIPTIONS_PER_TX).await?;
        for sub in &behind {
            let cursor = (sub.cursor_txid.parse::<u64>().unwrap_or(0), sub.cursor_id);
            let rows =
                store::events::after(&mut *tx, sub.reach(), Some(cursor), EVENTS_PER_READ).await?;
            let complete = (rows.len() as i64) < EVENTS_PER_READ;
            let mut last = cursor;
            let mut owed = Vec::new();
            for row in rows {
                last = (row.txid.parse::<u64>().unwrap_or(last.0), row.id);
                if EventTypes::matches(&sub.event_types, &row.action) {
                    let event = events::event_of(row);
                    owed.push(NewDelivery {
                        event_id: event.id,
                        event_type: event.kind.clone(),
                        payload: serde_json::to_string(&event).map_err(anyhow::Error::from)?,
                    });
                }
            }
            // Having read everything up to the head, the subscription is at the head,
            // also when none of it was in its reach.
            let head = (sub.head_txid.parse::<u64>().unwrap_or(0), sub.head_id);
            if complete && head > last {
                last = head;
            }
            written += owed.len();
            store::webhook_deliveries::insert_deliveries(&mut tx, sub.id, &owed).await?;
            store::webhook_deliveries::advance(&mut tx, sub.id, &last.0.to_string(), last.1)
                .await?;
        }
        tx.commit().await?;
        if (behind.len() as i64) < SUBSCRIPTIONS_PER_TX {
            return Ok(written);
        }
    }
}

/// This instance's requests in flight: in all, and per subscription.
#[derive(Clone)]
pub struct Slots {
    all: Arc<Semaphore>,
    per_webhook: Arc<Mutex<HashMap<Uuid, usize>>>,
    /// Notified when an attempt ends (or new deliveries were written).
    freed: Arc<tokio::sync::Notify>,
}

impl Default for Slots {
    fn default() -> Self {
        Self {
            all: Arc::new(Semaphore::new(IN_FLIGHT)),
            per_webhook: Arc::default(),
            freed: Arc::default(),
        }
    }
}

impl Slots {
    fn busy(&self) -> Vec<Uuid> {
        let counts = self.per_webhook.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .iter()
            .filter(|(_, n)| **n >= PER_WEBHOOK)
            .map(|(id, _)| *id)
            .collect()
    }

    fn count(&self, webhook: Uuid, up: bool) {
        let mut counts = self.per_webhook.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(webhook).or_default();
        if up {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&webhook);
            }
        }
    }
}

/// Starts an attempt for each due delivery, as many as there are free slots.
pub async fn send_due(app: &Arc<App>, slots: &Slots) -> Result<usize> {
    let free = slots.all.available_permits();
    if free == 0 {
        return Ok(0);
    }
    let busy = slots.busy();
    let take = Take {
        limit: free as i64,
        per_webhook: PER_WEBHOOK as i64,
        busy: &busy,
        lease_secs: lease_secs(app.settings.webhook_timeout_ms),
    };
    let due = store::webhook_deliveries::take_due(&app.pool, &take).await?;
    let taken = due.len();
    for attempt in due {
        let Ok(slot) = slots.all.clone().try_acquire_owned() else {
            break;
        };
        let (app, slots) = (app.clone(), slots.clone());
        slots.count(attempt.webhook_id, true);
        tokio::spawn(async move {
            let (id, webhook) = (attempt.id, attempt.webhook_id);
            if let Err(e) = send(&app, attempt).await {
                tracing::warn!(delivery = id, error = %format!("{e:#}"), "recording a webhook attempt failed");
            }
            slots.count(webhook, false);
            drop(slot);
            slots.freed.notify_one();
        });
    }
    Ok(taken)
}

/// The lease of one attempt: the request's timeout and a margin for recording it.
fn lease_secs(timeout_ms: u64) -> f64 {
    timeout_ms as f64 / 1000.0 + 5.0
}

/// One attempt, and what it leads to.
async fn send(app: &App, attempt: Attempt) -> Result<()> {
    let message_id = attempt.event_id.to_string();
    let outcome = app
        .webhook_client
        .post(
            &attempt.url,
            &message_id,
            &attempt.payload,
            &attempt.signing_secret,
        )
        .await;
    match outcome {
        Ok(status) => {
            store::webhook_deliveries::mark_delivered(&app.pool, attempt.id, status).await?;
        }
        Err(failure) => {
            tracing::info!(delivery = attempt.id, webhook = %attempt.webhook_id,
                attempts = attempt.attempts + 1, error = %failure.error, "webhook attempt failed");
            let wait = retry_wait(app.settings.webhook_retry_ms, attempt.attempts);
            let give_up = app.settings.webhook_give_up_secs as f64;
            let gave_up = store::webhook_deliveries::mark_failed(
                &app.pool,
                attempt.id,
                failure.status,
                &failure.error,
                wait,
                give_up,
            )
            .await?;
            if gave_up {
                switch_off(app, &attempt, &failure.error).await?;
            }
        }
    }
    Ok(())
}

/// Switches a subscription off whose delivery failed for the whole retry period, and
/// says so in the feed.
async fn switch_off(app: &App, attempt: &Attempt, error: &str) -> Result<()> {
    let hours = app.settings.webhook_give_up_secs as f64 / 3600.0;
    let reason = format!(
        "event {} could not be delivered for {hours:.1} h; last error: {error}. \
         Fix the receiver and set active to true: what was missed is delivered then",
        attempt.event_id
    );
    let mut tx = app.pool.begin().await?;
    if let Some(row) =
        store::webhook_deliveries::disable(&mut *tx, attempt.webhook_id, &reason).await?
    {
        tracing::warn!(webhook = %row.id, %reason, "webhook switched off");
        let event = store::audit::NewEvent {
            action: "webhook.disabled",
            channel: "system",
            partner_id: row.partner_id,
            customer_id: row.customer_id,
            details: serde_json::json!({ "webhook_id": row.id, "reason": reason }),
            ..Default::default()
        };
        store::audit::record(&mut *tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deliveries still owed to active subscriptions, for `/metrics`.
pub async fn pending(app: &App) -> Result<i64> {
    Ok(store::webhook_deliveries::pending(&app.pool).await?)
}

/// The wait before the next attempt: the base, doubled with each attempt, at most an
/// hour (in seconds).
fn retry_wait(base_ms: u64, attempts: i32) -> f64 {
    let doubled = base_ms as f64 / 1000.0 * 2f64.powi(attempts.clamp(0, 30));
    doubled.min(MAX_WAIT_SECS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        assert_eq!(super::retry_wait(5000, 0), 5.0);
        assert_eq!(super::retry_wait(5000, 3), 40.0);
        assert_eq!(super::retry_wait(5000, 20), 3600.0);
    }

    #[test]
    fn a_lease_outlasts_the_request() {
        assert!(super::lease_secs(10_000) > 10.0);
    }
}
