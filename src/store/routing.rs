//! What every write that claims an address or adds a route needs: the domain's
//! slots under a lock, whether an address is taken, and the routes as the mail
//! servers see them (the `mailserver` views, read inside the writing transaction).

use sqlx::PgConnection;
use uuid::Uuid;

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
    /// A deleted account that can still be restored.
    DeletedAccount,
    Alias,
}

pub async fn holder(
    db: &mut PgConnection,
    domain_id: Uuid,
    local_part: &str,
) -> sqlx::Result<Option<Holder>> {
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT CASE WHEN deleted_at IS NULL THEN 'account' ELSE 'deleted' END FROM accounts
          WHERE domain_id = $1 AND local_part = $2
         UNION ALL
         SELECT 'alias' FROM aliases WHERE domain_id = $1 AND local_part = $2
         LIMIT 1",
    )
    .bind(domain_id)
    .bind(local_part)
    .fetch_optional(db)
    .await?;
    Ok(found.map(|(kind,)| match kind.as_str() {
        "account" => Holder::Account,
        "deleted" => Holder::DeletedAccount,
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
/// answer (the same views, in the same order: full address, alias domain, then the
/// domain's catch-all); `None` when nothing maps it (a plain external address).
pub async fn next_hops(db: &mut PgConnection, address: &str) -> sqlx::Result<Option<Vec<String>>> {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT destinations FROM (
            SELECT 1 AS rank, destinations FROM mailserver.postfix_aliases WHERE address = $1
            UNION ALL
            SELECT 2, destination FROM mailserver.postfix_alias_domains WHERE domain = $3 AND local_part = $2
            UNION ALL
            SELECT 3, destinations FROM mailserver.postfix_catch_alls WHERE domain = $3 AND address = '@' || $3
         ) hops ORDER BY rank LIMIT 1",
    )
    .bind(address)
    .bind(local)
    .bind(domain)
    .fetch_optional(db)
    .await?;
    Ok(found.map(|(d,)| d.split(',').map(str::to_owned).collect()))
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
