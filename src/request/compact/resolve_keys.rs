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
use super::layout::Parts;
use super::{Entry, GivenKey, Resolver, NO_ID};
use crate::request::packed::Span;

impl RequestBuilder {
    /// Sorts the given entries by context and key, rejects a key given twice in a context
    /// (R-CTX-2), resolves each key and sets each context's range. The hops are built.
    /// `Ok(false)`: a key's id or an entry's place did not fit its [`GivenKey`] (see
    /// `narrow`), so the given keys are not to be used.
    pub(super) fn entries_in_order(
        &mut self,
        resolver: Option<&dyn Resolver>,
    ) -> Result<bool, BuildError> {
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
        // The OR of every id + 1 and every value length or list entry (`narrowed`).
        let (mut ids, mut lens) = (0u32, 0u32);
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
            let id = resolver.map_or(NO_ID, |r| r.key_id(key));
            let (start, len) = match (entry.multi != 0, entry.value.start()) {
                (true, _) => (GivenKey::LIST, at),
                // Only an empty value at the very end of a 4 GiB text starts there: the
                // empty text anywhere else reads the same.
                (false, GivenKey::LIST) => (0, 0),
                (false, start) => (start, entry.value.len()),
            };
            ids |= id.wrapping_add(1);
            lens |= len;
            // Cut to the narrow fields here, checked in bulk below (`narrowed`).
            parts.given.push(GivenKey {
                start,
                id: id as u16,
                len: len as u16,
            });
        }
        req.context = (context[0], context[1]);
        Ok(narrowed(parts, resolver, ids, lens))
    }
}

/// Whether the given keys written as `entries_in_order` writes them hold their ids and
/// values exactly, making them so where a value is too long: `ids` and `lens` are the OR
/// of every key's `id + 1` (wrapping: [`NO_ID`] counts 0) and every `GivenKey::len` as
/// computed before narrowing. What does not fit is never cut: a single value longer than
/// `u16::MAX` bytes is read through its entry, like a list; an id past `u16::MAX - 1`, an
/// entry index past `u16::MAX` or a resolver with more keys than [`GivenKey::NO_KEY`] (so
/// that "no such key" could be a slot) make the answer `false`, and the request's keys are
/// then looked up by name.
///
/// Checked in bulk, not key by key: the builder writes every given key of every request,
/// and a check a key cost about 20 instructions a key in `profile_eval 1 2000 build`
/// (BENCHMARKS.md, `layout3`).
#[inline]
fn narrowed(parts: &mut Parts, resolver: Option<&dyn Resolver>, ids: u32, lens: u32) -> bool {
    const MAX: u32 = u16::MAX as u32;
    if resolver.is_some_and(|r| r.key_count() > usize::from(GivenKey::NO_KEY)) || ids > MAX {
        return false;
    }
    lens <= MAX || through_entries(parts)
}

/// [`narrowed`]'s rare case: a value's length or a list's entry index past `u16::MAX`.
#[cold]
#[inline(never)]
fn through_entries(parts: &mut Parts) -> bool {
    let given = parts.given.iter_mut().zip(&parts.entries);
    for (at, (g, e)) in given.enumerate() {
        let long = e.multi == 0 && e.value.len() > u32::from(u16::MAX);
        if e.multi != 0 || long {
            let Ok(at) = u16::try_from(at) else {
                return false;
            };
            (g.start, g.len) = (GivenKey::LIST, at);
        }
    }
    true
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
        fn key_count(&self) -> usize {
            64
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
                assert_eq!(g.id, key.len() as u16);
                let place = match g.start {
                    GivenKey::LIST => {
                        lists += 1;
                        compact.entry_value(g.len.into())
                    }
                    start => {
                        singles += 1;
                        Some(ValueRef::Single(compact.span_text(start, g.len.into())))
                    }
                };
                assert_eq!(values(place), values(req.context_value(ctx, e)), "{key}");
            }
        }
        assert_eq!((singles, lists), (3, 2));
    }

    /// A resolver of `count` keys answering `id` for the key `probe`, [`NO_ID`] for the
    /// others, under token 9.
    struct Ids {
        count: usize,
        probe: &'static str,
        id: u32,
    }

    impl Resolver for Ids {
        fn token(&self) -> u64 {
            9
        }
        fn key_id(&self, canonical: &str) -> u32 {
            if canonical == self.probe {
                self.id
            } else {
                NO_ID
            }
        }
        fn key_count(&self) -> usize {
            self.count
        }
        fn action_entry(&self, _: &str, _: &mut String) -> u32 {
            NO_ID
        }
    }

    /// Ids and key counts at and past the narrow id's limit: what fits is kept exactly
    /// ("no such key" as [`GivenKey::NO_KEY`]); an id of 65,535 (which would read as "no
    /// such key") or more, a resolver contradicting its count, or one of more than 65,535
    /// keys (where [`GivenKey::NO_KEY`] could be a slot) leave no given keys, never a cut id.
    #[test]
    fn ids_past_the_narrow_field_leave_the_keys_to_be_looked_up() {
        let mut b = RequestBuilder::new();
        // (keys the resolver has, the probe's id, the given keys' ids if kept)
        let cases: &[(usize, u32, Option<[u16; 2]>)] = &[
            (65_535, 65_534, Some([GivenKey::NO_KEY, 65_534])),
            (65_535, 0, Some([GivenKey::NO_KEY, 0])),
            (65_535, NO_ID, Some([GivenKey::NO_KEY; 2])),
            (65_535, 65_535, None),
            (65_535, 65_536, None),
            (65_535, 0x1_0005, None),
            (65_536, 0, None),
            (65_536, 65_534, None),
            (1 << 20, 5, None),
        ];
        for &(count, id, want) in cases {
            let resolver = Ids {
                count,
                probe: "t:probe",
                id,
            };
            b.clear().principal("anonymous").unwrap();
            b.context("a:other", "1").context("t:probe", "yes");
            b.hop("s3:GetObject", "*");
            let req = b.finish_for(&resolver).unwrap();
            let given = req.given_keys(0, 9).map(|g| [g[0].id, g[1].id]);
            assert_eq!(given, want, "{count} keys, id {id}");
            assert_eq!(
                req.resolved_action(0, 9),
                Some(NO_ID),
                "actions stay resolved"
            );
            assert_eq!(
                req.context_keys(0).collect::<Vec<_>>(),
                ["a:other", "t:probe"]
            );
        }
    }

    /// Single values at and past 65,535 bytes, and lists and long values at and past
    /// entry 65,535: a value too long for `len` is read through its entry; an entry past
    /// the narrow index leaves no given keys. Every kept key reads as its entry's value.
    #[test]
    fn values_past_the_narrow_fields_go_through_their_entries() {
        let mut b = RequestBuilder::new();
        let resolver = Ids {
            count: 10,
            probe: "",
            id: NO_ID,
        };
        for len in [0, 1, 65_534, 65_535, 65_536, 200_000] {
            for fillers in [0, 3, 65_534, 65_535, 65_536] {
                b.clear().principal("anonymous").unwrap();
                for i in 0..fillers {
                    b.context(&format!("f:{i:05}"), "x");
                }
                // Entries `fillers`, `fillers + 1` and `fillers + 2` in key order.
                b.context("z:a", &"v".repeat(len));
                b.context_list("z:b", ["p", "q"]);
                b.context("z:c", "w");
                b.hop("s3:GetObject", "*");
                let req = b.finish_for(&resolver).unwrap();
                // The list, entry `fillers + 1`, is read through its entry.
                let fits = fillers < 65_535;
                let what = format!("value of {len} bytes after {fillers} entries");
                let Some(given) = req.given_keys(0, 9) else {
                    assert!(!fits, "{what}");
                    continue;
                };
                assert!(fits, "{what}");
                for (e, g) in given.iter().enumerate().skip(fillers) {
                    let through_entry = e == fillers + 1 || (e == fillers && len > 65_535);
                    let place = match g.start {
                        GivenKey::LIST => req.entry_value(g.len.into()),
                        start => Some(ValueRef::Single(req.span_text(start, g.len.into()))),
                    };
                    assert_eq!(g.start == GivenKey::LIST, through_entry, "{what}: {e}");
                    assert_eq!(values(place), values(req.context_value(0, e)), "{what}");
                }
            }
        }
    }
}
