//! Listening for changes any instance announces (`store::changes`), and applying
//! them to this instance's in-memory state: reload the directory, empty a cache.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::cache::Cache;
use crate::directory::Directory;
use crate::store::accounts::AccountRow;
use crate::store::api_keys::KeyAuthRow;
use crate::store::changes::Change;

/// What this instance keeps in memory.
pub struct Memory {
    pub directory: Arc<Directory>,
    /// Active keys by lookup id.
    pub keys: Cache<String, KeyAuthRow>,
    /// Accounts by (A-label domain, local part), for reads that tolerate a change
    /// arriving a moment late from another instance.
    pub accounts: Cache<(String, String), AccountRow>,
}

impl Memory {
    pub async fn load(pool: &PgPool) -> anyhow::Result<Self> {
        Ok(Self {
            directory: Arc::new(Directory::load(pool).await?),
            keys: Cache::new(Duration::from_secs(60), 100_000),
            accounts: Cache::new(Duration::from_secs(60), 200_000),
        })
    }

    /// Applies a change to this instance's memory.
    pub async fn apply(&self, pool: &PgPool, change: Change) {
        match change {
            Change::Directory => {
                if let Err(e) = self.directory.reload(pool).await {
                    tracing::warn!(error = %format!("{e:#}"), "reloading the directory failed");
                }
            }
            Change::Accounts => self.accounts.clear(),
            Change::Keys => self.keys.clear(),
        }
    }

    async fn apply_all(&self, pool: &PgPool) {
        for change in Change::ALL {
            self.apply(pool, change).await;
        }
    }
}

/// Listens for every instance's changes; reconnects on failure.
pub fn spawn_listener(pool: PgPool, memory: Arc<Memory>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&pool, &memory).await {
                tracing::warn!(error = %format!("{e:#}"), "change listener failed; reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen(pool: &PgPool, memory: &Memory) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all(Change::ALL.map(Change::channel))
        .await?;
    // Whatever changed while nobody listened.
    memory.apply_all(pool).await;
    loop {
        match listener.try_recv().await? {
            Some(n) => match Change::from_channel(n.channel()) {
                Some(change) => memory.apply(pool, change).await,
                None => memory.apply_all(pool).await,
            },
            // The connection was lost and re-established: notifications may have
            // been missed.
            None => memory.apply_all(pool).await,
        }
    }
}
