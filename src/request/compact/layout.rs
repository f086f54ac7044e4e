//! The one buffer of a [`CompactRequest`](super::CompactRequest): its parts as words, in
//! the order evaluation reads them.
//!
//! A request whose parts are separate vectors (text, entries, given keys, list values,
//! hops) is five allocations scattered over the heap: out of cache, five or six groups of
//! lines each missed on its own, which cost about as much again as all of a hop's
//! instructions (BENCHMARKS.md, tenth session). Here they are one `Vec<u32>`:
//!
//! ```text
//! [hops: 15 words each][given keys: 2 each][entries: 5 each][list values: 2 each][text bytes][key names' bytes, padded to a word]
//! ```
//!
//! Each part is a run of plain-word records (`bytemuck::Pod`), read back as a typed slice
//! with `bytemuck` (which checks size and alignment: a `u32` buffer is aligned for every
//! record). The text's bytes are copied from the builder's two `String`s (values, then key
//! names), so they are UTF-8. The key names come last because a request resolved against
//! its evaluator never reads them: laid among the values (as they were), they spread the
//! values a hop reads over more cache lines (BENCHMARKS.md, `diet`).
//!
//! ```ignore
//! // (private) after `packed.pack(&parts)?`:
//! assert_eq!(packed.split().text, parts.text);
//! assert_eq!(packed.split().hops.len(), parts.hops.len());
//! ```

use super::{CompactHop, Entry, GivenKey};
use crate::request::packed::Span;
use bytemuck::Pod;

/// The parts of a request as the builder writes them, each in its own reused buffer, before
/// [`Layout::pack`] lays them out in the request's one buffer.
#[derive(Clone, Debug, Default)]
pub(super) struct Parts {
    pub text: String,
    /// The context keys' canonical names, laid after `text` in the buffer (an entry's key
    /// span is into this string until `entries_in_order` shifts it past the text): a
    /// request resolved against its evaluator never reads them, so the values it reads
    /// are not spread over lines that hold only names.
    pub keys: String,
    pub entries: Vec<Entry>,
    pub given: Vec<GivenKey>,
    pub values: Vec<Span>,
    pub hops: Vec<CompactHop>,
}

impl Parts {
    pub fn clear(&mut self) {
        self.text.clear();
        self.keys.clear();
        self.entries.clear();
        self.given.clear();
        self.values.clear();
        self.hops.clear();
    }
}

/// A request's one buffer and where its parts are. The two change together, only in
/// [`Packed::pack`] (the fields are private to this module): the text's safety rests on it
/// ([`Packed::text`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Packed {
    buf: Vec<u32>,
    at: Layout,
}

/// How many records each part holds (the text: bytes); the parts follow each other from
/// word 0. Counts, not ends, so that reading a part back divides nothing (a record's
/// words are a constant).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Layout {
    hops: u32,
    given: u32,
    entries: u32,
    values: u32,
    text_len: u32,
}

/// A hop record's words.
const HOP_WORDS: usize = 15;

/// The buffer would pass `u32::MAX` words.
#[derive(Debug)]
pub(super) struct TooLarge;

impl Packed {
    /// Writes `parts` into the buffer (cleared first; its capacity is kept, so a reused
    /// buffer allocates nothing once large enough). On an error the request is empty.
    pub fn pack(&mut self, parts: &Parts) -> Result<(), TooLarge> {
        self.at = Layout::default();
        match Self::pack_into(&mut self.buf, parts) {
            Ok(at) => {
                self.at = at;
                Ok(())
            }
            Err(e) => {
                self.buf.clear();
                Err(e)
            }
        }
    }

    fn pack_into(buf: &mut Vec<u32>, parts: &Parts) -> Result<Layout, TooLarge> {
        buf.clear();
        let place = |buf: &Vec<u32>| u32::try_from(buf.len()).map_err(|_| TooLarge);
        let count = |n: usize| u32::try_from(n).map_err(|_| TooLarge);
        buf.extend_from_slice(bytemuck::cast_slice(&parts.hops));
        buf.extend_from_slice(bytemuck::cast_slice(&parts.given));
        buf.extend_from_slice(bytemuck::cast_slice(&parts.entries));
        buf.extend_from_slice(bytemuck::cast_slice(&parts.values));
        let text = place(buf)?;
        let (values, keys) = (parts.text.as_bytes(), parts.keys.as_bytes());
        let len = values.len() + keys.len();
        let text_len = u32::try_from(len).map_err(|_| TooLarge)?;
        buf.resize(buf.len() + len.div_ceil(4), 0);
        place(buf)?;
        let bytes = &mut bytemuck::cast_slice_mut::<u32, u8>(&mut buf[text as usize..])[..len];
        let (at_values, at_keys) = bytes.split_at_mut(values.len());
        at_values.copy_from_slice(values);
        at_keys.copy_from_slice(keys);
        Ok(Layout {
            hops: count(parts.hops.len())?,
            given: count(parts.given.len())?,
            entries: count(parts.entries.len())?,
            values: count(parts.values.len())?,
            text_len,
        })
    }

    /// The whole buffer (for prefetching and measuring).
    #[inline]
    pub fn words(&self) -> &[u32] {
        &self.buf
    }

    /// The parts, found by cutting the buffer in order: a multiply-add and one comparison a
    /// part, all on the one path (a layout `pack` made always fits; one that did not would
    /// read as an empty request, never out of bounds).
    #[inline]
    pub fn split(&self) -> Split<'_> {
        self.try_split().unwrap_or_default()
    }

    #[inline(always)]
    fn try_split(&self) -> Option<Split<'_>> {
        let words = self.buf.as_slice();
        let (hops, words) = take::<_, HOP_WORDS>(words, self.at.hops)?;
        let (given, words) = take::<_, 2>(words, self.at.given)?;
        let (entries, words) = take::<_, 5>(words, self.at.entries)?;
        let (values, words) = take::<_, 2>(words, self.at.values)?;
        let bytes = bytemuck::cast_slice::<u32, u8>(words);
        let bytes = bytes.get(..self.at.text_len as usize)?;
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: `buf` and `at` are private to this module and set together only by
        // `pack` (which empties both on an error): `pack_into` wrote the four parts of
        // `at`'s counts, then the `text_len` bytes of two `String`s one after the other (each
        // UTF-8, so their concatenation is), so the bytes
        // after those parts are a `str`'s. (`Default`: both empty; `Clone`: both copied;
        // a cut that failed, which `pack` never allows, gives the empty split.) Checking
        // with `from_utf8` instead would cost a pass over the text a request.
        #[allow(unsafe_code)]
        let text = unsafe { std::str::from_utf8_unchecked(bytes) };
        Some(Split {
            hops,
            given,
            entries,
            values,
            text,
        })
    }

    #[inline]
    pub fn text(&self) -> &str {
        self.split().text
    }
}

/// A request's parts, borrowed from its buffer ([`Packed::split`]).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Split<'a> {
    pub hops: &'a [CompactHop],
    pub given: &'a [GivenKey],
    pub entries: &'a [Entry],
    pub values: &'a [Span],
    pub text: &'a str,
}

/// Cuts `n` records of `W` words off the front of `words`: the records and the rest, or
/// `None` if there are fewer words (never, for a layout `pack` made).
#[inline(always)]
fn take<T: Pod, const W: usize>(words: &[u32], n: u32) -> Option<(&[T], &[u32])> {
    const { assert!(std::mem::size_of::<T>() == 4 * W) };
    // From a u32, `n * W` cannot overflow; cast where the part's length is known to be
    // `n * W` words, so that the size check folds away and nothing is divided.
    let (part, rest) = words.split_at_checked(n as usize * W)?;
    Some((bytemuck::try_cast_slice(part).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str, hops: usize, entries: usize, values: usize) -> Parts {
        let span = |i: usize| Span::new(i as u32, 1);
        // Half the text as values, half as key names: the buffer holds them in a row.
        let cut = (0..=text.len() / 2)
            .rev()
            .find(|&i| text.is_char_boundary(i));
        let (values_text, names) = text.split_at(cut.unwrap_or(0));
        Parts {
            text: values_text.to_string(),
            keys: names.to_string(),
            entries: (0..entries)
                .map(|i| Entry {
                    key: span(i),
                    value: span(i + 1),
                    multi: (i % 2) as u32,
                })
                .collect(),
            given: (0..entries)
                .map(|i| GivenKey {
                    id: i as u16,
                    start: 2 * i as u32,
                    len: 3,
                })
                .collect(),
            values: (0..values).map(span).collect(),
            hops: (0..hops)
                .map(|i| {
                    let mut h: CompactHop = bytemuck::Zeroable::zeroed();
                    h.action = span(i);
                    h.resource_colons = [i as u16; 5];
                    h
                })
                .collect(),
        }
    }

    /// Every part reads back as written, for texts of every length modulo the word (and
    /// multi-byte characters at the end), empty parts included, into a reused buffer.
    #[test]
    fn every_part_reads_back_as_packed() {
        let mut packed = Packed::default();
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "é",
            "aé",
            "x€",
            &"long".repeat(300),
        ] {
            for (hops, entries, values) in [(0, 0, 0), (1, 0, 0), (1, 3, 2), (9, 40, 17)] {
                let p = parts(text, hops, entries, values);
                packed.pack(&p).unwrap();
                let read = packed.split();
                assert_eq!(read.text, text);
                assert_eq!(read.hops.len(), hops);
                for (a, b) in read.hops.iter().zip(&p.hops) {
                    assert_eq!((a.action, a.resource_colons), (b.action, b.resource_colons));
                }
                assert_eq!(read.given, p.given.as_slice());
                let keys = |e: &[Entry]| {
                    e.iter()
                        .map(|e| (e.key, e.value, e.multi))
                        .collect::<Vec<_>>()
                };
                assert_eq!(keys(read.entries), keys(&p.entries));
                assert_eq!(read.values, p.values.as_slice());
                let words = hops * HOP_WORDS + entries * (2 + 5) + values * 2;
                assert_eq!(packed.words().len(), words + text.len().div_ceil(4));
            }
        }
    }
}
