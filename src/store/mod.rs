//! Database access, one module per aggregate. No HTTP here: functions take plain
//! values and the caller's reach, and return rows. Every query that reads or writes a
//! tenant's object filters by the reach, so a foreign object is simply not found.

pub mod accounts;
pub mod aliases;
pub mod api_keys;
pub mod app_passwords;
pub mod audit;
pub mod catch_alls;
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
pub mod routing;
pub mod search;
pub mod throttle;
pub mod webhooks;

use crate::domain::paging::Paging;
use crate::domain::Reach;

/// Which rows a reach sees, for rows joined to their customer as `c`: `$1` is the
/// partner, `$2` the customer (see `Reach::filters`).
pub(crate) const CUSTOMER_IN_REACH: &str =
    "($1::uuid IS NULL OR c.partner_id = $1) AND ($2::uuid IS NULL OR c.id = $2)";
/// The same for rows that name their owner themselves (`partner_id`, `customer_id`):
/// a partner reaches what it owns and what its customers own.
pub(crate) const OWNER_IN_REACH: &str = "($1::uuid IS NULL OR partner_id = $1
        OR customer_id IN (SELECT id FROM customers WHERE partner_id = $1))
    AND ($2::uuid IS NULL OR customer_id = $2)";

/// Narrows a statement being built to what `reach` sees: `partner` and `customer`
/// name the columns that hold a row's owners. Each reach so gets a statement (and a
/// plan) of its own, where one with `$n IS NULL OR …` would get a generic plan that
/// reads every row.
pub(crate) fn push_reach(
    q: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
    reach: Reach,
    partner: &str,
    customer: &str,
) {
    match reach {
        Reach::All => {}
        Reach::Partner(p) => {
            q.push(format_args!(" AND {partner} = ")).push_bind(p);
        }
        Reach::Customer(c) => {
            q.push(format_args!(" AND {customer} = ")).push_bind(c);
        }
    }
}

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
