//! The registry of well-known context keys: the keys the engine derives or the FAS rules
//! touch, numbered by their place in one static table.
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

/// The registered keys (canonical, sorted); a key's registry id is its index. Every key
/// the engine derives or the FAS rules touch is here (checked by the tests), with the
/// global keys requests commonly carry. A static table: no initialisation, nothing to free.
const KEYS: &[&str] = &[
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:currenttime",
    "aws:epochtime",
    "aws:federatedprovider",
    "aws:multifactorauthage",
    "aws:multifactorauthpresent",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalisawsservice",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principaltype",
    "aws:referer",
    "aws:requestedregion",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:securetransport",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:tagkeys",
    "aws:tokenissuetime",
    "aws:useragent",
    "aws:userid",
    "aws:username",
    "aws:viaawsservice",
    "aws:vpceorgpaths",
    "aws:vpcsourceip",
    "g:calledvia",
    "g:calledviafirst",
    "g:calledvialast",
    "g:currenttime",
    "g:domainid",
    "g:mfapresent",
    "g:principalaccount",
    "g:principaltype",
    "g:principalurn",
    "g:requestedregion",
    "g:securetransport",
    "g:sourceip",
    "g:sourcevpce",
    "g:tagkeys",
    "g:username",
    "g:viaservice",
];

/// The registered keys, sorted; a key's registry id is its index.
pub fn keys() -> &'static [&'static str] {
    KEYS
}

/// The registry id of a canonical key.
pub fn id(canonical: &str) -> Option<u32> {
    keys().binary_search(&canonical).ok().map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Dialect;
    use crate::request::{
        called_via_keys, forwarded_hop_sets, MULTI_VALUED_KEYS, PRINCIPAL_DEFAULT_KEYS,
    };

    /// The keys the engine derives or the FAS rules touch are all registered.
    #[test]
    fn the_derived_keys_are_registered() {
        let mut derived: Vec<&str> = MULTI_VALUED_KEYS
            .iter()
            .chain(PRINCIPAL_DEFAULT_KEYS)
            .copied()
            .collect();
        for dialect in [Dialect::Aws, Dialect::Huawei] {
            let cv = called_via_keys(dialect);
            derived.extend([cv.list, cv.first, cv.last]);
            derived.extend(forwarded_hop_sets(dialect).iter().map(|(k, _)| *k));
        }
        derived.extend(["aws:currenttime", "g:currenttime", "aws:federatedprovider"]);
        for key in derived {
            assert!(id(key).is_some(), "{key} is not registered");
        }
    }

    #[test]
    fn every_registered_key_is_canonical_and_found_by_its_id() {
        assert!(keys().windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(keys().len() > 40, "{}", keys().len());
        for (i, key) in keys().iter().enumerate() {
            assert!(crate::primitives::fold::is_canonical_key(key), "{key}");
            assert_eq!(id(key), Some(i as u32));
        }
        assert_eq!(id("aws:SourceIp"), None, "lookups take canonical keys");
        assert_eq!(id("s3:prefix"), None);
    }
}
