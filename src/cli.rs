//! Subcommands: `serve` (the default), `migrate`, `create-api-key`, `openapi`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::app::api_keys::{insert_minted, NewKey};
use crate::config::Settings;
use crate::domain::Role;
use crate::startup::Application;
use crate::store;

#[derive(Debug, Parser)]
#[command(
    name = "mailpanel",
    version,
    about = "Mail domains, accounts and client settings for the Control Panel"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Every setting, from the environment or these flags.
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default); creates and migrates the database as needed.
    Serve,
    /// Create the database if missing and apply migrations, then exit.
    Migrate,
    /// Print a new API key. The key is shown only here; the database keeps its hash.
    CreateApiKey {
        #[arg(long, value_enum)]
        role: Role,
        /// The partner a partner key belongs to.
        #[arg(long)]
        partner: Option<Uuid>,
        /// The customer a customer key belongs to.
        #[arg(long)]
        customer: Option<Uuid>,
        /// The key may only read (GET).
        #[arg(long)]
        read_only: bool,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}

/// Prints a line to stdout; a closed pipe (`mailpanel openapi | head`) is not a panic.
fn print_out(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

pub fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print_out(&crate::routes::openapi::spec_json());
        return ExitCode::SUCCESS;
    }
    let settings = cli.settings;
    crate::telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailpanel: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the whole cause chain, no backtrace.
            eprintln!("mailpanel: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(settings.clone()).await?;
            tracing::info!(bind = %settings.bind, port = app.port(), "mailpanel serving; API docs at /docs/");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let pool = store::database::prepare(&settings.database_url, 2).await?;
            crate::app::domains::backfill_unicode_names(&pool).await?;
            eprintln!("mailpanel: database is up to date");
        }
        Command::CreateApiKey {
            role,
            partner,
            customer,
            read_only,
            description,
        } => {
            let pool = store::database::prepare(&settings.database_url, 2).await?;
            let (partner_id, customer_id) = match role {
                Role::Admin => (None, None),
                Role::Partner => (
                    Some(
                        partner
                            .ok_or_else(|| anyhow::anyhow!("a partner key needs --partner ID"))?,
                    ),
                    None,
                ),
                Role::Customer => (
                    None,
                    Some(
                        customer
                            .ok_or_else(|| anyhow::anyhow!("a customer key needs --customer ID"))?,
                    ),
                ),
            };
            let key = NewKey {
                role,
                partner_id,
                customer_id,
                read_only,
                description,
            };
            let event = store::audit::NewEvent {
                action: "api_key.created",
                channel: "cli",
                ..Default::default()
            };
            // Not an app::Write: the bootstrap runs without an App (no caches to
            // tell, no listener); the key and its audit event are one transaction.
            let mut tx = pool.begin().await?;
            let minted = insert_minted(&mut tx, &key, event)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        anyhow::anyhow!("no such partner or customer")
                    }
                    _ => anyhow::Error::new(e),
                })?;
            tx.commit().await?;
            print_out(minted.plaintext.expose_secret());
        }
        // Normally answered before the runtime starts; harmless here too.
        Command::Openapi => print_out(&crate::routes::openapi::spec_json()),
    }
    Ok(())
}
