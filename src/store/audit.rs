//! The audit trail: who did what, through which channel, from where, and when.
//! Never a password or a hash.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{PageRequest, OWNER_IN_REACH};
use crate::domain::Reach;

#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    pub action: &'a str,
    pub channel: &'a str,
    pub actor_key_id: Option<Uuid>,
    pub actor_role: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub domain: Option<&'a str>,
    pub account: Option<&'a str>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub channel: String,
    pub actor_key_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub client_addr: Option<String>,
    pub domain: Option<String>,
    pub account: Option<String>,
    pub details: serde_json::Value,
}

pub async fn record(db: impl PgExecutor<'_>, e: &NewEvent<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (action, channel, actor_key_id, actor_role, client_addr,
                                   partner_id, customer_id, domain, account, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.action)
    .bind(e.channel)
    .bind(e.actor_key_id)
    .bind(e.actor_role)
    .bind(e.client_addr)
    .bind(e.partner_id)
    .bind(e.customer_id)
    .bind(e.domain)
    .bind(e.account)
    .bind(if e.details.is_null() {
        serde_json::json!({})
    } else {
        e.details.clone()
    })
    .execute(db)
    .await?;
    Ok(())
}

/// The event's details, `{}` when it has none.
pub fn details(e: &NewEvent<'_>) -> serde_json::Value {
    if e.details.is_null() {
        serde_json::json!({})
    } else {
        e.details.clone()
    }
}

pub struct EventFilter<'a> {
    pub account: Option<&'a str>,
    pub domain: Option<&'a str>,
}

/// Newest first.
pub async fn list(
    db: impl PgExecutor<'_>,
    reach: Reach,
    filter: &EventFilter<'_>,
    page: &PageRequest,
) -> sqlx::Result<Vec<EventRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!(
        "SELECT id, occurred_at, action, channel, actor_key_id, actor_role, client_addr, domain, account, details
         FROM audit_events
         WHERE {OWNER_IN_REACH}
           AND ($3::text IS NULL OR account = $3) AND ($4::text IS NULL OR domain = $4)
           AND ($5::bigint IS NULL OR id < $5)
         ORDER BY id DESC LIMIT $6"
    ))
    .bind(p)
    .bind(c)
    .bind(filter.account)
    .bind(filter.domain)
    .bind(page.after.as_deref().and_then(|c| c.parse::<i64>().ok()))
    .bind(page.limit)
    .fetch_all(db)
    .await
}

/// The same event for many accounts of one domain, in one statement (a batch import
/// writes a thousand at once): `event.account` is replaced by each of `accounts`.
pub async fn record_for_accounts(
    db: impl PgExecutor<'_>,
    e: &NewEvent<'_>,
    accounts: &[String],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (action, channel, actor_key_id, actor_role, client_addr,
                                   partner_id, customer_id, domain, account, details)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, account, $10 FROM unnest($9::text[]) AS account",
    )
    .bind(e.action)
    .bind(e.channel)
    .bind(e.actor_key_id)
    .bind(e.actor_role)
    .bind(e.client_addr)
    .bind(e.partner_id)
    .bind(e.customer_id)
    .bind(e.domain)
    .bind(accounts)
    .bind(details(e))
    .execute(db)
    .await?;
    Ok(())
}
