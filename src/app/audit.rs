//! The audit trail: who did what, through which channel, from where. Events are
//! written by the use cases inside their transactions; this module builds them and
//! lists them within the caller's reach.

use super::{App, Result};
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, DomainName, MailAddress};
use crate::store;
use crate::store::accounts::AccountRow;
use crate::store::audit::{EventFilter, EventRow, NewEvent};

/// An event pre-filled with who is acting, through the API.
pub fn by<'a>(caller: &'a Caller, action: &'a str) -> NewEvent<'a> {
    NewEvent {
        action,
        channel: "api",
        actor_key_id: Some(caller.key_id),
        actor_role: Some(caller.role.as_str()),
        client_addr: caller.client_addr.as_deref(),
        ..Default::default()
    }
}

/// The same event, about an account (and so its domain and owners).
pub fn on_account<'a>(
    mut event: NewEvent<'a>,
    row: &'a AccountRow,
    address: &'a str,
) -> NewEvent<'a> {
    event.partner_id = row.partner_id;
    event.customer_id = Some(row.customer_id);
    event.domain = Some(&row.domain);
    event.account = Some(address);
    event
}

/// Which events to list.
#[derive(Debug, Default)]
pub struct Filter {
    pub account: Option<MailAddress>,
    pub domain: Option<DomainName>,
}

/// Events in the caller's reach, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    app: &App,
    caller: &Caller,
    filter: &Filter,
    paging: &Paging,
) -> Result<Page<EventRow>> {
    let account = filter.account.as_ref().map(ToString::to_string);
    let filter = EventFilter {
        account: account.as_deref(),
        domain: filter.domain.as_ref().map(DomainName::as_str),
    };
    let rows = store::audit::list(&app.pool, caller.reach, &filter, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.id.to_string()))
}
