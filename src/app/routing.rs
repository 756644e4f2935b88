//! The rules every address and route obeys, whichever use case writes it: an
//! address is an account or an alias, never both; a domain's package limits hold
//! exactly under concurrency; and no route sends mail round in a loop. Each check
//! runs inside the writing transaction, after the locks that make it exact.

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;

use super::{Error, Result};
use crate::domain::Reach;
use crate::store;
use crate::store::domains::DomainRow;
use crate::store::routing::{self, Holder, Slots};

/// Mail that is passed on more often than this is refused by Postfix as well
/// (`virtual_alias_recursion_limit` and `virtual_alias_expansion_limit` are 1000).
const MAX_ROUTE_NODES: usize = 1000;

/// What a write wants of a domain.
pub enum Claim<'a> {
    /// A new address for an account with this quota.
    Account { local_part: &'a str, quota_mb: i32 },
    /// A new address for an alias.
    Alias { local_part: &'a str },
    /// A new address for an existing account.
    Rename { local_part: &'a str },
    /// More quota for an existing account (`extra_mb` may be negative).
    Quota { extra_mb: i64 },
    /// An account brought back with its quota.
    Restore { quota_mb: i32 },
}

pub fn limit_reached(what: String) -> Error {
    Error::LimitReached(what)
}

/// Locks the domain's slots (so concurrent claims queue behind each other) and
/// checks the claim against the limits and the addresses already held.
pub async fn claim(db: &mut PgConnection, domain: &DomainRow, claim: Claim<'_>) -> Result<Slots> {
    let slots = routing::lock_slots(db, domain.id)
        .await?
        .ok_or_else(|| Error::not_found("domain"))?;
    if slots.alias_of.is_some() {
        return Err(Error::Conflict(format!(
            "{} is an alias domain of {}; add addresses to that domain",
            domain.name,
            domain.alias_of.as_deref().unwrap_or("another domain")
        )));
    }
    let extra_quota = match claim {
        Claim::Account {
            local_part,
            quota_mb,
        } => {
            address_free(db, domain, local_part).await?;
            check(
                slots.max_accounts.map(i64::from),
                slots.accounts + 1,
                "accounts",
            )?;
            i64::from(quota_mb)
        }
        Claim::Restore { quota_mb } => {
            check(
                slots.max_accounts.map(i64::from),
                slots.accounts + 1,
                "accounts",
            )?;
            i64::from(quota_mb)
        }
        Claim::Alias { local_part } => {
            address_free(db, domain, local_part).await?;
            check(
                slots.max_aliases.map(i64::from),
                slots.aliases + 1,
                "aliases",
            )?;
            0
        }
        Claim::Rename { local_part } => {
            address_free(db, domain, local_part).await?;
            0
        }
        Claim::Quota { extra_mb } => extra_mb,
    };
    if extra_quota > 0 {
        let wanted = slots.quota_mb + extra_quota;
        if let Some(max) = slots.max_quota_mb.filter(|max| wanted > *max) {
            return Err(limit_reached(format!(
                "the domain's quota would be {wanted} MB of its {max} MB; \
                 {} MB are left",
                (max - slots.quota_mb).max(0)
            )));
        }
    }
    Ok(slots)
}

/// A batch of new accounts: the addresses free (each one taken named by its index, as
/// `accounts[i].local_part`), and the limits holding for all of them together.
pub async fn claim_batch(
    db: &mut PgConnection,
    domain: &DomainRow,
    local_parts: &[String],
    quota_mb: i64,
) -> Result<()> {
    let slots = routing::lock_slots(db, domain.id)
        .await?
        .ok_or_else(|| Error::not_found("domain"))?;
    if slots.alias_of.is_some() {
        return Err(Error::Conflict(format!(
            "{} is an alias domain; add accounts to its target",
            domain.name
        )));
    }
    let held = routing::holders(db, domain.id, local_parts).await?;
    if !held.is_empty() {
        let errors = local_parts
            .iter()
            .enumerate()
            .filter_map(|(i, local)| {
                let (_, holder) = held.iter().find(|(l, _)| l == local)?;
                let what = match holder {
                    Holder::Account => "is an account",
                    Holder::DeletedAccount(_) => {
                        "belongs to a deleted account that can still be restored"
                    }
                    Holder::Alias => "is an alias",
                };
                Some(crate::domain::FieldError::new(
                    format!("accounts[{i}].local_part"),
                    "address_taken",
                    format!("{local}@{} {what}", domain.name),
                ))
            })
            .collect();
        return Err(Error::Invalid(errors));
    }
    let count = local_parts.len() as i64;
    check(
        slots.max_accounts.map(i64::from),
        slots.accounts + count,
        "accounts",
    )?;
    let wanted = slots.quota_mb + quota_mb;
    if let Some(max) = slots.max_quota_mb.filter(|max| wanted > *max) {
        return Err(limit_reached(format!(
            "the domain's quota would be {wanted} MB of its {max} MB"
        )));
    }
    Ok(())
}

fn check(max: Option<i64>, wanted: i64, what: &str) -> Result<()> {
    match max {
        Some(max) if wanted > max => Err(limit_reached(format!(
            "the domain may have at most {max} {what}"
        ))),
        _ => Ok(()),
    }
}

/// Whether an address is free, after purging a deleted account there whose
/// retention has run out (so the address is free at once, not at the next purge run).
/// Runs under the domain's lock: every lock a claim takes comes after that one.
async fn address_free(db: &mut PgConnection, domain: &DomainRow, local_part: &str) -> Result<()> {
    store::accounts::purge_expired_address(&mut *db, domain.id, local_part).await?;
    let address = format!("{local_part}@{}", domain.name);
    match routing::holder(db, domain.id, local_part).await? {
        None => Ok(()),
        Some(Holder::Account) => Err(Error::Conflict(format!("{address} is an account"))),
        Some(Holder::DeletedAccount(until)) => Err(Error::Conflict(format!(
            "{address} was deleted and can be restored until {}; restore it, or take the \
             address anew after that",
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))),
        Some(Holder::Alias) => Err(Error::Conflict(format!("{address} is an alias"))),
    }
}

/// Refuses (`422`, on `field`) routes that bring mail back to where it has been,
/// following them as Postfix would, from the views as this transaction sees them.
/// Serialised with every other route write, so two writes cannot close a loop
/// between them. The loop is named, but only with addresses in the caller's reach.
pub async fn ensure_no_loop(
    db: &mut PgConnection,
    reach: Reach,
    source: &str,
    field: &str,
) -> Result<()> {
    routing::lock_routes(db).await?;
    let mut hops: HashMap<String, Vec<String>> = HashMap::new();
    // Depth-first, with the path so far: a node met again on its own path is a loop;
    // a node whose routes were all followed without one need not be followed again.
    let mut finished: HashSet<String> = HashSet::new();
    let mut path: Vec<String> = vec![source.to_owned()];
    let mut pending: Vec<Vec<String>> = vec![next(db, &mut hops, source).await?];
    while let Some(children) = pending.last_mut() {
        let Some(child) = children.pop() else {
            pending.pop();
            finished.extend(path.pop());
            continue;
        };
        if finished.contains(&child) {
            continue;
        }
        if let Some(at) = path.iter().position(|p| *p == child) {
            let mut cycle = path[at..].to_vec();
            cycle.push(child);
            let shown = shown_in_reach(db, reach, &cycle).await?;
            return Err(Error::field(
                field,
                "routing_loop",
                format!("mail would go round in a loop: {}", shown.join(" → ")),
            ));
        }
        // Only addresses that pass mail on count (and cost a query each time).
        let routed = hops.values().filter(|h| !h.is_empty()).count();
        if routed >= MAX_ROUTE_NODES {
            return Err(Error::field(
                field,
                "routing_too_deep",
                format!("mail would pass more than {MAX_ROUTE_NODES} addresses"),
            ));
        }
        let grandchildren = next(db, &mut hops, &child).await?;
        path.push(child);
        pending.push(grandchildren);
    }
    Ok(())
}

/// The addresses as the caller may see them: those of domains outside its reach
/// stay unnamed, so a loop through another customer's routes reveals none of them.
async fn shown_in_reach(
    db: &mut PgConnection,
    reach: Reach,
    cycle: &[String],
) -> Result<Vec<String>> {
    let domains: Vec<String> = cycle
        .iter()
        .map(|a| a.rsplit_once('@').map_or("", |(_, d)| d).to_owned())
        .collect();
    let visible = routing::domains_in_reach(db, reach, &domains).await?;
    Ok(cycle
        .iter()
        .zip(&domains)
        .map(|(address, domain)| {
            if visible.contains(domain) {
                address.clone()
            } else {
                "(an address outside your reach)".to_owned()
            }
        })
        .collect())
}

/// The next addresses after `address`, without `address` itself (a mailbox that
/// keeps a copy names itself: that copy is delivered, not passed on).
async fn next(
    db: &mut PgConnection,
    seen: &mut HashMap<String, Vec<String>>,
    address: &str,
) -> Result<Vec<String>> {
    if let Some(known) = seen.get(address) {
        return Ok(known.clone());
    }
    let found: Vec<String> = routing::next_hops(db, address)
        .await?
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a != address)
        .collect();
    seen.insert(address.to_owned(), found.clone());
    Ok(found)
}
