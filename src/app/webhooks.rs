//! Webhook subscriptions: the change feed of the owner's reach, pushed to a receiver.
//! The owner is the caller's reach (the provider, a partner or a customer); a
//! subscription receives exactly the events its owner could read in `GET /v1/events`.
//! Sending happens in the background (`webhook_delivery`).

use std::net::IpAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::{Host, Url};
use uuid::Uuid;

use super::{audit, App, Error, Result, Write};
use crate::domain::paging::{Page, Paging};
use crate::domain::webhook::{self, EventTypes};
use crate::domain::Caller;
use crate::store;
use crate::store::reach::Reached;
use crate::store::webhook_deliveries::DeliveryRow;
use crate::store::webhooks::{WebhookChange, WebhookRow};

/// How long creating a subscription waits for DNS before it trusts the check made at
/// each delivery.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct NewWebhook {
    pub url: Url,
    pub event_types: EventTypes,
    pub active: bool,
}

#[derive(Debug, Default)]
pub struct Change {
    pub url: Option<Url>,
    pub event_types: Option<EventTypes>,
    pub active: Option<bool>,
}

/// A new subscription and its signing secret, shown this once.
pub struct Created {
    pub row: WebhookRow,
    pub signing_secret: SecretString,
}

fn refused(ip: IpAddr) -> Error {
    Error::field(
        "url",
        "receiver_not_allowed",
        format!(
            "points to {ip}, a private, loopback or otherwise non-public address; \
             this provider delivers webhooks to the public internet only"
        ),
    )
}

/// Refuses receivers in the provider's own network: literal addresses, `localhost`,
/// and names that resolve there now. A name that does not resolve yet is accepted;
/// every delivery checks again where it connects.
async fn check_receiver(app: &App, url: &Url) -> Result<()> {
    let policy = app.settings.webhook_policy();
    if let Some(ip) = policy.refuses_name(url) {
        return Err(refused(ip));
    }
    if let Some(Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((name, port));
        if let Ok(Ok(found)) = tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
            if let Some(bad) = found.map(|a| a.ip()).find(|ip| !policy.permits(*ip)) {
                return Err(refused(bad));
            }
        }
    }
    Ok(())
}

fn event<'a>(caller: &'a Caller, action: &'a str, row: &WebhookRow) -> store::audit::NewEvent<'a> {
    let mut event = audit::by(caller, action);
    event.partner_id = row.partner_id;
    event.customer_id = row.customer_id;
    event.details = serde_json::json!({
        "webhook_id": row.id,
        "url": row.url,
        "event_types": row.event_types,
        "active": row.active,
    });
    event
}

#[tracing::instrument(skip_all)]
pub async fn create(app: &App, caller: &Caller, command: NewWebhook) -> Result<Created> {
    check_receiver(app, &command.url).await?;
    let (partner_id, customer_id) = caller.reach.owner_ids();
    let secret = webhook::new_secret();
    let mut write = Write::begin(app, &[]).await?;
    store::webhooks::lock_owner(write.db(), partner_id, customer_id).await?;
    let owned = store::webhooks::count_owned(write.db(), partner_id, customer_id).await?;
    if owned >= app.settings.max_webhooks {
        return Err(Error::LimitReached(format!(
            "this owner has {owned} webhook subscriptions, the most this provider allows"
        )));
    }
    let new = store::webhooks::NewWebhook {
        partner_id,
        customer_id,
        url: command.url.as_str(),
        event_types: command.event_types.as_slice(),
        active: command.active,
        signing_secret: secret.expose_secret(),
    };
    let row = store::webhooks::insert(write.db(), &new).await?;
    write
        .record(&event(caller, "webhook.created", &row))
        .await?;
    write.commit().await?;
    Ok(Created {
        row,
        signing_secret: secret,
    })
}

pub async fn find(app: &App, caller: &Caller, id: Uuid) -> Result<Reached<WebhookRow>> {
    store::webhooks::get(&app.pool, caller.reach, id)
        .await?
        .ok_or_else(|| Error::not_found("webhook"))
}

pub async fn list(app: &App, caller: &Caller, paging: &Paging) -> Result<Page<WebhookRow>> {
    let rows = store::webhooks::list(&app.pool, caller.reach, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.id.to_string()))
}

/// Changes a subscription whose version is still `expected` (when given). Switching
/// it on resumes where it stopped: nothing it missed is lost.
#[tracing::instrument(skip_all, fields(webhook = %id))]
pub async fn update(
    app: &App,
    caller: &Caller,
    id: Uuid,
    change: Change,
    expected: Option<i32>,
) -> Result<WebhookRow> {
    let current = find(app, caller, id).await?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    if let Some(url) = &change.url {
        check_receiver(app, url).await?;
    }
    let stored = WebhookChange {
        url: change.url.as_ref().map(Url::as_str),
        event_types: change.event_types.as_ref().map(EventTypes::as_slice),
        active: change.active,
    };
    let revive = change.active == Some(true) && !current.active;
    let mut write = Write::begin(app, &[]).await?;
    if !store::webhooks::update(write.db(), id, &stored, current.version, revive).await? {
        return Err(Error::PreconditionFailed);
    }
    let row = store::webhooks::get(write.db(), caller.reach, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("webhook {id} vanished within its transaction"))?;
    write
        .record(&event(caller, "webhook.updated", &row))
        .await?;
    write.commit().await?;
    Ok(row.into_inner())
}

#[tracing::instrument(skip_all, fields(webhook = %id))]
pub async fn delete(app: &App, caller: &Caller, id: Uuid) -> Result<()> {
    let current = find(app, caller, id).await?;
    let mut write = Write::begin(app, &[]).await?;
    if store::webhooks::delete(write.db(), id).await? {
        write
            .record(&event(caller, "webhook.deleted", &current))
            .await?;
    }
    write.commit().await
}

/// A subscription's deliveries, newest first; `pending` keeps only those still owed
/// (`Some(true)`) or only those delivered (`Some(false)`).
pub async fn deliveries(
    app: &App,
    caller: &Caller,
    id: Uuid,
    pending: Option<bool>,
    paging: &Paging,
) -> Result<Page<DeliveryRow>> {
    let webhook = find(app, caller, id).await?;
    let rows =
        store::webhook_deliveries::deliveries(&app.pool, &webhook, pending, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.id.to_string()))
}
