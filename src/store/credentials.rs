//! A mailbox's password: what checking it needs, and storing a new hash. The webmail
//! change reads an account without a reach: the owner's current password is the
//! proof that they may, and it is checked before anything is written.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::accounts::{by_address, AccountRow, SELECT};
use super::reach::Reached;
use crate::domain::account::AccountStatus;
use crate::domain::Reach;

/// What checking a mailbox owner's password needs; no reach, the password is the proof.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: Uuid,
    pub domain: String,
    pub customer_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub local_part: String,
    pub display_name: Option<String>,
    pub status: AccountStatus,
    pub deleted: bool,
    pub password_hash: String,
}

pub async fn credentials(
    db: impl PgExecutor<'_>,
    domain: &str,
    local_part: &str,
) -> sqlx::Result<Option<CredentialRow>> {
    sqlx::query_as(
        "SELECT a.id, d.name AS domain, d.customer_id, c.partner_id, a.local_part, a.display_name, a.status,
                a.deleted_at IS NOT NULL AS deleted, a.password_hash
         FROM accounts a JOIN domains d ON d.id = a.domain_id JOIN customers c ON c.id = d.customer_id
         WHERE d.name = $1 AND a.local_part = $2",
    )
    .bind(domain)
    .bind(local_part)
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountWithHash {
    #[sqlx(flatten)]
    pub account: AccountRow,
    pub password_hash: String,
}

/// An account in reach with its current hash, in one query: setting a password
/// needs both.
pub async fn get_with_hash(
    db: impl PgExecutor<'_>,
    reach: Reach,
    domain: &str,
    local_part: &str,
) -> sqlx::Result<Option<Reached<AccountWithHash>>> {
    let select = format!("{SELECT}, a.password_hash");
    by_address(db, &select, reach, domain, local_part).await
}

/// Stores a new password's hash if the stored hash is still `expected` (so that two
/// concurrent changes cannot both win). `false` when it was not.
pub async fn set_password(
    db: impl PgExecutor<'_>,
    id: Uuid,
    hash: &str,
    expected: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET password_hash = $2, password_changed_at = now(), version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL AND password_hash = $3",
    )
    .bind(id)
    .bind(hash)
    .bind(expected)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// `set_password` and its audit event in one statement, so one round trip: this is
/// the Control Panel's hot path, and every round trip takes CPU from the hashing.
pub async fn set_password_recorded(
    db: impl PgExecutor<'_>,
    id: Uuid,
    hash: &str,
    expected: &str,
    event: &super::audit::NewEvent<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "WITH changed AS (
            UPDATE accounts SET password_hash = $2, password_changed_at = now(), version = version + 1, updated_at = now()
            WHERE id = $1 AND deleted_at IS NULL AND password_hash = $3 RETURNING id)
         INSERT INTO audit_events (action, channel, actor_key_id, actor_role, client_addr,
                                   partner_id, customer_id, domain, account, details)
         SELECT $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM changed",
    )
    .bind(id)
    .bind(hash)
    .bind(expected)
    .bind(event.action)
    .bind(event.channel)
    .bind(event.actor_key_id)
    .bind(event.actor_role)
    .bind(event.client_addr)
    .bind(event.partner_id)
    .bind(event.customer_id)
    .bind(event.domain)
    .bind(event.account)
    .bind(super::audit::details(event))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a hash of the same password (a legacy scheme or outdated parameters)
/// with a current one; the password itself has not changed.
pub async fn upgrade_hash(
    db: impl PgExecutor<'_>,
    id: Uuid,
    hash: &str,
    expected: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash = $3")
            .bind(id)
            .bind(hash)
            .bind(expected)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}
