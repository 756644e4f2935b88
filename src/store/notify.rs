//! Telling every instance what a committed write touched: `NOTIFY` inside the
//! writing transaction, delivered at commit to each instance's listener
//! (`app::caches::listen`), which refreshes what it keeps in memory.
//!
//! The payload narrows the topic down (`Scope`): the domains a write changed, or
//! only the server profiles, so that a change costs every instance what it touched
//! and not a reload of everything. An empty payload means everything; it is also what
//! a payload nobody understands is read as.

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

/// What within a topic a write touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Everything,
    /// The server profiles themselves, not which domain uses which.
    Profiles,
    /// These domains (A-labels), and the alias domains that follow them; for the
    /// account cache, every account of these domains.
    Domains(Vec<String>),
    /// These accounts (`local@A-label`).
    Accounts(Vec<String>),
}

/// Postgres refuses payloads of 8000 bytes or more; past this, say "everything".
const MAX_PAYLOAD: usize = 7900;

impl Scope {
    fn payload(&self) -> String {
        let payload = match self {
            Scope::Everything => String::new(),
            Scope::Profiles => "profiles".to_owned(),
            Scope::Domains(names) => format!("domains {}", names.join(" ")),
            Scope::Accounts(addresses) => format!("accounts {}", addresses.join(" ")),
        };
        if payload.len() > MAX_PAYLOAD {
            return String::new();
        }
        payload
    }

    pub fn from_payload(payload: &str) -> Self {
        let mut words = payload.split(' ');
        match words.next() {
            Some("profiles") => Scope::Profiles,
            Some(kind @ ("domains" | "accounts")) => {
                let names: Vec<String> =
                    words.filter(|w| !w.is_empty()).map(str::to_owned).collect();
                match (kind, names.is_empty()) {
                    (_, true) => Scope::Everything,
                    ("domains", false) => Scope::Domains(names),
                    _ => Scope::Accounts(names),
                }
            }
            _ => Scope::Everything,
        }
    }
}

/// One thing a write touched: a topic, and what within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub topic: Topic,
    pub scope: Scope,
}

impl Touch {
    pub fn all(topic: Topic) -> Self {
        Self {
            topic,
            scope: Scope::Everything,
        }
    }

    /// A domain's entry in the directory (its profile, whether it is hosted).
    pub fn domain(name: &str) -> Self {
        Self {
            topic: Topic::Directory,
            scope: Scope::Domains(vec![name.to_owned()]),
        }
    }

    /// One account in the account cache (by its A-label domain and local part).
    pub fn account(domain: &str, local_part: &str) -> Self {
        Self {
            topic: Topic::Accounts,
            scope: Scope::Accounts(vec![format!("{local_part}@{domain}")]),
        }
    }

    /// Every account of a domain in the account cache.
    pub fn accounts_of(domain: &str) -> Self {
        Self {
            topic: Topic::Accounts,
            scope: Scope::Domains(vec![domain.to_owned()]),
        }
    }

    /// The server profiles in the directory.
    pub fn profiles() -> Self {
        Self {
            topic: Topic::Directory,
            scope: Scope::Profiles,
        }
    }

    /// What a notification on `channel` says; `None` for a channel not ours.
    pub fn from_notification(channel: &str, payload: &str) -> Option<Self> {
        Some(Self {
            topic: Topic::from_channel(channel)?,
            scope: Scope::from_payload(payload),
        })
    }
}

pub async fn announce(db: impl PgExecutor<'_>, touch: &Touch) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(touch.topic.channel())
        .bind(touch.scope.payload())
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_reads_back_what_it_said() {
        for scope in [
            Scope::Everything,
            Scope::Profiles,
            Scope::Domains(vec!["a.example".into(), "xn--mller-kva.example".into()]),
            Scope::Accounts(vec!["max@a.example".into(), "eva@b.example".into()]),
        ] {
            assert_eq!(Scope::from_payload(&scope.payload()), scope);
        }
    }

    #[test]
    fn what_cannot_be_said_in_a_payload_means_everything() {
        let many = Scope::Domains((0..1000).map(|i| format!("d{i}.example")).collect());
        assert_eq!(many.payload(), "");
        assert_eq!(Scope::from_payload("something newer"), Scope::Everything);
        assert_eq!(Scope::from_payload("domains "), Scope::Everything);
        assert_eq!(Scope::from_payload("accounts"), Scope::Everything);
    }
}
