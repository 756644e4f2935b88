//! Typed settings, read once from the environment. Every setting has a default that
//! runs on a developer machine with a local Postgres; the README lists them all.

use std::net::IpAddr;

use secrecy::SecretString;

use crate::domain::{password, DomainName};

/// Argon2id cost parameters (RFC 9106 / OWASP defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Contains credentials in production, hence secret.
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub bind: String,
    pub workers: usize,
    pub log_format: LogFormat,
    pub cors_origins: Vec<String>,
    pub account_retention_days: u32,
    pub purge_interval_secs: u64,
    pub argon2: Argon2Params,
    pub hash_concurrency: usize,
    pub hash_queue: usize,
    pub password_min_length: usize,
    pub max_body_bytes: usize,
    pub password_min_score: u8,
    /// Webmail password changes: failures allowed per window, per address and per client.
    pub webmail_window_secs: i64,
    pub webmail_max_failures_per_address: i32,
    pub webmail_max_failures_per_client: i32,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Where `autoconfig.<domain>` and `autodiscover.<domain>` should point: the
    /// public host name this service answers auto-configuration on.
    pub autoconfig_host: String,
    /// Reverse-DNS prefix of Apple profile identifiers.
    pub profile_organisation: String,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {name} is invalid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    reason: String,
}

impl Default for Settings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            database_url: SecretString::from("postgres://postgres@127.0.0.1:5432/mailpanel"),
            database_max_connections: 16,
            bind: "127.0.0.1:8080".to_owned(),
            workers: cores,
            log_format: LogFormat::Text,
            cors_origins: Vec::new(),
            account_retention_days: 30,
            purge_interval_secs: 300,
            argon2: Argon2Params::default(),
            hash_concurrency: cores,
            hash_queue: 256,
            password_min_length: 15,
            max_body_bytes: 64 * 1024,
            password_min_score: 3,
            webmail_window_secs: 900,
            webmail_max_failures_per_address: 5,
            webmail_max_failures_per_client: 20,
            trusted_proxies: Vec::new(),
            autoconfig_host: "autoconfig.ipax.at".to_owned(),
            profile_organisation: "at.ipax".to_owned(),
        }
    }
}

impl Settings {
    pub fn password_policy(&self) -> password::Policy {
        password::Policy {
            min_len: self.password_min_length,
            max_len: password::MAX_LEN,
            min_score: self.password_min_score,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut s = Self::default();
        if let Some(url) = lookup("DATABASE_URL") {
            s.database_url = SecretString::from(url);
        }
        if let Some(bind) = lookup("MAILPANEL_BIND") {
            s.bind = bind;
        }
        read(
            &lookup,
            "MAILPANEL_DB_MAX_CONNECTIONS",
            &mut s.database_max_connections,
            1..=1000,
        )?;
        read(&lookup, "MAILPANEL_WORKERS", &mut s.workers, 1..=256)?;
        read(
            &lookup,
            "MAILPANEL_ACCOUNT_RETENTION_DAYS",
            &mut s.account_retention_days,
            0..=3650,
        )?;
        read(
            &lookup,
            "MAILPANEL_PURGE_INTERVAL_SECS",
            &mut s.purge_interval_secs,
            1..=86_400,
        )?;
        read(
            &lookup,
            "MAILPANEL_ARGON2_MEMORY_KIB",
            &mut s.argon2.memory_kib,
            8..=4_194_304,
        )?;
        read(
            &lookup,
            "MAILPANEL_ARGON2_ITERATIONS",
            &mut s.argon2.iterations,
            1..=100,
        )?;
        read(
            &lookup,
            "MAILPANEL_ARGON2_PARALLELISM",
            &mut s.argon2.parallelism,
            1..=64,
        )?;
        read(
            &lookup,
            "MAILPANEL_HASH_CONCURRENCY",
            &mut s.hash_concurrency,
            1..=1024,
        )?;
        read(
            &lookup,
            "MAILPANEL_HASH_QUEUE",
            &mut s.hash_queue,
            0..=100_000,
        )?;
        // API.md: configurable, but never below the floor nor above the maximum.
        read(
            &lookup,
            "MAILPANEL_PASSWORD_MIN_LENGTH",
            &mut s.password_min_length,
            password::MIN_LEN_FLOOR..=password::MAX_LEN,
        )?;
        read(
            &lookup,
            "MAILPANEL_MAX_BODY_BYTES",
            &mut s.max_body_bytes,
            1024..=16 * 1024 * 1024,
        )?;
        read(
            &lookup,
            "MAILPANEL_PASSWORD_MIN_SCORE",
            &mut s.password_min_score,
            0..=4,
        )?;
        read(
            &lookup,
            "MAILPANEL_WEBMAIL_WINDOW_SECS",
            &mut s.webmail_window_secs,
            1..=86_400,
        )?;
        read(
            &lookup,
            "MAILPANEL_WEBMAIL_MAX_FAILURES_PER_ADDRESS",
            &mut s.webmail_max_failures_per_address,
            1..=1_000_000,
        )?;
        read(
            &lookup,
            "MAILPANEL_WEBMAIL_MAX_FAILURES_PER_CLIENT",
            &mut s.webmail_max_failures_per_client,
            1..=1_000_000,
        )?;
        if let Some(v) = lookup("MAILPANEL_TRUSTED_PROXIES") {
            s.trusted_proxies = list(&v)
                .map(|ip| {
                    ip.parse().map_err(|_| {
                        invalid(
                            "MAILPANEL_TRUSTED_PROXIES",
                            format!("{ip:?} is not an IP address"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = lookup("MAILPANEL_AUTOCONFIG_HOST") {
            s.autoconfig_host = DomainName::parse(v.trim())
                .map_err(|e| invalid("MAILPANEL_AUTOCONFIG_HOST", format!("host name {e}")))?
                .to_string();
        }
        if let Some(v) = lookup("MAILPANEL_PROFILE_ORGANISATION") {
            s.profile_organisation = DomainName::parse(v.trim())
                .map_err(|e| {
                    invalid(
                        "MAILPANEL_PROFILE_ORGANISATION",
                        format!("reverse-DNS prefix {e}"),
                    )
                })?
                .to_string();
        }
        if let Some(v) = lookup("MAILPANEL_LOG_FORMAT") {
            s.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "text" | "" => LogFormat::Text,
                other => {
                    return Err(invalid(
                        "MAILPANEL_LOG_FORMAT",
                        format!("{other:?} is neither text nor json"),
                    ))
                }
            };
        }
        if let Some(v) = lookup("MAILPANEL_CORS_ORIGINS") {
            s.cors_origins = list(&v).map(str::to_owned).collect();
        }
        Ok(s)
    }
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|x| !x.is_empty())
}

fn invalid(name: &'static str, reason: String) -> ConfigError {
    ConfigError { name, reason }
}

fn read<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    target: &mut T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(raw) = lookup(name) else {
        return Ok(());
    };
    let value: T = raw
        .trim()
        .parse()
        .map_err(|_| invalid(name, format!("{raw:?} is not a number")))?;
    if !range.contains(&value) {
        return Err(invalid(
            name,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ));
    }
    *target = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_without_environment() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.password_min_length, 15);
        assert_eq!(s.argon2, Argon2Params::default());
    }

    #[test]
    fn minimum_password_length_below_eight_is_refused() {
        let err =
            Settings::from_lookup(|n| (n == "MAILPANEL_PASSWORD_MIN_LENGTH").then(|| "7".into()))
                .unwrap_err();
        assert!(err.to_string().contains("MAILPANEL_PASSWORD_MIN_LENGTH"));
    }
}
