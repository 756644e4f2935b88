//! What this instance keeps in memory (the auto-configuration directory, API keys,
//! accounts), and listening for what any instance's writes touched
//! (`store::notify`): refresh the directory, empty a cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use uuid::Uuid;

use super::cache::Cache;
use super::directory::Directory;
use crate::store::accounts::AccountRow;
use crate::store::api_keys::KeyAuthRow;
use crate::store::notify::{Scope, Topic, Touch};

/// What this instance keeps in memory.
pub struct Caches {
    pub directory: Arc<Directory>,
    /// Active keys by lookup id.
    pub keys: Cache<String, KeyAuthRow>,
    /// Accounts by (A-label domain, local part), for reads that tolerate a change
    /// arriving a moment late from another instance.
    pub accounts: Cache<(String, String), AccountRow>,
}

impl Caches {
    pub async fn load(pool: &PgPool) -> anyhow::Result<Self> {
        Ok(Self {
            directory: Arc::new(Directory::load(pool).await?),
            keys: Cache::new(Duration::from_secs(60), 100_000),
            accounts: Cache::new(Duration::from_secs(60), 200_000),
        })
    }

    /// Refreshes what a write touched.
    pub async fn refresh(&self, pool: &PgPool, touch: &Touch) {
        match touch.topic {
            Topic::Directory => {
                if let Err(e) = self.directory.refresh(pool, &touch.scope).await {
                    tracing::warn!(error = %format!("{e:#}"), "refreshing the directory failed");
                }
            }
            Topic::Accounts => match &touch.scope {
                Scope::Accounts(addresses) => {
                    let keys: Vec<(String, String)> = addresses
                        .iter()
                        .filter_map(|a| a.rsplit_once('@'))
                        .map(|(local, domain)| (domain.to_owned(), local.to_owned()))
                        .collect();
                    self.accounts.forget_keys(&keys);
                }
                Scope::Domains(names) => self.accounts.forget(|(domain, _)| names.contains(domain)),
                Scope::Everything | Scope::Profiles => self.accounts.clear(),
            },
            Topic::Keys => self.keys.clear(),
        }
    }

    async fn refresh_all(&self, pool: &PgPool) {
        for topic in Topic::ALL {
            self.refresh(pool, &Touch::all(topic)).await;
        }
    }
}

/// Listens for every instance's writes on a connection from `listen_pool` (the
/// main pool unless `MAILPANEL_LISTEN_DATABASE_URL` names another); reconnects on
/// failure, and ends with the main pool (the instance is stopping).
pub fn spawn_listener(pool: PgPool, listen_pool: PgPool, memory: Arc<Caches>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&pool, &listen_pool, &memory).await {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %format!("{e:#}"), "change listener failed; reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen(pool: &PgPool, listen_pool: &PgPool, memory: &Caches) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(listen_pool).await?;
    listener.listen_all(Topic::ALL.map(Topic::channel)).await?;
    // Whatever changed while nobody listened.
    memory.refresh_all(pool).await;
    loop {
        match listener.try_recv().await? {
            Some(n) => match Touch::from_notification(n.channel(), n.payload()) {
                Some(touch) => memory.refresh(pool, &touch).await,
                None => memory.refresh_all(pool).await,
            },
            // The connection was lost and re-established: notifications may have
            // been missed.
            None => memory.refresh_all(pool).await,
        }
    }
}

/// Remembers when each key's `last_used_at` was last written, so that it is written
/// at most once a minute per key and not on every request.
#[derive(Default)]
pub struct KeyUsage(Mutex<HashMap<Uuid, Instant>>);

impl KeyUsage {
    pub const INTERVAL: Duration = Duration::from_secs(60);

    /// True when the caller should write `last_used_at` now.
    pub fn due(&self, key: Uuid) -> bool {
        let now = Instant::now();
        let Ok(mut seen) = self.0.lock() else {
            return false;
        };
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) < Self::INTERVAL => false,
            _ => {
                if seen.len() > 100_000 {
                    seen.retain(|_, at| now.duration_since(*at) < Self::INTERVAL);
                }
                seen.insert(key, now);
                true
            }
        }
    }
}
