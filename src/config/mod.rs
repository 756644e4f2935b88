//! Typed settings, read once from the environment (or the same names as flags; see
//! `mailpanel --help`). Every setting has a default that runs on a developer machine
//! with a local Postgres; the README lists them all. clap reads, parses and bounds
//! them, and refuses a bad value with its name.

use std::net::IpAddr;
use std::ops::RangeInclusive;

use clap::builder::{RangedU64ValueParser, TypedValueParser};
use clap::{Args, ValueEnum};
use secrecy::SecretString;

use crate::domain::{password, routing, DomainName};

/// Argon2id cost parameters (RFC 9106 / OWASP defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct Argon2Params {
    /// Argon2id memory cost in KiB.
    #[arg(long = "argon2-memory-kib", env = "MAILPANEL_ARGON2_MEMORY_KIB", default_value_t = 19_456,
          value_parser = ranged::<u32>(8..=4_194_304))]
    pub memory_kib: u32,
    /// Argon2id time cost.
    #[arg(long = "argon2-iterations", env = "MAILPANEL_ARGON2_ITERATIONS", default_value_t = 2,
          value_parser = ranged::<u32>(1..=100))]
    pub iterations: u32,
    /// Argon2id lanes.
    #[arg(long = "argon2-parallelism", env = "MAILPANEL_ARGON2_PARALLELISM", default_value_t = 1,
          value_parser = ranged::<u32>(1..=64))]
    pub parallelism: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// PostgreSQL; the database is created if missing. Contains credentials in
    /// production, hence secret (and never shown in `--help`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true,
          default_value = "postgres://postgres@127.0.0.1:5432/mailpanel", value_parser = secret)]
    pub database_url: SecretString,
    /// Where each instance's one listening connection (`LISTEN` for other instances'
    /// changes) goes, when `DATABASE_URL` points at a pooler in transaction mode
    /// (PgBouncer) that cannot keep a `LISTEN`: the primary directly, or a session-mode
    /// pool. Default: `DATABASE_URL`.
    #[arg(long, env = "MAILPANEL_LISTEN_DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub listen_database_url: Option<SecretString>,
    /// Connection pool size.
    #[arg(long = "db-max-connections", env = "MAILPANEL_DB_MAX_CONNECTIONS", default_value_t = 16,
          value_parser = ranged::<u32>(1..=1000))]
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before it answers `503`.
    #[arg(long = "db-acquire-timeout-ms", env = "MAILPANEL_DB_ACQUIRE_TIMEOUT_MS",
          default_value_t = 1500, value_parser = ranged::<u64>(100..=60_000))]
    pub database_acquire_timeout_ms: u64,
    /// Listen address.
    #[arg(long, env = "MAILPANEL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "MAILPANEL_WORKERS", default_value_t = cores(), value_parser = ranged::<usize>(1..=256))]
    pub workers: usize,
    /// Structured logs on stderr: `text` or `json`.
    #[arg(long, env = "MAILPANEL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Browser origins allowed to call the API, comma-separated (its own origin always is).
    #[arg(long, env = "MAILPANEL_CORS_ORIGINS", default_value = "", value_parser = origins)]
    pub cors_origins: Origins,
    /// How long a deleted account stays restorable.
    #[arg(long, env = "MAILPANEL_ACCOUNT_RETENTION_DAYS", default_value_t = 30,
          value_parser = ranged::<u32>(0..=3650))]
    pub account_retention_days: u32,
    /// Most destinations of one alias, catch-all or forwarding.
    #[arg(long, env = "MAILPANEL_MAX_DESTINATIONS", default_value_t = routing::DEFAULT_MAX_DESTINATIONS,
          value_parser = ranged::<usize>(1..=routing::MAX_DESTINATIONS_CEILING as u64))]
    pub max_destinations: usize,
    /// How often accounts past their retention are purged.
    #[arg(long, env = "MAILPANEL_PURGE_INTERVAL_SECS", default_value_t = 300,
          value_parser = ranged::<u64>(1..=86_400))]
    pub purge_interval_secs: u64,
    #[command(flatten)]
    pub argon2: Argon2Params,
    /// Password hashes computed at once (default: one per core).
    #[arg(long, env = "MAILPANEL_HASH_CONCURRENCY", default_value_t = cores(),
          value_parser = ranged::<usize>(1..=1024))]
    pub hash_concurrency: usize,
    /// Hashes that may wait; past that `503 overloaded` with `Retry-After`.
    #[arg(long, env = "MAILPANEL_HASH_QUEUE", default_value_t = 256, value_parser = ranged::<usize>(0..=100_000))]
    pub hash_queue: usize,
    /// Minimum password length in code points (API.md: never below the floor nor
    /// above the maximum).
    #[arg(long, env = "MAILPANEL_PASSWORD_MIN_LENGTH", default_value_t = 15,
          value_parser = ranged::<usize>(password::MIN_LEN_FLOOR as u64..=password::MAX_LEN as u64))]
    pub password_min_length: usize,
    /// Time a client has to send a request's head (line and headers), from the
    /// connection or the previous request; then the connection is closed (`408`).
    #[arg(long, env = "MAILPANEL_HEAD_TIMEOUT_MS", default_value_t = 5000,
          value_parser = ranged::<u64>(100..=600_000))]
    pub head_timeout_ms: u64,
    /// Time a client has to send a request's body once the handler reads it (`408`).
    #[arg(long, env = "MAILPANEL_BODY_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = ranged::<u64>(100..=600_000))]
    pub body_timeout_ms: u64,
    /// How long an idle kept-alive connection stays open.
    #[arg(long, env = "MAILPANEL_KEEP_ALIVE_SECS", default_value_t = 30,
          value_parser = ranged::<u64>(1..=3600))]
    pub keep_alive_secs: u64,
    /// Connections each worker holds at most; past that new ones wait in the kernel's
    /// backlog.
    #[arg(long, env = "MAILPANEL_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = ranged::<usize>(1..=1_000_000))]
    pub max_connections: usize,
    /// On SIGTERM or SIGINT: stop accepting, let requests in flight finish for this
    /// long, then exit.
    #[arg(long, env = "MAILPANEL_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30,
          value_parser = ranged::<u64>(0..=3600))]
    pub shutdown_timeout_secs: u64,
    /// Largest request body in bytes (`413` beyond).
    #[arg(long, env = "MAILPANEL_MAX_BODY_BYTES", default_value_t = 64 * 1024,
          value_parser = ranged::<usize>(1024..=16 * 1024 * 1024))]
    pub max_body_bytes: usize,
    /// Largest request body of a batch import (`POST …/accounts/batch`), in bytes.
    #[arg(long, env = "MAILPANEL_MAX_BATCH_BODY_BYTES", default_value_t = 2 * 1024 * 1024,
          value_parser = ranged::<usize>(1024..=64 * 1024 * 1024))]
    pub max_batch_body_bytes: usize,
    /// Minimum zxcvbn strength score of a password.
    #[arg(long, env = "MAILPANEL_PASSWORD_MIN_SCORE", default_value_t = 3, value_parser = ranged::<u8>(0..=4))]
    pub password_min_score: u8,
    /// Window in which webmail password-change failures are counted.
    #[arg(long, env = "MAILPANEL_WEBMAIL_WINDOW_SECS", default_value_t = 900,
          value_parser = ranged::<i64>(1..=86_400))]
    pub webmail_window_secs: i64,
    /// Failures per address and window before `429`.
    #[arg(long, env = "MAILPANEL_WEBMAIL_MAX_FAILURES_PER_ADDRESS", default_value_t = 5,
          value_parser = ranged::<i32>(1..=1_000_000))]
    pub webmail_max_failures_per_address: i32,
    /// Failures per client address and window before `429`.
    #[arg(long, env = "MAILPANEL_WEBMAIL_MAX_FAILURES_PER_CLIENT", default_value_t = 20,
          value_parser = ranged::<i32>(1..=1_000_000))]
    pub webmail_max_failures_per_client: i32,
    /// Proxies whose `X-Forwarded-For` is believed, comma-separated.
    #[arg(long, env = "MAILPANEL_TRUSTED_PROXIES", default_value = "", value_parser = addresses)]
    pub trusted_proxies: Addresses,
    /// The public host name this service answers auto-configuration on;
    /// `autoconfig.<domain>` and `autodiscover.<domain>` should point there.
    #[arg(long, env = "MAILPANEL_AUTOCONFIG_HOST", default_value = "autoconfig.ipax.at",
          value_parser = host_name)]
    pub autoconfig_host: String,
    /// Reverse-DNS prefix of Apple profile identifiers.
    #[arg(long, env = "MAILPANEL_PROFILE_ORGANISATION", default_value = "at.ipax",
          value_parser = host_name)]
    pub profile_organisation: String,
    /// The SMTP relay that takes mailpanel's own mail (welcome messages), as
    /// `host:port`, reached in plain SMTP on a trusted network (like Dovecot's
    /// submission relay). Unset: no welcome messages.
    #[arg(long, env = "MAILPANEL_SMTP_RELAY", value_parser = relay)]
    pub smtp_relay: Option<(String, u16)>,
    /// The sender of mailpanel's own mail.
    #[arg(long, env = "MAILPANEL_MAIL_FROM", default_value = "noreply@ipax.at", value_parser = mail_from)]
    pub mail_from: String,
    /// How long a message waits before its first retry when the relay refused or was
    /// down; the wait doubles with each attempt, up to an hour, for 24 hours.
    #[arg(long, env = "MAILPANEL_OUTBOX_RETRY_SECS", default_value_t = 30,
          value_parser = ranged::<u64>(1..=3600))]
    pub outbox_retry_secs: u64,
    /// How often each instance looks for mail that is due.
    #[arg(long, env = "MAILPANEL_OUTBOX_POLL_MS", default_value_t = 2000,
          value_parser = ranged::<u64>(50..=600_000))]
    pub outbox_poll_ms: u64,
    /// Webhook receivers may be plain `http://` URLs (a lab, or a receiver on the
    /// provider's own network); otherwise only `https://`.
    #[arg(long, env = "MAILPANEL_WEBHOOK_ALLOW_HTTP", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub webhook_allow_http: bool,
    /// Networks (CIDR, comma-separated) webhook receivers may be in although they are
    /// private or loopback, e.g. `10.20.0.0/16`. Empty: the public internet only.
    #[arg(long, env = "MAILPANEL_WEBHOOK_ALLOWED_NETWORKS", default_value = "", value_parser = networks)]
    pub webhook_allowed_networks: Networks,
    /// How long a receiver has to answer one delivery.
    #[arg(long, env = "MAILPANEL_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = ranged::<u64>(100..=60_000))]
    pub webhook_timeout_ms: u64,
    /// The wait before a failed delivery's first retry; it doubles with each attempt,
    /// up to an hour.
    #[arg(long, env = "MAILPANEL_WEBHOOK_RETRY_MS", default_value_t = 5_000,
          value_parser = ranged::<u64>(10..=3_600_000))]
    pub webhook_retry_ms: u64,
    /// How long a delivery is retried before its subscription is switched off.
    #[arg(long, env = "MAILPANEL_WEBHOOK_GIVE_UP_SECS", default_value_t = 86_400,
          value_parser = ranged::<u64>(1..=30 * 86_400))]
    pub webhook_give_up_secs: u64,
    /// How often each instance looks for new events and due deliveries.
    #[arg(long, env = "MAILPANEL_WEBHOOK_POLL_MS", default_value_t = 200,
          value_parser = ranged::<u64>(10..=60_000))]
    pub webhook_poll_ms: u64,
    /// Subscriptions one owner (the provider, a partner, a customer) may have.
    #[arg(long, env = "MAILPANEL_MAX_WEBHOOKS", default_value_t = 20,
          value_parser = ranged::<i64>(1..=1000))]
    pub max_webhooks: i64,
    /// App passwords one account may have.
    #[arg(long, env = "MAILPANEL_MAX_APP_PASSWORDS", default_value_t = 20,
          value_parser = ranged::<i64>(1..=1000))]
    pub max_app_passwords: i64,
    /// Dovecot's doveadm HTTP listeners (comma-separated, e.g. `http://10.0.0.5:8090`),
    /// told to end an account's sessions when its password changes, it is suspended or
    /// deleted, or a protocol is switched off. Empty: sessions are not ended.
    #[arg(long, env = "MAILPANEL_DOVEADM_URL", default_value = "", value_parser = origins)]
    pub doveadm_urls: Origins,
    /// Dovecot's `doveadm_api_key`.
    #[arg(long, env = "MAILPANEL_DOVEADM_API_KEY", hide_env_values = true, value_parser = secret)]
    pub doveadm_api_key: Option<SecretString>,
    /// How long one doveadm request may take.
    #[arg(long, env = "MAILPANEL_DOVEADM_TIMEOUT_MS", default_value_t = 5000,
          value_parser = ranged::<u64>(100..=60_000))]
    pub doveadm_timeout_ms: u64,
    /// How often each instance looks for sessions to end.
    #[arg(long, env = "MAILPANEL_DOVEADM_POLL_MS", default_value_t = 250,
          value_parser = ranged::<u64>(10..=60_000))]
    pub doveadm_poll_ms: u64,
}

fn relay(raw: &str) -> Result<(String, u16), String> {
    let (host, port) = raw
        .trim()
        .rsplit_once(':')
        .ok_or("must be host:port, e.g. 127.0.0.1:25")?;
    let port = port
        .parse()
        .map_err(|_| "the port must be 1..=65535".to_owned())?;
    if host.is_empty() || port == 0 {
        return Err("must be host:port, e.g. 127.0.0.1:25".into());
    }
    Ok((host.to_owned(), port))
}

fn mail_from(raw: &str) -> Result<String, String> {
    crate::domain::MailAddress::parse(raw.trim())
        .map(|a| a.to_string())
        .map_err(|e| format!("address {e}"))
}

/// Comma-separated lists are one value each (an empty one is an empty list); the
/// aliases keep clap from reading the field as a repeatable flag.
pub type Origins = Vec<String>;
pub type Addresses = Vec<IpAddr>;
pub type Networks = Vec<ipnet::IpNet>;

fn items(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|x| !x.is_empty())
}

fn origins(raw: &str) -> Result<Origins, String> {
    Ok(items(raw).map(str::to_owned).collect())
}

fn addresses(raw: &str) -> Result<Addresses, String> {
    items(raw)
        .map(|ip| {
            ip.parse()
                .map_err(|_| format!("{ip:?} is not an IP address"))
        })
        .collect()
}

fn networks(raw: &str) -> Result<Networks, String> {
    items(raw)
        .map(|net| {
            net.parse::<ipnet::IpNet>()
                .or_else(|_| net.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{net:?} is not a network such as 10.0.0.0/8"))
        })
        .collect()
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// A number within `range`, as whatever integer type the setting has.
fn ranged<T>(range: RangeInclusive<u64>) -> impl TypedValueParser<Value = T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
{
    RangedU64ValueParser::<T>::new().range(range)
}

fn secret(raw: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(raw.to_owned()))
}

fn host_name(raw: &str) -> Result<String, String> {
    DomainName::parse(raw.trim())
        .map(|d| d.to_string())
        .map_err(|e| format!("host name {e}"))
}

/// Settings alone, for `Settings::read`.
#[derive(clap::Parser)]
struct Only {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// The receivers webhooks may go to.
    pub fn webhook_policy(&self) -> crate::domain::webhook::AddressPolicy {
        crate::domain::webhook::AddressPolicy {
            allowed: self.webhook_allowed_networks.clone(),
        }
    }

    pub fn password_policy(&self) -> password::Policy {
        password::Policy {
            min_len: self.password_min_length,
            max_len: password::MAX_LEN,
            min_score: self.password_min_score,
        }
    }

    /// Settings from these arguments and the environment (`["mailpanel"]`: the
    /// defaults and the environment, as the service starts without flags).
    pub fn read<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::Parser as _;
        Only::try_parse_from(args).map(|o| o.settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_without_flags() {
        let s = Settings::read(["mailpanel"]).unwrap();
        assert_eq!(s.password_min_length, 15);
        assert_eq!(s.argon2.memory_kib, 19_456);
    }

    #[test]
    fn values_outside_their_bounds_are_refused_by_name() {
        let err = Settings::read(["mailpanel", "--password-min-length", "7"]).unwrap_err();
        assert!(err.to_string().contains("password-min-length"), "{err}");
        let err = Settings::read(["mailpanel", "--autoconfig-host", "not a host"]).unwrap_err();
        assert!(err.to_string().contains("autoconfig-host"), "{err}");
    }

    #[test]
    fn lists_are_comma_separated() {
        let s = Settings::read(["mailpanel", "--trusted-proxies", "10.0.0.1,::1"]).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        let s = Settings::read([
            "mailpanel",
            "--webhook-allowed-networks",
            "10.20.0.0/16, 127.0.0.1",
            "--webhook-allow-http",
            "true",
        ])
        .unwrap();
        assert_eq!(s.webhook_allowed_networks.len(), 2);
        assert!(s.webhook_allow_http);
        assert!(Settings::read(["mailpanel", "--webhook-allowed-networks", "intranet"]).is_err());
    }
}
