//! A domain's catch-all: mail for addresses that are neither account nor alias.

use super::routing::{self, Claim};
use super::{audit, domains, App, Error, Result, Write};
use crate::domain::routing::Destinations;
use crate::domain::{Caller, DomainName};
use crate::store;
use crate::store::catch_alls::CatchAllRow;
use crate::store::domains::DomainRow;

pub async fn find(app: &App, caller: &Caller, domain: &DomainName) -> Result<CatchAllRow> {
    let domain = domains::find(app, caller, domain).await?;
    store::catch_alls::get(&app.pool, &domain)
        .await?
        .ok_or_else(|| Error::not_found("catch-all"))
}

fn event<'a>(
    caller: &'a Caller,
    action: &'a str,
    domain: &'a DomainRow,
) -> store::audit::NewEvent<'a> {
    let mut event = audit::by(caller, action);
    event.partner_id = domain.partner_id;
    event.customer_id = Some(domain.customer_id);
    event.domain = Some(&domain.name);
    event
}

/// Sets (or replaces) the catch-all; with `expected`, only if it exists in that version.
#[tracing::instrument(skip_all, fields(domain = %name))]
pub async fn put(
    app: &App,
    caller: &Caller,
    name: &DomainName,
    destinations: Destinations,
    expected: Option<i32>,
) -> Result<(CatchAllRow, bool)> {
    let domain = domains::find(app, caller, name).await?;
    let destinations = destinations.to_strings();
    let mut write = Write::begin(app, &[]).await?;
    // The lock refuses alias domains, whose catch-all is their target's.
    routing::claim(write.db(), &domain, Claim::Quota { extra_mb: 0 }).await?;
    let existed = store::catch_alls::get(write.db(), &domain).await?.is_some();
    if expected.is_some() && !existed {
        return Err(Error::PreconditionFailed);
    }
    let row = store::catch_alls::put(write.db(), domain.id, &destinations, expected)
        .await?
        .ok_or(Error::PreconditionFailed)?;
    routing::ensure_no_loop(
        write.db(),
        caller.reach,
        &format!("@{}", domain.name),
        "destinations",
    )
    .await?;
    let mut event = event(caller, "catch_all.set", &domain);
    event.details = serde_json::json!({ "destinations": destinations });
    write.record(&event).await?;
    write.commit().await?;
    Ok((row, !existed))
}

/// Removes the catch-all; removing none changes nothing (so a retry is safe).
#[tracing::instrument(skip_all, fields(domain = %name))]
pub async fn delete(app: &App, caller: &Caller, name: &DomainName) -> Result<()> {
    let domain = domains::find(app, caller, name).await?;
    let mut write = Write::begin(app, &[]).await?;
    if store::catch_alls::delete(write.db(), domain.id).await? {
        write
            .record(&event(caller, "catch_all.deleted", &domain))
            .await?;
    }
    write.commit().await
}
