//! Aliases: an address of a hosted domain that is not a mailbox, delivered to one or
//! more destinations. An address is an account or an alias, never both; the writes
//! that claim one check the other under the domain's lock (`routing::lock_slots`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{PageRequest, CUSTOMER_IN_REACH};
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
        l.created_at, l.updated_at
    FROM aliases l JOIN domains d ON d.id = l.domain_id JOIN customers c ON c.id = d.customer_id";

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
) -> sqlx::Result<Option<AliasRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!(
        "{SELECT} WHERE {CUSTOMER_IN_REACH} AND d.name = $3 AND l.local_part = $4"
    ))
    .bind(p)
    .bind(c)
    .bind(domain)
    .bind(local_part)
    .fetch_optional(db)
    .await
}

pub async fn get_by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<AliasRow>> {
    sqlx::query_as(&format!("{SELECT} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A domain's aliases by local part; `q` searches local parts and destinations.
pub async fn list(
    db: impl PgExecutor<'_>,
    domain_id: Uuid,
    page: &PageRequest,
) -> sqlx::Result<Vec<AliasRow>> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE l.domain_id = $1 AND ($2::text IS NULL OR l.local_part > $2)
           AND ($3::text IS NULL OR l.local_part ILIKE $3
                OR array_to_string(l.destinations, ' ') ILIKE $3)
         ORDER BY l.local_part LIMIT $4"
    ))
    .bind(domain_id)
    .bind(page.after.as_deref())
    .bind(page.pattern.as_deref())
    .bind(page.limit)
    .fetch_all(db)
    .await
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
