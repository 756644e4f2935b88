//! Customers: the owners of domains, either directly the provider's or a partner's.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, QueryBuilder};
use uuid::Uuid;

use super::search;
use super::{push_reach, PageRequest, CUSTOMER_IN_REACH as IN_REACH};
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRow {
    pub id: Uuid,
    pub partner_id: Option<Uuid>,
    pub name: String,
    pub external_ref: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, partner_id, name, external_ref, version, created_at, updated_at";

pub async fn insert(
    db: impl PgExecutor<'_>,
    partner_id: Option<Uuid>,
    name: &str,
    external_ref: Option<&str>,
) -> sqlx::Result<CustomerRow> {
    sqlx::query_as(&format!(
        "INSERT INTO customers (id, partner_id, name, external_ref) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(partner_id)
    .bind(name)
    .bind(external_ref)
    .fetch_one(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
) -> sqlx::Result<Option<CustomerRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM customers c WHERE {IN_REACH} AND id = $3"
    ))
    .bind(p)
    .bind(c)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One page of the customers in reach, by id. Each combination of filters is a
/// statement of its own (see `store::domains::list`); a search (on the name and the
/// external reference) goes through `store::search`.
pub async fn list(db: &PgPool, reach: Reach, page: &PageRequest) -> sqlx::Result<Vec<CustomerRow>> {
    search::page(db, search::CUSTOMERS, reach, page, |narrow| {
        let mut q = QueryBuilder::new(format!("SELECT {COLUMNS}"));
        q.push(if narrow.within.is_some() {
            " FROM (SELECT * FROM customers c WHERE true"
        } else {
            " FROM customers c WHERE true"
        });
        push_reach(&mut q, reach, "c.partner_id", "c.id");
        if let Some(after) = page.after.as_deref().and_then(|c| Uuid::parse_str(c).ok()) {
            q.push(" AND c.id > ").push_bind(after);
        }
        if let Some(within) = narrow.within {
            q.push(" ORDER BY c.id LIMIT ")
                .push_bind(within)
                .push(") AS c WHERE true");
        }
        narrow.push(&mut q, search::CUSTOMERS);
        q.push(" ORDER BY c.id LIMIT ").push_bind(page.limit);
        q
    })
    .await
}

pub struct CustomerChange<'a> {
    pub name: Option<&'a str>,
    /// `Some(None)` clears the reference.
    pub external_ref: Option<Option<&'a str>>,
}

pub async fn update(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
    change: &CustomerChange<'_>,
    expected: Option<i32>,
) -> sqlx::Result<Option<CustomerRow>> {
    let (p, c) = reach.filters();
    sqlx::query_as(&format!(
        "UPDATE customers AS c SET name = coalesce($4, name),
                external_ref = CASE WHEN $5 THEN $6 ELSE external_ref END,
                version = version + 1, updated_at = now()
         WHERE {IN_REACH} AND id = $3 AND ($7::int IS NULL OR version = $7) RETURNING {COLUMNS}"
    ))
    .bind(p)
    .bind(c)
    .bind(id)
    .bind(change.name)
    .bind(change.external_ref.is_some())
    .bind(change.external_ref.flatten())
    .bind(expected)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, reach: Reach, id: Uuid) -> sqlx::Result<bool> {
    let (p, c) = reach.filters();
    let done = sqlx::query(&format!(
        "DELETE FROM customers AS c WHERE {IN_REACH} AND id = $3"
    ))
    .bind(p)
    .bind(c)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
