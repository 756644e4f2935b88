//! Mail accounts. Deleting is soft: the account leaves the mail servers at once and
//! can be restored, password included, until its retention period ends; then it is
//! purged (`purge_expired`, run in the background).

mod create;

pub use create::{create, create_batch, MAX_BATCH};

use super::routing::{self, Claim};
use super::{audit, domains, App, Error, Result, Write};
use crate::domain::account::{AccountStatus, Protocols, ProtocolsChange, Quota};
use crate::domain::guidance::Language;
use crate::domain::imported_hash::ImportedHash;
use crate::domain::paging::{Page, Paging};
use crate::domain::password::NewPassword;
use crate::domain::routing::Forwarding;
use crate::domain::{Caller, DomainName, MailAddress, Reach};
use crate::store;
use crate::store::accounts::AccountRow;
use crate::store::notify::{Topic, Touch};
use crate::store::reach::{admit, Reached};

/// How a new account gets its password.
pub enum Credential {
    Password(NewPassword),
    /// Migration import of another system's hash (admin and partner keys).
    Imported(ImportedHash),
}

pub struct NewAccount {
    pub address: MailAddress,
    pub display_name: Option<String>,
    pub quota: Quota,
    pub protocols: Protocols,
    pub credential: Credential,
    /// A welcome message with the account's settings (never the password).
    pub welcome: Option<Welcome>,
}

pub struct Welcome {
    pub send_to: MailAddress,
    pub language: Language,
}

/// A change of some fields; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct AccountChange {
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<String>>,
    pub quota: Option<Quota>,
    pub status: Option<AccountStatus>,
    pub protocols: ProtocolsChange,
    /// `Some(None)` ends forwarding.
    pub forwarding: Option<Option<Forwarding>>,
    pub require_app_passwords: Option<bool>,
}

/// A new local part for an account, in its domain.
pub struct Rename {
    pub local_part: crate::domain::LocalPart,
    /// The old address goes on delivering to the account, as an alias.
    pub keep_old_as_alias: bool,
}

/// The account at this address within the caller's reach, deleted ones included.
pub async fn find(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
) -> Result<Reached<AccountRow>> {
    store::accounts::get(
        &app.pool,
        caller.reach,
        address.domain().as_str(),
        address.local_part().as_str(),
    )
    .await?
    .ok_or_else(|| Error::not_found("account"))
}

/// A live account in reach, read through this instance's account cache: for reads
/// that tolerate a change arriving a moment late from another instance (this
/// instance's own writes empty the cache before they answer).
pub async fn find_live_cached(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
) -> Result<Reached<AccountRow>> {
    let key = (
        address.domain().as_str().to_owned(),
        address.local_part().as_str().to_owned(),
    );
    let cache = &app.caches.accounts;
    let account = match cache.get(&key) {
        Some(account) => account,
        None => {
            // The cache is every caller's: it holds accounts of every reach, and
            // admits each caller to its own below.
            let generation = cache.generation();
            let account = store::accounts::get(&app.pool, Reach::All, &key.0, &key.1)
                .await?
                .ok_or_else(|| Error::not_found("account"))?
                .into_inner();
            cache.insert(generation, key, account.clone());
            account
        }
    };
    let account = admit(caller.reach, account).ok_or_else(|| Error::not_found("account"))?;
    if account.deleted_at.is_some() {
        return Err(Error::deleted_account());
    }
    Ok(account)
}

/// A live account in reach whose version is still `expected` (when given): what a
/// change starts from.
async fn find_to_change(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    expected: Option<i32>,
) -> Result<Reached<AccountRow>> {
    let current = find(app, caller, address).await?;
    if current.deleted_at.is_some() {
        return Err(Error::deleted_account());
    }
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::PreconditionFailed);
    }
    Ok(current)
}

/// What a write to this account touches: its entry in every instance's account cache.
fn touch(address: &MailAddress) -> Touch {
    Touch::account(address.domain().as_str(), address.local_part().as_str())
}

/// The account a write just changed, as the writer sees it within its transaction.
async fn reread(
    db: &mut sqlx::PgConnection,
    caller: &Caller,
    id: uuid::Uuid,
) -> Result<AccountRow> {
    let row = store::accounts::get_by_id(db, caller.reach, id).await?;
    let row = row.ok_or_else(|| anyhow::anyhow!("account {id} vanished within its transaction"))?;
    Ok(row.into_inner())
}

/// A domain's live accounts, or its deleted (restorable) ones, by local part.
#[tracing::instrument(skip_all, fields(domain = %domain))]
pub async fn list(
    app: &App,
    caller: &Caller,
    domain: &DomainName,
    deleted: bool,
    paging: &Paging,
) -> Result<Page<AccountRow>> {
    let domain = domains::find(app, caller, domain).await?;
    let rows = store::accounts::list(&app.pool, &domain, deleted, &paging.into()).await?;
    Ok(Page::from_rows(rows, paging, |r| r.local_part.clone()))
}

/// Changes a live account whose version is still `expected` (when given).
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn update(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    change: AccountChange,
    expected: Option<i32>,
) -> Result<AccountRow> {
    let current = find_to_change(app, caller, address, expected).await?;
    if let Some(Some(f)) = &change.forwarding {
        if f.to.contains(address) {
            return Err(Error::field(
                "forwarding.to",
                "routing_loop",
                "an account cannot forward to itself; keep_copy keeps a copy in its mailbox",
            ));
        }
    }
    let forward_to = match &change.forwarding {
        Some(Some(f)) => Some(Some((f.to.to_strings(), f.keep_copy))),
        Some(None) => Some(None),
        None => None,
    };
    let stored = store::accounts::AccountChange {
        display_name: change.display_name.as_ref().map(|d| d.as_deref()),
        quota_mb: change.quota.map(Quota::mb),
        status: change.status,
        imap: change.protocols.imap,
        pop3: change.protocols.pop3,
        smtp: change.protocols.smtp,
        forwarding: forward_to
            .as_ref()
            .map(|f| f.as_ref().map(|(to, keep)| (to.as_slice(), *keep))),
        require_app_passwords: change.require_app_passwords,
    };
    // Read before the transaction takes its connection: one connection per request.
    let domain = match change.quota {
        Some(_) => Some(domains::find(app, caller, address.domain()).await?),
        None => None,
    };
    let mut write = Write::begin(app, &[touch(address)]).await?;
    if let (Some(quota), Some(domain)) = (change.quota, &domain) {
        let extra_mb = i64::from(quota.mb()) - i64::from(current.quota_mb);
        routing::claim(write.db(), domain, Claim::Quota { extra_mb }).await?;
    }
    if !store::accounts::update(write.db(), current.id, &stored, Some(current.version)).await? {
        return Err(Error::PreconditionFailed);
    }
    let row = reread(write.db(), caller, current.id).await?;
    let address = row.address();
    if matches!(change.forwarding, Some(Some(_))) {
        routing::ensure_no_loop(write.db(), caller.reach, &address, "forwarding.to").await?;
    }
    let mut event = audit::on_account(audit::by(caller, "account.updated"), &row, &address);
    event.details = serde_json::json!({
        "display_name": stored.display_name.is_some(),
        "quota_mb": stored.quota_mb,
        "status": stored.status,
        "protocols": {"imap": stored.imap, "pop3": stored.pop3, "smtp": stored.smtp},
        "forwarding": forward_to.map(|f| f.map(|(to, keep_copy)| serde_json::json!({"to": to, "keep_copy": keep_copy}))),
    });
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// Deletes an account, restorable for the retention period; deleting a deleted
/// account again changes nothing.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn delete(app: &App, caller: &Caller, address: &MailAddress) -> Result<()> {
    let current = find(app, caller, address).await?;
    if current.deleted_at.is_some() {
        return Ok(());
    }
    let retention_days = app.settings.account_retention_days;
    let mut write = Write::begin(app, &[touch(address)]).await?;
    if store::accounts::soft_delete(write.db(), current.id, retention_days).await? {
        let address = current.address();
        let mut event = audit::on_account(audit::by(caller, "account.deleted"), &current, &address);
        event.details = serde_json::json!({ "retention_days": retention_days });
        write.record(&event).await?;
    }
    write.commit().await
}

/// Brings a deleted account back as it was, password included.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn restore(app: &App, caller: &Caller, address: &MailAddress) -> Result<AccountRow> {
    let current = find(app, caller, address).await?;
    if current.deleted_at.is_none() {
        return Err(Error::Conflict("the account is not deleted".into()));
    }
    let domain = domains::find(app, caller, address.domain()).await?;
    let mut write = Write::begin(app, &[touch(address)]).await?;
    let claim = Claim::Restore {
        quota_mb: current.quota_mb,
    };
    routing::claim(write.db(), &domain, claim).await?;
    if !store::accounts::restore(write.db(), current.id).await? {
        return Err(Error::NotFound(format!(
            "account {} is past its retention period",
            current.address()
        )));
    }
    let row = reread(write.db(), caller, current.id).await?;
    let address = row.address();
    // Its forwarding comes back too, and the routes may have changed meanwhile.
    routing::ensure_no_loop(write.db(), caller.reach, &address, "forwarding.to").await?;
    let event = audit::on_account(audit::by(caller, "account.restored"), &row, &address);
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// Gives an account a new local part in its domain. The mailbox is named by the
/// account, not the address, so its mail, password and settings stay; with
/// `keep_old_as_alias` the old address goes on delivering to it.
#[tracing::instrument(skip_all, fields(address = %address))]
pub async fn rename(
    app: &App,
    caller: &Caller,
    address: &MailAddress,
    command: Rename,
    expected: Option<i32>,
) -> Result<AccountRow> {
    let current = find_to_change(app, caller, address, expected).await?;
    let new_local = command.local_part.as_str();
    if new_local == current.local_part {
        return Err(Error::field(
            "local_part",
            "unchanged",
            "is the account's local part already",
        ));
    }
    let new_address = MailAddress::new(command.local_part.clone(), address.domain().clone())
        .map_err(|e| Error::field("local_part", "too_long", format!("the address {e}")))?;
    let domain = domains::find(app, caller, address.domain()).await?;
    let mut write = Write::begin(app, &[touch(address), touch(&new_address)]).await?;
    routing::claim(
        write.db(),
        &domain,
        Claim::Rename {
            local_part: new_local,
        },
    )
    .await?;
    if !store::accounts::rename(write.db(), current.id, new_local, current.version).await? {
        return Err(Error::PreconditionFailed);
    }
    let old = current.address();
    if command.keep_old_as_alias {
        routing::claim(
            write.db(),
            &domain,
            Claim::Alias {
                local_part: &current.local_part,
            },
        )
        .await?;
        let to = [new_address.to_string()];
        let alias = store::aliases::NewAlias {
            domain_id: domain.id,
            local_part: &current.local_part,
            destinations: &to,
            active: true,
            description: Some("kept after a rename"),
        };
        store::aliases::insert(write.db(), &alias).await?;
    }
    let row = reread(write.db(), caller, current.id).await?;
    let address = row.address();
    routing::ensure_no_loop(write.db(), caller.reach, &address, "local_part").await?;
    if !command.keep_old_as_alias {
        // Mail for the freed address now goes where the domain's catch-all says.
        routing::ensure_no_loop(write.db(), caller.reach, &old, "keep_old_as_alias").await?;
    }
    let mut event = audit::on_account(audit::by(caller, "account.renamed"), &row, &address);
    event.details = serde_json::json!({ "from": old, "kept_as_alias": command.keep_old_as_alias });
    write.record(&event).await?;
    write.commit().await?;
    Ok(row)
}

/// Purges accounts past their retention period, for good.
#[tracing::instrument(skip_all)]
pub async fn purge_expired(app: &App) -> Result<usize> {
    let mut write = Write::begin(app, &[Touch::all(Topic::Accounts)]).await?;
    let purged = store::accounts::purge_expired(write.db()).await?;
    for p in &purged {
        let event = store::audit::NewEvent {
            action: "account.purged",
            channel: "system",
            partner_id: p.partner_id,
            customer_id: Some(p.customer_id),
            domain: Some(&p.domain),
            account: Some(&p.address),
            ..Default::default()
        };
        write.record(&event).await?;
    }
    write.commit().await?;
    Ok(purged.len())
}
