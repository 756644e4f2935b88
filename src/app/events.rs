//! The change feed for partners' systems: every change in the caller's reach, in the
//! order its transactions were written, gap-free for a reader that follows the
//! cursor (see `store::events`). Read from the audit trail, which never holds a
//! secret.

use super::App;
use super::{Error, Result};
use crate::domain::event::{Event, Subject};
use crate::domain::paging::{encode_cursor, Paging};
use crate::domain::Caller;
use crate::store;
use crate::store::events::FeedRow;

/// One page of the feed, and the cursor to follow it with (never `None`: a reader
/// keeps polling from there).
pub struct FeedPage {
    pub items: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// A stored event as readers see it, with the cursor that follows it.
pub fn event_of(r: FeedRow) -> Event {
    Event {
        id: r.id,
        cursor: encode_cursor(&format!("{}.{}", r.txid, r.id)),
        kind: r.action,
        occurred_at: r.occurred_at,
        subject: Subject {
            partner_id: r.partner_id,
            customer_id: r.customer_id,
            domain: r.domain,
            address: r.account,
        },
        data: r.details,
    }
}

fn parse_cursor(key: &str) -> Option<(u64, i64)> {
    let (txid, id) = key.split_once('.')?;
    Some((txid.parse().ok()?, id.parse().ok()?))
}

#[tracing::instrument(skip_all)]
pub async fn feed(app: &App, caller: &Caller, paging: &Paging) -> Result<FeedPage> {
    let after = match paging.after.as_deref() {
        None => None,
        Some(key) => Some(parse_cursor(key).ok_or_else(|| {
            Error::field(
                "after",
                "invalid_cursor",
                "is not a cursor this feed returned",
            )
        })?),
    };
    let rows = store::events::after(&app.pool, caller.reach, after, paging.limit as i64).await?;
    let items: Vec<Event> = rows.into_iter().map(event_of).collect();
    let next_cursor = items
        .last()
        .map(|e| e.cursor.clone())
        .or_else(|| after.map(|(t, i)| encode_cursor(&format!("{t}.{i}"))));
    Ok(FeedPage { items, next_cursor })
}
