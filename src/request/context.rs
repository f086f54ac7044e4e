//! The request context: canonical key → single or multi value (R-CTX-1..5).
//!
//! Keys are canonicalised once, on the way in (R-CTX-2), so both evaluators look keys up
//! by exact comparison. Whether a key is multi-valued is a property of the key (R-CTX-3):
//! `aws:CalledVia` is `Multi` even with one value, which is what makes an unqualified
//! `StringEquals` on it false (R-COND-8).
//!
//! ```
//! use fastiam::request::{Context, ContextValue};
//! let mut ctx = Context::new();
//! ctx.insert("AWS:PrincipalTag/Team", ContextValue::Single("red".into())).unwrap();
//! ctx.insert("aws:CalledVia", ContextValue::Single("athena.amazonaws.com".into())).unwrap();
//! assert_eq!(ctx.get("aws:principaltag/team"), Some(&ContextValue::Single("red".into())));
//! assert!(matches!(ctx.get("aws:calledvia"), Some(ContextValue::Multi(_))));
//! ```

use crate::primitives::canonical_key;

/// One context value (R-CTX-1). Typed keys are stored as text and parsed on use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContextValue {
    Single(String),
    /// At least one value: an empty list is normalised away (R-CTX-4).
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values as a slice-like list (a `Single` is a one-element set, R-COND-10).
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::Single(v) => std::slice::from_ref(v),
            ContextValue::Multi(vs) => vs,
        }
    }
}

/// Canonical names of keys registered as multi-valued (R-CTX-3, R-HW-11).
pub const MULTI_VALUED_KEYS: &[&str] = &[
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
    "aws:resourceorgpaths",
    "aws:sourceorgpaths",
    "aws:tagkeys",
    "aws:vpceorgpaths",
    "g:calledvia",
    "g:tagkeys",
];

/// Whether a canonical key is registered as multi-valued.
pub fn is_multi_valued(canonical: &str) -> bool {
    MULTI_VALUED_KEYS.contains(&canonical)
}

/// Two input keys that are the same key after canonicalisation (R-CTX-2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCollision {
    pub canonical: String,
}

/// A request context: canonical key → value, sorted by key.
///
/// Kept as a sorted vector rather than a map so that an entry has a stable index: the
/// compiled interpreter refers to request values by `(context, index)` in its reusable
/// scratch space instead of borrowing them (no allocation per request).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Context {
    entries: Vec<(String, ContextValue)>,
}

impl Context {
    pub fn new() -> Self {
        Context::default()
    }

    /// Inserts a key given by a caller, canonicalising it and applying the registry:
    /// registered multi-valued keys become `Multi`, an empty `Multi` is dropped. Rejects a
    /// key that collides with one already given (R-CTX-2).
    pub fn insert(&mut self, key: &str, value: ContextValue) -> Result<(), KeyCollision> {
        let canonical = canonical_key(key);
        if self.contains(&canonical) {
            return Err(KeyCollision { canonical });
        }
        self.set(canonical, value);
        Ok(())
    }

    /// Sets a canonical key, replacing any value (used by derivations and hop overrides).
    pub fn set(&mut self, canonical: String, value: ContextValue) {
        let value = match value {
            ContextValue::Single(v) if is_multi_valued(&canonical) => ContextValue::Multi(vec![v]),
            ContextValue::Multi(vs) if vs.is_empty() => {
                self.remove(&canonical);
                return;
            }
            other => other,
        };
        // A key after the last one (a builder writing keys in order) is appended without a
        // search.
        let at = match self.entries.last() {
            Some((last, _)) if last.as_str() >= canonical.as_str() => self.position(&canonical),
            _ => Err(self.entries.len()),
        };
        match at {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (canonical, value)),
        }
    }

    /// Sets a single value under a canonical key.
    pub fn set_single(&mut self, canonical: &str, value: &str) {
        self.set(
            canonical.to_string(),
            ContextValue::Single(value.to_string()),
        );
    }

    /// Sets a single value unless the key is already present.
    pub fn set_default(&mut self, canonical: &str, value: &str) {
        if !self.contains(canonical) {
            self.set_single(canonical, value);
        }
    }

    /// Where a canonical key is (`Ok`) or would be inserted (`Err`).
    pub fn position(&self, canonical: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(k, _)| k.as_str().cmp(canonical))
    }

    /// Looks up a canonical key.
    pub fn get(&self, canonical: &str) -> Option<&ContextValue> {
        self.position(canonical).ok().map(|i| &self.entries[i].1)
    }

    /// The entry at `index` (in key order).
    pub fn entry(&self, index: usize) -> Option<(&str, &ContextValue)> {
        self.entries.get(index).map(|(k, v)| (k.as_str(), v))
    }

    /// Whether a canonical key is present.
    pub fn contains(&self, canonical: &str) -> bool {
        self.position(canonical).is_ok()
    }

    /// Removes a canonical key.
    pub fn remove(&mut self, canonical: &str) -> Option<ContextValue> {
        let i = self.position(canonical).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Empties the context and hands back its entries, in key order, so that a caller
    /// rebuilding a context for every request can reuse their buffers and give them back
    /// with [`Context::from_canonical_entries`] (the C ABI's scratch does).
    pub fn take_entries(&mut self) -> Vec<(String, ContextValue)> {
        std::mem::take(&mut self.entries)
    }

    /// A context from entries already in the form [`Context::insert`] produces: canonical
    /// keys (R-CTX-2) in strictly increasing order, registered multi-valued keys as
    /// `Multi` (R-CTX-3), no empty `Multi` (R-CTX-4).
    ///
    /// The form is checked only in debug builds: this is a per-request path. Entries not in
    /// this form make lookups miss keys; they cannot cause memory unsafety.
    pub fn from_canonical_entries(entries: Vec<(String, ContextValue)>) -> Context {
        debug_assert!(
            entries.windows(2).all(|w| w[0].0 < w[1].0),
            "keys strictly increasing"
        );
        debug_assert!(entries.iter().all(|(k, v)| {
            crate::primitives::fold::is_canonical_key(k)
                && match v {
                    ContextValue::Single(_) => !is_multi_valued(k),
                    ContextValue::Multi(vs) => !vs.is_empty(),
                }
        }));
        Context { entries }
    }

    /// Keeps only the keys for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|(k, _)| keep(k));
    }

    /// Entries in canonical key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
