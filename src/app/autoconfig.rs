//! Auto-configuration for mail clients, asked without a key: answered for any local
//! part of a hosted domain (so it reveals no accounts), "not found" for domains not
//! hosted here, and served from the in-memory directory without a query.

use std::sync::Arc;

use bytes::Bytes;

use super::{App, Error, Result};
use crate::autoconfig::{autodiscover, mobileconfig, thunderbird};
use crate::domain::account::Protocols;
use crate::domain::client_settings::{self, ClientSettings};
use crate::domain::guidance::Language;
use crate::domain::profile::ServerProfile;
use crate::domain::{DomainName, MailAddress};

/// Stands for the login name in the rendered Autodiscover document; XML escaping
/// leaves it as it is.
const LOGIN_PLACEHOLDER: &str = "%LOGINNAME%";

fn not_hosted() -> Error {
    Error::not_found("hosted domain")
}

/// The profile of a hosted domain.
pub fn profile_for(app: &App, domain: &DomainName) -> Result<Arc<ServerProfile>> {
    app.caches
        .directory
        .profile_for_domain(domain.as_str())
        .ok_or_else(not_hosted)
}

/// Thunderbird's `clientConfig` 1.1 for a domain, rendered once per profile version.
pub fn thunderbird(app: &App, domain: &DomainName) -> Result<Bytes> {
    let doc = app
        .caches
        .directory
        .rendered("thunderbird", domain.as_str(), |profile| {
            let login_domain = app.caches.directory.login_domain(domain.as_str());
            let username = thunderbird::username(domain.as_str(), &login_domain);
            thunderbird::document(domain.as_str(), &domain.to_unicode(), &username, profile)
        })
        .ok_or_else(not_hosted)?
        .map_err(anyhow::Error::from)?;
    Ok(doc)
}

/// Outlook's Autodiscover answer for an address.
pub fn autodiscover(app: &App, address: &MailAddress) -> Result<Vec<u8>> {
    // The document differs between addresses only in LoginName: render it once per
    // domain with a placeholder, then put in the escaped address.
    let template = app
        .caches
        .directory
        .rendered("autodiscover", address.domain().as_str(), |profile| {
            autodiscover::response(LOGIN_PLACEHOLDER, profile)
        })
        .ok_or_else(not_hosted)?
        .map_err(anyhow::Error::from)?;
    let template = std::str::from_utf8(&template).map_err(anyhow::Error::from)?;
    let login = login_name(app, address);
    let escaped = quick_xml::escape::escape(login.as_str());
    Ok(template.replace(LOGIN_PLACEHOLDER, &escaped).into_bytes())
}

/// An Apple configuration profile: its document and a file name for it.
pub struct AppleProfile {
    pub file_name: String,
    pub document: Vec<u8>,
}

/// The user name `address` logs in with: itself, or for an alias domain the same
/// local part at the target.
fn login_name(app: &App, address: &MailAddress) -> String {
    let domain = address.domain().as_str();
    let login_domain = app.caches.directory.login_domain(domain);
    format!("{}@{login_domain}", address.local_part())
}

/// An Apple profile for `address` logging in as `login`, from `profile`.
pub fn apple_profile(
    app: &App,
    address: &str,
    login: &str,
    display_name: Option<&str>,
    profile: &ServerProfile,
) -> Result<AppleProfile> {
    let id = mobileconfig::Identity {
        address,
        login,
        display_name,
        organisation: &app.settings.profile_organisation,
    };
    let document = mobileconfig::document(&id, profile).ok_or_else(|| {
        Error::Conflict("the server profile offers no encrypted IMAP and SMTP endpoints".into())
    })?;
    let safe = address.replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '@',
        "_",
    );
    Ok(AppleProfile {
        file_name: format!("{safe}.mobileconfig"),
        document,
    })
}

/// An Apple profile for any address of a hosted domain.
pub fn apple_profile_for_address(app: &App, address: &MailAddress) -> Result<AppleProfile> {
    let profile = profile_for(app, address.domain())?;
    let login = login_name(app, address);
    apple_profile(app, &address.to_string(), &login, None, &profile)
}

/// What the owner's page shows for any address of a hosted domain: the settings of
/// every protocol the domain's profile offers, as the client-settings JSON gives them
/// for an account with all protocols on. No account is looked up, so the page says
/// nothing about whether one exists.
pub fn owner_settings(
    app: &App,
    address: &MailAddress,
    language: Language,
) -> Result<ClientSettings> {
    let profile = profile_for(app, address.domain())?;
    let mut settings = client_settings::build(
        &profile,
        &address.to_string(),
        Protocols::default(),
        language,
    );
    settings.username = login_name(app, address);
    Ok(settings)
}
