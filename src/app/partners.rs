//! Partners: resellers that provision their own customers. Admin keys only.

use uuid::Uuid;

use super::{audit, App, Error, Result, Write};
use crate::domain::paging::{Page, Paging};
use crate::domain::Caller;
use crate::store;
use crate::store::notify::{Topic, Touch};
use crate::store::partners::PartnerRow;

#[tracing::instrument(skip_all)]
pub async fn create(app: &App, caller: &Caller, name: &str) -> Result<PartnerRow> {
    let mut write = Write::begin(app, &[]).await?;
    let row = store::partners::insert(write.db(), name).await?;
    let mut event = audit::by(caller, "partner.created");
    event.partner_id = Some(row.id);
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all)]
pub async fn list(app: &App, caller: &Caller, paging: &Paging) -> Result<Page<PartnerRow>> {
    let rows = store::partners::list(&app.pool, caller.reach, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.id.to_string()))
}

pub async fn find(app: &App, caller: &Caller, id: Uuid) -> Result<PartnerRow> {
    let row = store::partners::get(&app.pool, caller.reach, id).await?;
    Ok(row.ok_or_else(|| Error::not_found("partner"))?.into_inner())
}

/// Renames a partner whose version is still `expected` (when given).
#[tracing::instrument(skip_all, fields(partner = %id))]
pub async fn rename(
    app: &App,
    caller: &Caller,
    id: Uuid,
    name: Option<&str>,
    expected: Option<i32>,
) -> Result<PartnerRow> {
    let mut write = Write::begin(app, &[]).await?;
    let current = store::partners::get(write.db(), caller.reach, id)
        .await?
        .ok_or_else(|| Error::not_found("partner"))?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    // Without If-Match the rename applies to whatever version is there: a concurrent
    // write is no reason to refuse a request that named no precondition.
    let row = store::partners::update(write.db(), id, name, expected)
        .await?
        .ok_or(Error::PreconditionFailed)?;
    let mut event = audit::by(caller, "partner.updated");
    event.partner_id = Some(id);
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// Deletes a partner that has no customers left (its keys go with it).
#[tracing::instrument(skip_all, fields(partner = %id))]
pub async fn delete(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let mut write = Write::begin(app, &[Touch::all(Topic::Keys)]).await?;
    if !store::partners::delete(write.db(), id).await? {
        return Err(Error::not_found("partner"));
    }
    let mut event = audit::by(caller, "partner.deleted");
    event.partner_id = Some(id);
    write.record(&event).await?;
    write.commit().await
}
