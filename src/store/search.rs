//! `?q=` on the lists that grow with the provider: domains and customers. The
//! migration `search_terms` keeps every suffix of their searched texts (lower-cased,
//! cut to [`TERM_CHARS`] characters) in a table of its own, beside the key that
//! orders the list (a domain's name, a customer's id). The rows whose text contains
//! `q` are then one range of a B-tree: found at the same cost among a hundred rows as
//! among a hundred thousand.
//!
//! A search first asks that range for up to [`FEW`] keys. If it holds no more, the
//! list reads just those rows by key. If it holds more, matches are common, and
//! walking the list in its order with `ILIKE` fills a page soon, unless they all sit
//! late in that order (every name starting `d4` among `d0…d99999`). So the admin's
//! walk stops after [`WALK`] rows, and a page it has not filled by then is taken from
//! the range itself: its first keys in the list's order, which costs what the number
//! of matches costs, not what the list's length costs. A partner's or a customer's
//! walk goes through its own list only.
//!
//! The statements wrap the search's values in sub-selects, `(SELECT $1)`. The planner
//! then sees no value, so the plans it makes for a prepared statement's first runs
//! cost what its generic plan costs, and from the sixth run on it keeps that one.
//! Shown the text or the keys, it estimates every run anew, finds a plan for those
//! values cheaper than the generic one, and plans every run again, which takes longer
//! than running the plan (0.1–0.3 ms against 0.05 ms). The plans have one shape
//! whatever the values: a range of the terms' key, a look-up by key, a walk in order.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

use super::reach::Scoped;
use super::PageRequest;
use crate::domain::Reach;

/// How many characters of each suffix are kept (the migration's `16`); a longer `q`
/// finds its rows by its first characters and is narrowed by `ILIKE`.
pub const TERM_CHARS: usize = 16;

/// The most matches a search reads by key; beyond it, the list is walked in order.
pub const FEW: i64 = 1000;

/// How many rows the admin's walk reads before the page comes from the terms instead.
pub const WALK: i64 = 1000;

/// A searchable list: its term table, the column there and in the list that orders
/// the list (and its type), and the list's searched columns.
#[derive(Debug, Clone, Copy)]
pub struct Searched {
    terms: &'static str,
    key: &'static str,
    list_key: &'static str,
    key_type: &'static str,
    texts: [&'static str; 2],
}

pub const DOMAINS: Searched = Searched {
    terms: "domain_search_terms",
    key: "name",
    list_key: "d.name",
    key_type: "text",
    texts: ["d.name", "d.name_unicode"],
};

pub const CUSTOMERS: Searched = Searched {
    terms: "customer_search_terms",
    key: "customer_id",
    list_key: "c.id",
    key_type: "uuid",
    texts: ["c.name", "c.external_ref"],
};

/// How a list statement is narrowed to a search, pushed by [`Narrow::push`] after the
/// statement's own conditions.
#[derive(Debug, Default)]
pub struct Narrow {
    /// Only these keys.
    keys: Option<Vec<String>>,
    /// Only rows whose searched columns contain this (an `ILIKE` pattern).
    contains: Option<String>,
    /// The walk reads at most this many rows of the list (the statement's own
    /// conditions apply to them, the search to what they yield).
    pub within: Option<i64>,
}

impl Narrow {
    pub fn push(&self, q: &mut QueryBuilder<'static, Postgres>, list: Searched) {
        if let Some(keys) = &self.keys {
            q.push(format_args!(" AND {} = ANY((SELECT ", list.list_key))
                .push_bind(keys.clone())
                .push(format_args!("::text[])::{}[])", list.key_type));
        }
        if let Some(pattern) = &self.contains {
            let [first, second] = list.texts;
            q.push(format_args!(" AND ({first} ILIKE (SELECT "))
                .push_bind(pattern.clone())
                .push(format_args!("::text) OR {second} ILIKE (SELECT "))
                .push_bind(pattern.clone())
                .push("::text))");
        }
    }
}

/// One page of `list` in `reach`, narrowed to the page's search if it has one.
/// `statement` builds the list's statement, in `reach`, for a narrowing.
pub async fn page<R>(
    db: &PgPool,
    list: Searched,
    reach: Reach,
    page: &PageRequest,
    statement: impl Fn(&Narrow) -> Scoped<'static>,
) -> sqlx::Result<Vec<R>>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let fetch = |narrow: Narrow| statement(&narrow).fetch_all(db);
    let (Some(text), Some(pattern)) = (page.search.as_deref(), page.pattern.as_deref()) else {
        return fetch(Narrow::default()).await;
    };
    let long = longer_than_terms(text);
    let contains = Some(pattern.to_owned());
    match hits(db, list, text).await? {
        Hits::Few(keys) if keys.is_empty() => Ok(Vec::new()),
        Hits::Few(keys) => {
            let contains = if long { contains } else { None };
            let keys = Some(keys);
            fetch(Narrow {
                keys,
                contains,
                within: None,
            })
            .await
        }
        // Keys from the terms are exact only for a text they hold whole.
        Hits::Many if matches!(reach, Reach::All) && !long => {
            let within = Some(WALK);
            let rows = fetch(Narrow {
                keys: None,
                contains,
                within,
            })
            .await?;
            if rows.len() as i64 >= page.limit {
                return Ok(rows);
            }
            let keys = first_keys(db, list, text, page.after.as_deref(), page.limit).await?;
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            fetch(Narrow {
                keys: Some(keys),
                contains: None,
                within: None,
            })
            .await
        }
        Hits::Many => {
            fetch(Narrow {
                keys: None,
                contains,
                within: None,
            })
            .await
        }
    }
}

/// What the term table knows of a search.
#[derive(Debug)]
enum Hits {
    /// The keys of the rows that contain the text, at most [`FEW`] (for a text longer
    /// than [`TERM_CHARS`]: of at most these rows).
    Few(Vec<String>),
    /// More than [`FEW`] rows.
    Many,
}

/// The range of the terms that start with `text`'s key, `$1`: the upper bound is the
/// key followed by the highest code point, so that in the table's `C` order
/// everything that starts with the key lies below it.
const RANGE: &str = "term >= (SELECT left(lower($1), 16) COLLATE \"C\")
    AND term < (SELECT (left(lower($1), 16) || chr(1114111)) COLLATE \"C\")";

/// The rows whose text contains `text`, if there are few. Many are counted in the
/// database: only a few keys travel.
async fn hits(db: &PgPool, list: Searched, text: &str) -> sqlx::Result<Hits> {
    let statement = format!(
        "SELECT CASE WHEN count(*) > $2 THEN NULL ELSE coalesce(array_agg(h.key), '{{}}') END
           FROM (SELECT {key}::text AS key FROM {terms} WHERE {RANGE} LIMIT $2 + 1) AS h",
        key = list.key,
        terms = list.terms,
    );
    let keys: Option<Vec<String>> = sqlx::query_scalar(&statement)
        .bind(text)
        .bind(FEW)
        .fetch_one(db)
        .await?;
    let Some(mut keys) = keys else {
        return Ok(Hits::Many);
    };
    // A row has a term for each place the text occurs in it.
    keys.sort_unstable();
    keys.dedup();
    Ok(Hits::Few(keys))
}

/// The first `limit` keys after `after` in the list's order among the rows whose text
/// contains `text` (held whole by the terms). A cursor that is not a key of the list
/// is no cursor, as the list itself reads it.
///
/// A row has a term for each place the text occurs in it, so the range may hold a
/// key more than once. Sorting the range's keys and dropping repeats costs half
/// again what a top-N sort costs (a hash of every match); so the top-N comes first,
/// repeats go here, and only a page they shortened is asked again, for more.
async fn first_keys(
    db: &PgPool,
    list: Searched,
    text: &str,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    let after = after.filter(|a| list.key_type != "uuid" || uuid::Uuid::parse_str(a).is_ok());
    let statement = format!(
        "SELECT {key}::text FROM {terms}
          WHERE {RANGE} AND ((SELECT $2::text) IS NULL OR {key} > (SELECT $2::{key_type}))
          ORDER BY {key} LIMIT $3",
        key = list.key,
        terms = list.terms,
        key_type = list.key_type,
    );
    let mut asked = limit;
    loop {
        let mut keys: Vec<String> = sqlx::query_scalar(&statement)
            .bind(text)
            .bind(after)
            .bind(asked)
            .fetch_all(db)
            .await?;
        let all = (keys.len() as i64) < asked;
        keys.dedup();
        if all || keys.len() as i64 >= limit {
            keys.truncate(limit as usize);
            return Ok(keys);
        }
        asked *= 4;
    }
}

/// Whether the term table's answer for `text` must still be narrowed by `ILIKE`: the
/// key is cut to [`TERM_CHARS`] characters after lower-casing, which may lengthen it.
fn longer_than_terms(text: &str) -> bool {
    text.chars().count() > TERM_CHARS || text.to_lowercase().chars().count() > TERM_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_the_kept_terms_is_narrowed_by_ilike() {
        assert!(!longer_than_terms("d42.example"));
        assert!(!longer_than_terms("sixteen-chars-ok"));
        assert!(longer_than_terms("seventeen-chars-x"));
        // 'İ' lower-cases to two characters.
        assert!(longer_than_terms("İİİİİİİİİ"));
    }
}
