//! API keys: who a request's key names (`authenticate`), and minting and revoking
//! keys. A key can mint keys only at or below its own reach, and revoke the keys
//! within it. The plaintext key is returned once and stored nowhere.

use secrecy::SecretString;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{audit, App, Error, Result, Write};
use crate::domain::api_key;
use crate::domain::paging::{Page, Paging};
use crate::domain::{Caller, Reach, Role};
use crate::store;
use crate::store::api_keys::{KeyRow, NewKeyRow};
use crate::store::audit::NewEvent;
use crate::store::notify::{Topic, Touch};

pub struct NewKey {
    pub role: Role,
    /// For `partner` keys; a partner key may omit it (its own partner).
    pub partner_id: Option<Uuid>,
    /// For `customer` keys; a customer key may omit it (its own customer).
    pub customer_id: Option<Uuid>,
    pub read_only: bool,
    pub description: String,
}

/// A new key: the plaintext, shown once, and what is stored of it.
pub struct Minted {
    pub plaintext: SecretString,
    pub row: KeyRow,
}

/// The caller a bearer key names. Keys are read on every request: from memory when
/// this instance has seen the key since the last key change anywhere.
pub async fn authenticate(
    app: &App,
    key: &SecretString,
    writes: bool,
    client_addr: Option<String>,
) -> Result<Caller> {
    let lookup = api_key::lookup_of(key).ok_or(Error::Unauthenticated)?;
    let cache = &app.caches.keys;
    let row = match cache.get(&lookup.to_owned()) {
        Some(row) => row,
        None => {
            let generation = cache.generation();
            let row = store::api_keys::find_active_by_lookup(&app.pool, lookup)
                .await?
                .ok_or(Error::Unauthenticated)?;
            cache.insert(generation, lookup.to_owned(), row.clone());
            row
        }
    };
    if !api_key::matches(key, &row.secret_hash) {
        return Err(Error::Unauthenticated);
    }
    let reach = Reach::of(row.role, row.partner_id, row.customer_id)
        .ok_or_else(|| anyhow::anyhow!("api key {} has no owner", row.id))?;
    if app.key_usage.due(row.id) {
        // Not an app::Write: a note of use, at most once a minute per key, is no
        // change of the key (no version, no audit event, nothing cached to tell).
        store::api_keys::touch(&app.pool, row.id).await?;
    }
    if row.read_only && writes {
        return Err(Error::Forbidden("this API key is read-only".into()));
    }
    Ok(Caller {
        key_id: row.id,
        role: row.role,
        reach,
        read_only: row.read_only,
        client_addr,
    })
}

/// Who the new key belongs to, checked against the creator's reach.
async fn owner(app: &App, caller: &Caller, key: &NewKey) -> Result<(Option<Uuid>, Option<Uuid>)> {
    let unknown =
        |field: &str, what: &str| Error::field(field, "unknown", format!("no {what} with this id"));
    let unexpected = |field: &str| {
        Error::field(
            field,
            "not_allowed",
            format!("{field} does not go with role {}", key.role),
        )
    };
    let required = |field: &str, what: &str| {
        Error::field(field, "required", format!("is required for a {what} key"))
    };
    match key.role {
        Role::Admin => {
            caller.require(&[Role::Admin])?;
            match (key.partner_id, key.customer_id) {
                (Some(_), _) => Err(unexpected("partner_id")),
                (_, Some(_)) => Err(unexpected("customer_id")),
                (None, None) => Ok((None, None)),
            }
        }
        Role::Partner => {
            caller.require(&[Role::Admin, Role::Partner])?;
            if key.customer_id.is_some() {
                return Err(unexpected("customer_id"));
            }
            let partner = match (caller.reach, key.partner_id) {
                (Reach::Partner(own), None) => own,
                (Reach::Partner(own), Some(p)) if p == own => own,
                (Reach::All, Some(p))
                    if store::partners::get(&app.pool, caller.reach, p)
                        .await?
                        .is_some() =>
                {
                    p
                }
                (_, None) => return Err(required("partner_id", "partner")),
                _ => return Err(unknown("partner_id", "partner")),
            };
            Ok((Some(partner), None))
        }
        Role::Customer => {
            if key.partner_id.is_some() {
                return Err(unexpected("partner_id"));
            }
            let customer = match (caller.reach, key.customer_id) {
                (Reach::Customer(own), None) => own,
                (_, None) => return Err(required("customer_id", "customer")),
                (reach, Some(c)) => match store::customers::get(&app.pool, reach, c).await? {
                    Some(_) => c,
                    None => return Err(unknown("customer_id", "customer")),
                },
            };
            Ok((None, Some(customer)))
        }
    }
}

/// Mints a key and stores its hash with the audit event `event`, filled in here.
pub async fn insert_minted(
    db: &mut PgConnection,
    key: &NewKey,
    mut event: NewEvent<'_>,
) -> sqlx::Result<Minted> {
    let minted = api_key::mint();
    let row = store::api_keys::insert(
        &mut *db,
        &NewKeyRow {
            lookup: &minted.lookup,
            secret_hash: &minted.hash,
            role: key.role,
            partner_id: key.partner_id,
            customer_id: key.customer_id,
            read_only: key.read_only,
            description: &key.description,
        },
    )
    .await?;
    event.partner_id = key.partner_id;
    event.customer_id = key.customer_id;
    event.details =
        serde_json::json!({"key_id": row.id, "role": row.role, "read_only": row.read_only});
    store::audit::record(&mut *db, &event).await?;
    Ok(Minted {
        plaintext: minted.plaintext,
        row,
    })
}

#[tracing::instrument(skip_all, fields(role = %key.role))]
pub async fn create(app: &App, caller: &Caller, mut key: NewKey) -> Result<Minted> {
    (key.partner_id, key.customer_id) = owner(app, caller, &key).await?;
    let mut write = Write::begin(app, &[]).await?;
    let minted = insert_minted(write.db(), &key, audit::by(caller, "api_key.created")).await?;
    write.commit().await?;
    Ok(minted)
}

/// The keys in reach (never the keys themselves).
#[tracing::instrument(skip_all)]
pub async fn list(app: &App, caller: &Caller, paging: &Paging) -> Result<Page<KeyRow>> {
    let rows = store::api_keys::list(&app.pool, caller.reach, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.id.to_string()))
}

/// Revokes a key in reach; revoking it again is harmless.
#[tracing::instrument(skip_all, fields(key = %id))]
pub async fn revoke(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let mut write = Write::begin(app, &[Touch::all(Topic::Keys)]).await?;
    let row = store::api_keys::revoke(write.db(), caller.reach, id)
        .await?
        .ok_or_else(|| Error::not_found("API key"))?;
    let mut event = audit::by(caller, "api_key.revoked");
    event.partner_id = row.partner_id;
    event.customer_id = row.customer_id;
    event.details = serde_json::json!({"key_id": row.id});
    write.record(&event).await?;
    write.commit().await
}
