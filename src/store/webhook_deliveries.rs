//! What webhook subscriptions are owed, and each attempt to send it. Several
//! instances deliver at once and never hold a lock across a network call:
//! - turning events into deliveries locks one subscription row (`SKIP LOCKED`) for one
//!   short transaction that writes the deliveries and moves the cursor together;
//! - an attempt first moves the delivery's `next_attempt_at` past the request's
//!   timeout (the lease) in a statement of its own, so another instance takes it up
//!   only if this one died.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::reach::Reached;
use super::webhooks::{reach_of, WebhookRow, COLUMNS};
use super::PageRequest;
use crate::domain::Reach;

/// An active subscription behind the feed's head, locked for this transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Behind {
    pub id: Uuid,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub event_types: Vec<String>,
    pub cursor_txid: String,
    pub cursor_id: i64,
    /// The newest event every reader may see now.
    pub head_txid: String,
    pub head_id: i64,
}

impl Behind {
    pub fn reach(&self) -> Reach {
        reach_of(self.partner_id, self.customer_id)
    }
}

/// Active subscriptions whose cursor is behind the feed's head; others skip them.
pub async fn lock_behind(db: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Behind>> {
    sqlx::query_as(
        "WITH head AS (
             SELECT txid, id FROM audit_events
             WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY txid DESC, id DESC LIMIT 1)
         SELECT w.id, w.partner_id, w.customer_id, w.event_types,
                w.cursor_txid::text AS cursor_txid, w.cursor_id,
                head.txid::text AS head_txid, head.id AS head_id
         FROM webhooks w, head
         WHERE w.active AND (w.cursor_txid, w.cursor_id) < (head.txid, head.id)
         ORDER BY w.cursor_txid, w.cursor_id LIMIT $1
         FOR UPDATE OF w SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn advance(
    db: &mut PgConnection,
    id: Uuid,
    txid: &str,
    event_id: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhooks SET cursor_txid = $2::text::xid8, cursor_id = $3
         WHERE id = $1 AND (cursor_txid, cursor_id) < ($2::text::xid8, $3)",
    )
    .bind(id)
    .bind(txid)
    .bind(event_id)
    .execute(db)
    .await?;
    Ok(())
}

/// One event owed to one subscription.
pub struct NewDelivery {
    pub event_id: i64,
    pub event_type: String,
    pub payload: String,
}

pub async fn insert_deliveries(
    db: &mut PgConnection,
    webhook_id: Uuid,
    deliveries: &[NewDelivery],
) -> sqlx::Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = deliveries.iter().map(|d| d.event_id).collect();
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    let payloads: Vec<&str> = deliveries.iter().map(|d| d.payload.as_str()).collect();
    sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])
         ON CONFLICT (webhook_id, event_id) DO NOTHING",
    )
    .bind(webhook_id)
    .bind(&ids)
    .bind(&types)
    .bind(&payloads)
    .execute(db)
    .await?;
    Ok(())
}

/// A delivery taken for one attempt, with what sending it needs.
#[derive(sqlx::FromRow)]
pub struct Attempt {
    pub id: i64,
    pub webhook_id: Uuid,
    pub event_id: i64,
    pub payload: String,
    /// Attempts before this one.
    pub attempts: i32,
    pub url: String,
    #[sqlx(try_from = "String")]
    pub signing_secret: secrecy::SecretString,
}

/// Which due deliveries to take.
pub struct Take<'a> {
    pub limit: i64,
    /// At most this many of one subscription, so that one slow receiver cannot take
    /// every slot.
    pub per_webhook: i64,
    /// Subscriptions this instance already has enough requests in flight for.
    pub busy: &'a [Uuid],
    pub lease_secs: f64,
}

/// Takes due deliveries of active subscriptions for one attempt each: their next
/// attempt moves `lease_secs` ahead, so no other instance sends them meanwhile.
pub async fn take_due(db: impl PgExecutor<'_>, take: &Take<'_>) -> sqlx::Result<Vec<Attempt>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT d.id, d.next_attempt_at FROM webhooks w
             CROSS JOIN LATERAL (
                 SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.webhook_id = w.id AND d.delivered_at IS NULL AND d.next_attempt_at <= now()
                 ORDER BY d.next_attempt_at LIMIT $2
                 FOR UPDATE SKIP LOCKED) d
             WHERE w.active AND w.id <> ALL($3)
             ORDER BY d.next_attempt_at LIMIT $1)
         UPDATE webhook_deliveries d
            SET next_attempt_at = now() + make_interval(secs => $4), last_attempt_at = now()
         FROM due, webhooks w
         WHERE d.id = due.id AND w.id = d.webhook_id AND d.next_attempt_at <= now()
         RETURNING d.id, d.webhook_id, d.event_id, d.payload, d.attempts,
                   w.url, w.signing_secret",
    )
    .bind(take.limit)
    .bind(take.per_webhook)
    .bind(take.busy)
    .bind(take.lease_secs)
    .fetch_all(db)
    .await
}

pub async fn mark_delivered(db: impl PgExecutor<'_>, id: i64, status: u16) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET delivered_at = now(), attempts = attempts + 1,
                last_status = $2, last_error = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(i32::from(status))
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt and schedules the next; `true` when the delivery has been
/// retried for `give_up_secs` and its subscription should be switched off.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    status: Option<u16>,
    error: &str,
    retry_secs: f64,
    give_up_secs: f64,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2,
                last_error = left($3, 500), next_attempt_at = now() + make_interval(secs => $4)
         WHERE id = $1
         RETURNING retrying_since < now() - make_interval(secs => $5)",
    )
    .bind(id)
    .bind(status.map(i32::from))
    .bind(error)
    .bind(retry_secs)
    .bind(give_up_secs)
    .fetch_optional(db)
    .await
    .map(|gave_up| gave_up.unwrap_or(false))
}

/// Switches a subscription off with the reason; its owner, when it was on.
pub async fn disable(
    db: impl PgExecutor<'_>,
    id: Uuid,
    reason: &str,
) -> sqlx::Result<Option<WebhookRow>> {
    sqlx::query_as(&format!(
        "UPDATE webhooks SET active = false, disabled_reason = $2, disabled_at = now(),
                version = version + 1, updated_at = now()
         WHERE id = $1 AND active RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(reason)
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A subscription's deliveries, newest first; only those still owed when `pending`.
pub async fn deliveries(
    db: impl PgExecutor<'_>,
    webhook: &Reached<WebhookRow>,
    pending: Option<bool>,
    page: &PageRequest,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as(
        "SELECT id, event_id, event_type, attempts, last_attempt_at, last_status, last_error,
                next_attempt_at, delivered_at, created_at
         FROM webhook_deliveries
         WHERE webhook_id = $1 AND ($2::bigint IS NULL OR id < $2)
           AND ($3::boolean IS NULL OR (delivered_at IS NULL) = $3)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(webhook.id)
    .bind(page.after.as_deref().and_then(|c| c.parse::<i64>().ok()))
    .bind(pending)
    .bind(page.limit)
    .fetch_all(db)
    .await
}

/// How long delivered deliveries stay listed.
pub const KEEP_DAYS: i64 = 30;

pub async fn prune_delivered(db: impl PgExecutor<'_>, days: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE delivered_at < now() - make_interval(days => $1::int)",
    )
    .bind(days)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Deliveries still owed to active subscriptions: the `mailpanel_webhook_deliveries_pending` gauge.
pub async fn pending(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.delivered_at IS NULL AND w.active",
    )
    .fetch_one(db)
    .await
}
