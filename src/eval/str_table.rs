//! A read-only string → value table for the names a request brings: context keys, actions,
//! services.
//!
//! Every chain looks up each of its context keys and its hops' actions here, so a lookup is
//! built to touch as little as possible. A name is read once, as four words: its first
//! sixteen and last sixteen bytes (overlapping below 32 bytes; shorter names in overlapping
//! pieces). Two of
//! them and the length are the hash; all four and the length are the whole comparison for a
//! name of up to 32 bytes (nearly every key: `aws:principaltag/project` is 24), since a slot
//! stores the same four words, so a lookup reads no name but the one it is given. Longer
//! names compare their middle bytes as well. Open addressing with linear probing, at most
//! half full.
//!
//! Measured against `FxHashMap<Box<str>, _>` with the same inlining, on the standard
//! workload: 8% fewer instructions for the whole evaluation (10.35M against 11.29M for
//! 2,000 chains, callgrind; BENCHMARKS.md), with no call to `memcmp`.
//!
//! ```text
//! let table = StrTable::new([("aws:sourceip", 3u32), ("aws:calledvia", 7)]);
//! assert_eq!(table.get("aws:calledvia"), Some(7));
//! assert_eq!(table.get("aws:calledvi"), None);
//! ```

/// A name's four words: for a name of `n` ≥ 16 bytes, bytes `0..8`, `8..16`, `n-16..n-8`
/// and `n-8..n` (overlapping below 32 bytes); shorter names are read in overlapping pieces
/// without copying (with `n`, which the table also compares, the words fix the name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Words([u64; 4]);

impl Words {
    #[inline(always)]
    fn of(b: &[u8]) -> Words {
        let n = b.len();
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        if n >= 16 {
            Words([u64_at(0), u64_at(8), u64_at(n - 16), u64_at(n - 8)])
        } else if n >= 8 {
            Words([u64_at(0), u64_at(n - 8), 0, 0])
        } else if n >= 4 {
            Words([
                u64::from(u32_at(0)) | u64::from(u32_at(n - 4)) << 32,
                0,
                0,
                0,
            ])
        } else {
            let byte = |i: usize| b.get(i).map_or(0, |&c| u64::from(c));
            Words([byte(0) | byte(1) << 8 | byte(2) << 16, 0, 0, 0])
        }
    }
}

impl Words {
    /// The words with ASCII capitals lower-cased: a name's words lower-cased are its
    /// lowercase's words (the lowercase has the same length and byte positions).
    #[inline(always)]
    fn ascii_lowercase(self) -> Words {
        Words(self.0.map(ascii_lowercase))
    }
}

/// Lower-cases the ASCII capitals among eight bytes at once, leaving every other byte as it
/// is. Each byte's low seven bits plus `0x3f` reach `0x80` from `A` (0x41) up, plus `0x25`
/// from past `Z` (0x5b) up, without carrying into the next byte; a byte with its top bit
/// set is no capital.
#[inline(always)]
fn ascii_lowercase(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let low = x & LOW7;
    let from_a = low.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let past_z = low.wrapping_add(0x2525_2525_2525_2525);
    let capital = from_a & !past_z & !x & TOP;
    x | capital >> 2
}

#[derive(Clone, Debug)]
struct Slot<V> {
    words: Words,
    /// `usize::MAX` for an empty slot.
    len: usize,
    /// Where the name starts in [`StrTable::names`] (names over 32 bytes only, the only
    /// ones whose middle is compared).
    start: usize,
    value: V,
}

/// A fixed set of names and their values; see the module docs.
#[derive(Clone, Debug)]
pub(crate) struct StrTable<V> {
    slots: Vec<Slot<V>>,
    /// `64 - log2(slots.len())`: the hash's top bits pick the first slot.
    shift: u32,
    /// The names over 32 bytes, one after the other.
    names: String,
}

impl<V: Copy + Default> StrTable<V> {
    /// A table of `entries`; a name given twice keeps its first value.
    pub(crate) fn new<'a>(entries: impl IntoIterator<Item = (&'a str, V)>) -> Self {
        let entries: Vec<(&str, V)> = entries.into_iter().collect();
        let capacity = (entries.len() * 2).next_power_of_two().max(8);
        let empty = Slot {
            words: Words::default(),
            len: usize::MAX,
            start: 0,
            value: V::default(),
        };
        let mut table = StrTable {
            slots: vec![empty; capacity],
            shift: 64 - capacity.trailing_zeros(),
            // Only names over 32 bytes are kept: a shorter one is compared by its words.
            names: String::with_capacity(
                entries
                    .iter()
                    .map(|(name, _)| name.len())
                    .filter(|len| *len > 32)
                    .sum(),
            ),
        };
        for (name, value) in entries {
            // One probe: an equal name on the way is the one given before (kept), an empty
            // slot is where this one goes.
            let words = Words::of(name.as_bytes());
            let mut i = table.first_slot(&words, name.len());
            loop {
                let slot = &table.slots[i];
                if slot.len == usize::MAX {
                    break;
                }
                if slot.len == name.len()
                    && slot.words == words
                    && (name.len() <= 32 || table.name(slot) == name)
                {
                    break;
                }
                i = (i + 1) & (capacity - 1);
            }
            if table.slots[i].len != usize::MAX {
                continue;
            }
            table.slots[i] = Slot {
                words,
                len: name.len(),
                start: table.names.len(),
                value,
            };
            if name.len() > 32 {
                table.names.push_str(name);
            }
        }
        table
    }

    /// The name stored in an occupied slot of a name over 32 bytes.
    fn name(&self, slot: &Slot<V>) -> &str {
        &self.names[slot.start..slot.start + slot.len]
    }

    /// The bytes this table holds on the heap (slots and long names).
    pub(crate) fn heap_bytes(&self) -> usize {
        super::build::heap_bytes(&self.slots) + self.names.capacity()
    }

    #[inline]
    fn first_slot(&self, w: &Words, len: usize) -> usize {
        let h = (w.0[0] ^ w.0[3].rotate_left(29) ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> self.shift) as usize
    }

    /// The value of `name`, if the table has it.
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<V> {
        let b = name.as_bytes();
        self.find(b, Words::of(b), |stored, given| stored == given)
    }

    /// The value of `name`'s ASCII lowercase, if the table has it, without writing the
    /// lowercase anywhere: the name is read as for [`StrTable::get`] and its words are
    /// lower-cased in registers. For an ASCII `name` in a table of folded names (actions,
    /// services) this is the lookup of its fold (R-ACT-2); a name with other characters
    /// must be folded and given to `get`.
    #[inline(always)]
    pub(crate) fn get_ascii_lowercase(&self, name: &str) -> Option<V> {
        let b = name.as_bytes();
        self.find(b, Words::of(b).ascii_lowercase(), |stored, given| {
            stored.len() == given.len()
                && stored
                    .iter()
                    .zip(given)
                    .all(|(s, g)| *s == g.to_ascii_lowercase())
        })
    }

    /// The probe shared by both lookups: `words` are `b`'s (perhaps lower-cased), and
    /// `middle_eq` compares a stored name's middle with `b`'s for names over 32 bytes.
    #[inline(always)]
    fn find(&self, b: &[u8], words: Words, middle_eq: impl Fn(&[u8], &[u8]) -> bool) -> Option<V> {
        let n = b.len();
        let mask = self.slots.len() - 1;
        let mut i = self.first_slot(&words, n);
        loop {
            let slot = &self.slots[i & mask];
            if slot.len == usize::MAX {
                return None;
            }
            if slot.words == words
                && slot.len == n
                && (n <= 32
                    || middle_eq(
                        &self.names.as_bytes()[slot.start + 16..slot.start + n - 16],
                        &b[16..n - 16],
                    ))
            {
                return Some(slot.value);
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::XorShift;

    /// Against a `HashMap` on names that share prefixes, suffixes and lengths (the cases
    /// the hash alone cannot tell apart), including absent ones.
    #[test]
    fn agrees_with_hash_map() {
        let mut rng = XorShift(0xfeed);
        let alphabet = b"aa:/bz";
        let mut names = Vec::new();
        for _ in 0..400 {
            let len = rng.below(60);
            let mut s = String::from(if rng.below(2) == 0 { "aws:" } else { "" });
            s.extend((0..len).map(|_| alphabet[rng.below(alphabet.len())] as char));
            names.push(s);
        }
        let (present, absent) = names.split_at(200);
        let table = StrTable::new(present.iter().enumerate().map(|(i, s)| (s.as_str(), i)));
        let mut map = std::collections::HashMap::new();
        for (i, s) in present.iter().enumerate() {
            map.entry(s.as_str()).or_insert(i);
        }
        for s in names.iter() {
            assert_eq!(table.get(s), map.get(s.as_str()).copied(), "{s:?}");
        }
        assert!(absent.iter().any(|s| !map.contains_key(s.as_str())));
        assert_eq!(table.get(""), map.get("").copied());
    }

    /// `get_ascii_lowercase(s)` is `get(s.to_ascii_lowercase())` for ASCII names of every
    /// length around the word boundaries, with capitals anywhere, and every byte value is
    /// lower-cased as `u8::to_ascii_lowercase` does.
    #[test]
    fn ascii_lowercase_lookup_agrees_with_lowering_first() {
        let mut rng = XorShift(0xcafe);
        let alphabet = b"aAzZ@[`{:/09";
        let mut names = Vec::new();
        for len in 0..70 {
            for _ in 0..6 {
                let s: String = (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len())] as char)
                    .collect();
                names.push(s);
            }
        }
        let lowered: Vec<String> = names.iter().map(|s| s.to_ascii_lowercase()).collect();
        let table = StrTable::new(
            lowered
                .iter()
                .step_by(2)
                .enumerate()
                .map(|(i, s)| (s.as_str(), i)),
        );
        for (name, lower) in names.iter().zip(&lowered) {
            assert_eq!(
                table.get_ascii_lowercase(name),
                table.get(lower),
                "{name:?}"
            );
        }
        assert!(names
            .iter()
            .step_by(2)
            .any(|s| s != &s.to_ascii_lowercase()));
        for byte in 0..=255u8 {
            let word = u64::from_le_bytes([byte, 0, 0xff, byte, 0x7f, b'Q', byte, b'q']);
            let expected = word.to_le_bytes().map(|b| b.to_ascii_lowercase());
            assert_eq!(ascii_lowercase(word).to_le_bytes(), expected, "{byte:#x}");
        }
    }

    #[test]
    fn empty_table_finds_nothing() {
        let table: StrTable<u32> = StrTable::new([]);
        assert_eq!(table.get("aws:sourceip"), None);
    }
}
