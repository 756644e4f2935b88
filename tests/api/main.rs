//! Black-box tests of the HTTP API, one binary. Each test gets its own database,
//! dropped when the test ends; `helpers` holds the `TestApp` and the shared fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod api_keys;
mod authorization;
mod autoconfig;
mod bad_input;
mod batch;
mod client_settings;
mod customers;
mod dns;
mod domains;
mod events;
mod helpers;
mod idempotency;
mod limits;
mod mobileconfig;
mod operations;
mod owner_page;
mod partners;
mod passwords;
mod peers;
mod profiles;
mod roles;
mod routing;
mod webhooks;
mod welcome;
