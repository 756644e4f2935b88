//! Hosted mail domains. A domain belongs to exactly one customer and is unique
//! across the whole system.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{PageRequest, CUSTOMER_IN_REACH as IN_REACH};
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DomainRow {
    pub id: Uuid,
    pub name: String,
    pub customer_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub server_profile: String,
    pub account_count: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT d.id, d.name, d.customer_id, c.partner_id, d.server_profile,
        (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id AND a.deleted_at IS NULL) AS account_count,
        d.version, d.created_at, d.updated_at
    FROM domains d JOIN customers c ON c.id = d.customer_id";

pub async fn insert(
    db: impl PgExecutor<'_>,
    name: &str,
    customer_id: Uuid,
    server_profile: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO domains (id, name, customer_id, server_profile) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(customer_id)
    .bind(server_profile)
    .fetch_one(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    name: &str,
) -> sqlx::Result<Option<DomainRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!("{SELECT} WHERE {IN_REACH} AND d.name = $3"))
        .bind(p)
        .bind(c)
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn list(
    db: impl PgExecutor<'_>,
    reach: Reach,
    page: &PageRequest,
) -> sqlx::Result<Vec<DomainRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!(
        "{SELECT} WHERE {IN_REACH} AND ($3::text IS NULL OR d.name > $3)
           AND ($4::text IS NULL OR d.name ILIKE $4)
         ORDER BY d.name LIMIT $5"
    ))
    .bind(p)
    .bind(c)
    .bind(page.after.as_deref())
    .bind(page.pattern.as_deref())
    .bind(page.limit)
    .fetch_all(db)
    .await
}

pub struct DomainChange<'a> {
    pub server_profile: Option<&'a str>,
    pub customer_id: Option<Uuid>,
}

/// Applies a change if the version is still `expected`; `false` when it is not.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    change: &DomainChange<'_>,
    expected: Option<i32>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE domains SET server_profile = coalesce($2, server_profile),
                customer_id = coalesce($3, customer_id), version = version + 1, updated_at = now()
         WHERE id = $1 AND ($4::int IS NULL OR version = $4)",
    )
    .bind(id)
    .bind(change.server_profile)
    .bind(change.customer_id)
    .bind(expected)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a domain that has no live accounts (deleted, restorable ones go with it);
/// `false` when it still has some. Call inside a transaction: the domain row is
/// locked first, so an account created concurrently either commits before the check
/// sees it, or fails on the foreign key after the domain is gone; never is a fresh
/// account cascaded away unseen.
pub async fn delete_if_empty(conn: &mut sqlx::PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query("SELECT 1 FROM domains WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query(
        "DELETE FROM domains d WHERE d.id = $1
           AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.domain_id = d.id AND a.deleted_at IS NULL)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
