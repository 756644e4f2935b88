//! Small in-process caches for what almost every request reads and rarely changes:
//! API keys and accounts. Each instance forgets what any instance tells it changed
//! (Postgres `NOTIFY`, see `caches::spawn_listener`), and at once after its own
//! changes. A value read from the database is stored only if
//! no change was announced while it was being read (a generation counter), so a slow
//! reader cannot put back what a change just removed. Entries also expire after a
//! while, in case a notification was lost.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Cache<K, V> {
    generation: AtomicU64,
    entries: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    max_entries: usize,
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            ttl,
            max_entries,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (value, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Take this before reading the database; pass it to `insert`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a value read at `generation`, unless a change was announced since.
    pub fn insert(&self, generation: u64, key: K, value: V) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= self.max_entries {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets these keys.
    pub fn forget_keys(&self, keys: &[K]) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            for key in keys {
                entries.remove(key);
            }
        }
    }

    /// Forgets what `changed` says changed (a walk over every entry).
    pub fn forget(&self, changed: impl Fn(&K) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.retain(|k, _| !changed(k));
        }
    }

    /// Forgets everything: something changed.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_read_before_a_change_is_not_stored_after_it() {
        let cache: Cache<&str, u32> = Cache::new(Duration::from_secs(60), 10);
        let before = cache.generation();
        cache.clear();
        cache.insert(before, "k", 1);
        assert_eq!(cache.get(&"k"), None);
        cache.insert(cache.generation(), "k", 2);
        assert_eq!(cache.get(&"k"), Some(2));
        cache.clear();
        assert_eq!(cache.get(&"k"), None);
    }

    #[test]
    fn forgetting_one_key_keeps_the_others_but_not_a_value_read_meanwhile() {
        let cache: Cache<&str, u32> = Cache::new(Duration::from_secs(60), 10);
        cache.insert(cache.generation(), "a", 1);
        cache.insert(cache.generation(), "b", 2);
        let before = cache.generation();
        cache.forget(|k| *k == "a");
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b"), Some(2));
        cache.insert(before, "a", 1);
        assert_eq!(cache.get(&"a"), None);
        let before = cache.generation();
        cache.forget_keys(&["b"]);
        assert_eq!(cache.get(&"b"), None);
        cache.insert(before, "b", 2);
        assert_eq!(cache.get(&"b"), None);
    }

    #[test]
    fn entries_expire() {
        let cache: Cache<&str, u32> = Cache::new(Duration::ZERO, 10);
        cache.insert(cache.generation(), "k", 1);
        assert_eq!(cache.get(&"k"), None);
    }
}
