//! Aliases: `info@domain` delivered to one or more addresses, local or external.

use super::routing::{self, Claim};
use super::{audit, domains, App, Error, Result, Write};
use crate::domain::paging::{Page, Paging};
use crate::domain::routing::Destinations;
use crate::domain::{Caller, DomainName, MailAddress};
use crate::store;
use crate::store::aliases::{AliasChange, AliasRow};
use crate::store::reach::Reached;

pub struct NewAlias {
    pub address: MailAddress,
    pub destinations: Destinations,
    pub active: bool,
    pub description: Option<String>,
}

/// A change of some fields; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct Change {
    pub destinations: Option<Destinations>,
    pub active: Option<bool>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

/// The alias at this address within the caller's reach.
pub async fn find(app: &App, caller: &Caller, address: &MailAddress) -> Result<Reached<AliasRow>> {
    store::aliases::get(
        &app.pool,
        caller.reach,
        address.domain().as_str(),
        address.local_part().as_str(),
    )
    .await?
    .ok_or_else(|| Error::not_found("alias"))
}

/// An alias that names itself would deliver to itself for ever.
fn not_to_itself(address: &MailAddress, destinations: &Destinations) -> Result<()> {
    if destinations.contains(address) {
        return Err(Error::field(
            "destinations",
            "routing_loop",
            format!("{address} cannot be a destination of itself"),
        ));
    }
    Ok(())
}

/// The alias a write just changed, as the writer sees it within its transaction.
async fn reread(db: &mut sqlx::PgConnection, caller: &Caller, id: uuid::Uuid) -> Result<AliasRow> {
    let row = store::aliases::get_by_id(db, caller.reach, id).await?;
    let row = row.ok_or_else(|| anyhow::anyhow!("alias {id} vanished within its transaction"))?;
    Ok(row.into_inner())
}

fn event<'a>(caller: &'a Caller, action: &'a str, row: &'a AliasRow) -> store::audit::NewEvent<'a> {
    let mut event = audit::by(caller, action);
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.customer_id);
    event.domain = Some(&row.domain);
    event.account = Some(&row.address);
    event
}

#[tracing::instrument(skip_all, fields(address = %command.address))]
pub async fn create(app: &App, caller: &Caller, command: NewAlias) -> Result<AliasRow> {
    not_to_itself(&command.address, &command.destinations)?;
    let domain = domains::find(app, caller, command.address.domain()).await?;
    let local = command.address.local_part().as_str();
    let destinations = command.destinations.to_strings();

    let mut write = Write::begin(app, &[]).await?;
    routing::claim(write.db(), &domain, Claim::Alias { local_part: local }).await?;
    let new = store::aliases::NewAlias {
        domain_id: domain.id,
        local_part: local,
        destinations: &destinations,
        active: command.active,
        description: command.description.as_deref(),
    };
    let id = store::aliases::insert(write.db(), &new).await?;
    let row = reread(write.db(), caller, id).await?;
    routing::ensure_no_loop(write.db(), caller.reach, &row.address, "destinations").await?;
    let mut event = event(caller, "alias.created", &row);
    event.details = serde_json::json!({ "destinations": row.destinations, "active": row.active });
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// A domain's aliases, by local part.
#[tracing::instrument(skip_all, fields(domain = %domain))]
pub async fn list(
    app: &App,
    caller: &Caller,
    domain: &DomainName,
    paging: &Paging,
) -> Result<Page<AliasRow>> {
    let domain = domains::find(app, caller, domain).await?;
    let rows = store::aliases::list(&app.pool, &domain, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.local_part.clone()))
}

/// Changes an alias whose version is still `expected` (when given).
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn update(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    change: Change,
    expected: Option<i32>,
) -> Result<AliasRow> {
    if let Some(d) = &change.destinations {
        not_to_itself(address, d)?;
    }
    let current = find(app, caller, address).await?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    let destinations = change.destinations.as_ref().map(Destinations::to_strings);
    let stored = AliasChange {
        destinations: destinations.as_deref(),
        active: change.active,
        description: change.description.as_ref().map(|d| d.as_deref()),
    };
    let mut write = Write::begin(app, &[]).await?;
    // Without If-Match the change applies to whatever version is there; the loop check
    // below reads the result.
    if !store::aliases::update(write.db(), current.id, &stored, expected).await? {
        return Err(Error::PreconditionFailed);
    }
    let row = reread(write.db(), caller, current.id).await?;
    routing::ensure_no_loop(write.db(), caller.reach, &row.address, "destinations").await?;
    let mut event = event(caller, "alias.updated", &row);
    event.details = serde_json::json!({ "destinations": destinations, "active": change.active });
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn delete(app: &App, caller: &Caller, address: &MailAddress) -> Result<()> {
    let current = find(app, caller, address).await?;
    let mut write = Write::begin(app, &[]).await?;
    if store::aliases::delete(write.db(), current.id).await? {
        write
            .record(&event(caller, "alias.deleted", &current))
            .await?;
    }
    write.commit().await
}
