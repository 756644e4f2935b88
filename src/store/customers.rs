//! Customers: the owners of domains, either directly the provider's or a partner's.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::reach::{Reached, Scoped, CUSTOMERS};
use super::search;
use super::PageRequest;
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
) -> sqlx::Result<Option<Reached<CustomerRow>>> {
    let mut q = Scoped::select(&format!("SELECT {COLUMNS}"), &CUSTOMERS, reach);
    q.and("c.id = ").bind(id);
    q.fetch_optional(db).await
}

/// One page of the customers in reach, by id. Each combination of filters is a
/// statement of its own (see `store::domains::list`); a search (on the name and the
/// external reference) goes through `store::search`.
pub async fn list(db: &PgPool, reach: Reach, page: &PageRequest) -> sqlx::Result<Vec<CustomerRow>> {
    search::page(db, search::CUSTOMERS, reach, page, |narrow| {
        let head = match narrow.within {
            Some(_) => format!("SELECT {COLUMNS} FROM (SELECT *"),
            None => format!("SELECT {COLUMNS}"),
        };
        let mut q = Scoped::select(&head, &CUSTOMERS, reach);
        if let Some(after) = page.after.as_deref().and_then(|c| Uuid::parse_str(c).ok()) {
            q.and("c.id > ").bind(after);
        }
        if let Some(within) = narrow.within {
            q.push(" ORDER BY c.id LIMIT ")
                .bind(within)
                .push(") AS c WHERE true");
        }
        narrow.push(q.builder(), search::CUSTOMERS);
        q.push(" ORDER BY c.id LIMIT ").bind(page.limit);
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
) -> sqlx::Result<Option<Reached<CustomerRow>>> {
    let mut q = Scoped::update(&CUSTOMERS, reach, |set| {
        set.push("name = coalesce(")
            .bind(change.name.map(str::to_owned));
        set.push(", name), external_ref = CASE WHEN ")
            .bind(change.external_ref.is_some())
            .push(" THEN ")
            .bind(change.external_ref.flatten().map(str::to_owned))
            .push(" ELSE external_ref END, version = version + 1, updated_at = now()");
    });
    q.and("c.id = ").bind(id);
    if let Some(expected) = expected {
        q.and("c.version = ").bind(expected);
    }
    q.push(&format!(" RETURNING {COLUMNS}"));
    q.fetch_optional(db).await
}

pub async fn delete(db: impl PgExecutor<'_>, reach: Reach, id: Uuid) -> sqlx::Result<bool> {
    let mut q = Scoped::delete(&CUSTOMERS, reach);
    q.and("c.id = ").bind(id);
    Ok(q.execute(db).await? == 1)
}
