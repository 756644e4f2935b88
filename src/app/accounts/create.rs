//! Creating accounts: one, or a batch of up to a thousand that is created whole or
//! not at all. Passwords are hashed before a connection is taken.

use super::{reread, touch, Credential, NewAccount, Welcome};
use crate::app::routing::{self, Claim};
use crate::app::{audit, domains, App, Error, Result, Write};
use crate::domain::{Caller, DomainName, Role};
use crate::store;
use crate::store::accounts::AccountRow;
use crate::store::notify::Touch;

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
    let row = reread(write.db(), caller, id).await?;
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
    let rows = store::accounts::get_many(write.db(), caller.reach, &ids).await?;
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
