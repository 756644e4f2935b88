//! Server profiles, and the domain → profile map the auto-configuration serves from.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgExecutor;

use crate::domain::profile::{Endpoint, ServerProfile};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub name: String,
    pub incoming_host: String,
    pub outgoing_host: String,
    pub webmail_url: Option<String>,
    pub endpoints: Json<Vec<Endpoint>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProfileRow {
    pub fn profile(&self) -> ServerProfile {
        ServerProfile {
            name: self.name.clone(),
            incoming_host: self.incoming_host.clone(),
            outgoing_host: self.outgoing_host.clone(),
            webmail_url: self.webmail_url.clone(),
            endpoints: self.endpoints.0.clone(),
        }
    }
}

const COLUMNS: &str =
    "name, incoming_host, outgoing_host, webmail_url, endpoints, version, created_at, updated_at";

pub async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ProfileRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM server_profiles ORDER BY name"
    ))
    .fetch_all(db)
    .await
}

pub async fn get(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<ProfileRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM server_profiles WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upserted {
    #[sqlx(flatten)]
    pub row: ProfileRow,
    pub inserted: bool,
}

/// Creates the profile, or replaces it when it exists and its version is still
/// `expected` (when given). `None` when the version did not match.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    p: &ServerProfile,
    expected: Option<i32>,
) -> sqlx::Result<Option<Upserted>> {
    sqlx::query_as(&format!(
        "INSERT INTO server_profiles AS s (name, incoming_host, outgoing_host, webmail_url, endpoints)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET incoming_host = $2, outgoing_host = $3, webmail_url = $4, endpoints = $5,
             version = s.version + 1, updated_at = now()
         WHERE $6::int IS NULL OR s.version = $6
         RETURNING {COLUMNS}, (xmax = 0) AS inserted"
    ))
    .bind(&p.name)
    .bind(&p.incoming_host)
    .bind(&p.outgoing_host)
    .bind(&p.webmail_url)
    .bind(Json(&p.endpoints))
    .bind(expected)
    .fetch_optional(db)
    .await
}

pub async fn domains_using(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM domains WHERE server_profile = $1")
        .bind(name)
        .fetch_one(db)
        .await
}

pub async fn delete(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM server_profiles WHERE name = $1")
        .bind(name)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A hosted domain, the name of the profile it uses and, for an alias domain, its
/// target (whose profile it uses, and whose user names its users log in with).
pub type DomainProfile = (String, String, Option<String>);

/// Every hosted domain with its profile.
pub async fn domain_profiles(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<DomainProfile>> {
    sqlx::query_as(
        "SELECT d.name, coalesce(t.server_profile, d.server_profile), t.name
         FROM domains d LEFT JOIN domains t ON t.id = d.alias_of",
    )
    .fetch_all(db)
    .await
}

/// The named domains that exist, with the alias domains that follow them.
pub async fn profiles_of_domains(
    db: impl PgExecutor<'_>,
    names: &[String],
) -> sqlx::Result<Vec<DomainProfile>> {
    sqlx::query_as(
        "SELECT d.name, coalesce(t.server_profile, d.server_profile), t.name
         FROM domains d LEFT JOIN domains t ON t.id = d.alias_of
         WHERE d.name = ANY($1)
         UNION
         SELECT d.name, t.server_profile, t.name
         FROM domains t JOIN domains d ON d.alias_of = t.id
         WHERE t.name = ANY($1)",
    )
    .bind(names)
    .fetch_all(db)
    .await
}
