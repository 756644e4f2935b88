//! Use cases: one function per thing a caller can do, taking parsed commands and the
//! caller, returning domain values or an [`Error`]. Each write owns its transaction,
//! its audit event, the notice to other instances and this instance's cache
//! refresh, all through [`Write`]. No HTTP type lives here.

pub mod accounts;
pub mod aliases;
pub mod api_keys;
pub mod app_passwords;
pub mod audit;
pub mod autoconfig;
pub mod background;
mod cache;
pub mod caches;
pub mod catch_all;
pub mod client_settings;
pub mod customers;
pub mod directory;
pub mod domains;
mod error;
pub mod events;
pub mod partners;
pub mod passwords;
pub mod profiles;
pub mod routing;
pub mod webhooks;
mod write;

use std::sync::Arc;

use sqlx::PgPool;

pub use error::{Error, Result};
pub use write::Write;

use crate::config::Settings;
use crate::passwords::Hasher;
use caches::{Caches, KeyUsage};

/// What every use case works with: the database, the settings, the hashing pool and
/// this instance's caches.
pub struct App {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub hasher: Hasher,
    pub caches: Arc<Caches>,
    /// mailpanel's own outgoing mail; `None` without a relay.
    pub mailer: Option<crate::mailer::Mailer>,
    /// Wakes the outbox's sender when a message is queued.
    pub outbox_wake: tokio::sync::Notify,
    /// Sends webhook deliveries, to permitted receivers only.
    pub webhook_client: crate::webhook_client::WebhookClient,
    /// Dovecot's doveadm API, to end sessions; `None` when not configured.
    pub doveadm: Option<crate::doveadm::Doveadm>,
    /// `true` once the instance is stopping: background work ends.
    stopping: tokio::sync::watch::Sender<bool>,
    key_usage: KeyUsage,
}

impl App {
    /// Loads the caches and starts listening for every instance's writes.
    pub async fn start(settings: Arc<Settings>, pool: PgPool) -> anyhow::Result<Self> {
        let caches = Arc::new(Caches::load(&pool).await?);
        let listen_pool = match &settings.listen_database_url {
            Some(url) => crate::store::database::lazy(url, 1)?,
            None => pool.clone(),
        };
        caches::spawn_listener(pool.clone(), listen_pool, caches.clone());
        let hasher = Hasher::new(
            settings.argon2,
            settings.hash_concurrency,
            settings.hash_queue,
        )?;
        let mailer = match &settings.smtp_relay {
            Some((host, port)) => Some(crate::mailer::Mailer::new(
                host,
                *port,
                &settings.mail_from,
            )?),
            None => None,
        };
        let webhook_client = crate::webhook_client::WebhookClient::new(
            settings.webhook_policy(),
            std::time::Duration::from_millis(settings.webhook_timeout_ms),
        )?;
        let doveadm = match (&settings.doveadm_urls[..], &settings.doveadm_api_key) {
            ([], _) => None,
            (urls, Some(key)) => Some(crate::doveadm::Doveadm::new(
                urls,
                key,
                std::time::Duration::from_millis(settings.doveadm_timeout_ms),
            )?),
            (_, None) => anyhow::bail!("MAILPANEL_DOVEADM_URL needs MAILPANEL_DOVEADM_API_KEY"),
        };
        Ok(Self {
            pool,
            settings,
            hasher,
            caches,
            mailer,
            outbox_wake: tokio::sync::Notify::new(),
            webhook_client,
            doveadm,
            stopping: tokio::sync::watch::Sender::new(false),
            key_usage: KeyUsage::default(),
        })
    }

    /// Ends the background work of this instance (its server is stopping).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Whether the instance is stopping: a background loop's failure then is the
    /// shutdown's, not worth a warning.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Waits for `pause`, or less when `wake` is notified; `false` instead when the
    /// instance is stopping, and background loops end then.
    pub async fn pause(
        &self,
        pause: std::time::Duration,
        wake: Option<&tokio::sync::Notify>,
    ) -> bool {
        let mut stopping = self.stopping.subscribe();
        if *stopping.borrow_and_update() {
            return false;
        }
        let woken = async {
            match wake {
                Some(w) => w.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => true,
            _ = woken => true,
            _ = stopping.changed() => false,
        }
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| {
                tracing::warn!(error = %e, "readiness check failed");
                Error::Unavailable
            })
    }
}
