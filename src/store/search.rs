//! `?q=` on the lists that grow with the provider: domains and customers. The
//! migration `search_terms` keeps every suffix of their searched texts (lower-cased,
//! cut to [`TERM_CHARS`] characters) in a table of its own, so that the rows whose
//! text contains `q` are one range of a B-tree: found at the same cost among a
//! hundred rows as among a hundred thousand.
//!
//! A search first asks that range for up to [`FEW`] rows. If it holds no more, the
//! list reads just those rows by id (and orders them). If it holds more, the matches
//! are common enough that walking the list in its own order and keeping the rows that
//! contain `q` fills a page soon; the list is then filtered with `ILIKE`.
//!
//! The statements wrap the search's values in sub-selects, `(SELECT $1)`. The planner
//! then sees no value, so the plans it makes for a prepared statement's first runs
//! cost what its generic plan costs, and from the sixth run on it keeps that one.
//! Shown the text or the ids, it estimates every run anew, finds a plan for those
//! values cheaper than the generic one, and plans every run again, which takes longer
//! than running the plan (0.1–0.3 ms against 0.05 ms). The plans have one shape
//! whatever the values: a range of the terms' key, a look-up by id, a walk in order.

use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::PageRequest;

/// How many characters of each suffix are kept (the migration's `16`); a longer `q`
/// finds its rows by its first characters and is narrowed by `ILIKE`.
pub const TERM_CHARS: usize = 16;

/// The most matches a search reads by id; beyond it, the list is walked in order.
pub const FEW: i64 = 1000;

/// A searchable list: its term table and, in the list's statement, the row's id and
/// the searched columns.
#[derive(Debug, Clone, Copy)]
pub struct Searched {
    terms: &'static str,
    owner: &'static str,
    id: &'static str,
    texts: [&'static str; 2],
}

pub const DOMAINS: Searched = Searched {
    terms: "domain_search_terms",
    owner: "domain_id",
    id: "d.id",
    texts: ["d.name", "d.name_unicode"],
};

pub const CUSTOMERS: Searched = Searched {
    terms: "customer_search_terms",
    owner: "customer_id",
    id: "c.id",
    texts: ["c.name", "c.external_ref"],
};

/// What the term table knows of a search.
#[derive(Debug, PartialEq)]
enum Hits {
    /// At most [`FEW`] rows contain the text (for a text longer than [`TERM_CHARS`]:
    /// at most these rows).
    Few(Vec<Uuid>),
    /// More than [`FEW`] rows.
    Many,
}

/// Narrows the list statement `q` (built up to its `WHERE`) to the rows that contain
/// the page's search text, if it has one. `false`: no row does, and the caller need
/// not ask.
pub async fn narrow(
    db: &PgPool,
    q: &mut QueryBuilder<'_, Postgres>,
    list: Searched,
    page: &PageRequest,
) -> sqlx::Result<bool> {
    let (Some(text), Some(pattern)) = (page.search.as_deref(), page.pattern.as_deref()) else {
        return Ok(true);
    };
    let hits = hits(db, list, text).await?;
    if let Hits::Few(ids) = &hits {
        if ids.is_empty() {
            return Ok(false);
        }
        q.push(format_args!(" AND {} = ANY((SELECT ", list.id))
            .push_bind(ids.clone())
            .push("::uuid[])::uuid[])");
    }
    if hits == Hits::Many || longer_than_terms(text) {
        let [first, second] = list.texts;
        q.push(format_args!(" AND ({first} ILIKE (SELECT "))
            .push_bind(pattern.to_owned())
            .push(format_args!("::text) OR {second} ILIKE (SELECT "))
            .push_bind(pattern.to_owned())
            .push("::text))");
    }
    Ok(true)
}

/// The rows whose text contains `text`, if there are few. The upper bound is the key
/// followed by the highest code point: in the table's `C` order, everything that
/// starts with the key lies below it. Many hits are counted in the database: only a
/// few ids travel.
async fn hits(db: &PgPool, list: Searched, text: &str) -> sqlx::Result<Hits> {
    let statement = format!(
        "SELECT CASE WHEN count(*) > $2 THEN NULL ELSE coalesce(array_agg(h.id), '{{}}') END
           FROM (SELECT {} AS id FROM {}
                 WHERE term >= (SELECT left(lower($1), 16) COLLATE \"C\")
                   AND term < (SELECT (left(lower($1), 16) || chr(1114111)) COLLATE \"C\")
                 LIMIT $2 + 1) AS h",
        list.owner, list.terms
    );
    let ids: Option<Vec<Uuid>> = sqlx::query_scalar(&statement)
        .bind(text)
        .bind(FEW)
        .fetch_one(db)
        .await?;
    let Some(mut ids) = ids else {
        return Ok(Hits::Many);
    };
    // A row has a term for each place the text occurs in it.
    ids.sort_unstable();
    ids.dedup();
    Ok(Hits::Few(ids))
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
