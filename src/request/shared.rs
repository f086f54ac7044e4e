//! Policy sets shared by the cases of a file: each distinct `policies` text is parsed once.
//!
//! A case file usually asks thousands of questions of a few policy sets, each line carrying
//! its set in full. [`parse_case_sharing`](super::parse_case_sharing) finds the raw text of
//! a line's `policies` member with a quick scan ([`crate::json::top_level_member`]); when
//! this cache has seen that text (with the same loading options, R-GEN-6 and R-HW-17, which
//! change what a text means), the line's JSON tree is built without it and the set parsed
//! before is reused, under an [`id`](SharedPolicies::id) that names it for as long as the
//! process runs (so an engine can keep what it built from it: the compiled program).
//!
//! The texts are compared byte for byte: two sets that differ only in whitespace are two
//! entries, parsed twice but each correctly. The cache is bounded (a
//! [`BoundedCache`]): a file with a new set on every line parses every line as it did
//! without the cache, with memory that does not grow with the file.
//!
//! ```
//! use fastiam::request::{parse_case_sharing, PolicySetCache};
//! let mut cache = PolicySetCache::new();
//! let line = |action: &str| format!(
//!     r#"{{"id":"x","principal":"anonymous","policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}]}},"chain":[{{"action":"{action}","resource":"*"}}]}}"#);
//! let a = parse_case_sharing(&line("s3:GetObject"), "a.jsonl:1", None, &mut cache).unwrap();
//! let b = parse_case_sharing(&line("s3:PutObject"), "a.jsonl:2", None, &mut cache).unwrap();
//! assert_eq!(a.policies.id, b.policies.id); // parsed once
//! assert_eq!(b.policies.set.identity.len(), 1);
//! assert!(b.case.chain.policies.identity.is_empty()); // the set lives in the cache
//! ```

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::chain::PolicySet;
use crate::bounded_cache::BoundedCache;
use crate::policy::Mode;

/// A policy set parsed once for every case whose `policies` text is the same.
#[derive(Debug)]
pub struct SharedPolicies {
    /// Unique in the process: two texts, or one text under two loading options, never
    /// share an id.
    pub id: u64,
    /// The set, without resource policies (those come with each case's hops).
    pub set: PolicySet,
}

/// The loading options a policies text is read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadOptions {
    pub mode: Mode,
    pub huawei_policy_variables: bool,
}

/// What one `policies` text gave.
#[derive(Debug)]
struct TextEntry {
    /// Whether the text holds a Huawei `Version` (the dialect guess of CASES.md).
    huawei: bool,
    /// One parsed set per loading options the text was read with.
    sets: Vec<(ReadOptions, Rc<SharedPolicies>)>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct PolicySetCache {
    texts: BoundedCache<TextEntry>,
}

/// At most this many distinct `policies` texts are kept …
const MAX_TEXTS: usize = 64;
/// … and about this many bytes of them, counting a parsed set as [`PARSED_WEIGHT`] times
/// its text.
const MAX_BYTES: usize = 256 << 20;
const PARSED_WEIGHT: usize = 8;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Default for PolicySetCache {
    fn default() -> Self {
        PolicySetCache::new()
    }
}

impl PolicySetCache {
    /// An empty cache with the default bounds (64 texts, about 256 MiB).
    pub fn new() -> Self {
        PolicySetCache::with_bounds(MAX_TEXTS, MAX_BYTES)
    }

    /// An empty cache of at most `max_texts` texts weighing about `max_bytes`.
    pub fn with_bounds(max_texts: usize, max_bytes: usize) -> Self {
        PolicySetCache {
            texts: BoundedCache::new(max_texts, max_bytes),
        }
    }

    /// How many distinct texts are held.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether no text is held.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Whether `text` parsed before (as a whole: it is valid JSON), and then whether it
    /// holds a Huawei `Version`.
    pub(crate) fn huawei(&mut self, text: &str) -> Option<bool> {
        self.texts.get(text).map(|e| e.huawei)
    }

    /// The set `text` gave under `options`.
    pub(crate) fn get(&mut self, text: &str, options: ReadOptions) -> Option<Rc<SharedPolicies>> {
        let entry = self.texts.get(text)?;
        entry
            .sets
            .iter()
            .find(|(o, _)| *o == options)
            .map(|(_, s)| s.clone())
    }

    /// Keeps the set `text` gave under `options`, under a new id.
    pub(crate) fn insert(
        &mut self,
        text: &str,
        options: ReadOptions,
        set: PolicySet,
        huawei: bool,
    ) -> Rc<SharedPolicies> {
        let shared = Rc::new(SharedPolicies {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            set,
        });
        let mut sets = match self.texts.remove(text) {
            Some(entry) => entry.sets,
            None => Vec::new(),
        };
        sets.push((options, shared.clone()));
        let weight = text.len() * PARSED_WEIGHT * sets.len();
        self.texts.insert(text, TextEntry { huawei, sets }, weight);
        shared
    }
}
