//! Mail accounts. Deleting is soft: the account leaves the mail servers at once and
//! can be restored, password included, until its retention period ends; then it is
//! purged (`purge_expired`, run in the background).

use super::routing::{self, Claim};
use super::{audit, domains, App, Error, Result, Write};
use crate::domain::account::{AccountStatus, Protocols, ProtocolsChange, Quota};
use crate::domain::guidance::Language;
use crate::domain::imported_hash::ImportedHash;
use crate::domain::paging::{Page, Paging};
use crate::domain::password::NewPassword;
use crate::domain::routing::Forwarding;
use crate::domain::{Caller, DomainName, MailAddress, Role};
use crate::store;
use crate::store::accounts::AccountRow;
use crate::store::notify::{Topic, Touch};

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
pub async fn find(app: &App, caller: &Caller, address: &MailAddress) -> Result<AccountRow> {
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
) -> Result<AccountRow> {
    let key = (
        address.domain().as_str().to_owned(),
        address.local_part().as_str().to_owned(),
    );
    let cache = &app.caches.accounts;
    let account = match cache.get(&key) {
        Some(account) => account,
        None => {
            let generation = cache.generation();
            let account =
                store::accounts::get(&app.pool, crate::domain::Reach::All, &key.0, &key.1)
                    .await?
                    .ok_or_else(|| Error::not_found("account"))?;
            cache.insert(generation, key, account.clone());
            account
        }
    };
    if !caller.reach.covers(account.partner_id, account.customer_id) {
        return Err(Error::not_found("account"));
    }
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
) -> Result<AccountRow> {
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

async fn reread(db: &mut sqlx::PgConnection, id: uuid::Uuid) -> Result<AccountRow> {
    store::accounts::get_by_id(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("account {id} vanished within its transaction").into())
}

#[tracing::instrument(skip_all, fields(address = %command.address))]
pub async fn create(app: &App, caller: &Caller, command: NewAccount) -> Result<AccountRow> {
    may_create(app, caller, std::slice::from_ref(&command))?;
    let domain = domains::find(app, caller, command.address.domain()).await?;
    // Hash before taking a connection: no pool connection is held while hashing.
    let (hash, origin) = match command.credential {
        Credential::Password(pw) => (app.hasher.hash(pw.into_secret()).await?, "set".to_owned()),
        Credential::Imported(h) => (h.as_str().to_owned(), format!("imported {}", h.scheme())),
    };
    let local = command.address.local_part().as_str();

    let mut write = Write::begin(app, &[touch(&command.address)]).await?;
    let claim = Claim::Account {
        local_part: local,
        quota_mb: command.quota.mb(),
    };
    routing::claim(write.db(), &domain, claim).await?;
    let new = store::accounts::NewAccount {
        domain_id: domain.id,
        local_part: local,
        display_name: command.display_name.as_deref(),
        quota_mb: command.quota.mb(),
        protocols: command.protocols,
        password_hash: &hash,
    };
    let id = store::accounts::insert(write.db(), &new).await?;
    let row = reread(write.db(), id).await?;
    let address = row.address();
    if let Some(welcome) = &command.welcome {
        enqueue_welcome(write.db(), welcome, &address).await?;
    }
    let mut event = audit::on_account(audit::by(caller, "account.created"), &row, &address);
    event.details = serde_json::json!({
        "password": origin,
        "welcome_to": command.welcome.as_ref().map(|w| w.send_to.to_string()),
    });
    write.record(&event).await?;
    write.commit().await?;
    if command.welcome.is_some() {
        app.outbox_wake.notify_one();
    }
    Ok(row)
}

/// Most accounts one batch import may create.
pub const MAX_BATCH: usize = 1000;

/// Creates up to [`MAX_BATCH`] accounts of one domain, all or none: every command was
/// parsed before (per-item errors name `accounts[i]`), every address is checked
/// here, and one transaction writes them all.
#[tracing::instrument(skip_all, fields(domain = %domain, count = commands.len()))]
pub async fn create_batch(
    app: &App,
    caller: &Caller,
    domain: &DomainName,
    commands: Vec<NewAccount>,
) -> Result<Vec<AccountRow>> {
    may_create(app, caller, &commands)?;
    let local_parts: Vec<String> = commands
        .iter()
        .map(|c| c.address.local_part().as_str().to_owned())
        .collect();
    let duplicates: Vec<crate::domain::FieldError> = local_parts
        .iter()
        .enumerate()
        .filter(|(i, l)| local_parts[..*i].contains(l))
        .map(|(i, l)| {
            crate::domain::FieldError::new(
                format!("accounts[{i}].local_part"),
                "duplicate",
                format!("{l} is in the batch twice"),
            )
        })
        .collect();
    if !duplicates.is_empty() {
        return Err(Error::Invalid(duplicates));
    }
    let domain = domains::find(app, caller, domain).await?;
    let hashes = hash_all(app, &commands).await?;

    let mut write = Write::begin(app, &[Touch::accounts_of(&domain.name)]).await?;
    let quota: i64 = commands.iter().map(|c| i64::from(c.quota.mb())).sum();
    routing::claim_batch(write.db(), &domain, &local_parts, quota).await?;
    let new: Vec<store::accounts::NewAccount<'_>> = commands
        .iter()
        .zip(&hashes)
        .map(|(c, hash)| store::accounts::NewAccount {
            domain_id: domain.id,
            local_part: c.address.local_part().as_str(),
            display_name: c.display_name.as_deref(),
            quota_mb: c.quota.mb(),
            protocols: c.protocols,
            password_hash: hash,
        })
        .collect();
    let ids = store::accounts::insert_many(write.db(), domain.id, &new).await?;
    let rows = store::accounts::get_many(write.db(), &ids).await?;
    for c in &commands {
        if let Some(welcome) = &c.welcome {
            enqueue_welcome(write.db(), welcome, &c.address.to_string()).await?;
        }
    }
    let addresses: Vec<String> = rows.iter().map(AccountRow::address).collect();
    let mut event = audit::by(caller, "account.created");
    event.partner_id = domain.partner_id;
    event.customer_id = Some(domain.customer_id);
    event.domain = Some(&domain.name);
    event.details = serde_json::json!({ "batch": rows.len() });
    store::audit::record_for_accounts(write.db(), &event, &addresses).await?;
    write.commit().await?;
    if commands.iter().any(|c| c.welcome.is_some()) {
        app.outbox_wake.notify_one();
    }
    Ok(rows)
}

/// Each command's hash: plain passwords through the hashing pool, at most as many at
/// once as it hashes in parallel (so a batch never fills its queue), imported hashes
/// as they are.
async fn hash_all(app: &App, commands: &[NewAccount]) -> Result<Vec<String>> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let parallel = app.settings.hash_concurrency.max(1);
    stream::iter(commands.iter().map(|c| async move {
        match &c.credential {
            Credential::Password(pw) => Ok(app.hasher.hash(pw.secret().clone()).await?),
            Credential::Imported(h) => Ok(h.as_str().to_owned()),
        }
    }))
    .buffered(parallel)
    .try_collect()
    .await
}

/// What creating these accounts needs beyond their fields: importing hashes is for
/// admin and partner keys, and a welcome message needs a relay.
fn may_create(app: &App, caller: &Caller, commands: &[NewAccount]) -> Result<()> {
    if commands
        .iter()
        .any(|c| matches!(c.credential, Credential::Imported(_)))
    {
        caller.require(&[Role::Admin, Role::Partner]).map_err(|_| {
            Error::Forbidden("only admin and partner keys may import password hashes".into())
        })?;
    }
    if commands.iter().any(|c| c.welcome.is_some()) && app.mailer.is_none() {
        return Err(Error::field(
            "welcome",
            "mail_not_configured",
            "this installation sends no mail (MAILPANEL_SMTP_RELAY is not set)",
        ));
    }
    Ok(())
}

/// Queues a welcome message in the creating transaction.
async fn enqueue_welcome(
    db: &mut sqlx::PgConnection,
    welcome: &Welcome,
    address: &str,
) -> Result<()> {
    let mail = store::outbox::NewMail {
        kind: "welcome",
        recipient: &welcome.send_to.to_string(),
        account: address,
        language: welcome.language.as_str(),
    };
    store::outbox::enqueue(db, &mail).await?;
    Ok(())
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
    let rows = store::accounts::list(&app.pool, domain.id, deleted, &paging.into()).await?;
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
    let row = reread(write.db(), current.id).await?;
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
    let row = reread(write.db(), current.id).await?;
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
    let row = reread(write.db(), current.id).await?;
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
