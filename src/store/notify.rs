//! Telling every instance what a committed write touched: `NOTIFY` inside the
//! writing transaction, delivered at commit to each instance's listener
//! (`app::caches::listen`), which refreshes what it keeps in memory.

use sqlx::PgExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Domains or server profiles: the auto-configuration directory.
    Directory,
    /// Accounts, or the domains they belong to: the account cache.
    Accounts,
    /// API keys, or their owners: the key cache.
    Keys,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::Directory, Topic::Accounts, Topic::Keys];

    pub fn channel(self) -> &'static str {
        match self {
            Topic::Directory => "mailpanel_directory",
            Topic::Accounts => "mailpanel_accounts",
            Topic::Keys => "mailpanel_keys",
        }
    }

    pub fn from_channel(channel: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.channel() == channel)
    }
}

pub async fn announce(db: impl PgExecutor<'_>, topic: Topic) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(topic.channel())
        .execute(db)
        .await?;
    Ok(())
}
