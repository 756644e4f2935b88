//! Raw Argon2id hashes per second on this machine, with the parameters the service
//! is configured with (the same environment variables), on every core at once.
//! Usage: `hashrate [SECONDS]`; prints `hashes_per_second=<n> threads=<n>`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10);
    let settings = mailpanel::config::Settings::read(["hashrate"])?;
    let p = settings.argon2;
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let threads = std::thread::available_parallelism()?.get();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let done = done.clone();
            let params = params.clone();
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let password = format!("Fahrrad-Kaffee-Wien-{i}");
                while Instant::now() < deadline {
                    let salt = SaltString::generate(&mut rand::rngs::OsRng);
                    if argon2.hash_password(password.as_bytes(), &salt).is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!(
        "hashes_per_second={rate:.1} threads={threads} m={} t={} p={}",
        p.memory_kib, p.iterations, p.parallelism
    );
    Ok(())
}
