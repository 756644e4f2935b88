//! Stored answers of writes sent with an `Idempotency-Key`.

use sqlx::types::Json;
use sqlx::PgExecutor;

/// How long answers are kept.
pub const KEEP_HOURS: i32 = 24;

#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub fingerprint: Vec<u8>,
    pub status: Option<i16>,
    pub headers: Option<Json<Vec<(String, String)>>>,
    /// An answer kept before answers were sealed.
    pub body: Option<Vec<u8>>,
    /// The answer, sealed (see `crate::idempotency`).
    pub sealed_body: Option<Vec<u8>>,
}

/// Claims the key for a first request; `false` when it was claimed before.
pub async fn claim(
    db: impl PgExecutor<'_>,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(fingerprint)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(db: impl PgExecutor<'_>, scope: &str, key: &str) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as("SELECT fingerprint, status, headers, body, sealed_body FROM idempotency_keys WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(db)
        .await
}

/// Keeps the answer; `sealed_body` is the body as `crate::idempotency` sealed it.
pub async fn complete(
    db: impl PgExecutor<'_>,
    scope: &str,
    key: &str,
    status: u16,
    headers: &[(String, String)],
    sealed_body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE idempotency_keys SET status = $3, headers = $4, sealed_body = $5 WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .bind(i16::try_from(status).unwrap_or(i16::MAX))
        .bind(Json(headers))
        .bind(sealed_body)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets a claim whose request failed on our side, so that a retry runs again.
pub async fn release(db: impl PgExecutor<'_>, scope: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL")
        .bind(scope)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn prune(db: impl PgExecutor<'_>, max_age_hours: i32) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
    )
    .bind(max_age_hours)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
