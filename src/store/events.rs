//! The change feed: the audit trail in the order of the transactions that wrote it,
//! up to the oldest transaction still running, so that a reader following the
//! cursor never misses an event that commits late.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::OWNER_IN_REACH;
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedRow {
    pub id: i64,
    /// The writing transaction's id (xid8, as text).
    pub txid: String,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub domain: Option<String>,
    pub account: Option<String>,
    pub details: serde_json::Value,
}

/// Events after `(txid, id)` in reach, oldest first. Failed logins and hash upgrades
/// are not changes; server profiles are everyone's.
pub async fn after(
    db: impl PgExecutor<'_>,
    reach: Reach,
    after: Option<(u64, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<FeedRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!(
        "SELECT id, txid::text AS txid, occurred_at, action, partner_id, customer_id, domain, account, details
         FROM audit_events
         WHERE (({OWNER_IN_REACH}) OR action LIKE 'server\\_profile.%')
           AND action NOT IN ('password.change_failed', 'password.hash_upgraded')
           AND txid < pg_snapshot_xmin(pg_current_snapshot())
           AND ($3::text IS NULL OR (txid, id) > ($3::text::xid8, $4::bigint))
         ORDER BY txid, id LIMIT $5"
    ))
    .bind(p)
    .bind(c)
    .bind(after.map(|(t, _)| t.to_string()))
    .bind(after.map(|(_, i)| i))
    .bind(limit)
    .fetch_all(db)
    .await
}
