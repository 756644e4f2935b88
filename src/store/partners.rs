//! Partners: resellers that provision their own customers. Admin-only.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::reach::{Reached, Scoped, PARTNERS};
use super::PageRequest;
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartnerRow {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, version, created_at, updated_at";

pub async fn insert(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<PartnerRow> {
    sqlx::query_as(&format!(
        "INSERT INTO partners (id, name) VALUES ($1, $2) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(name)
    .fetch_one(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
) -> sqlx::Result<Option<Reached<PartnerRow>>> {
    let mut q = Scoped::select(&format!("SELECT {COLUMNS}"), &PARTNERS, reach);
    q.and("id = ").bind(id);
    q.fetch_optional(db).await
}

pub async fn list(
    db: impl PgExecutor<'_>,
    reach: Reach,
    page: &PageRequest,
) -> sqlx::Result<Vec<PartnerRow>> {
    let mut q = Scoped::select(&format!("SELECT {COLUMNS}"), &PARTNERS, reach);
    if let Some(after) = page.after.as_deref().and_then(|c| Uuid::parse_str(c).ok()) {
        q.and("id > ").bind(after);
    }
    if let Some(pattern) = &page.pattern {
        q.and("name ILIKE ").bind(pattern.clone());
    }
    q.push(" ORDER BY id LIMIT ").bind(page.limit);
    q.fetch_all(db).await
}

/// Renames a partner if its version is still `expected` (when given).
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    name: Option<&str>,
    expected: Option<i32>,
) -> sqlx::Result<Option<PartnerRow>> {
    sqlx::query_as(&format!(
        "UPDATE partners SET name = coalesce($2, name), version = version + 1, updated_at = now()
         WHERE id = $1 AND ($3::int IS NULL OR version = $3) RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(expected)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM partners WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
