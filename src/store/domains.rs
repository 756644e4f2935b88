//! Hosted mail domains. A domain belongs to exactly one customer and is unique
//! across the whole system.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::reach::{Keyed, Owned, Reached, Scoped, DOMAINS};
use super::search;
use super::PageRequest;
use crate::domain::Reach;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DomainRow {
    pub id: Uuid,
    pub name: String,
    pub customer_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub server_profile: String,
    pub account_count: i64,
    pub alias_count: i64,
    /// The sum of the live accounts' quotas.
    pub quota_mb_allocated: i64,
    /// The target's name, for an alias domain.
    pub alias_of: Option<String>,
    pub max_accounts: Option<i32>,
    pub max_aliases: Option<i32>,
    pub max_quota_mb: Option<i64>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Keyed for DomainRow {
    fn id(&self) -> Uuid {
        self.id
    }
}

impl Owned for DomainRow {
    fn owners(&self) -> (Option<Uuid>, Uuid) {
        (self.partner_id, self.customer_id)
    }
}

/// The domain's partner is kept on its row (see the migration `domain_counters`), so
/// neither reading a domain nor checking its reach joins its customer.
const COLUMNS: &str = "SELECT d.id, d.name, d.customer_id, d.partner_id, d.server_profile,
        d.account_count, d.alias_count, d.quota_mb_allocated,
        (SELECT t.name FROM domains t WHERE t.id = d.alias_of) AS alias_of,
        d.max_accounts, d.max_aliases, d.max_quota_mb,
        d.version, d.created_at, d.updated_at";

pub struct NewDomain<'a> {
    pub name: &'a str,
    pub name_unicode: &'a str,
    pub customer_id: Uuid,
    pub server_profile: &'a str,
    pub alias_of: Option<Uuid>,
}

pub async fn insert(db: impl PgExecutor<'_>, d: &NewDomain<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO domains (id, name, name_unicode, customer_id, server_profile, alias_of)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(d.name)
    .bind(d.name_unicode)
    .bind(d.customer_id)
    .bind(d.server_profile)
    .bind(d.alias_of)
    .fetch_one(db)
    .await
}

/// Domains created before the Unicode name was kept, a batch at a time.
pub async fn without_unicode_name(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT id, name FROM domains WHERE name_unicode IS NULL LIMIT 1000")
        .fetch_all(db)
        .await
}

pub async fn set_unicode_name(
    db: impl PgExecutor<'_>,
    id: Uuid,
    unicode: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE domains SET name_unicode = $2 WHERE id = $1")
        .bind(id)
        .bind(unicode)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn get(
    db: impl PgExecutor<'_>,
    reach: Reach,
    name: &str,
) -> sqlx::Result<Option<Reached<DomainRow>>> {
    let mut q = Scoped::select(COLUMNS, &DOMAINS, reach);
    q.and("d.name = ").bind(name.to_owned());
    q.fetch_optional(db).await
}

/// One page of the domains in reach, by name. Each combination of filters is a
/// statement of its own, so that each gets a plan of its own: one prepared statement
/// with `$n IS NULL OR …` for every filter gets a generic plan that reads (and sorts)
/// every domain.
///
/// A partner's domains come from the index on `(partner_id, name)`, a customer's from
/// `(customer_id, name)`. A search (on the name and its Unicode form) goes through
/// `store::search`.
pub async fn list(db: &PgPool, reach: Reach, page: &PageRequest) -> sqlx::Result<Vec<DomainRow>> {
    search::page(db, search::DOMAINS, reach, page, |narrow| {
        let head = match narrow.within {
            Some(_) => format!("{COLUMNS} FROM (SELECT *"),
            None => COLUMNS.to_owned(),
        };
        let mut q = Scoped::select(&head, &DOMAINS, reach);
        if let Some(after) = page.after.as_deref() {
            q.and("d.name > ").bind(after.to_owned());
        }
        if let Some(within) = narrow.within {
            q.push(" ORDER BY d.name LIMIT ")
                .bind(within)
                .push(") AS d WHERE true");
        }
        narrow.push(q.builder(), search::DOMAINS);
        q.push(" ORDER BY d.name LIMIT ").bind(page.limit);
        q
    })
    .await
}

pub struct DomainChange<'a> {
    pub server_profile: Option<&'a str>,
    pub customer_id: Option<Uuid>,
    /// For each limit: `Some(None)` makes it unlimited.
    pub max_accounts: Option<Option<i32>>,
    pub max_aliases: Option<Option<i32>>,
    pub max_quota_mb: Option<Option<i64>>,
}

/// Applies a change if the version is still `expected`; `false` when it is not.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    change: &DomainChange<'_>,
    expected: Option<i32>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE domains SET server_profile = coalesce($2, server_profile),
                customer_id = coalesce($3, customer_id),
                max_accounts = CASE WHEN $5 THEN $6 ELSE max_accounts END,
                max_aliases = CASE WHEN $7 THEN $8 ELSE max_aliases END,
                max_quota_mb = CASE WHEN $9 THEN $10 ELSE max_quota_mb END,
                version = version + 1, updated_at = now()
         WHERE id = $1 AND ($4::int IS NULL OR version = $4)",
    )
    .bind(id)
    .bind(change.server_profile)
    .bind(change.customer_id)
    .bind(expected)
    .bind(change.max_accounts.is_some())
    .bind(change.max_accounts.flatten())
    .bind(change.max_aliases.is_some())
    .bind(change.max_aliases.flatten())
    .bind(change.max_quota_mb.is_some())
    .bind(change.max_quota_mb.flatten())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a domain that has no live accounts (deleted, restorable ones go with it);
/// `false` when it still has some. Call inside a transaction: the domain row is
/// locked first, so an account created concurrently either commits before the check
/// sees it, or fails on the foreign key after the domain is gone; never is a fresh
/// account cascaded away unseen.
pub async fn delete_if_empty(conn: &mut sqlx::PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query("SELECT 1 FROM domains WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query(
        "DELETE FROM domains d WHERE d.id = $1
           AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.domain_id = d.id AND a.deleted_at IS NULL)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Alias domains follow their target to a new owner.
pub async fn move_alias_domains(
    db: impl PgExecutor<'_>,
    target_id: Uuid,
    customer_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE domains SET customer_id = $2, version = version + 1, updated_at = now() WHERE alias_of = $1")
        .bind(target_id)
        .bind(customer_id)
        .execute(db)
        .await?;
    Ok(())
}
