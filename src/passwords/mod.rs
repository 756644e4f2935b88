//! Password hashing off the async workers, with bounded concurrency and a bounded
//! queue: at most `concurrency` hashes run at once, at most `queue` more wait, and
//! past that the caller is told to come back (`503` + `Retry-After`) instead of
//! growing memory without bound. Argon2id needs ~19 MiB per running hash.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::config::Argon2Params;
use crate::error::ApiError;

/// The Dovecot scheme prefix; the stored string is exactly what a Dovecot SQL passdb verifies.
pub const ARGON2ID_PREFIX: &str = "{ARGON2ID}";

#[derive(Clone)]
pub struct Hasher {
    params: Argon2Params,
    /// Permits for running and waiting hashes together.
    admission: Arc<Semaphore>,
    /// Permits for running hashes.
    running: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(params: Argon2Params, concurrency: usize, queue: usize) -> Self {
        Self {
            params,
            admission: Arc::new(Semaphore::new(concurrency + queue)),
            running: Arc::new(Semaphore::new(concurrency)),
        }
    }

    fn argon2(&self) -> anyhow::Result<Argon2<'static>> {
        let p = self.params;
        let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes `password` as `{ARGON2ID}$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        let argon2 = self.argon2()?;
        self.run(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon2
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| format!("{ARGON2ID_PREFIX}{h}"))
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await
    }

    /// Runs CPU-heavy password work on the blocking pool, within the limits.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _admitted =
            self.admission
                .clone()
                .try_acquire_owned()
                .map_err(|_| ApiError::Overloaded {
                    retry_after_secs: 1,
                })?;
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .context("hashing pool closed")?;
        let span = tracing::Span::current();
        let result = tokio::task::spawn_blocking(move || span.in_scope(work))
            .await
            .context("hashing task failed")??;
        Ok(result)
    }
}
