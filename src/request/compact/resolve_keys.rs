//! The context entries put in order and resolved against a [`Resolver`] when built.
//!
//! Entries are given in any order, to any context (0: the request's, k + 1: hop k's);
//! `finish` sorts them by context and canonical key, rejects a key given twice in one
//! context (R-CTX-2), sets each context's range of entries and gives each entry a
//! [`GivenKey`]: its key's id in the resolver's key table (or [`NO_ID`] without one) and
//! where its value is, so that the interpreter reads a key with no lookup by name.
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::{BuildError, RequestView};
//! let mut b = RequestBuilder::new();
//! b.principal("anonymous").unwrap();
//! b.context("s3:prefix", "a").context("aws:SourceIp", "10.0.0.1");
//! b.hop("s3:GetObject", "*");
//! let req = b.finish().unwrap();
//! assert_eq!(req.context_keys(0).collect::<Vec<_>>(), ["aws:sourceip", "s3:prefix"]);
//! b.clear().principal("anonymous").unwrap();
//! b.context("s3:prefix", "a").context("S3:Prefix", "b").hop("s3:GetObject", "*");
//! assert!(matches!(b.finish(), Err(BuildError::KeyCollision { context: 0, .. })));
//! ```

use super::build_error::BuildError;
use super::builder::RequestBuilder;
use super::{Entry, GivenKey, Resolver, NO_ID};
use crate::request::packed::Span;

impl RequestBuilder {
    /// Sorts the given entries by context and key, rejects a key given twice in a context
    /// (R-CTX-2), resolves each key and sets each context's range. The hops are built.
    pub(super) fn entries_in_order(
        &mut self,
        resolver: Option<&dyn Resolver>,
    ) -> Result<(), BuildError> {
        let RequestBuilder {
            req, parts, given, ..
        } = self;
        let names = parts.keys.as_str();
        // The keys' spans are of `names` as set; in the request they are of the whole
        // text, where the names follow the values (module `layout`): shifted by this.
        let shift = u32::try_from(parts.text.len()).map_err(|_| BuildError::TooLarge)?;
        // Compared as bytes (the order of `str`), without the character-boundary checks of
        // cutting `str`s: the spans are the builder's own.
        let bytes = |s: Span| {
            let start = s.start() as usize;
            names
                .as_bytes()
                .get(start..start + s.len() as usize)
                .unwrap_or_default()
        };
        let order = |(ca, a): &(u32, Entry), (cb, b): &(u32, Entry)| {
            ca.cmp(cb).then_with(|| bytes(a.key).cmp(bytes(b.key)))
        };
        // Callers often give keys in order (a C caller's from a sorted map, `fill_from`'s):
        // checking costs one comparison an entry, where sorting costs several and its set-up.
        if !given.is_sorted_by(|a, b| order(a, b).is_le()) {
            given.sort_unstable_by(order);
        }
        let mut previous: Option<(u32, &str)> = None;
        let mut context = [0u32; 2];
        for (ctx, entry) in given.iter() {
            let key = entry.key.of(names);
            if previous == Some((*ctx, key)) {
                return Err(BuildError::KeyCollision {
                    context: *ctx as usize,
                    key: key.to_string(),
                });
            }
            previous = Some((*ctx, key));
            let range: &mut [u32; 2] = match *ctx {
                0 => &mut context,
                k => &mut parts.hops[k as usize - 1].context,
            };
            let at = parts.entries.len() as u32;
            if range[1] == 0 {
                *range = [at, at];
            }
            range[1] = at + 1;
            let shifted = entry.key.start().checked_add(shift);
            let shifted = shifted.ok_or(BuildError::TooLarge)?;
            parts.entries.push(Entry {
                key: Span::new(shifted, entry.key.len()),
                ..*entry
            });
            // A request built without a resolver has its keys looked up by name at
            // evaluation (a registry of well-known keys cost more to search here, about 280
            // instructions a key, than the lookup it saved, about 65: BENCHMARKS.md,
            // "Compact requests").
            let (start, len) = match (entry.multi != 0, entry.value.start()) {
                (true, _) => (GivenKey::LIST, at),
                // Only an empty value at the very end of a 4 GiB text starts there: the
                // empty text anywhere else reads the same.
                (false, GivenKey::LIST) => (0, 0),
                (false, start) => (start, entry.value.len()),
            };
            parts.given.push(GivenKey {
                id: resolver.map_or(NO_ID, |r| r.key_id(key)),
                start,
                len,
            });
        }
        req.context = (context[0], context[1]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::compact::fill::tests::{request, values};
    use crate::request::{RequestView, ValueRef};

    /// Resolves every key to its length and every action to nothing, under token 7.
    struct Lengths;

    impl Resolver for Lengths {
        fn token(&self) -> u64 {
            7
        }
        fn key_id(&self, canonical: &str) -> u32 {
            canonical.len() as u32
        }
        fn action_entry(&self, _: &str, _: &mut String) -> u32 {
            NO_ID
        }
    }

    /// Built against a resolver, each context's given keys carry the resolver's ids and
    /// say where the values are: a single value's span reads as the entry's value, a
    /// list's entry as its list; for another token there are none.
    #[test]
    fn given_keys_place_every_value() {
        let req = request(
            r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
            "context":{"aws:SourceIp":"10.0.0.1","aws:TagKeys":["a","b"],"s3:x":""},
            "chain":[{"action":"s3:GetObject","resource":"*","context":{"s3:prefix":"p/"}},
                     {"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"*",
                      "context":{"kms:EncryptionContextKeys":["k"]}}]}"#,
        );
        let mut b = RequestBuilder::new();
        b.fill_from(&req);
        let compact = b.finish_for(&Lengths).unwrap();
        let (mut singles, mut lists) = (0, 0);
        for ctx in 0..req.hop_count() + 1 {
            assert!(compact.given_keys(ctx, 8).is_none());
            let given = compact.given_keys(ctx, 7).unwrap();
            let keys: Vec<&str> = compact.context_keys(ctx).collect();
            assert_eq!(given.len(), keys.len(), "{ctx}");
            for (e, (g, key)) in given.iter().zip(&keys).enumerate() {
                assert_eq!(g.id, key.len() as u32);
                let place = match g.start {
                    GivenKey::LIST => {
                        lists += 1;
                        compact.entry_value(g.len)
                    }
                    start => {
                        singles += 1;
                        Some(ValueRef::Single(compact.span_text(start, g.len)))
                    }
                };
                assert_eq!(values(place), values(req.context_value(ctx, e)), "{key}");
            }
        }
        assert_eq!((singles, lists), (3, 2));
    }
}
