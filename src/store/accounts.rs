//! Mail accounts. Deleting is soft: the account leaves the mail servers at once (the
//! `mailserver` views skip deleted rows) and stays restorable until `purge_after`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::domains::DomainRow;
use super::reach::{Keyed, Owned, Reached, Scoped, ACCOUNTS};
use super::PageRequest;
use crate::domain::account::{AccountStatus, Protocols};
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub domain_id: Uuid,
    pub domain: String,
    pub customer_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub local_part: String,
    pub display_name: Option<String>,
    pub quota_mb: i32,
    pub status: AccountStatus,
    pub imap_enabled: bool,
    pub pop3_enabled: bool,
    pub smtp_enabled: bool,
    pub password_changed_at: DateTime<Utc>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub purge_after: Option<DateTime<Utc>>,
    /// Forwarding destinations; `None` is no forwarding.
    pub forward_to: Option<Vec<String>>,
    pub forward_keep_copy: bool,
    pub require_app_passwords: bool,
    /// As Dovecot last reported it (`None` until it has).
    pub usage_storage_bytes: Option<i64>,
    pub usage_messages: Option<i64>,
    pub usage_updated_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl AccountRow {
    pub fn address(&self) -> String {
        format!("{}@{}", self.local_part, self.domain)
    }

    pub fn protocols(&self) -> Protocols {
        Protocols {
            imap: self.imap_enabled,
            pop3: self.pop3_enabled,
            smtp: self.smtp_enabled,
        }
    }
}

impl Owned for AccountRow {
    fn owners(&self) -> (Option<Uuid>, Uuid) {
        (self.partner_id, self.customer_id)
    }
}

impl Keyed for AccountRow {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// The select list of an [`AccountRow`] from [`ACCOUNTS`].
pub(super) const SELECT: &str =
    "SELECT a.id, a.domain_id, d.name AS domain, d.customer_id, c.partner_id, a.local_part,
        a.display_name, a.quota_mb, a.status, a.imap_enabled, a.pop3_enabled, a.smtp_enabled,
        a.password_changed_at, a.version, a.created_at, a.updated_at, a.deleted_at, a.purge_after,
        a.forward_to, a.forward_keep_copy, a.require_app_passwords,
        u.storage_bytes AS usage_storage_bytes, u.messages AS usage_messages,
        u.updated_at AS usage_updated_at, to_timestamp(l.last_login) AS last_login_at";

pub struct NewAccount<'a> {
    pub domain_id: Uuid,
    pub local_part: &'a str,
    pub display_name: Option<&'a str>,
    pub quota_mb: i32,
    pub protocols: Protocols,
    pub password_hash: &'a str,
}

pub async fn insert(db: impl PgExecutor<'_>, a: &NewAccount<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO accounts (id, domain_id, local_part, display_name, quota_mb, status,
                               imap_enabled, pop3_enabled, smtp_enabled, password_hash)
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(a.domain_id)
    .bind(a.local_part)
    .bind(a.display_name)
    .bind(a.quota_mb)
    .bind(a.protocols.imap)
    .bind(a.protocols.pop3)
    .bind(a.protocols.smtp)
    .bind(a.password_hash)
    .fetch_one(db)
    .await
}

/// Purges a deleted account at this address whose retention has run out, so that
/// the address is free at once rather than at the next purge run.
pub async fn purge_expired_address(
    db: impl PgExecutor<'_>,
    domain_id: Uuid,
    local_part: &str,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM accounts WHERE domain_id = $1 AND local_part = $2 AND purge_after <= now()",
    )
    .bind(domain_id)
    .bind(local_part)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    domain: &str,
    local_part: &str,
) -> sqlx::Result<Option<Reached<AccountRow>>> {
    by_address(db, SELECT, reach, domain, local_part).await
}

/// One account in reach by address, selected with `select`.
pub(super) async fn by_address<T>(
    db: impl PgExecutor<'_>,
    select: &str,
    reach: Reach,
    domain: &str,
    local_part: &str,
) -> sqlx::Result<Option<Reached<T>>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut q = Scoped::select(select, &ACCOUNTS, reach);
    q.and("d.name = ").bind(domain.to_owned());
    q.and("a.local_part = ").bind(local_part.to_owned());
    q.fetch_optional(db).await
}

/// An account in reach by id: what a write reads back of the account it changed.
pub async fn get_by_id(
    db: impl PgExecutor<'_>,
    reach: Reach,
    id: Uuid,
) -> sqlx::Result<Option<Reached<AccountRow>>> {
    let mut q = Scoped::select(SELECT, &ACCOUNTS, reach);
    q.and("a.id = ").bind(id);
    q.fetch_optional(db).await
}

/// Live accounts of a domain, or its deleted (restorable) ones, ordered by local part.
pub async fn list(
    db: impl PgExecutor<'_>,
    domain: &Reached<DomainRow>,
    deleted: bool,
    page: &PageRequest,
) -> sqlx::Result<Vec<AccountRow>> {
    let mut q = Scoped::beneath(SELECT, &ACCOUNTS, "a.domain_id", domain);
    q.and("(a.deleted_at IS NOT NULL) = ").bind(deleted);
    if let Some(after) = &page.after {
        q.and("a.local_part > ").bind(after.clone());
    }
    if let Some(pattern) = &page.pattern {
        q.and("(a.local_part ILIKE ")
            .bind(pattern.clone())
            .push(" OR a.display_name ILIKE ")
            .bind(pattern.clone())
            .push(")");
    }
    q.push(" ORDER BY a.local_part LIMIT ").bind(page.limit);
    q.fetch_all(db).await
}

#[derive(Debug, Default)]
pub struct AccountChange<'a> {
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<&'a str>>,
    pub quota_mb: Option<i32>,
    pub status: Option<AccountStatus>,
    pub imap: Option<bool>,
    pub pop3: Option<bool>,
    pub smtp: Option<bool>,
    /// `Some(None)` ends forwarding; `Some(Some((to, keep_copy)))` sets it.
    pub forwarding: Option<Option<(&'a [String], bool)>>,
    pub require_app_passwords: Option<bool>,
}

/// Applies a change to a live account whose version is still `expected` (when given).
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    change: &AccountChange<'_>,
    expected: Option<i32>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET
            display_name = CASE WHEN $2 THEN $3 ELSE display_name END,
            quota_mb = coalesce($4, quota_mb),
            status = coalesce($5, status),
            imap_enabled = coalesce($6, imap_enabled),
            pop3_enabled = coalesce($7, pop3_enabled),
            smtp_enabled = coalesce($8, smtp_enabled),
            forward_to = CASE WHEN $10 THEN $11 ELSE forward_to END,
            forward_keep_copy = CASE WHEN $10 THEN coalesce($12, true) ELSE forward_keep_copy END,
            require_app_passwords = coalesce($13, require_app_passwords),
            version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL AND ($9::int IS NULL OR version = $9)",
    )
    .bind(id)
    .bind(change.display_name.is_some())
    .bind(change.display_name.flatten())
    .bind(change.quota_mb)
    .bind(change.status)
    .bind(change.imap)
    .bind(change.pop3)
    .bind(change.smtp)
    .bind(expected)
    .bind(change.forwarding.is_some())
    .bind(change.forwarding.flatten().map(|(to, _)| to))
    .bind(change.forwarding.flatten().map(|(_, keep)| keep))
    .bind(change.require_app_passwords)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a live account a new local part in its domain; its mailbox (named by the
/// id), password and settings stay.
pub async fn rename(
    db: impl PgExecutor<'_>,
    id: Uuid,
    local_part: &str,
    expected: i32,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET local_part = $2, version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL AND version = $3",
    )
    .bind(id)
    .bind(local_part)
    .bind(expected)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a live account deleted, restorable for `retention_days`.
pub async fn soft_delete(
    db: impl PgExecutor<'_>,
    id: Uuid,
    retention_days: u32,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET deleted_at = now(), purge_after = now() + make_interval(days => $2),
                version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(i32::try_from(retention_days).unwrap_or(i32::MAX))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Brings a deleted account back as it was, if its retention has not run out.
pub async fn restore(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET deleted_at = NULL, purge_after = NULL, version = version + 1, updated_at = now()
         WHERE id = $1 AND deleted_at IS NOT NULL AND purge_after > now()",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, sqlx::FromRow)]
pub struct PurgedRow {
    pub address: String,
    pub domain: String,
    pub customer_id: Uuid,
    pub partner_id: Option<Uuid>,
}

/// Removes accounts whose retention has run out, for good.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<PurgedRow>> {
    sqlx::query_as(
        "WITH gone AS (DELETE FROM accounts WHERE purge_after <= now() RETURNING domain_id, local_part)
         SELECT g.local_part || '@' || d.name AS address, d.name AS domain, d.customer_id, c.partner_id
         FROM gone g JOIN domains d ON d.id = g.domain_id JOIN customers c ON c.id = d.customer_id",
    )
    .fetch_all(db)
    .await
}

/// Many new accounts of one domain in one statement (batch import); their ids.
pub async fn insert_many(
    db: impl PgExecutor<'_>,
    domain_id: Uuid,
    accounts: &[NewAccount<'_>],
) -> sqlx::Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = accounts.iter().map(|_| Uuid::now_v7()).collect();
    let column = |f: &dyn Fn(&NewAccount<'_>) -> Option<String>| -> Vec<Option<String>> {
        accounts.iter().map(f).collect()
    };
    let locals = column(&|a| Some(a.local_part.to_owned()));
    let names = column(&|a| a.display_name.map(str::to_owned));
    let hashes = column(&|a| Some(a.password_hash.to_owned()));
    let quotas: Vec<i32> = accounts.iter().map(|a| a.quota_mb).collect();
    let flag = |f: fn(&Protocols) -> bool| -> Vec<bool> {
        accounts.iter().map(|a| f(&a.protocols)).collect()
    };
    sqlx::query_scalar(
        "INSERT INTO accounts (id, domain_id, local_part, display_name, quota_mb, status,
                               imap_enabled, pop3_enabled, smtp_enabled, password_hash)
         SELECT id, $2, local_part, display_name, quota_mb, 'active', imap, pop3, smtp, hash
         FROM unnest($1::uuid[], $3::text[], $4::text[], $5::int[], $6::bool[], $7::bool[],
                     $8::bool[], $9::text[])
              AS n (id, local_part, display_name, quota_mb, imap, pop3, smtp, hash)
         RETURNING id",
    )
    .bind(&ids)
    .bind(domain_id)
    .bind(&locals)
    .bind(&names)
    .bind(&quotas)
    .bind(flag(|p| p.imap))
    .bind(flag(|p| p.pop3))
    .bind(flag(|p| p.smtp))
    .bind(&hashes)
    .fetch_all(db)
    .await
}

/// Accounts in reach by id, by local part.
pub async fn get_many(
    db: impl PgExecutor<'_>,
    reach: Reach,
    ids: &[Uuid],
) -> sqlx::Result<Vec<AccountRow>> {
    let mut q = Scoped::select(SELECT, &ACCOUNTS, reach);
    q.and("a.id = ANY(")
        .bind(ids.to_vec())
        .push(") ORDER BY a.local_part");
    q.fetch_all(db).await
}
