//! One change as partners' systems see it: in the feed (`GET /v1/events`) and as the
//! body of a webhook delivery.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Whom a change is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub domain: Option<String>,
    /// The address (account or alias) the change is about.
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: i64,
    /// Follow the feed from here (`?after=`).
    pub cursor: String,
    /// E.g. `account.created`, `alias.updated`, `password.changed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub subject: Subject,
    /// What changed; never a secret.
    pub data: serde_json::Value,
}
