//! Database access, one module per aggregate. No HTTP here: functions take plain
//! values and the caller's reach, and return rows. Every statement that reads a
//! tenant's objects is built by `reach::Scoped` from the caller's reach, so a foreign
//! object is simply not found; what lies beneath an object is read through the
//! `reach::Reached` proof of the object.

pub mod accounts;
pub mod aliases;
pub mod api_keys;
pub mod app_passwords;
pub mod audit;
pub mod catch_alls;
pub mod credentials;
pub mod customers;
pub mod database;
pub mod domains;
pub mod events;
pub mod idempotency;
pub mod kicks;
pub mod notify;
pub mod outbox;
pub mod partners;
pub mod profiles;
pub mod reach;
pub mod routing;
pub mod search;
pub mod throttle;
pub mod webhook_deliveries;
pub mod webhooks;

use crate::domain::paging::Paging;

/// One page of a keyset-paginated list: rows after `after` in the list's order.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<String>,
    /// Rows to fetch; callers ask for one more than they return to learn whether a
    /// next page exists.
    pub limit: i64,
    /// A substring to search for, as given ...
    pub search: Option<String>,
    /// ... and turned into an `ILIKE` pattern.
    pub pattern: Option<String>,
}

impl From<&Paging> for PageRequest {
    fn from(p: &Paging) -> Self {
        Self {
            after: p.after.clone(),
            limit: p.limit as i64 + 1,
            search: p.search.clone(),
            pattern: p.search.as_deref().map(contains_pattern),
        }
    }
}

/// `%q%` with `LIKE` wildcards in `q` escaped, so that `q` matches literally.
pub fn contains_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
