//! A tenant's objects, read in a caller's reach: the one way the store builds a
//! statement over them. A statement starts from a [`Tenanted`] source and a
//! [`Reach`], and the reach's condition comes first, so no later text can leave it
//! out. What such a statement finds comes back as [`Reached`], and the reads and
//! writes of what lies beneath an object (a domain's accounts, an account's app
//! passwords) demand that proof, so they cannot be handed a bare id.
//!
//! A read states its reach, and what lies beneath an object is read through it:
//!
//! ```no_run
//! # async fn read(pool: sqlx::PgPool, reach: mailpanel::domain::Reach,
//! #               page: mailpanel::store::PageRequest) -> sqlx::Result<()> {
//! use mailpanel::store::reach::{Scoped, ACCOUNTS};
//! let statement = Scoped::select("SELECT a.id", &ACCOUNTS, reach);
//! let ids: Vec<uuid::Uuid> = statement.fetch_column(&pool).await?;
//! if let Some(domain) = mailpanel::store::domains::get(&pool, reach, "example.at").await? {
//!     mailpanel::store::accounts::list(&pool, &domain, false, &page).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! Each of the following differs from it in the one thing it shows, and does not
//! compile. A read without a reach:
//!
//! ```compile_fail
//! # async fn read(pool: sqlx::PgPool, reach: mailpanel::domain::Reach) -> sqlx::Result<()> {
//! use mailpanel::store::reach::{Scoped, ACCOUNTS};
//! let statement = Scoped::select("SELECT a.id", &ACCOUNTS);
//! let ids: Vec<uuid::Uuid> = statement.fetch_column(&pool).await?;
//! # Ok(()) }
//! ```
//!
//! a domain's accounts listed from an id that was not read in reach:
//!
//! ```compile_fail
//! # async fn read(pool: sqlx::PgPool, reach: mailpanel::domain::Reach,
//! #               page: mailpanel::store::PageRequest) -> sqlx::Result<()> {
//! if let Some(domain) = mailpanel::store::domains::get(&pool, reach, "example.at").await? {
//!     mailpanel::store::accounts::list(&pool, &domain.id, false, &page).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! a row declared reached outside this module:
//!
//! ```compile_fail
//! # async fn read(pool: sqlx::PgPool, reach: mailpanel::domain::Reach,
//! #               page: mailpanel::store::PageRequest) -> sqlx::Result<()> {
//! if let Some(domain) = mailpanel::store::domains::get(&pool, reach, "example.at").await? {
//!     let domain = mailpanel::store::reach::Reached(domain.into_inner());
//!     mailpanel::store::accounts::list(&pool, &domain, false, &page).await?;
//! }
//! # Ok(()) }
//! ```

use std::ops::Deref;

use sqlx::postgres::PgRow;
use sqlx::{Encode, FromRow, PgExecutor, Postgres, QueryBuilder, Type};
use uuid::Uuid;

use crate::domain::Reach;

/// A table of tenants' objects, or a join that ends at one, and the columns that
/// name a row's owners.
#[derive(Debug, Clone, Copy)]
pub struct Tenanted {
    /// The `FROM` text, with the aliases the statements use.
    from: &'static str,
    /// The owning partner's id (`NULL`: the provider's own).
    partner: &'static str,
    /// The owning customer's id.
    customer: &'static str,
    /// Rows a partner may own itself (its keys and webhooks), where a customer's
    /// row names the customer only: the partner reaches those too.
    owned_by_partners: bool,
}

/// Domains; each names its partner (kept in step by the migration `domain_counters`).
pub const DOMAINS: Tenanted = Tenanted {
    from: "domains d",
    partner: "d.partner_id",
    customer: "d.customer_id",
    owned_by_partners: false,
};

/// Partners: a partner reaches its own row, a customer none.
pub const PARTNERS: Tenanted = Tenanted {
    from: "partners",
    partner: "id",
    customer: "NULL::uuid",
    owned_by_partners: false,
};

pub const CUSTOMERS: Tenanted = Tenanted {
    from: "customers c",
    partner: "c.partner_id",
    customer: "c.id",
    owned_by_partners: false,
};

/// Accounts with their domain, customer and what Dovecot reported of them.
pub const ACCOUNTS: Tenanted = Tenanted {
    from: "accounts a JOIN domains d ON d.id = a.domain_id JOIN customers c ON c.id = d.customer_id
    LEFT JOIN mailserver.mailbox_usage u ON u.username = a.address
    LEFT JOIN mailserver.mailbox_logins l ON l.username = a.address",
    partner: "c.partner_id",
    customer: "c.id",
    owned_by_partners: false,
};

/// Aliases with their domain and customer.
pub const ALIASES: Tenanted = Tenanted {
    from: "aliases l JOIN domains d ON d.id = l.domain_id JOIN customers c ON c.id = d.customer_id",
    partner: "c.partner_id",
    customer: "c.id",
    owned_by_partners: false,
};

pub const API_KEYS: Tenanted = Tenanted {
    from: "api_keys",
    partner: "partner_id",
    customer: "customer_id",
    owned_by_partners: true,
};

pub const WEBHOOKS: Tenanted = Tenanted {
    from: "webhooks",
    partner: "partner_id",
    customer: "customer_id",
    owned_by_partners: true,
};

/// The audit trail: an event is in the reach of the tenancy it was recorded under.
pub const AUDIT_EVENTS: Tenanted = Tenanted {
    from: "audit_events",
    partner: "partner_id",
    customer: "customer_id",
    owned_by_partners: false,
};

/// The change feed's walk over the audit trail.
pub const FEED: Tenanted = Tenanted {
    from: "audit_events e",
    partner: "e.partner_id",
    customer: "e.customer_id",
    owned_by_partners: false,
};

impl Tenanted {
    /// The column that narrows this source to `reach`, and the id it must hold; `None`
    /// for the admin. For statements that place the condition themselves (the feed
    /// merges two walks of the same owner); a source whose partners own rows of their
    /// own needs more than one column, and answers `None` only for the admin too, so
    /// such a caller must not use this.
    pub fn owner_column(&self, reach: Reach) -> Option<(&'static str, Uuid)> {
        debug_assert!(!self.owned_by_partners || matches!(reach, Reach::All));
        match reach {
            Reach::All => None,
            Reach::Partner(p) => Some((self.partner, p)),
            Reach::Customer(c) => Some((self.customer, c)),
        }
    }
}

/// A statement over a [`Tenanted`] source, narrowed to a reach from its first
/// condition on. Each reach gets a statement text (and a plan) of its own: one with
/// `$n IS NULL OR …` for every reach gets a generic plan that reads every row.
pub struct Scoped<'a> {
    q: QueryBuilder<'a, Postgres>,
}

impl<'a> Scoped<'a> {
    /// `{head} FROM {source} WHERE` the reach's condition; `head` is the select list
    /// (`SELECT a.id, …`), or what opens a sub-select around the source.
    pub fn select(head: &str, source: &Tenanted, reach: Reach) -> Self {
        let mut q = Self {
            q: QueryBuilder::new(format!("{head} FROM {}", source.from)),
        };
        q.narrow(source, reach);
        q
    }

    /// `UPDATE {source} SET` what `set` pushes (its values bound in order) `WHERE` the
    /// reach's condition; for a source of one table.
    pub fn update(source: &Tenanted, reach: Reach, set: impl FnOnce(&mut Self)) -> Self {
        let mut q = Self {
            q: QueryBuilder::new(format!("UPDATE {} SET ", source.from)),
        };
        set(&mut q);
        q.narrow(source, reach);
        q
    }

    /// `DELETE FROM {source} WHERE` the reach's condition; for a source of one table.
    pub fn delete(source: &Tenanted, reach: Reach) -> Self {
        let mut q = Self {
            q: QueryBuilder::new(format!("DELETE FROM {}", source.from)),
        };
        q.narrow(source, reach);
        q
    }

    /// `{head} FROM {source} WHERE {column} = ` the parent's id: what lies beneath an
    /// object read in reach (a domain's accounts) is in the same reach.
    pub fn beneath<P: Keyed>(
        head: &str,
        source: &Tenanted,
        column: &str,
        parent: &Reached<P>,
    ) -> Self {
        let mut q = QueryBuilder::new(format!("{head} FROM {} WHERE {column} = ", source.from));
        q.push_bind(parent.id());
        Self { q }
    }

    fn narrow(&mut self, source: &Tenanted, reach: Reach) {
        let q = &mut self.q;
        q.push(" WHERE ");
        match reach {
            Reach::All => {
                q.push("true");
            }
            Reach::Partner(p) if source.owned_by_partners => {
                q.push(format_args!("({} = ", source.partner))
                    .push_bind(p)
                    .push(format_args!(
                        " OR {} IN (SELECT id FROM customers WHERE partner_id = ",
                        source.customer
                    ))
                    .push_bind(p)
                    .push("))");
            }
            Reach::Partner(p) => {
                q.push(format_args!("{} = ", source.partner)).push_bind(p);
            }
            Reach::Customer(c) => {
                q.push(format_args!("{} = ", source.customer)).push_bind(c);
            }
        }
    }

    /// ` AND {condition}`; its values follow with [`Scoped::bind`].
    pub fn and(&mut self, condition: &str) -> &mut Self {
        self.q.push(" AND ").push(condition);
        self
    }

    /// Text as it is (`ORDER BY`, `LIMIT `, a cast after a value).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.q.push(text);
        self
    }

    /// A value, as the next `$n`.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'a + Encode<'a, Postgres> + Type<Postgres> + Send,
    {
        self.q.push_bind(value);
        self
    }

    /// The statement being built, for helpers that add to any statement (a search's
    /// narrowing); the reach's condition is in it already.
    pub fn builder(&mut self) -> &mut QueryBuilder<'a, Postgres> {
        &mut self.q
    }

    /// The statement's text, for tests and `EXPLAIN`.
    pub fn sql(&self) -> &str {
        self.q.sql()
    }

    /// The one row the statement finds, if any.
    pub async fn fetch_optional<T>(
        mut self,
        db: impl PgExecutor<'_>,
    ) -> sqlx::Result<Option<Reached<T>>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let row = self.q.build_query_as::<T>().fetch_optional(db).await?;
        Ok(row.map(Reached))
    }

    /// Every row the statement finds: a list's page, which nothing reads beneath.
    pub async fn fetch_all<T>(mut self, db: impl PgExecutor<'_>) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        self.q.build_query_as::<T>().fetch_all(db).await
    }

    /// Every row's single column.
    pub async fn fetch_column<T>(mut self, db: impl PgExecutor<'_>) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> sqlx::Decode<'r, Postgres> + Type<Postgres> + Send + Unpin,
    {
        self.q.build_query_scalar::<T>().fetch_all(db).await
    }

    /// Runs the statement; the number of rows it changed.
    pub async fn execute(mut self, db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
        Ok(self.q.build().execute(db).await?.rows_affected())
    }
}

/// A row read in a reach: what the reads and writes of the objects beneath it
/// demand. Only [`Scoped`] and [`admit`] make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached<T>(T);

impl<T> Reached<T> {
    pub fn into_inner(self) -> T {
        self.0
    }

    /// The same proof for what the row was turned into (the reach is the row's).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reached<U> {
        Reached(f(self.0))
    }
}

impl<T> Deref for Reached<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A row with an id of its own, which the rows beneath it name.
pub trait Keyed {
    fn id(&self) -> Uuid;
}

/// A row that names its owners.
pub trait Owned {
    /// `(partner, customer)`.
    fn owners(&self) -> (Option<Uuid>, Uuid);
}

/// A row held in memory (a cache's), if it is in `reach`.
pub fn admit<T: Owned>(reach: Reach, row: T) -> Option<Reached<T>> {
    let (partner, customer) = row.owners();
    reach.covers(partner, customer).then_some(Reached(row))
}

#[cfg(test)]
mod tests;
