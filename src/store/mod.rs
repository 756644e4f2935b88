//! Database access, one module per aggregate. No HTTP here: functions take plain
//! values and the caller's reach, and return rows. Every query that reads or writes a
//! tenant's object filters by the reach, so a foreign object is simply not found.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod customers;
pub mod database;
pub mod domains;
pub mod idempotency;
pub mod partners;
pub mod profiles;
pub mod throttle;

/// One page of a keyset-paginated list: rows after `after` in the list's order.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<String>,
    /// Rows to fetch; callers ask for one more than they return to learn whether a
    /// next page exists.
    pub limit: i64,
    /// A substring to search for, already turned into an `ILIKE` pattern.
    pub pattern: Option<String>,
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
