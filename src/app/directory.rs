//! The in-memory directory that auto-configuration and client settings serve from:
//! every server profile and which profile each hosted domain uses. Mail clients ask
//! often and anonymously, so answering must not cost a query. The directory is
//! reloaded after every change this instance makes, before it answers, and on every
//! `NOTIFY mailpanel_directory` from any instance (and after a lost listener
//! connection, which may have missed some).

use bytes::Bytes;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::domain::profile::ServerProfile;
use crate::store::profiles;

#[derive(Default)]
struct Snapshot {
    profiles: HashMap<String, Arc<ServerProfile>>,
    /// A-label domain → its profile.
    domains: HashMap<String, Arc<ServerProfile>>,
    /// Alias domain → the domain its users log in with.
    login_domains: HashMap<String, String>,
}

/// Rendered auto-configuration documents, by kind and domain; emptied on every
/// reload, so a document never outlives the profile it was rendered from.
type Rendered = HashMap<(&'static str, String), Bytes>;

/// Bound on the rendered documents kept; past it the cache starts over.
const MAX_RENDERED: usize = 10_000;

#[derive(Default)]
pub struct Directory {
    snapshot: RwLock<Arc<Snapshot>>,
    rendered: Mutex<Rendered>,
}

impl Directory {
    pub async fn load(pool: &PgPool) -> anyhow::Result<Self> {
        let d = Self::default();
        d.reload(pool).await?;
        Ok(d)
    }

    /// Reads everything anew. O(domains): fine for the tens of thousands a provider
    /// hosts; a provider with millions would want per-domain updates instead.
    pub async fn reload(&self, pool: &PgPool) -> anyhow::Result<()> {
        let profiles: HashMap<String, Arc<ServerProfile>> = profiles::all(pool)
            .await?
            .iter()
            .map(|r| (r.name.clone(), Arc::new(r.profile())))
            .collect();
        let rows = profiles::domain_profiles(pool).await?;
        let mut domains = HashMap::with_capacity(rows.len());
        let mut login_domains = HashMap::new();
        for (domain, profile, target) in rows {
            if let Some(target) = target {
                login_domains.insert(domain.clone(), target);
            }
            if let Some(profile) = profiles.get(&profile) {
                domains.insert(domain, profile.clone());
            }
        }
        let snapshot = Arc::new(Snapshot {
            profiles,
            domains,
            login_domains,
        });
        if let Ok(mut current) = self.snapshot.write() {
            *current = snapshot;
        }
        if let Ok(mut rendered) = self.rendered.lock() {
            rendered.clear();
        }
        Ok(())
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// A document for a hosted domain, rendered once per profile version.
    pub fn rendered(
        &self,
        kind: &'static str,
        domain: &str,
        render: impl FnOnce(&ServerProfile) -> std::io::Result<Vec<u8>>,
    ) -> Option<std::io::Result<Bytes>> {
        let key = (kind, domain.to_owned());
        if let Some(doc) = self.rendered.lock().ok().and_then(|r| r.get(&key).cloned()) {
            return Some(Ok(doc));
        }
        let snapshot = self.snapshot();
        let profile = snapshot.domains.get(domain)?.clone();
        Some(render(&profile).map(|doc| {
            let doc = Bytes::from(doc);
            // Keep it only if no reload happened meanwhile (a reload swaps the
            // snapshot before it empties the cache).
            let current = Arc::ptr_eq(&snapshot, &self.snapshot());
            if let Some(mut rendered) = self.rendered.lock().ok().filter(|_| current) {
                if rendered.len() >= MAX_RENDERED {
                    rendered.clear();
                }
                rendered.insert(key, doc.clone());
            }
            doc
        }))
    }

    /// The profile of a hosted domain (A-label), `None` for a domain not hosted here.
    pub fn profile_for_domain(&self, domain: &str) -> Option<Arc<ServerProfile>> {
        self.snapshot().domains.get(domain).cloned()
    }

    /// The domain a hosted domain's users log in with: its target for an alias
    /// domain, else itself.
    pub fn login_domain(&self, domain: &str) -> String {
        self.snapshot()
            .login_domains
            .get(domain)
            .cloned()
            .unwrap_or_else(|| domain.to_owned())
    }

    pub fn profile(&self, name: &str) -> Option<Arc<ServerProfile>> {
        self.snapshot().profiles.get(name).cloned()
    }
}
