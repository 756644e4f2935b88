//! mailpanel: the account-management API behind a hosting provider's Control Panel.
//!
//! The binary in `main.rs` is a thin shell around this library so that the tests
//! drive exactly the code the service runs.

pub mod app;
pub mod auth;
pub mod autoconfig;
pub mod cli;
pub mod config;
pub mod domain;
pub mod doveadm;
pub mod error;
pub mod extract;
pub mod http_client;
pub mod idempotency;
pub mod mailer;
pub mod metrics;
pub mod passwords;
pub mod routes;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod webhook_client;
