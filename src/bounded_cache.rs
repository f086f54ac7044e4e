//! A map from text keys to shared values, bounded in entries and in bytes, that evicts the
//! least recently used entry when a new one would pass a bound.
//!
//! Why: `fastiam eval` keeps what it built from each distinct policy set of a case file (the
//! parsed set, the compiled program and its evaluator) so that a file of 20,000 cases over
//! one set builds it once. A hostile file whose every line carries a different set must not
//! make that memory grow with the file: the cache holds at most `max_entries` entries and
//! about `max_bytes` of them (each entry weighs its key's length plus what the caller says
//! its value weighs), and a file that cycles through more sets than fit is merely slower.
//! One entry heavier than the whole bound is still kept, alone: the line it came from was
//! that big already.
//!
//! Eviction scans the entries for the oldest use; it runs only on an insertion (a miss),
//! which costs a parse and a compilation, so a few dozen comparisons do not show.
//!
//! ```
//! use fastiam::bounded_cache::BoundedCache;
//! let mut cache = BoundedCache::new(2, 1 << 20);
//! cache.insert("a", 1, 0);
//! cache.insert("b", 2, 0);
//! assert_eq!(cache.get("a"), Some(&1)); // "a" is now the most recently used
//! cache.insert("c", 3, 0); // evicts "b"
//! assert_eq!(cache.get("b"), None);
//! assert_eq!(cache.get("a"), Some(&1));
//! assert_eq!(cache.get("c"), Some(&3));
//! ```

use rustc_hash::FxHashMap;

/// See the module documentation.
#[derive(Debug)]
pub struct BoundedCache<V> {
    /// Fx hashing: keys are whole policy texts (kilobytes each), and a crafted file that
    /// made them collide would cost at most `max_entries` comparisons a lookup.
    entries: FxHashMap<Box<str>, Entry<V>>,
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
    clock: u64,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    last_use: u64,
    weight: usize,
}

impl<V> BoundedCache<V> {
    /// A cache of at most `max_entries` entries (at least one) weighing about `max_bytes`.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        BoundedCache {
            entries: FxHashMap::default(),
            max_entries: max_entries.max(1),
            max_bytes,
            bytes: 0,
            clock: 0,
        }
    }

    /// The value under `key`, marked as just used.
    pub fn get(&mut self, key: &str) -> Option<&V> {
        self.clock += 1;
        let entry = self.entries.get_mut(key)?;
        entry.last_use = self.clock;
        Some(&entry.value)
    }

    /// Stores `value` under `key` (replacing any value there), first evicting the least
    /// recently used entries until it fits; `value_bytes` is what the value weighs besides
    /// its key.
    pub fn insert(&mut self, key: &str, value: V, value_bytes: usize) -> &V {
        self.clock += 1;
        if let Some(old) = self.entries.remove(key) {
            self.bytes -= old.weight;
        }
        let weight = key.len() + value_bytes;
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries || self.bytes + weight > self.max_bytes)
        {
            self.evict_oldest();
        }
        self.bytes += weight;
        let entry = self.entries.entry(key.into()).or_insert(Entry {
            value,
            last_use: self.clock,
            weight,
        });
        &entry.value
    }

    /// Takes the value under `key` out of the cache.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let entry = self.entries.remove(key)?;
        self.bytes -= entry.weight;
        Some(entry.value)
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.last_use)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            if let Some(e) = self.entries.remove(&key) {
                self.bytes -= e.weight;
            }
        }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the held entries weigh, keys included.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedCache;

    #[test]
    fn a_stream_of_distinct_keys_stays_within_both_bounds() {
        let mut cache = BoundedCache::new(8, 1000);
        for i in 0..10_000 {
            let key = format!("key-{i:05}");
            cache.insert(&key, i, 90);
            assert!(cache.len() <= 8, "{} entries", cache.len());
            assert!(cache.bytes() <= 1000, "{} bytes", cache.bytes());
            assert_eq!(cache.get(&key), Some(&i));
        }
        // 9 keys of 9 bytes + 90 each would pass 1,000 bytes: 10 at most fit by count,
        // 10 by bytes (990); the count bound of 8 decides.
        assert_eq!(cache.len(), 8);
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let mut cache = BoundedCache::new(3, usize::MAX);
        for key in ["a", "b", "c"] {
            cache.insert(key, key.to_string(), 0);
        }
        cache.get("a");
        cache.insert("d", "d".into(), 0);
        assert!(cache.get("b").is_none());
        cache.insert("e", "e".into(), 0);
        assert!(cache.get("c").is_none());
        assert!(cache.get("a").is_some() && cache.get("d").is_some());
    }

    #[test]
    fn an_entry_heavier_than_the_bound_is_kept_alone() {
        let mut cache = BoundedCache::new(4, 10);
        cache.insert("a", 1, 1);
        cache.insert("b", 2, 100);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get("b"), Some(&2));
        cache.insert("b", 3, 1);
        cache.insert("c", 4, 1);
        assert_eq!((cache.len(), cache.bytes()), (2, 4));
    }
}
