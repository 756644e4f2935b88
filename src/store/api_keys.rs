//! API keys: only the SHA-256 of a key is stored; the plaintext is shown once.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::reach::{Reached, Scoped, API_KEYS};
use super::PageRequest;
use crate::domain::{Reach, Role};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyAuthRow {
    pub id: Uuid,
    pub secret_hash: Vec<u8>,
    pub role: Role,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub read_only: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub id: Uuid,
    pub lookup: String,
    pub role: Role,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub read_only: bool,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, lookup, role, partner_id, customer_id, read_only, description, created_at, last_used_at, revoked_at";

pub struct NewKeyRow<'a> {
    pub lookup: &'a str,
    pub secret_hash: &'a [u8],
    pub role: Role,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub read_only: bool,
    pub description: &'a str,
}

pub async fn insert(db: impl PgExecutor<'_>, key: &NewKeyRow<'_>) -> sqlx::Result<KeyRow> {
    sqlx::query_as(&format!(
        "INSERT INTO api_keys (id, lookup, secret_hash, role, partner_id, customer_id, read_only, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(key.lookup)
    .bind(key.secret_hash)
    .bind(key.role)
    .bind(key.partner_id)
    .bind(key.customer_id)
    .bind(key.read_only)
    .bind(key.description)
    .fetch_one(db)
    .await
}

pub async fn find_active_by_lookup(
    db: impl PgExecutor<'_>,
    lookup: &str,
) -> sqlx::Result<Option<KeyAuthRow>> {
    sqlx::query_as(
        "SELECT id, secret_hash, role, partner_id, customer_id, read_only
         FROM api_keys WHERE lookup = $1 AND revoked_at IS NULL",
    )
    .bind(lookup)
    .fetch_optional(db)
    .await
}

pub async fn touch(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn list(
    db: impl PgExecutor<'_>,
    reach: Reach,
    page: &PageRequest,
) -> sqlx::Result<Vec<KeyRow>> {
    let mut q = Scoped::select(&format!("SELECT {COLUMNS}"), &API_KEYS, reach);
    if let Some(after) = page.after.as_deref().and_then(|c| Uuid::parse_str(c).ok()) {
        q.and("id > ").bind(after);
    }
    if let Some(pattern) = &page.pattern {
        q.and("description ILIKE ").bind(pattern.clone());
    }
    q.push(" ORDER BY id LIMIT ").bind(page.limit);
    q.fetch_all(db).await
}

/// Revokes a key in reach; revoking it again is a no-op that still finds it.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
) -> sqlx::Result<Option<Reached<KeyRow>>> {
    let mut q = Scoped::update(&API_KEYS, reach, |set| {
        set.push("revoked_at = coalesce(revoked_at, now())");
    });
    q.and("id = ").bind(id);
    q.push(&format!(" RETURNING {COLUMNS}"));
    q.fetch_optional(db).await
}
