//! Passwords: the Control Panel's set (authorized by an API key) and the webmail
//! change (authorized by the current password).
//!
//! The webmail change answers the same `InvalidCredentials`, after the same work,
//! for an unknown address, a wrong password, a suspended and a deleted account: an
//! unknown account is checked against a dummy hash with the same parameters.
//! Failures are counted per address and per client address in Postgres, shared by
//! every instance.

use secrecy::{ExposeSecret, SecretString};

use super::{audit, App, Error, Result, Write};
use crate::domain::account::AccountStatus;
use crate::domain::password::{Context, NewPassword, Rule};
use crate::domain::{Caller, MailAddress};
use crate::passwords::legacy::split_scheme;
use crate::passwords::Verification;
use crate::store;
use crate::store::audit::NewEvent;
use crate::store::credentials::CredentialRow;
use crate::store::notify::Touch;
use crate::store::throttle::Limit;

/// Longest current password the webmail change accepts (the policy bounds new ones).
pub const MAX_CURRENT_LEN: usize = 1024;

/// A mailbox owner's change of their own password, as webmail sends it.
pub struct OwnerChange {
    /// As sent: an unparseable address is refused like a wrong password.
    pub address: String,
    pub current: SecretString,
    pub new: SecretString,
    /// The client's address, for the per-client limit and the audit trail.
    pub client: String,
}

fn unchanged(app: &App, field: &str) -> Error {
    Error::PasswordPolicy(
        app.settings
            .password_policy()
            .refusal(field, &[Rule::SameAsCurrent]),
    )
}

/// Sets an account's password (Control Panel, partners).
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn set(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    password: SecretString,
) -> Result<()> {
    let found = store::credentials::get_with_hash(
        &app.pool,
        caller.reach,
        address.domain().as_str(),
        address.local_part().as_str(),
    )
    .await?
    .ok_or_else(|| Error::not_found("account"))?;
    let (account, current) = (&found.account, &found.password_hash);
    if account.deleted_at.is_some() {
        return Err(Error::deleted_account());
    }
    let address = account.address();
    let ctx = Context {
        address: &address,
        local_part: &account.local_part,
        domain: &account.domain,
        display_name: account.display_name.as_deref(),
    };
    let policy = app.settings.password_policy();
    let password =
        NewPassword::check(&policy, "password", password, &ctx).map_err(Error::PasswordPolicy)?;
    let (hash, same) = app
        .hasher
        .hash_replacing(password.into_secret(), current.clone())
        .await?;
    if same {
        return Err(unchanged(app, "password"));
    }
    let event = audit::on_account(audit::by(caller, "password.set"), account, &address);
    let touch = Touch::account(&account.domain, &account.local_part);
    let mut write = Write::begin(app, &[touch]).await?;
    // The change and its event are one statement: this is the Control Panel's hot
    // path, and every round trip takes CPU from the hashing.
    if !store::credentials::set_password_recorded(write.db(), account.id, &hash, current, &event)
        .await?
    {
        return Err(changed_meanwhile());
    }
    write.commit().await
}

fn changed_meanwhile() -> Error {
    Error::Conflict("the password was changed meanwhile; try again".into())
}

/// Changes a password with the current one (webmail).
#[tracing::instrument(skip_all)]
pub async fn change(app: &App, change: OwnerChange) -> Result<()> {
    let parsed = MailAddress::parse(change.address.trim()).ok();
    // Unparseable addresses still count against one subject: bounded, and without
    // control characters (Postgres text cannot hold NUL; logs should not hold any).
    let subject = parsed.as_ref().map(|a| a.to_string()).unwrap_or_else(|| {
        change
            .address
            .chars()
            .filter(|c| !c.is_control())
            .take(254)
            .collect()
    });
    let attempt = Attempt {
        app,
        subject: &subject,
        client: &change.client,
    };
    attempt.not_blocked().await?;
    let (usable, verification) = attempt.verify(parsed.as_ref(), &change.current).await?;
    let (Some(account), true) = (usable.as_ref(), verification.matches) else {
        // The account's owners see the failures against it in their trail.
        attempt.failed(usable.as_ref()).await?;
        return Err(Error::InvalidCredentials);
    };

    let new = match check_new(app, &subject, account, change.new, &change.current) {
        Ok(new) => new,
        Err(refused) => {
            // The current password was proven: a legacy hash can be upgraded anyway.
            if verification.needs_upgrade {
                let event = attempt.event("password.hash_upgraded", Some(account));
                upgrade(app, account, change.current, event).await?;
            }
            return Err(refused);
        }
    };
    let hash = app.hasher.hash(new.into_secret()).await?;
    let touch = Touch::account(&account.domain, &account.local_part);
    let mut write = Write::begin(app, &[touch]).await?;
    if !store::credentials::set_password(write.db(), account.id, &hash, &account.password_hash)
        .await?
    {
        return Err(changed_meanwhile());
    }
    store::throttle::clear(write.db(), "address", &subject).await?;
    let mut event = attempt.event("password.changed", Some(account));
    event.details = serde_json::json!({ "previous_scheme": previous_scheme(account) });
    write.record(&event).await?;
    write.commit().await
}

/// One webmail attempt: who it claims to be, and from where.
struct Attempt<'a> {
    app: &'a App,
    /// The address as given, for the per-address limit and the audit trail.
    subject: &'a str,
    client: &'a str,
}

impl<'a> Attempt<'a> {
    fn limits(&self) -> [Limit<'a>; 2] {
        let settings = &self.app.settings;
        [
            Limit {
                scope: "address",
                subject: self.subject,
                max_failures: settings.webmail_max_failures_per_address,
            },
            Limit {
                scope: "client",
                subject: self.client,
                max_failures: settings.webmail_max_failures_per_client,
            },
        ]
    }

    async fn not_blocked(&self) -> Result<()> {
        let window = self.app.settings.webmail_window_secs;
        let blocked = store::throttle::blocked(&self.app.pool, &self.limits(), window).await?;
        match blocked {
            Some(retry_after_secs) => Err(Error::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// The usable account at the address (`None`: unknown, suspended or deleted) and
    /// whether `current` is its password, found after the same work either way (an
    /// unknown account is checked against a dummy hash).
    async fn verify(
        &self,
        address: Option<&MailAddress>,
        current: &SecretString,
    ) -> Result<(Option<CredentialRow>, Verification)> {
        let account = match address {
            Some(a) => {
                let (domain, local) = (a.domain().as_str(), a.local_part().as_str());
                store::credentials::credentials(&self.app.pool, domain, local).await?
            }
            None => None,
        };
        let usable = account.filter(|a| a.status == AccountStatus::Active && !a.deleted);
        let too_long = current.expose_secret().chars().count() > MAX_CURRENT_LEN;
        let stored = usable
            .as_ref()
            .filter(|_| !too_long)
            .map(|a| a.password_hash.clone());
        let copy = SecretString::from(current.expose_secret().to_owned());
        let verification = self.app.hasher.verify(copy, stored).await?;
        Ok((usable, verification))
    }

    /// Counts a failure against the address and the client, and records it.
    async fn failed(&self, account: Option<&CredentialRow>) -> Result<()> {
        let window = self.app.settings.webmail_window_secs;
        // Not a change of any object: nothing to announce.
        let mut write = Write::begin(self.app, &[]).await?;
        store::throttle::record_failure(write.db(), &self.limits(), window).await?;
        write
            .record(&self.event("password.change_failed", account))
            .await?;
        write.commit().await
    }

    fn event(&self, action: &'a str, account: Option<&'a CredentialRow>) -> NewEvent<'a> {
        NewEvent {
            action,
            channel: "webmail",
            client_addr: Some(self.client),
            partner_id: account.and_then(|a| a.partner_id),
            customer_id: account.map(|a| a.customer_id),
            domain: account.map(|a| a.domain.as_str()),
            account: Some(self.subject),
            ..Default::default()
        }
    }
}

/// The new password, if the policy takes it and it is not the current one.
fn check_new(
    app: &App,
    subject: &str,
    account: &CredentialRow,
    new: SecretString,
    current: &SecretString,
) -> Result<NewPassword> {
    let ctx = Context {
        address: subject,
        local_part: &account.local_part,
        domain: &account.domain,
        display_name: account.display_name.as_deref(),
    };
    let policy = app.settings.password_policy();
    match NewPassword::check(&policy, "new_password", new, &ctx) {
        Ok(new) if new.secret().expose_secret() == current.expose_secret() => {
            Err(unchanged(app, "new_password"))
        }
        Ok(new) => Ok(new),
        Err(rules) => Err(Error::PasswordPolicy(rules)),
    }
}

fn previous_scheme(account: &CredentialRow) -> String {
    split_scheme(&account.password_hash)
        .map(|(s, _)| s)
        .unwrap_or_default()
}

/// Rehashes a verified password with the current scheme and parameters. The account's
/// representation does not change (it holds no hash), so nothing is announced.
async fn upgrade(
    app: &App,
    account: &CredentialRow,
    password: SecretString,
    mut event: NewEvent<'_>,
) -> Result<()> {
    let hash = app.hasher.hash(password).await?;
    let mut write = Write::begin(app, &[]).await?;
    if store::credentials::upgrade_hash(write.db(), account.id, &hash, &account.password_hash)
        .await?
    {
        event.details = serde_json::json!({ "previous_scheme": previous_scheme(account) });
        write.record(&event).await?;
    }
    write.commit().await
}
