//! Webhook subscriptions: who receives which events where. What they are owed and
//! how it is sent is `webhook_deliveries`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::reach::{Reached, Scoped, WEBHOOKS};
use super::PageRequest;
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: Uuid,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookRow {
    /// The reach whose events the subscription receives: its owner's.
    pub fn reach(&self) -> Reach {
        reach_of(self.partner_id, self.customer_id)
    }
}

pub(super) fn reach_of(partner_id: Option<Uuid>, customer_id: Option<Uuid>) -> Reach {
    match (partner_id, customer_id) {
        (_, Some(c)) => Reach::Customer(c),
        (Some(p), None) => Reach::Partner(p),
        (None, None) => Reach::All,
    }
}

pub(super) const COLUMNS: &str =
    "id, partner_id, customer_id, url, event_types, active, disabled_reason,
    disabled_at, version, created_at, updated_at";

pub struct NewWebhook<'a> {
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub url: &'a str,
    pub event_types: &'a [String],
    pub active: bool,
    pub signing_secret: &'a str,
}

/// A new subscription, following the feed from now: events of transactions still
/// running are delivered, those already visible are not.
pub async fn insert(db: impl PgExecutor<'_>, w: &NewWebhook<'_>) -> sqlx::Result<WebhookRow> {
    sqlx::query_as(&format!(
        "INSERT INTO webhooks (id, partner_id, customer_id, url, event_types, active, signing_secret, cursor_txid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, pg_snapshot_xmin(pg_current_snapshot()))
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(w.partner_id)
    .bind(w.customer_id)
    .bind(w.url)
    .bind(w.event_types)
    .bind(w.active)
    .bind(w.signing_secret)
    .fetch_one(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
) -> sqlx::Result<Option<Reached<WebhookRow>>> {
    let mut q = Scoped::select(&format!("SELECT {COLUMNS}"), &WEBHOOKS, reach);
    q.and("id = ").bind(id);
    q.fetch_optional(db).await
}

pub async fn list(
    db: impl PgExecutor<'_>,
    reach: Reach,
    page: &PageRequest,
) -> sqlx::Result<Vec<WebhookRow>> {
    let mut q = Scoped::select(&format!("SELECT {COLUMNS}"), &WEBHOOKS, reach);
    if let Some(after) = page.after.as_deref().and_then(|c| Uuid::parse_str(c).ok()) {
        q.and("id > ").bind(after);
    }
    if let Some(pattern) = &page.pattern {
        q.and("url ILIKE ").bind(pattern.clone());
    }
    q.push(" ORDER BY id LIMIT ").bind(page.limit);
    q.fetch_all(db).await
}

/// Subscriptions of exactly this owner, for its limit.
pub async fn count_owned(
    db: impl PgExecutor<'_>,
    partner_id: Option<Uuid>,
    customer_id: Option<Uuid>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM webhooks
         WHERE partner_id IS NOT DISTINCT FROM $1 AND customer_id IS NOT DISTINCT FROM $2",
    )
    .bind(partner_id)
    .bind(customer_id)
    .fetch_one(db)
    .await
}

/// Serialises the creates of one owner, so that two at once cannot pass its limit.
pub async fn lock_owner(
    db: &mut PgConnection,
    partner_id: Option<Uuid>,
    customer_id: Option<Uuid>,
) -> sqlx::Result<()> {
    let owner = customer_id.or(partner_id).unwrap_or_default();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('webhooks:' || $1::text, 0))")
        .bind(owner)
        .execute(db)
        .await?;
    Ok(())
}

pub struct WebhookChange<'a> {
    pub url: Option<&'a str>,
    pub event_types: Option<&'a [String]>,
    pub active: Option<bool>,
}

/// Applies the change if the row is still at `version`. Switching a subscription on
/// clears why it was switched off; `revive` (it was off) also restarts the retries of
/// what it still owes.
pub async fn update(
    db: &mut PgConnection,
    id: Uuid,
    change: &WebhookChange<'_>,
    version: i32,
    revive: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE webhooks SET url = coalesce($3, url),
                event_types = coalesce($4, event_types),
                active = coalesce($5, active),
                disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END,
                disabled_at = CASE WHEN $5 THEN NULL ELSE disabled_at END,
                version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(change.url)
    .bind(change.event_types)
    .bind(change.active)
    .execute(&mut *db)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if revive {
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = now(), retrying_since = now()
             WHERE webhook_id = $1 AND delivered_at IS NULL",
        )
        .bind(id)
        .execute(db)
        .await?;
    }
    Ok(true)
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
