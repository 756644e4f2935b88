//! Tenancy: who a caller is and which objects it reaches.
//!
//! An admin reaches everything, a partner its own customers and all below them, a
//! customer its own domains and accounts. Objects outside the reach answer 404 as if
//! they did not exist, so that no caller can probe for other tenants' objects; a
//! function outside the role answers 403.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Role {
    Admin,
    Partner,
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Partner => "partner",
            Role::Customer => "customer",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which tenants' objects a caller may see. Store queries filter by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    All,
    Partner(Uuid),
    Customer(Uuid),
}

impl Reach {
    /// The reach of a key with this role and owner; `None` for an owner that does not
    /// fit the role (the database forbids it).
    pub fn of(role: Role, partner: Option<Uuid>, customer: Option<Uuid>) -> Option<Self> {
        match (role, partner, customer) {
            (Role::Admin, _, _) => Some(Reach::All),
            (Role::Partner, Some(p), _) => Some(Reach::Partner(p)),
            (Role::Customer, _, Some(c)) => Some(Reach::Customer(c)),
            _ => None,
        }
    }

    /// The `(partner_id, customer_id)` that a row owned by this caller names
    /// (a webhook subscription, an API key).
    pub fn owner_ids(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Reach::All => (None, None),
            Reach::Partner(p) => (Some(p), None),
            Reach::Customer(c) => (None, Some(c)),
        }
    }

    /// Whether an object owned by this customer (of this partner) is in reach.
    pub fn covers(self, partner: Option<Uuid>, customer: Uuid) -> bool {
        match self {
            Reach::All => true,
            Reach::Partner(p) => partner == Some(p),
            Reach::Customer(c) => customer == c,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: Uuid,
    pub role: Role,
    pub reach: Reach,
    pub read_only: bool,
    /// The client's address, for the audit trail.
    pub client_addr: Option<String>,
}

/// A function outside the caller's role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub String);

impl Caller {
    /// Functions outside the role answer 403 (unlike objects outside the reach: 404).
    pub fn require(&self, allowed: &[Role]) -> Result<(), Forbidden> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Forbidden(format!("a {} key may not do this", self.role)))
        }
    }
}
