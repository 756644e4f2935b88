//! App passwords: a generated secret per device, for some protocols, that Dovecot
//! takes where the account's main password may be refused (`require_app_passwords`).
//! Revoking one ends the account's sessions (a trigger queues the kick).

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use super::{accounts, audit, App, Error, Result, Write};
use crate::domain::app_password::{self, Scope};
use crate::domain::{Caller, MailAddress};
use crate::store;
use crate::store::app_passwords::AppPasswordRow;

pub struct NewAppPassword {
    pub name: String,
    pub scope: Scope,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new app password and its secret, shown this once.
pub struct Created {
    pub row: AppPasswordRow,
    pub secret: SecretString,
}

#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn create(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    command: NewAppPassword,
) -> Result<Created> {
    if command.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::field(
            "expires_at",
            "in_the_past",
            "must lie in the future",
        ));
    }
    let account = accounts::find(app, caller, address).await?;
    if account.deleted_at.is_some() {
        return Err(Error::deleted_account());
    }
    let generated = app_password::generate();
    let secret =
        SecretString::from(secrecy::ExposeSecret::expose_secret(&generated.secret).to_owned());
    let hash = app.hasher.hash(generated.secret).await?;
    let mut write = Write::begin(app, &[]).await?;
    store::app_passwords::lock_account(write.db(), account.id).await?;
    let held = store::app_passwords::count(write.db(), account.id).await?;
    if held >= app.settings.max_app_passwords {
        return Err(Error::LimitReached(format!(
            "{address} has {held} app passwords, the most this provider allows; revoke one first"
        )));
    }
    let new = store::app_passwords::NewAppPassword {
        account_id: account.id,
        name: &command.name,
        lookup: &generated.lookup,
        password_hash: &hash,
        imap: command.scope.imap,
        pop3: command.scope.pop3,
        smtp: command.scope.smtp,
        expires_at: command.expires_at,
    };
    let row = store::app_passwords::insert(write.db(), &new).await?;
    let account_address = account.address();
    let mut event = audit::on_account(
        audit::by(caller, "app_password.created"),
        &account,
        &account_address,
    );
    event.details = serde_json::json!({
        "app_password_id": row.id, "name": row.name,
        "protocols": command.scope.names(), "expires_at": row.expires_at,
    });
    write.record(&event).await?;
    write.commit().await?;
    Ok(Created { row, secret })
}

pub async fn list(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
) -> Result<Vec<AppPasswordRow>> {
    let account = accounts::find(app, caller, address).await?;
    Ok(store::app_passwords::list(&app.pool, &account).await?)
}

/// Revokes an app password: it stops working at once, and the account's open
/// sessions end. Revoking one already gone answers 404.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn revoke(app: &App, caller: &Caller, address: &MailAddress, id: Uuid) -> Result<()> {
    let account = accounts::find(app, caller, address).await?;
    let mut write = Write::begin(app, &[]).await?;
    let row = store::app_passwords::delete(write.db(), account.id, id)
        .await?
        .ok_or_else(|| Error::not_found("app password"))?;
    let account_address = account.address();
    let mut event = audit::on_account(
        audit::by(caller, "app_password.revoked"),
        &account,
        &account_address,
    );
    event.details = serde_json::json!({ "app_password_id": row.id, "name": row.name });
    write.record(&event).await?;
    write.commit().await
}
