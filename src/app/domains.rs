//! Hosted mail domains. Names are kept as the lowercase A-label (UTS #46), which is
//! what mail servers see; a domain belongs to exactly one customer.

use uuid::Uuid;

use super::{audit, App, Error, Result, Write};
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, DomainName, Reach, Role};
use crate::store;
use crate::store::domains::{DomainChange, DomainRow};
use crate::store::notify::Topic;

pub const DEFAULT_PROFILE: &str = "default";

pub struct NewDomain {
    pub name: DomainName,
    /// Required for admin and partner keys; a customer key creates its own domains.
    pub customer_id: Option<Uuid>,
    pub server_profile: Option<String>,
}

#[derive(Debug, Default)]
pub struct Change {
    pub server_profile: Option<String>,
    /// Move the domain to another customer in reach.
    pub customer_id: Option<Uuid>,
}

/// The domain with this name within the caller's reach.
pub async fn find(app: &App, caller: &Caller, name: &DomainName) -> Result<DomainRow> {
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

async fn reread(db: &mut sqlx::PgConnection, name: &str) -> Result<DomainRow> {
    store::domains::get(db, Reach::All, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("domain {name} vanished within its transaction").into())
}

#[tracing::instrument(skip_all, fields(domain = %command.name))]
pub async fn create(app: &App, caller: &Caller, command: NewDomain) -> Result<DomainRow> {
    let customer_id = match (caller.reach, command.customer_id) {
        (Reach::Customer(own), None) => own,
        (_, None) => {
            return Err(Error::field(
                "customer_id",
                "required",
                "is required for admin and partner keys",
            ))
        }
        (reach, Some(c)) => {
            customer_in_reach(app, reach, c).await?;
            c
        }
    };
    let profile = command.server_profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let name = command.name.as_str();
    let mut write = Write::begin(app, &[Topic::Directory]).await?;
    store::domains::insert(write.db(), name, customer_id, profile).await?;
    let row = reread(write.db(), name).await?;
    let mut event = audit::by(caller, "domain.created");
    event.partner_id = row.partner_id;
    event.customer_id = Some(customer_id);
    event.domain = Some(name);
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
    caller.require(&[Role::Admin, Role::Partner])?;
    let current = find(app, caller, name).await?;
    if let Some(c) = change.customer_id {
        customer_in_reach(app, caller.reach, c).await?;
    }
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    let stored = DomainChange {
        server_profile: change.server_profile.as_deref(),
        customer_id: change.customer_id,
    };
    // The directory serves the profile; the account cache holds the owner.
    let mut write = Write::begin(app, &[Topic::Directory, Topic::Accounts]).await?;
    if !store::domains::update(write.db(), current.id, &stored, Some(current.version)).await? {
        return Err(Error::PreconditionFailed);
    }
    let row = reread(write.db(), &current.name).await?;
    let mut event = audit::by(caller, "domain.updated");
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.customer_id);
    event.domain = Some(&current.name);
    event.details = serde_json::json!({"server_profile": stored.server_profile, "customer_id": stored.customer_id});
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// Deletes a domain without live accounts; deleted accounts still in their
/// retention period are purged with it.
#[tracing::instrument(skip_all, fields(domain = %name))]
pub async fn delete(app: &App, caller: &Caller, name: &DomainName) -> Result<()> {
    let current = find(app, caller, name).await?;
    let mut write = Write::begin(app, &[Topic::Directory, Topic::Accounts]).await?;
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
