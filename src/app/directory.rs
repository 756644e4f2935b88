//! The in-memory directory that auto-configuration and client settings serve from:
//! every server profile and which profile each hosted domain uses. Mail clients ask
//! often and anonymously, so answering must not cost a query.
//!
//! A change costs what it touched: a domain's write re-reads that domain (and the
//! alias domains that follow it), a profile's write re-reads the profiles, on this
//! instance before it answers and on every other one when its `NOTIFY` arrives
//! (`store::notify::Scope`). Everything is read anew at start and after a lost
//! listener connection, which may have missed some.

use bytes::Bytes;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::domain::profile::ServerProfile;
use crate::store::notify::Scope;
use crate::store::profiles;

#[derive(Default)]
struct Entries {
    profiles: HashMap<String, Arc<ServerProfile>>,
    /// A-label domain → its profile's name (an alias domain's is its target's).
    domains: HashMap<String, String>,
    /// Alias domain → the domain its users log in with.
    login_domains: HashMap<String, String>,
}

/// Rendered auto-configuration documents by kind and domain. A document is kept
/// only if nothing changed while it was rendered (`generation`), and a change
/// drops the documents of what it touched.
#[derive(Default)]
struct Rendered {
    generation: u64,
    docs: HashMap<(&'static str, String), Bytes>,
}

/// Bound on the rendered documents kept; past it the cache starts over.
const MAX_RENDERED: usize = 10_000;

#[derive(Default)]
pub struct Directory {
    entries: RwLock<Entries>,
    rendered: Mutex<Rendered>,
    /// One update at a time, each reading after the one before it was applied, so
    /// that a slow read cannot put back what a newer one replaced.
    updating: tokio::sync::Mutex<()>,
    /// A refresh failed, so some change may be missing: the next one reads
    /// everything (and `heal` does, now and then, if no change comes).
    stale: AtomicBool,
}

impl Directory {
    pub async fn load(pool: &PgPool) -> anyhow::Result<Self> {
        let d = Self::default();
        d.refresh(pool, &Scope::Everything).await?;
        Ok(d)
    }

    /// Re-reads what `scope` names. Everything is O(domains); a domain's change is
    /// one indexed read.
    pub async fn refresh(&self, pool: &PgPool, scope: &Scope) -> anyhow::Result<()> {
        let _one_at_a_time = self.updating.lock().await;
        let scope = match self.stale.load(Ordering::Acquire) {
            true => &Scope::Everything,
            false => scope,
        };
        let refreshed = self.read(pool, scope).await;
        match (&refreshed, scope) {
            (Err(_), _) => self.stale.store(true, Ordering::Release),
            (Ok(()), Scope::Everything) => self.stale.store(false, Ordering::Release),
            (Ok(()), _) => {}
        }
        refreshed
    }

    /// Reads everything again if a refresh failed since the last full read.
    pub async fn heal(&self, pool: &PgPool) -> anyhow::Result<()> {
        if self.stale.load(Ordering::Acquire) {
            self.refresh(pool, &Scope::Everything).await?;
        }
        Ok(())
    }

    async fn read(&self, pool: &PgPool, scope: &Scope) -> anyhow::Result<()> {
        match scope {
            // Accounts are not the directory's; were they named here, everything is
            // the safe reading.
            Scope::Everything | Scope::Accounts(_) => {
                let profiles = read_profiles(pool).await?;
                let mut entries = Entries {
                    profiles,
                    ..Entries::default()
                };
                for row in profiles::domain_profiles(pool).await? {
                    entries.put(row);
                }
                self.replace(|current| *current = entries);
                self.forget_rendered(|_| true);
            }
            Scope::Profiles => {
                let profiles = read_profiles(pool).await?;
                self.replace(|current| current.profiles = profiles);
                self.forget_rendered(|_| true);
            }
            Scope::Domains(names) => {
                let rows = profiles::profiles_of_domains(pool, names).await?;
                let mut touched: HashSet<String> = names.iter().cloned().collect();
                touched.extend(rows.iter().map(|(domain, _, _)| domain.clone()));
                self.replace(|current| {
                    for name in &touched {
                        current.domains.remove(name);
                        current.login_domains.remove(name);
                    }
                    for row in rows {
                        current.put(row);
                    }
                });
                self.forget_rendered(|domain| touched.contains(domain));
            }
        }
        Ok(())
    }

    fn replace(&self, change: impl FnOnce(&mut Entries)) {
        if let Ok(mut entries) = self.entries.write() {
            change(&mut entries);
        }
    }

    fn forget_rendered(&self, touched: impl Fn(&str) -> bool) {
        if let Ok(mut rendered) = self.rendered.lock() {
            rendered.generation += 1;
            rendered.docs.retain(|(_, domain), _| !touched(domain));
        }
    }

    /// A document for a hosted domain, rendered once per profile version.
    pub fn rendered(
        &self,
        kind: &'static str,
        domain: &str,
        render: impl FnOnce(&ServerProfile) -> std::io::Result<Vec<u8>>,
    ) -> Option<std::io::Result<Bytes>> {
        let key = (kind, domain.to_owned());
        let generation = {
            let rendered = self.rendered.lock().ok()?;
            if let Some(doc) = rendered.docs.get(&key) {
                return Some(Ok(doc.clone()));
            }
            rendered.generation
        };
        let profile = self.profile_for_domain(domain)?;
        Some(render(&profile).map(|doc| {
            let doc = Bytes::from(doc);
            if let Ok(mut rendered) = self.rendered.lock() {
                if rendered.generation == generation {
                    if rendered.docs.len() >= MAX_RENDERED {
                        rendered.docs.clear();
                    }
                    rendered.docs.insert(key, doc.clone());
                }
            }
            doc
        }))
    }

    /// The profile of a hosted domain (A-label), `None` for a domain not hosted here.
    pub fn profile_for_domain(&self, domain: &str) -> Option<Arc<ServerProfile>> {
        let entries = self.entries.read().ok()?;
        let name = entries.domains.get(domain)?;
        entries.profiles.get(name).cloned()
    }

    /// The domain a hosted domain's users log in with: its target for an alias
    /// domain, else itself.
    pub fn login_domain(&self, domain: &str) -> String {
        self.entries
            .read()
            .ok()
            .and_then(|e| e.login_domains.get(domain).cloned())
            .unwrap_or_else(|| domain.to_owned())
    }

    pub fn profile(&self, name: &str) -> Option<Arc<ServerProfile>> {
        self.entries.read().ok()?.profiles.get(name).cloned()
    }

    /// How many domains it holds.
    pub fn domains(&self) -> usize {
        self.entries.read().map(|e| e.domains.len()).unwrap_or(0)
    }
}

impl Entries {
    fn put(&mut self, (domain, profile, target): profiles::DomainProfile) {
        if let Some(target) = target {
            self.login_domains.insert(domain.clone(), target);
        }
        self.domains.insert(domain, profile);
    }
}

async fn read_profiles(pool: &PgPool) -> anyhow::Result<HashMap<String, Arc<ServerProfile>>> {
    Ok(profiles::all(pool)
        .await?
        .iter()
        .map(|r| (r.name.clone(), Arc::new(r.profile())))
        .collect())
}
