//! Passwords: the Control Panel's set (authorized by an API key) and the webmail
//! change (authorized by the current password).
//!
//! The webmail change answers the same `InvalidCredentials`, after the same work,
//! for an unknown address, a wrong password, a suspended and a deleted account: an
//! unknown account is checked against a dummy hash with the same parameters.
//! Failures are counted per address and per client address in Postgres, shared by
//! every instance.

use secrecy::{ExposeSecret, SecretString};

use super::{audit, App, Error, Result};
use crate::domain::account::AccountStatus;
use crate::domain::password::{Context, NewPassword, Rule};
use crate::domain::{Caller, MailAddress};
use crate::passwords::legacy::split_scheme;
use crate::store;
use crate::store::accounts::CredentialRow;
use crate::store::audit::NewEvent;
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
    let found = store::accounts::get_with_hash(
        &app.pool,
        caller.reach,
        address.domain().as_str(),
        address.local_part().as_str(),
    )
    .await?
    .ok_or_else(|| Error::not_found("account"))?;
    let (account, current) = (found.account, found.password_hash);
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
    let event = audit::on_account(audit::by(caller, "password.set"), &account, &address);
    // One statement for the change and its event: this is the Control Panel's hot
    // path, and every round trip takes CPU from the hashing.
    if !store::accounts::set_password_recorded(&app.pool, account.id, &hash, &current, &event)
        .await?
    {
        return Err(Error::Conflict(
            "the password was changed meanwhile; try again".into(),
        ));
    }
    Ok(())
}

/// Changes a password with the current one (webmail).
#[tracing::instrument(skip_all)]
pub async fn change(app: &App, change: OwnerChange) -> Result<()> {
    let settings = &app.settings;
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
    let limits = [
        Limit {
            scope: "address",
            subject: &subject,
            max_failures: settings.webmail_max_failures_per_address,
        },
        Limit {
            scope: "client",
            subject: &change.client,
            max_failures: settings.webmail_max_failures_per_client,
        },
    ];
    let window = settings.webmail_window_secs;
    if let Some(retry_after_secs) = store::throttle::blocked(&app.pool, &limits, window).await? {
        return Err(Error::RateLimited { retry_after_secs });
    }

    let account = match &parsed {
        Some(a) => {
            store::accounts::credentials(&app.pool, a.domain().as_str(), a.local_part().as_str())
                .await?
        }
        None => None,
    };
    let usable = account.filter(|a| a.status == AccountStatus::Active && !a.deleted);
    let too_long = change.current.expose_secret().chars().count() > MAX_CURRENT_LEN;
    let stored = usable
        .as_ref()
        .filter(|_| !too_long)
        .map(|a| a.password_hash.clone());
    let current = change.current;
    let copy = SecretString::from(current.expose_secret().to_owned());
    let verification = app.hasher.verify(copy, stored).await?;

    let webmail_event = |action| NewEvent {
        action,
        channel: "webmail",
        client_addr: Some(&change.client),
        partner_id: usable.as_ref().and_then(|a| a.partner_id),
        customer_id: usable.as_ref().map(|a| a.customer_id),
        domain: usable.as_ref().map(|a| a.domain.as_str()),
        account: Some(&subject),
        ..Default::default()
    };
    let (Some(account), true) = (usable.as_ref(), verification.matches) else {
        let mut tx = app.pool.begin().await?;
        store::throttle::record_failure(&mut *tx, &limits, window).await?;
        store::audit::record(&mut *tx, &webmail_event("password.change_failed")).await?;
        tx.commit().await?;
        return Err(Error::InvalidCredentials);
    };

    let ctx = Context {
        address: &subject,
        local_part: &account.local_part,
        domain: &account.domain,
        display_name: account.display_name.as_deref(),
    };
    let policy = settings.password_policy();
    let checked = match NewPassword::check(&policy, "new_password", change.new, &ctx) {
        Ok(new) if new.secret().expose_secret() == current.expose_secret() => {
            Err(unchanged(app, "new_password"))
        }
        Ok(new) => Ok(new),
        Err(rules) => Err(Error::PasswordPolicy(rules)),
    };
    let new = match checked {
        Ok(new) => new,
        Err(refused) => {
            // The current password was proven: a legacy hash can be upgraded anyway.
            if verification.needs_upgrade {
                let event = webmail_event("password.hash_upgraded");
                upgrade(app, account, current, event).await?;
            }
            return Err(refused);
        }
    };

    let hash = app.hasher.hash(new.into_secret()).await?;
    let mut tx = app.pool.begin().await?;
    if !store::accounts::set_password(&mut *tx, account.id, &hash, &account.password_hash).await? {
        return Err(Error::Conflict(
            "the password was changed meanwhile; try again".into(),
        ));
    }
    store::throttle::clear(&mut *tx, "address", &subject).await?;
    let mut event = webmail_event("password.changed");
    event.details = serde_json::json!({ "previous_scheme": previous_scheme(account) });
    store::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

fn previous_scheme(account: &CredentialRow) -> String {
    split_scheme(&account.password_hash)
        .map(|(s, _)| s)
        .unwrap_or_default()
}

/// Rehashes a verified password with the current scheme and parameters.
async fn upgrade(
    app: &App,
    account: &CredentialRow,
    password: SecretString,
    mut event: NewEvent<'_>,
) -> Result<()> {
    let hash = app.hasher.hash(password).await?;
    let mut tx = app.pool.begin().await?;
    if store::accounts::upgrade_hash(&mut *tx, account.id, &hash, &account.password_hash).await? {
        event.details = serde_json::json!({ "previous_scheme": previous_scheme(account) });
        store::audit::record(&mut *tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}
