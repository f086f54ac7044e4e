//! The registry of well-known context keys: the keys the engine derives or the FAS rules
//! touch, numbered once per process.
//!
//! A [`CompactRequest`](super::CompactRequest) built without an evaluator still resolves
//! these keys when it is built: each entry whose key is registered carries its registry id,
//! and an evaluator maps registry ids to its own key ids with one table read (built with
//! the evaluator), so evaluating such a request hashes only the keys nobody registered
//! (tags, service keys). The registry is the same for every evaluator, which is what makes
//! its ids valid across evaluators, unlike key ids.
//!
//! ```
//! use fastiam::request::compact::registry;
//! let id = registry::id("aws:sourceip").unwrap();
//! assert_eq!(registry::keys()[id as usize], "aws:sourceip");
//! assert_eq!(registry::id("aws:principaltag/team"), None);
//! ```

use std::sync::OnceLock;

use crate::policy::Dialect;
use crate::request::{
    called_via_keys, forwarded_hop_sets, MULTI_VALUED_KEYS, PRINCIPAL_DEFAULT_KEYS,
};

/// Global keys requests commonly carry beyond those the engine derives (canonical).
const COMMON_KEYS: &[&str] = &[
    "aws:currenttime",
    "aws:epochtime",
    "aws:federatedprovider",
    "aws:multifactorauthage",
    "aws:multifactorauthpresent",
    "aws:principalorgid",
    "aws:referer",
    "aws:requestedregion",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:securetransport",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:tokenissuetime",
    "aws:useragent",
    "aws:vpcsourceip",
    "g:currenttime",
    "g:mfapresent",
    "g:requestedregion",
    "g:securetransport",
    "g:sourceip",
    "g:sourcevpce",
];

/// The registered keys, sorted; a key's registry id is its index.
pub fn keys() -> &'static [&'static str] {
    static KEYS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys: Vec<&'static str> = COMMON_KEYS
            .iter()
            .chain(MULTI_VALUED_KEYS)
            .chain(PRINCIPAL_DEFAULT_KEYS)
            .copied()
            .collect();
        for dialect in [Dialect::Aws, Dialect::Huawei] {
            let cv = called_via_keys(dialect);
            keys.extend([cv.list, cv.first, cv.last]);
            keys.extend(forwarded_hop_sets(dialect).iter().map(|(k, _)| *k));
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    })
}

/// The registry id of a canonical key.
pub fn id(canonical: &str) -> Option<u32> {
    keys().binary_search(&canonical).ok().map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_key_is_canonical_and_found_by_its_id() {
        assert!(keys().len() > 40, "{}", keys().len());
        for (i, key) in keys().iter().enumerate() {
            assert!(crate::primitives::fold::is_canonical_key(key), "{key}");
            assert_eq!(id(key), Some(i as u32));
        }
        assert_eq!(id("aws:SourceIp"), None, "lookups take canonical keys");
        assert_eq!(id("s3:prefix"), None);
    }
}
