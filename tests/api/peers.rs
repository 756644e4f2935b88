//! Tests against real peers: a real Dovecot and Postfix (the mail-server contract)
//! and Debian's Chromium (the owner's page). They need what `scripts/test` installs;
//! `scripts/test --no-peers` (or `cargo test -- --skip peers::`) leaves them out for a
//! fast loop over the API alone. CI runs them all.

pub mod mailserver;
mod owner_page;
