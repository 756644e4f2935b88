//! Session ends waiting to be sent to Dovecot (`dovecot_kicks`, queued by a trigger
//! on `accounts`). Taken with a lease in one statement, as webhook deliveries are, so
//! several instances send each once and none holds a lock across the request.

use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Kick {
    pub id: i64,
    pub username: String,
    pub reason: String,
    pub attempts: i32,
}

/// Due kicks, leased for `lease_secs`.
pub async fn take_due(
    db: impl PgExecutor<'_>,
    limit: i64,
    lease_secs: f64,
) -> sqlx::Result<Vec<Kick>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT id FROM dovecot_kicks
             WHERE done_at IS NULL AND next_attempt_at <= now()
             ORDER BY next_attempt_at LIMIT $1
             FOR UPDATE SKIP LOCKED)
         UPDATE dovecot_kicks k SET next_attempt_at = now() + make_interval(secs => $2)
         FROM due WHERE k.id = due.id AND k.next_attempt_at <= now()
         RETURNING k.id, k.username, k.reason, k.attempts",
    )
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(db)
    .await
}

pub async fn mark_done(db: impl PgExecutor<'_>, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE dovecot_kicks SET done_at = now(), attempts = attempts + 1, last_error = NULL
         WHERE id = ANY($1)",
    )
    .bind(ids)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after `retry_secs`, given up on (marked done,
/// the error kept) once older than `give_up_secs`: by then Dovecot has restarted, or
/// the session has long noticed.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    error: &str,
    retry_secs: f64,
    give_up_secs: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE dovecot_kicks SET attempts = attempts + 1, last_error = left($2, 500),
                next_attempt_at = now() + make_interval(secs => $3),
                done_at = CASE WHEN created_at < now() - make_interval(secs => $4) THEN now() END
         WHERE id = ANY($1)",
    )
    .bind(ids)
    .bind(error)
    .bind(retry_secs)
    .bind(give_up_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Kicks not yet sent: the `mailpanel_dovecot_kicks_pending` gauge.
pub async fn pending(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM dovecot_kicks WHERE done_at IS NULL")
        .fetch_one(db)
        .await
}

/// Forgets kicks done (or given up on) a day ago, and, where no Dovecot is configured,
/// those that were never going to be sent.
pub async fn prune(db: impl PgExecutor<'_>, unsent_too: bool) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM dovecot_kicks WHERE (done_at < now() - interval '1 day')
            OR ($1 AND created_at < now() - interval '1 day')",
    )
    .bind(unsent_too)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
