//! Announcing changes to every instance: `NOTIFY` inside the changing transaction,
//! delivered at commit to each instance's listener (`changes::spawn_listener`).

use sqlx::PgExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Domains or server profiles: the auto-configuration directory.
    Directory,
    /// Accounts, or the domains they belong to: the account cache.
    Accounts,
    /// API keys, or their owners: the key cache.
    Keys,
}

impl Change {
    pub const ALL: [Change; 3] = [Change::Directory, Change::Accounts, Change::Keys];

    pub fn channel(self) -> &'static str {
        match self {
            Change::Directory => "mailpanel_directory",
            Change::Accounts => "mailpanel_accounts",
            Change::Keys => "mailpanel_keys",
        }
    }

    pub fn from_channel(channel: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.channel() == channel)
    }
}

pub async fn announce(db: impl PgExecutor<'_>, change: Change) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(change.channel())
        .execute(db)
        .await?;
    Ok(())
}
