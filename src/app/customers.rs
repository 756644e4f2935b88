//! Customers: the owners of domains. Admins manage all, partners their own; a
//! customer key may read its own customer record.

use uuid::Uuid;

use super::{audit, App, Error, Result, Write};
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, Reach};
use crate::store;
use crate::store::customers::{CustomerChange, CustomerRow};
use crate::store::notify::{Topic, Touch};
use crate::store::reach::Reached;

pub struct NewCustomer {
    pub name: String,
    /// Admin keys only: the partner the customer belongs to (none: the provider's own).
    pub partner_id: Option<Uuid>,
    pub external_ref: Option<String>,
}

#[derive(Debug, Default)]
pub struct Change {
    pub name: Option<String>,
    /// `Some(None)` clears it.
    pub external_ref: Option<Option<String>>,
}

pub async fn find(app: &App, caller: &Caller, id: Uuid) -> Result<Reached<CustomerRow>> {
    store::customers::get(&app.pool, caller.reach, id)
        .await?
        .ok_or_else(|| Error::not_found("customer"))
}

/// The partner a new customer belongs to: a partner key creates its own partner's.
fn owner(caller: &Caller, requested: Option<Uuid>) -> Result<Option<Uuid>> {
    match (caller.reach, requested) {
        (Reach::All, p) => Ok(p),
        (Reach::Partner(own), None) => Ok(Some(own)),
        (Reach::Partner(own), Some(p)) if p == own => Ok(Some(own)),
        _ => Err(Error::field(
            "partner_id",
            "not_allowed",
            "a partner key creates customers of its own partner",
        )),
    }
}

#[tracing::instrument(skip_all)]
pub async fn create(app: &App, caller: &Caller, command: NewCustomer) -> Result<CustomerRow> {
    let partner_id = owner(caller, command.partner_id)?;
    let mut write = Write::begin(app, &[]).await?;
    if let Some(p) = partner_id {
        if store::partners::get(write.db(), caller.reach, p)
            .await?
            .is_none()
        {
            return Err(Error::field(
                "partner_id",
                "unknown",
                "no partner with this id",
            ));
        }
    }
    let row = store::customers::insert(
        write.db(),
        partner_id,
        &command.name,
        command.external_ref.as_deref(),
    )
    .await?;
    let mut event = audit::by(caller, "customer.created");
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.id);
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all)]
pub async fn list(app: &App, caller: &Caller, paging: &Paging) -> Result<Page<CustomerRow>> {
    let rows = store::customers::list(&app.pool, caller.reach, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.id.to_string()))
}

#[tracing::instrument(skip_all, fields(customer = %id))]
pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    change: Change,
    expected: Option<i32>,
) -> Result<CustomerRow> {
    let mut write = Write::begin(app, &[]).await?;
    let current = store::customers::get(write.db(), caller.reach, id)
        .await?
        .ok_or_else(|| Error::not_found("customer"))?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    let stored = CustomerChange {
        name: change.name.as_deref(),
        external_ref: change.external_ref.as_ref().map(|r| r.as_deref()),
    };
    // Without If-Match the change applies to whatever version is there (nothing here
    // depends on the version read).
    let row = store::customers::update(write.db(), caller.reach, id, &stored, expected)
        .await?
        .ok_or(Error::PreconditionFailed)?;
    let mut event = audit::by(caller, "customer.updated");
    event.partner_id = row.partner_id;
    event.customer_id = Some(id);
    write.record(&event).await?;
    write.commit().await?;
    Ok(row.into_inner())
}

/// Deletes a customer that has no domains left (its keys go with it).
#[tracing::instrument(skip_all, fields(customer = %id))]
pub async fn delete(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let mut write = Write::begin(app, &[Touch::all(Topic::Keys)]).await?;
    let current = store::customers::get(write.db(), caller.reach, id)
        .await?
        .ok_or_else(|| Error::not_found("customer"))?;
    store::customers::delete(write.db(), caller.reach, id).await?;
    let mut event = audit::by(caller, "customer.deleted");
    event.partner_id = current.partner_id;
    event.customer_id = Some(id);
    write.record(&event).await?;
    write.commit().await
}
