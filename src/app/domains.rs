//! Hosted mail domains. Names are kept as the lowercase A-label (UTS #46), which is
//! what mail servers see; a domain belongs to exactly one customer.

use uuid::Uuid;

use super::{audit, routing, App, Error, Result, Write};
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, DomainName, Reach};
use crate::store;
use crate::store::domains::{DomainChange, DomainRow};
use crate::store::notify::Touch;
use crate::store::reach::Reached;

pub const DEFAULT_PROFILE: &str = "default";

pub struct NewDomain {
    pub name: DomainName,
    /// Required for admin and partner keys; a customer key creates its own domains.
    /// An alias domain belongs to its target's customer.
    pub customer_id: Option<Uuid>,
    pub server_profile: Option<String>,
    /// Makes it an alias domain of this hosted domain.
    pub alias_of: Option<DomainName>,
}

#[derive(Debug, Default)]
pub struct Change {
    pub server_profile: Option<String>,
    /// Move the domain to another customer in reach.
    pub customer_id: Option<Uuid>,
    /// For each limit: `Some(None)` makes it unlimited.
    pub max_accounts: Option<Option<i32>>,
    pub max_aliases: Option<Option<i32>>,
    pub max_quota_mb: Option<Option<i64>>,
}

impl Change {
    fn touches_limits(&self) -> bool {
        self.max_accounts.is_some() || self.max_aliases.is_some() || self.max_quota_mb.is_some()
    }
}

/// The domain with this name within the caller's reach.
pub async fn find(app: &App, caller: &Caller, name: &DomainName) -> Result<Reached<DomainRow>> {
    store::domains::get(&app.pool, caller.reach, name.as_str())
        .await?
        .ok_or_else(|| Error::not_found("domain"))
}

/// A customer named in a command must be in the caller's reach; otherwise it is unknown.
async fn customer_in_reach(app: &App, reach: Reach, id: Uuid) -> Result<()> {
    match store::customers::get(&app.pool, reach, id).await? {
        Some(_) => Ok(()),
        None => Err(Error::field(
            "customer_id",
            "unknown",
            "no customer with this id",
        )),
    }
}

/// The domain a write just changed, as the writer sees it within its transaction.
async fn reread(db: &mut sqlx::PgConnection, caller: &Caller, name: &str) -> Result<DomainRow> {
    let row = store::domains::get(db, caller.reach, name).await?;
    let row =
        row.ok_or_else(|| anyhow::anyhow!("domain {name} vanished within its transaction"))?;
    Ok(row.into_inner())
}

/// The target of a new alias domain: a hosted domain in reach, not an alias itself.
async fn alias_target(app: &App, caller: &Caller, name: &DomainName) -> Result<Reached<DomainRow>> {
    let unknown = || Error::field("alias_of", "unknown", "no hosted domain with this name");
    let target = find(app, caller, name).await.map_err(|e| match e {
        Error::NotFound(_) => unknown(),
        e => e,
    })?;
    if target.alias_of.is_some() {
        return Err(Error::field(
            "alias_of",
            "alias_domain",
            format!("{} is an alias domain itself; name its target", target.name),
        ));
    }
    Ok(target)
}

#[tracing::instrument(skip_all, fields(domain = %command.name))]
pub async fn create(app: &App, caller: &Caller, command: NewDomain) -> Result<DomainRow> {
    let target = match &command.alias_of {
        Some(name) => Some(alias_target(app, caller, name).await?),
        None => None,
    };
    let customer_id = match (&target, caller.reach, command.customer_id) {
        (Some(t), _, Some(c)) if c != t.customer_id => {
            return Err(Error::field(
                "customer_id",
                "alias_domain",
                "an alias domain belongs to its target's customer",
            ))
        }
        (Some(t), _, _) => t.customer_id,
        (None, Reach::Customer(own), None) => own,
        (None, _, None) => {
            return Err(Error::field(
                "customer_id",
                "required",
                "is required for admin and partner keys",
            ))
        }
        (None, reach, Some(c)) => {
            customer_in_reach(app, reach, c).await?;
            c
        }
    };
    let profile = match (&target, command.server_profile.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(Error::field(
                "server_profile",
                "alias_domain",
                "an alias domain uses its target's server profile",
            ))
        }
        (Some(t), None) => t.server_profile.clone(),
        (None, Some(p)) => p.to_owned(),
        (None, None) => DEFAULT_PROFILE.to_owned(),
    };
    let name = command.name.as_str();
    let unicode = command.name.to_unicode();
    let mut write = Write::begin(app, &[Touch::domain(name)]).await?;
    let new = store::domains::NewDomain {
        name,
        name_unicode: &unicode,
        customer_id,
        server_profile: &profile,
        alias_of: target.as_ref().map(|t| t.id),
    };
    store::domains::insert(write.db(), &new).await?;
    if target.is_some() {
        // Routes that pointed here as an external domain now come home.
        for source in store::routing::sources_pointing_into(write.db(), name).await? {
            routing::ensure_no_loop(write.db(), caller.reach, &source, "alias_of").await?;
        }
    }
    let row = reread(write.db(), caller, name).await?;
    let mut event = audit::by(caller, "domain.created");
    event.partner_id = row.partner_id;
    event.customer_id = Some(customer_id);
    event.domain = Some(name);
    event.details = serde_json::json!({ "alias_of": row.alias_of });
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// The domains in reach, by name.
#[tracing::instrument(skip_all)]
pub async fn list(app: &App, caller: &Caller, paging: &Paging) -> Result<Page<DomainRow>> {
    let rows = store::domains::list(&app.pool, caller.reach, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.name.clone()))
}

/// Changes a domain's server profile or owner (admin and partner keys).
#[tracing::instrument(skip_all, fields(domain = %name))]
pub async fn update(
    app: &App,
    caller: &Caller,
    name: &DomainName,
    change: Change,
    expected: Option<i32>,
) -> Result<DomainRow> {
    let current = find(app, caller, name).await?;
    if let Some(c) = change.customer_id {
        customer_in_reach(app, caller.reach, c).await?;
    }
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    if current.alias_of.is_some()
        && (change.touches_limits()
            || change.customer_id.is_some()
            || change.server_profile.is_some())
    {
        return Err(Error::Conflict(
            "an alias domain follows its target's owner, limits and server profile".into(),
        ));
    }
    let stored = DomainChange {
        server_profile: change.server_profile.as_deref(),
        customer_id: change.customer_id,
        max_accounts: change.max_accounts,
        max_aliases: change.max_aliases,
        max_quota_mb: change.max_quota_mb,
    };
    // The directory serves the profile; the account cache holds the owner.
    let mut write = Write::begin(
        app,
        &[
            Touch::domain(&current.name),
            Touch::accounts_of(&current.name),
        ],
    )
    .await?;
    // Without If-Match the change applies to whatever version is there: the rules above
    // read only what a domain never changes (whether it is an alias domain).
    if !store::domains::update(write.db(), current.id, &stored, expected).await? {
        return Err(Error::PreconditionFailed);
    }
    if let Some(c) = change.customer_id {
        store::domains::move_alias_domains(write.db(), current.id, c).await?;
    }
    let row = reread(write.db(), caller, &current.name).await?;
    let mut event = audit::by(caller, "domain.updated");
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.customer_id);
    event.domain = Some(&current.name);
    event.details = serde_json::json!({
        "server_profile": stored.server_profile,
        "customer_id": stored.customer_id,
        "max_accounts": stored.max_accounts,
        "max_aliases": stored.max_aliases,
        "max_quota_mb": stored.max_quota_mb,
    });
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// Deletes a domain without live accounts; deleted accounts still in their
/// retention period are purged with it.
#[tracing::instrument(skip_all, fields(domain = %name))]
pub async fn delete(app: &App, caller: &Caller, name: &DomainName) -> Result<()> {
    let current = find(app, caller, name).await?;
    let mut write = Write::begin(
        app,
        &[
            Touch::domain(&current.name),
            Touch::accounts_of(&current.name),
        ],
    )
    .await?;
    if !store::domains::delete_if_empty(write.db(), current.id).await? {
        return Err(Error::Conflict(format!(
            "the domain still has {} account(s); delete them first",
            current.account_count.max(1)
        )));
    }
    let mut event = audit::by(caller, "domain.deleted");
    event.partner_id = current.partner_id;
    event.customer_id = Some(current.customer_id);
    event.domain = Some(&current.name);
    write.record(&event).await?;
    write.commit().await
}

/// Fills in the Unicode names of domains created before they were kept (see the
/// migration `mail_routing`), so that their Unicode addresses log in and receive.
/// Not an app::Write: it runs at start, before the caches are loaded, and completes
/// a migration rather than changing anyone's domain (so no audit event).
pub async fn backfill_unicode_names(pool: &sqlx::PgPool) -> anyhow::Result<usize> {
    let mut done = 0;
    loop {
        let batch = store::domains::without_unicode_name(pool).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        for (id, name) in batch {
            let unicode = DomainName::from_trusted(name).to_unicode();
            store::domains::set_unicode_name(pool, id, &unicode).await?;
            done += 1;
        }
    }
}
