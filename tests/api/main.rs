//! Black-box tests of the HTTP API, one binary. Each test gets its own database,
//! dropped when the test ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod api_keys;
mod authorization;
mod bad_input;
mod client_settings;
mod customers;
mod domains;
mod helpers;
mod idempotency;
mod mailserver;
mod operations;
mod partners;
mod passwords;
