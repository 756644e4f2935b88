//! Aliases: an address of a hosted domain that is not a mailbox, delivered to one or
//! more destinations. An address is an account or an alias, never both; the writes
//! that claim one check the other under the domain's lock (`routing::lock_slots`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::domains::DomainRow;
use super::reach::{Reached, Scoped, ALIASES};
use super::PageRequest;
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AliasRow {
    pub id: Uuid,
    pub domain_id: Uuid,
    pub domain: String,
    pub customer_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub local_part: String,
    pub address: String,
    pub destinations: Vec<String>,
    pub active: bool,
    pub description: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT l.id, l.domain_id, d.name AS domain, d.customer_id, c.partner_id,
        l.local_part, l.address, l.destinations, l.active, l.description, l.version,
        l.created_at, l.updated_at";

pub struct NewAlias<'a> {
    pub domain_id: Uuid,
    pub local_part: &'a str,
    pub destinations: &'a [String],
    pub active: bool,
    pub description: Option<&'a str>,
}

pub async fn insert(db: impl PgExecutor<'_>, a: &NewAlias<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO aliases (id, domain_id, local_part, address, destinations, active, description)
         VALUES ($1, $2, $3, '', $4, $5, $6) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(a.domain_id)
    .bind(a.local_part)
    .bind(a.destinations)
    .bind(a.active)
    .bind(a.description)
    .fetch_one(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    domain: &str,
    local_part: &str,
) -> sqlx::Result<Option<Reached<AliasRow>>> {
    let mut q = Scoped::select(SELECT, &ALIASES, reach);
    q.and("d.name = ").bind(domain.to_owned());
    q.and("l.local_part = ").bind(local_part.to_owned());
    q.fetch_optional(db).await
}

/// An alias in reach by id: what a write reads back of the alias it changed.
pub async fn get_by_id(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
) -> sqlx::Result<Option<Reached<AliasRow>>> {
    let mut q = Scoped::select(SELECT, &ALIASES, reach);
    q.and("l.id = ").bind(id);
    q.fetch_optional(db).await
}

/// A domain's aliases by local part; `q` searches local parts and destinations.
pub async fn list(
    db: impl PgExecutor<'_>,
    domain: &Reached<DomainRow>,
    page: &PageRequest,
) -> sqlx::Result<Vec<AliasRow>> {
    let mut q = Scoped::beneath(SELECT, &ALIASES, "l.domain_id", domain);
    if let Some(after) = &page.after {
        q.and("l.local_part > ").bind(after.clone());
    }
    if let Some(pattern) = &page.pattern {
        q.and("(l.local_part ILIKE ")
            .bind(pattern.clone())
            .push(" OR array_to_string(l.destinations, ' ') ILIKE ")
            .bind(pattern.clone())
            .push(")");
    }
    q.push(" ORDER BY l.local_part LIMIT ").bind(page.limit);
    q.fetch_all(db).await
}

#[derive(Debug, Default)]
pub struct AliasChange<'a> {
    pub destinations: Option<&'a [String]>,
    pub active: Option<bool>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<&'a str>>,
}

/// Applies a change if the version is still `expected`; `false` when it is not.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    change: &AliasChange<'_>,
    expected: Option<i32>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE aliases SET destinations = coalesce($2, destinations), active = coalesce($3, active),
                description = CASE WHEN $4 THEN $5 ELSE description END,
                version = version + 1, updated_at = now()
         WHERE id = $1 AND ($6::int IS NULL OR version = $6)",
    )
    .bind(id)
    .bind(change.destinations)
    .bind(change.active)
    .bind(change.description.is_some())
    .bind(change.description.flatten())
    .bind(expected)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM aliases WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
