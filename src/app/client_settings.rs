//! What an account's owner needs to set up a mail client: the settings with
//! guidance, an Apple profile, and the DNS records that let clients find it all.
//! Served from the account cache and the in-memory directory.

use std::sync::Arc;

use super::autoconfig::{apple_profile, AppleProfile};
use super::{accounts, domains, App, Result};
use crate::domain::client_settings::{self, ClientSettings};
use crate::domain::dns::{self, Record};
use crate::domain::guidance::Language;
use crate::domain::profile::ServerProfile;
use crate::domain::{Caller, DomainName, MailAddress};
use crate::store::accounts::AccountRow;

/// A live account in reach with its domain's profile.
async fn account_and_profile(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
) -> Result<(AccountRow, Arc<ServerProfile>)> {
    let account = accounts::find_live_cached(app, caller, address).await?;
    let profile = profile_of(app, &account.domain)?;
    Ok((account.into_inner(), profile))
}

fn profile_of(app: &App, domain: &str) -> Result<Arc<ServerProfile>> {
    Ok(app
        .caches
        .directory
        .profile_for_domain(domain)
        .ok_or_else(|| anyhow::anyhow!("domain {domain} has no profile in the directory"))?)
}

/// Settings for the account's enabled protocols, best first, with guidance.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn settings(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    language: Language,
) -> Result<ClientSettings> {
    let (account, profile) = account_and_profile(app, caller, address).await?;
    let address = account.address();
    Ok(client_settings::build(
        &profile,
        &address,
        account.protocols(),
        language,
    ))
}

/// An Apple configuration profile for the account (IMAP + SMTP).
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn account_apple_profile(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
) -> Result<AppleProfile> {
    let (account, profile) = account_and_profile(app, caller, address).await?;
    let address = account.address();
    apple_profile(
        app,
        &address,
        &address,
        account.display_name.as_deref(),
        &profile,
    )
}

/// The records the domain's zone should hold for mail and auto-configuration.
#[tracing::instrument(skip_all, fields(domain = %domain))]
pub async fn dns_records(app: &App, caller: &Caller, domain: &DomainName) -> Result<Vec<Record>> {
    let row = domains::find(app, caller, domain).await?;
    let profile = profile_of(app, &row.name)?;
    Ok(dns::records(
        &row.name,
        &profile,
        &app.settings.autoconfig_host,
    ))
}
