//! Password hashing and verification on a dedicated pool of `concurrency` threads,
//! off the async workers. At most `queue` jobs wait beside the `concurrency` running
//! ones (a semaphore counts them until their answers are back); past that the caller is told to
//! come back (`503` + `Retry-After`) instead of memory growing without bound. Each
//! thread keeps one Argon2 work area (~19 MiB) and reuses it, so the memory for
//! hashing is `concurrency` × m, however many requests arrive. Callers hold no
//! database connection while they wait here.

pub mod legacy;

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::sync::{oneshot, Semaphore};

use crate::config::Argon2Params;

/// The Dovecot scheme prefix; the stored string is exactly what a Dovecot SQL passdb verifies.
pub const ARGON2ID_PREFIX: &str = "{ARGON2ID}";

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
    /// One permit per job running or waiting, held until its answer is back: the
    /// bound that says "full", exactly, whatever the threads are doing this instant.
    admission: Arc<Semaphore>,
    /// A hash of nothing anybody knows, with the current parameters: an unknown
    /// address is checked against it, so that it costs what a wrong password costs.
    dummy: Arc<String>,
}

/// Why password work was not done.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing thread is busy and the queue is full: come back shortly.
    #[error("the hashing queue is full")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash is a legacy scheme or Argon2id with other parameters.
    pub needs_upgrade: bool,
}

/// One hashing thread's tools: the configured Argon2id and its reusable memory.
struct Workspace {
    config: Argon2Params,
    params: Params,
    argon2: Argon2<'static>,
    memory: Vec<Block>,
}

impl Workspace {
    fn new(config: Argon2Params) -> anyhow::Result<Self> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let memory = vec![Block::default(); params.block_count()];
        Ok(Self {
            config,
            params,
            argon2,
            memory,
        })
    }

    /// The raw Argon2id output for `password` with this salt, in the reused memory.
    fn compute(
        &mut self,
        password: &[u8],
        salt: Salt<'_>,
    ) -> anyhow::Result<[u8; Params::DEFAULT_OUTPUT_LEN]> {
        let mut raw_salt = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut raw_salt)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.argon2
            .hash_password_into_with_memory(password, salt_bytes, &mut out, &mut self.memory)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(out)
    }

    /// `{ARGON2ID}` + the PHC string of `password` with this salt.
    fn hash_with_salt(&mut self, password: &[u8], salt: Salt<'_>) -> anyhow::Result<String> {
        let out = self.compute(password, salt)?;
        self.format(salt, &out)
    }

    fn format(&self, salt: Salt<'_>, out: &[u8]) -> anyhow::Result<String> {
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))?,
            salt: Some(salt),
            hash: Some(Output::new(out).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
        };
        Ok(format!("{ARGON2ID_PREFIX}{phc}"))
    }

    fn hash_fresh(&mut self, password: &[u8]) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.hash_with_salt(password, salt.as_salt())
    }

    /// Hashes `password` with the salt of a current-parameter Argon2id hash and
    /// compares the outputs; `None` when `stored` is not such a hash.
    fn same_as_current(&mut self, password: &[u8], stored: &str) -> Option<(String, bool)> {
        let parsed = current_argon2id(self.config, stored)?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let out = self.compute(password, salt).ok()?;
        let same = bool::from(out.as_slice().ct_eq(expected.as_bytes()));
        let new = self.format(salt, &out).ok()?;
        Some((new, same))
    }

    fn verify(&mut self, password: &[u8], stored: &str) -> Verification {
        match self.same_as_current(password, stored) {
            Some((_, same)) => Verification {
                matches: same,
                needs_upgrade: false,
            },
            None => Verification {
                matches: legacy::verify(password, stored),
                needs_upgrade: true,
            },
        }
    }
}

impl Hasher {
    pub fn new(params: Argon2Params, concurrency: usize, queue: usize) -> anyhow::Result<Self> {
        let mut probe = Workspace::new(params)?;
        let dummy = probe.hash_fresh(uuid::Uuid::new_v4().as_bytes())?;
        drop(probe);
        let concurrency = concurrency.max(1);
        // Room for every admitted job, so that sending never fails for space.
        let (jobs, rx) = sync_channel::<Job>(concurrency + queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..concurrency {
            let rx = rx.clone();
            let mut workspace = Workspace::new(params)?;
            std::thread::Builder::new()
                .name(format!("mailpanel-hash-{i}"))
                .spawn(move || work(&rx, &mut workspace))
                .context("starting a hashing thread")?;
        }
        Ok(Self {
            jobs,
            admission: Arc::new(Semaphore::new(concurrency + queue)),
            dummy: Arc::new(dummy),
        })
    }

    /// Hashes `password` as `{ARGON2ID}$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        self.run(move |w| w.hash_fresh(password.expose_secret().as_bytes()))
            .await
    }

    /// Hashes a new password for an account whose current hash is `current`, and
    /// tells whether the new password equals the current one, for one hash's cost:
    /// when the current hash is Argon2id with the current parameters, the new one is
    /// computed with the same salt and the results compared. (The salt then stays
    /// with the account across changes; it still differs between accounts, which is
    /// what defeats precomputation.) A legacy or outdated current hash is verified
    /// separately and the new hash gets a fresh salt.
    #[tracing::instrument(skip_all)]
    pub async fn hash_replacing(
        &self,
        password: SecretString,
        current: String,
    ) -> Result<(String, bool), HashError> {
        self.run(move |w| {
            let pw = password.expose_secret().as_bytes();
            if let Some(result) = w.same_as_current(pw, &current) {
                return Ok(result);
            }
            let same = legacy::verify(pw, &current);
            Ok((w.hash_fresh(pw)?, same))
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
    ) -> Result<Verification, HashError> {
        let dummy = self.dummy.clone();
        self.run(move |w| {
            let pw = password.expose_secret().as_bytes();
            Ok(match stored {
                Some(stored) => w.verify(pw, &stored),
                None => {
                    w.verify(pw, &dummy);
                    Verification {
                        matches: false,
                        needs_upgrade: false,
                    }
                }
            })
        })
        .await
    }

    /// Queues CPU-heavy password work for the hashing threads, or refuses it when
    /// the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Workspace) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let _admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |w| {
            let _ = tx.send(span.in_scope(|| work(w)));
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(HashError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(anyhow::anyhow!("hashing threads are gone").into())
            }
        }
        Ok(rx.await.context("hashing job dropped")??)
    }
}

/// A hashing thread: takes jobs until the service goes away.
fn work(jobs: &Mutex<Receiver<Job>>, workspace: &mut Workspace) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(workspace),
            Err(_) => return,
        }
    }
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
        && p.p_cost() == params.parallelism
        && parsed
            .hash
            .is_some_and(|h| h.len() == Params::DEFAULT_OUTPUT_LEN);
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
