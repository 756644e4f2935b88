//! Password hashing and verification off the async workers, with bounded
//! concurrency and a bounded queue: at most `concurrency` jobs run at once, at most
//! `queue` more wait, and past that the caller is told to come back (`503` +
//! `Retry-After`) instead of memory growing without bound (Argon2id needs ~19 MiB per
//! running hash). Callers hold no database connection while they wait here.

pub mod legacy;

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::Argon2Params;
use crate::error::ApiError;

/// The Dovecot scheme prefix; the stored string is exactly what a Dovecot SQL passdb verifies.
pub const ARGON2ID_PREFIX: &str = "{ARGON2ID}";

#[derive(Clone)]
pub struct Hasher {
    params: Argon2Params,
    /// Permits for running and waiting jobs together.
    admission: Arc<Semaphore>,
    /// Permits for running jobs.
    running: Arc<Semaphore>,
    /// A hash of nothing anybody knows, with the current parameters: an unknown
    /// address is checked against it, so that it costs what a wrong password costs.
    dummy: Arc<String>,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash is a legacy scheme or Argon2id with other parameters.
    pub needs_upgrade: bool,
}

impl Hasher {
    pub fn new(params: Argon2Params, concurrency: usize, queue: usize) -> anyhow::Result<Self> {
        let argon2 = argon2_with(params)?;
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let dummy = argon2
            .hash_password(uuid::Uuid::new_v4().as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(Self {
            params,
            admission: Arc::new(Semaphore::new(concurrency + queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            dummy: Arc::new(format!("{ARGON2ID_PREFIX}{dummy}")),
        })
    }

    /// Hashes `password` as `{ARGON2ID}$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        let params = self.params;
        self.run(move || hash_fresh(params, &password)).await
    }

    /// Hashes a new password for an account whose current hash is `current`, and
    /// tells whether the new password equals the current one, for one hash's cost:
    /// when the current hash is Argon2id with the current parameters, the new one is
    /// computed with the same salt and the outputs compared. (The salt then stays
    /// with the account across changes; it still differs between accounts, which is
    /// what defeats precomputation.) A legacy or outdated current hash is verified
    /// separately and the new hash gets a fresh salt.
    #[tracing::instrument(skip_all)]
    pub async fn hash_replacing(
        &self,
        password: SecretString,
        current: String,
    ) -> Result<(String, bool), ApiError> {
        let params = self.params;
        self.run(move || {
            let pw = password.expose_secret().as_bytes();
            if let Some(parsed) = current_argon2id(params, &current) {
                let argon2 = argon2_with(params)?;
                let salt = parsed
                    .salt
                    .ok_or_else(|| anyhow::anyhow!("stored hash has no salt"))?;
                let new = argon2
                    .hash_password(pw, salt)
                    .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
                let same = match (&new.hash, &parsed.hash) {
                    (Some(a), Some(b)) => bool::from(a.as_bytes().ct_eq(b.as_bytes())),
                    _ => false,
                };
                return Ok((format!("{ARGON2ID_PREFIX}{new}"), same));
            }
            let same = legacy::verify(pw, &current);
            Ok((hash_fresh(params, &password)?, same))
        })
        .await
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is
    /// no account, so that both cases take the same time.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Verification, ApiError> {
        let params = self.params;
        let dummy = self.dummy.clone();
        self.run(move || {
            let pw = password.expose_secret().as_bytes();
            Ok(match stored {
                Some(stored) => Verification {
                    matches: legacy::verify(pw, &stored),
                    needs_upgrade: current_argon2id(params, &stored).is_none(),
                },
                None => {
                    legacy::verify(pw, &dummy);
                    Verification {
                        matches: false,
                        needs_upgrade: false,
                    }
                }
            })
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

fn argon2_with(p: Argon2Params) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_fresh(params: Argon2Params, password: &SecretString) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2_with(params)?
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| format!("{ARGON2ID_PREFIX}{h}"))
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// The parsed hash when `stored` is Argon2id v19 with exactly the current parameters.
fn current_argon2id(params: Argon2Params, stored: &str) -> Option<PasswordHash<'_>> {
    let phc = stored.strip_prefix(ARGON2ID_PREFIX)?;
    let parsed = PasswordHash::new(phc).ok()?;
    let p = Params::try_from(&parsed).ok()?;
    let current = parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(0x13)
        && p.m_cost() == params.memory_kib
        && p.t_cost() == params.iterations
        && p.p_cost() == params.parallelism;
    current.then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Argon2Params {
        Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn replacing_detects_the_same_password_for_one_hash() {
        let hasher = Hasher::new(small(), 1, 1).unwrap();
        let current = hasher.hash(SecretString::from("alpha")).await.unwrap();
        let (_, same) = hasher
            .hash_replacing(SecretString::from("alpha"), current.clone())
            .await
            .unwrap();
        assert!(same);
        let (new, same) = hasher
            .hash_replacing(SecretString::from("beta"), current)
            .await
            .unwrap();
        assert!(!same);
        assert!(legacy::verify(b"beta", &new));
    }

    #[tokio::test]
    async fn outdated_parameters_need_an_upgrade() {
        let old = Hasher::new(
            Argon2Params {
                memory_kib: 32,
                ..small()
            },
            1,
            1,
        )
        .unwrap();
        let stored = old.hash(SecretString::from("pw")).await.unwrap();
        let now = Hasher::new(small(), 1, 1).unwrap();
        let v = now
            .verify(SecretString::from("pw"), Some(stored))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verification {
                matches: true,
                needs_upgrade: true
            }
        );
        let v = now.verify(SecretString::from("pw"), None).await.unwrap();
        assert!(!v.matches);
    }
}
