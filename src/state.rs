//! What every request handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::changes::Memory;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::passwords::Hasher;
use crate::routes::fallback::RouteTable;

pub struct AppState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub hasher: Hasher,
    pub memory: Arc<Memory>,
    pub key_usage: KeyUsage,
    pub metrics: Metrics,
    pub routes: RouteTable,
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
