//! A domain's catch-all: mail for addresses that are neither account nor alias.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::domains::DomainRow;
use super::reach::Reached;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatchAllRow {
    pub destinations: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The catch-all of a domain read in reach.
pub async fn get(
    db: impl PgExecutor<'_>,
    domain: &Reached<DomainRow>,
) -> sqlx::Result<Option<CatchAllRow>> {
    sqlx::query_as(
        "SELECT destinations, version, created_at, updated_at FROM catch_alls WHERE domain_id = $1",
    )
    .bind(domain.id)
    .fetch_optional(db)
    .await
}

/// Sets the destinations, creating the catch-all when there was none; `None` when a
/// version was `expected` and the stored one differs.
pub async fn put(
    db: impl PgExecutor<'_>,
    domain_id: Uuid,
    destinations: &[String],
    expected: Option<i32>,
) -> sqlx::Result<Option<CatchAllRow>> {
    sqlx::query_as(
        "INSERT INTO catch_alls AS c (domain_id, destinations) VALUES ($1, $2)
         ON CONFLICT (domain_id) DO UPDATE SET destinations = $2, version = c.version + 1, updated_at = now()
           WHERE $3::int IS NULL OR c.version = $3
         RETURNING destinations, version, created_at, updated_at",
    )
    .bind(domain_id)
    .bind(destinations)
    .bind(expected)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, domain_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM catch_alls WHERE domain_id = $1")
        .bind(domain_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
