//! Connecting: create the database when it is missing, then migrate under sqlx's
//! advisory lock, so several instances may start at once.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn options(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    // The URL may carry a password; never echo it in the error.
    PgConnectOptions::from_str(url.expose_secret())
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid postgres:// URL"))
}

/// Creates the database named in `url` if it does not exist yet.
pub async fn ensure_exists(url: &SecretString) -> anyhow::Result<()> {
    let opts = options(url)?;
    let name = opts.get_database().unwrap_or("postgres").to_owned();
    let mut conn = match opts.connect().await {
        Ok(_) => return Ok(()),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => opts
            .clone()
            .database("postgres")
            .connect()
            .await
            .with_context(|| cannot_connect(&opts))?,
        Err(e) => return Err(anyhow::Error::new(e).context(cannot_connect(&opts))),
    };
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    match sqlx::query(&format!("CREATE DATABASE {quoted}"))
        .execute(&mut conn)
        .await
    {
        Ok(_) => tracing::info!(database = %name, "created database"),
        // Another instance created it first.
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("could not create database {name}")))
        }
    }
    conn.close().await.ok();
    Ok(())
}

fn cannot_connect(opts: &PgConnectOptions) -> String {
    format!(
        "cannot connect to PostgreSQL at {}:{} (database {}); is it running, and is DATABASE_URL right?",
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or("postgres")
    )
}

pub async fn connect(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    connect_with(url, max_connections, Duration::from_secs(5)).await
}

/// A pool whose requests wait at most `acquire_timeout` for a connection, so that a
/// database that is down answers quickly instead of holding requests.
pub async fn connect_with(
    url: &SecretString,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    let opts = options(url)?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_with(opts.clone())
        .await
        .with_context(|| cannot_connect(&opts))
}

/// A pool that connects when first used: for the change listener's own connection.
pub fn lazy(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_lazy_with(options(url)?))
}

/// Creates, connects and migrates: what `serve`, `migrate` and the tests all need.
pub async fn prepare(url: &SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    prepare_with(url, max_connections, Duration::from_secs(5)).await
}

pub async fn prepare_with(
    url: &SecretString,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    ensure_exists(url).await?;
    let pool = connect_with(url, max_connections, acquire_timeout).await?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    Ok(pool)
}
