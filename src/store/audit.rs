//! The audit trail: who did what, through which channel, from where, and when.
//! Never a password or a hash.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::reach::{Scoped, AUDIT_EVENTS};
use super::PageRequest;
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

/// Newest first. An event is in the reach of the tenancy it was recorded under (a
/// customer moved to another partner takes its later events along, not its history,
/// which names the former partner's keys and addresses). Each combination of filters
/// is a statement of its own, so that each gets a plan of its own instead of a
/// generic one that reads the whole trail.
pub async fn list(
    db: impl PgExecutor<'_>,
    reach: Reach,
    filter: &EventFilter<'_>,
    page: &PageRequest,
) -> sqlx::Result<Vec<EventRow>> {
    const COLUMNS: &str = "id, occurred_at, action, channel, actor_key_id, actor_role, \
                           client_addr, domain, account, details";
    let narrowed =
        !matches!(reach, Reach::All) || filter.domain.is_some() || filter.account.is_some();
    // A narrowed page takes its ids first, from the index of the filter alone
    // (owner, domain or account, each `(column, id)`): left to itself, the planner
    // walks the primary key back with a filter, thousands of rows for a partner.
    let head = match narrowed {
        true => format!("SELECT {COLUMNS} FROM audit_events WHERE id IN (SELECT id"),
        false => format!("SELECT {COLUMNS}"),
    };
    let mut q = Scoped::select(&head, &AUDIT_EVENTS, reach);
    if let Some(domain) = filter.domain {
        q.and("domain = ").bind(domain.to_owned());
    }
    if let Some(account) = filter.account {
        q.and("account = ").bind(account.to_owned());
    }
    if let Some(before) = page.after.as_deref().and_then(|c| c.parse::<i64>().ok()) {
        q.and("id < ").bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(page.limit);
    if narrowed {
        q.push(") ORDER BY id DESC");
    }
    q.fetch_all(db).await
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
