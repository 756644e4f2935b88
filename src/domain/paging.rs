//! Keyset pagination: `limit`, an opaque `cursor` (the last key of the previous page)
//! and an optional `q` search text, parsed once; and the page that goes back.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::Serialize;
use utoipa::ToSchema;

use super::field::{collect, FieldError, FieldErrors};
use super::text::MAX_SEARCH;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
pub const MAX_CURSOR_LEN: usize = 1024;

/// Which page of a list a caller wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// The key after which the page starts.
    pub after: Option<String>,
    pub limit: usize,
    /// Trimmed, non-empty search text.
    pub search: Option<String>,
}

impl Paging {
    pub fn parse(
        limit: Option<u32>,
        cursor: Option<&str>,
        q: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let limit = match limit.unwrap_or(DEFAULT_LIMIT) {
            l @ 1..=MAX_LIMIT => Ok(l as usize),
            _ => Err(FieldError::new(
                "limit",
                "out_of_range",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        };
        let after = match cursor {
            None | Some("") => Ok(None),
            Some(c) => decode_cursor(c).map(Some).ok_or_else(|| {
                FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    "is not a cursor this API returned",
                )
            }),
        };
        let search = search(q);
        match (limit, after, search) {
            (Ok(limit), Ok(after), Ok(search)) => Ok(Self {
                after,
                limit,
                search,
            }),
            (limit, after, search) => Err(collect([limit.err(), after.err(), search.err()])),
        }
    }
}

fn search(q: Option<&str>) -> Result<Option<String>, FieldError> {
    match q.map(str::trim) {
        None | Some("") => Ok(None),
        Some(q) if q.chars().count() > MAX_SEARCH => Err(FieldError::new(
            "q",
            "too_long",
            format!("must be at most {MAX_SEARCH} characters"),
        )),
        Some(q) if q.chars().any(char::is_control) => Err(FieldError::new(
            "q",
            "invalid_characters",
            "must not contain control characters",
        )),
        Some(q) => Ok(Some(q.to_owned())),
    }
}

/// Decodes unpadded base64url whose last character carries unused bits too.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// A cursor is the last key of a page. Any well-formed one is a valid place to start
/// (keys are compared, not looked up), so the bytes are taken as they decode; what
/// text cannot hold (invalid UTF-8, NUL) is dropped.
fn decode_cursor(c: &str) -> Option<String> {
    if c.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = LENIENT.decode(c).ok()?;
    Some(String::from_utf8_lossy(&bytes).replace(['\0', '\u{fffd}'], ""))
}

/// The opaque form of a key, as `next_cursor` carries it.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts off the extra row a store query fetched to learn whether there is a next
    /// page, and turns the last key into the next cursor.
    pub fn from_rows(mut rows: Vec<T>, paging: &Paging, key: impl Fn(&T) -> String) -> Self {
        let next_cursor = if rows.len() > paging.limit {
            rows.truncate(paging.limit);
            rows.last().map(|r| URL_SAFE_NO_PAD.encode(key(r)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// The same page with every item shaped for the answer.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    /// The whole list as one page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_parameter_is_named() {
        let errors = Paging::parse(Some(0), Some("%%"), Some("a\u{7}")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor", "q"]);
    }

    #[test]
    fn a_cursor_names_the_last_key_of_a_full_page() {
        let paging = Paging::parse(Some(2), None, None).unwrap();
        let page = Page::from_rows(vec!["a", "b", "c"], &paging, |r| (*r).to_owned());
        assert_eq!(page.items, ["a", "b"]);
        let next = Paging::parse(Some(2), page.next_cursor.as_deref(), None).unwrap();
        assert_eq!(next.after.as_deref(), Some("b"));
    }
}
