//! What every write that claims an address or adds a route needs: the domain's
//! slots under a lock, whether an address is taken, and the routes as the mail
//! servers see them (the `mailserver` views, read inside the writing transaction).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::reach::{Scoped, DOMAINS};
use crate::domain::Reach;

/// A domain's package limits and what is used of them, read under a row lock that
/// every write claiming an address or quota in the domain takes first: two creates
/// for the last slot run one after the other, and the second sees the first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Slots {
    pub alias_of: Option<Uuid>,
    pub max_accounts: Option<i32>,
    pub max_aliases: Option<i32>,
    pub max_quota_mb: Option<i64>,
    pub accounts: i64,
    pub aliases: i64,
    pub quota_mb: i64,
}

/// `None` when the domain is gone. Two statements on purpose: under READ COMMITTED a
/// statement that waited for the lock still counts with the snapshot it took before
/// waiting, and would miss the account whose commit released the lock; the counts
/// run after the lock is held, with a fresh snapshot.
pub async fn lock_slots(db: &mut PgConnection, domain_id: Uuid) -> sqlx::Result<Option<Slots>> {
    let locked = sqlx::query("SELECT 1 FROM domains WHERE id = $1 FOR UPDATE")
        .bind(domain_id)
        .fetch_optional(&mut *db)
        .await?;
    if locked.is_none() {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT d.alias_of, d.max_accounts, d.max_aliases, d.max_quota_mb,
                (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id AND a.deleted_at IS NULL) AS accounts,
                (SELECT count(*) FROM aliases l WHERE l.domain_id = d.id) AS aliases,
                (SELECT coalesce(sum(a.quota_mb), 0)::bigint FROM accounts a
                  WHERE a.domain_id = d.id AND a.deleted_at IS NULL) AS quota_mb
         FROM domains d WHERE d.id = $1",
    )
    .bind(domain_id)
    .fetch_optional(db)
    .await
}

/// What holds an address of a domain, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Account,
    /// A deleted account that can still be restored, until then.
    DeletedAccount(DateTime<Utc>),
    Alias,
}

pub async fn holder(
    db: &mut PgConnection,
    domain_id: Uuid,
    local_part: &str,
) -> sqlx::Result<Option<Holder>> {
    let found: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT CASE WHEN deleted_at IS NULL THEN 'account' ELSE 'deleted' END, purge_after
           FROM accounts WHERE domain_id = $1 AND local_part = $2
         UNION ALL
         SELECT 'alias', NULL FROM aliases WHERE domain_id = $1 AND local_part = $2
         LIMIT 1",
    )
    .bind(domain_id)
    .bind(local_part)
    .fetch_optional(db)
    .await?;
    Ok(found.map(|(kind, until)| match (kind.as_str(), until) {
        ("account", _) => Holder::Account,
        ("deleted", Some(until)) => Holder::DeletedAccount(until),
        _ => Holder::Alias,
    }))
}

/// Serialises the writes that add routes, system-wide, so that two of them cannot
/// close a loop between them unseen; released at commit. Such writes are rare.
pub async fn lock_routes(db: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('mailpanel.routes'))")
        .execute(db)
        .await?;
    Ok(())
}

/// Where Postfix sends mail for `address` next, as its `virtual_alias_maps` would
/// answer (the same views, in the same order: refused at RCPT TO, full address, alias
/// domain, then the domain's catch-all); `None` when nothing maps it (a plain
/// external address), empty when it is refused.
///
/// With `recipient_delimiter = +` (deploy/postfix), Postfix tries `user+ext@domain`,
/// then `user@domain`, before the catch-all; so does this.
pub async fn next_hops(db: &mut PgConnection, address: &str) -> sqlx::Result<Option<Vec<String>>> {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    if let Some((user, _)) = local.split_once('+').filter(|(user, _)| !user.is_empty()) {
        let found = hops(db, address, local, domain, false).await?;
        if found.is_some() {
            return Ok(found);
        }
        return hops(db, &format!("{user}@{domain}"), user, domain, true).await;
    }
    hops(db, address, local, domain, true).await
}

async fn hops(
    db: &mut PgConnection,
    address: &str,
    local: &str,
    domain: &str,
    catch_all: bool,
) -> sqlx::Result<Option<Vec<String>>> {
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT destinations FROM (
            SELECT 0 AS rank, '' AS destinations FROM mailserver.postfix_recipient_access
             WHERE domain = $3 AND local_part = $2
            UNION ALL
            SELECT 1, destinations FROM mailserver.postfix_aliases WHERE address = $1
            UNION ALL
            SELECT 2, destination FROM mailserver.postfix_alias_domains WHERE domain = $3 AND local_part = $2
            UNION ALL
            SELECT 3, destinations FROM mailserver.postfix_catch_alls
             WHERE $4 AND domain = $3 AND address = '@' || $3
         ) hops ORDER BY rank LIMIT 1",
    )
    .bind(address)
    .bind(local)
    .bind(domain)
    .bind(catch_all)
    .fetch_optional(db)
    .await?;
    // A refused address (rank 0) takes no mail: it ends the route.
    Ok(found.map(|(d,)| {
        d.split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    }))
}

/// Which of these domain names are in the reach.
pub async fn domains_in_reach(
    db: &mut PgConnection,
    reach: Reach,
    names: &[String],
) -> sqlx::Result<Vec<String>> {
    let mut q = Scoped::select("SELECT d.name", &DOMAINS, reach);
    q.and("d.name = ANY(").bind(names.to_vec()).push(")");
    q.fetch_column(db).await
}

/// Sources whose routes name an address of `domain` (aliases, forwarding and
/// catch-alls): the routes a new alias domain may close into a loop.
pub async fn sources_pointing_into(
    db: &mut PgConnection,
    domain: &str,
) -> sqlx::Result<Vec<String>> {
    let suffix = format!("@{domain}");
    sqlx::query_scalar(
        "SELECT address FROM mailserver.postfix_aliases
          WHERE EXISTS (SELECT 1 FROM unnest(string_to_array(destinations, ',')) t WHERE right(t, length($1)) = $1)
         UNION
         SELECT address FROM mailserver.postfix_catch_alls
          WHERE EXISTS (SELECT 1 FROM unnest(string_to_array(destinations, ',')) t WHERE right(t, length($1)) = $1)",
    )
    .bind(suffix)
    .fetch_all(db)
    .await
}

/// Which of these local parts of a domain are held, and by what (after purging
/// expired deleted accounts among them): a batch's addresses in one query.
pub async fn holders(
    db: &mut PgConnection,
    domain_id: Uuid,
    local_parts: &[String],
) -> sqlx::Result<Vec<(String, Holder)>> {
    sqlx::query("DELETE FROM accounts WHERE domain_id = $1 AND local_part = ANY($2) AND purge_after <= now()")
        .bind(domain_id)
        .bind(local_parts)
        .execute(&mut *db)
        .await?;
    let found: Vec<(String, String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT local_part, CASE WHEN deleted_at IS NULL THEN 'account' ELSE 'deleted' END, purge_after
           FROM accounts WHERE domain_id = $1 AND local_part = ANY($2)
         UNION ALL
         SELECT local_part, 'alias', NULL FROM aliases WHERE domain_id = $1 AND local_part = ANY($2)",
    )
    .bind(domain_id)
    .bind(local_parts)
    .fetch_all(db)
    .await?;
    Ok(found
        .into_iter()
        .map(|(local, kind, until)| {
            let holder = match (kind.as_str(), until) {
                ("account", _) => Holder::Account,
                ("deleted", Some(until)) => Holder::DeletedAccount(until),
                _ => Holder::Alias,
            };
            (local, holder)
        })
        .collect())
}
