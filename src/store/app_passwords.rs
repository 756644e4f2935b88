//! App passwords of an account (never the secret; only its Argon2id hash and the
//! leading part that names the row).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::accounts::AccountRow;
use super::reach::Reached;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppPasswordRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub imap: bool,
    pub pop3: bool,
    pub smtp: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, account_id, name, imap, pop3, smtp, created_at, last_used_at, expires_at";

pub struct NewAppPassword<'a> {
    pub account_id: Uuid,
    pub name: &'a str,
    pub lookup: &'a str,
    pub password_hash: &'a str,
    pub imap: bool,
    pub pop3: bool,
    pub smtp: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    p: &NewAppPassword<'_>,
) -> sqlx::Result<AppPasswordRow> {
    sqlx::query_as(&format!(
        "INSERT INTO app_passwords (id, account_id, name, lookup, password_hash, imap, pop3, smtp, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(p.account_id)
    .bind(p.name)
    .bind(p.lookup)
    .bind(p.password_hash)
    .bind(p.imap)
    .bind(p.pop3)
    .bind(p.smtp)
    .bind(p.expires_at)
    .fetch_one(db)
    .await
}

/// The app passwords of an account read in reach.
pub async fn list(
    db: impl PgExecutor<'_>,
    account: &Reached<AccountRow>,
) -> sqlx::Result<Vec<AppPasswordRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM app_passwords WHERE account_id = $1 ORDER BY created_at, id"
    ))
    .bind(account.id)
    .fetch_all(db)
    .await
}

pub async fn count(db: impl PgExecutor<'_>, account_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM app_passwords WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// Deletes one of the account's app passwords; the row, when there was one.
pub async fn delete(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<AppPasswordRow>> {
    sqlx::query_as(&format!(
        "DELETE FROM app_passwords WHERE account_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Serialises the creates of one account's app passwords (its limit).
pub async fn lock_account(db: &mut sqlx::PgConnection, account_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}
