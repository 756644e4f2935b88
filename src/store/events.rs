//! The change feed: the audit trail in the order of the transactions that wrote it,
//! up to the oldest transaction still running, so that a reader following the
//! cursor never misses an event that commits late.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::reach::FEED;
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
/// are not changes; server profiles are everyone's. An event is in the reach of the
/// tenancy it was recorded under (a customer moved to another partner takes its
/// later events along, not its history).
///
/// The admin's feed walks the feed's index from the cursor. A partner's or a
/// customer's merges two walks of the same order: its own events (an index per
/// owner) and the profile events (a partial index), each cut at the page's size, so
/// that a page costs the same among millions of other owners' events.
pub async fn after(
    db: impl PgExecutor<'_>,
    reach: Reach,
    after: Option<(u64, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<FeedRow>> {
    let mut q = QueryBuilder::<Postgres>::new("");
    match FEED.owner_column(reach) {
        None => push_walk(&mut q, None, after, limit),
        Some((column, id)) => {
            let own = format!("{column} = ");
            let profiles =
                format!("e.action LIKE 'server\\_profile.%' AND {column} IS DISTINCT FROM ");
            q.push("SELECT * FROM ((");
            push_walk(&mut q, Some((&own, id)), after, limit);
            q.push(") UNION ALL (");
            push_walk(&mut q, Some((&profiles, id)), after, limit);
            q.push(")) merged ORDER BY txid_order, id LIMIT ")
                .push_bind(limit);
        }
    }
    q.build_query_as().fetch_all(db).await
}

/// One walk of the feed's order from the cursor: `condition` is SQL ending in a
/// comparison with the owner's id.
fn push_walk(
    q: &mut QueryBuilder<'_, Postgres>,
    condition: Option<(&str, Uuid)>,
    after: Option<(u64, i64)>,
    limit: i64,
) {
    q.push(
        "SELECT e.id, e.txid::text AS txid, e.txid AS txid_order, e.occurred_at, e.action,
                e.partner_id, e.customer_id, e.domain, e.account, e.details
         FROM audit_events e
         WHERE e.action NOT IN ('password.change_failed', 'password.hash_upgraded')
           AND e.txid < pg_snapshot_xmin(pg_current_snapshot())",
    );
    if let Some((condition, id)) = condition {
        q.push(" AND ").push(condition).push_bind(id);
    }
    if let Some((txid, id)) = after {
        q.push(" AND (e.txid, e.id) > (")
            .push_bind(txid.to_string())
            .push("::xid8, ")
            .push_bind(id)
            .push(")");
    }
    // By the column, not the text the select list names `txid`: as text, 10 would
    // come before 9.
    q.push(" ORDER BY e.txid, e.id LIMIT ").push_bind(limit);
}
