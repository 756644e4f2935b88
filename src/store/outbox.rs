//! Mail waiting to be sent (`outbox_mail`). Several instances may deliver at once:
//! each claims due rows with `FOR UPDATE SKIP LOCKED` inside its transaction, so a
//! message is sent by one of them at a time.

use sqlx::{PgConnection, PgExecutor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub account: String,
    pub language: String,
    pub attempts: i32,
}

pub struct NewMail<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub account: &'a str,
    pub language: &'a str,
}

pub async fn enqueue(db: impl PgExecutor<'_>, mail: &NewMail<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO outbox_mail (kind, recipient, account, language) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(mail.kind)
    .bind(mail.recipient)
    .bind(mail.account)
    .bind(mail.language)
    .fetch_one(db)
    .await
}

/// Due messages, locked for this transaction; others skip them.
pub async fn claim_due(db: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<QueuedMail>> {
    sqlx::query_as(
        "SELECT id, kind, recipient, account, language, attempts FROM outbox_mail
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn mark_sent(db: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox_mail SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: retried after `retry_secs`, or given up on once the
/// message is older than `give_up_secs`.
pub async fn mark_failed(
    db: &mut PgConnection,
    id: i64,
    error: &str,
    retry_secs: f64,
    give_up_secs: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox_mail SET attempts = attempts + 1, last_error = left($2, 500),
                next_attempt_at = now() + make_interval(secs => $3),
                failed_at = CASE WHEN created_at < now() - make_interval(secs => $4) THEN now() END
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(retry_secs)
    .bind(give_up_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Messages not yet sent (nor given up on): the `mailpanel_outbox_pending` gauge.
pub async fn pending(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM outbox_mail WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(db)
    .await
}
