//! Comparisons of short texts in machine words, without a call to `memcmp`.
//!
//! The residual steps compare a hop's strings with literals of a few to a few dozen bytes:
//! an ARN head (`arn:aws:s3:::`), a glob's literal (`data-`), a condition's literal
//! (`us-east-1`). `==` and `starts_with` on `&str` call `memcmp` once the lengths agree, and
//! `str::find` builds a two-way searcher for every call: in the seventh session's profile
//! those were ~270,000 instructions of `memcmp` and ~140,000 of searcher set-up over
//! 2,274 hops. Here equal lengths compare as overlapping 8-byte (or 4-byte) words loaded
//! from both sides, and a short needle is found by testing each place its first byte
//! occurs.
//!
//! ```text
//! same(b"us-east-1", b"us-east-1"): words [0..8) and [1..9) of each, compared
//! find(b"data-raw/k", b"/"): the first `/`, at 8
//! ```

/// Whether `a` and `b` hold the same bytes.
#[inline]
pub(in crate::eval) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
    }
}

/// Whether `text` starts with `prefix`.
#[inline]
pub(in crate::eval) fn starts_with(text: &str, prefix: &str) -> bool {
    prefix_of(text.as_bytes(), prefix.as_bytes())
}

/// Whether `t` starts with `p`.
#[inline]
pub(in crate::eval) fn prefix_of(t: &[u8], p: &[u8]) -> bool {
    t.len() >= p.len() && same(&t[..p.len()], p)
}

/// Whether `text` ends with `suffix`.
#[inline]
pub(in crate::eval) fn ends_with(text: &str, suffix: &str) -> bool {
    let (t, s) = (text.as_bytes(), suffix.as_bytes());
    t.len() >= s.len() && same(&t[t.len() - s.len()..], s)
}

/// Where `needle` (not empty) first occurs in `hay`: at a place of its first byte (found 8
/// bytes at a time, [`byte`]) where the rest compares equal in words. A needle of up to 8
/// bytes costs at most 8 compares a place (linear in `hay`); a longer one, after
/// [`LONG_TRIES`] places that did not match, goes to `memchr`'s `memmem` search, linear
/// too — so a text built to repeat the needle's first byte cannot make it quadratic.
/// Bytes, not `str`: the glob matcher cuts the text at the places found, and byte slices
/// test no character boundaries (a match of a UTF-8 needle in UTF-8 text starts and ends
/// on boundaries anyway).
#[inline]
pub(in crate::eval) fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    let Some(&first) = n.first() else {
        return Some(0);
    };
    if n.len() == 1 {
        return byte(h, first);
    }
    let last = h.len().checked_sub(n.len())?;
    let mut at = 0;
    let mut tries = 0;
    while at <= last {
        at += byte(&h[at..=last], first)?;
        if same(&h[at..at + n.len()], n) {
            return Some(at);
        }
        tries += 1;
        if n.len() > 8 && tries == LONG_TRIES {
            return find_long(&h[at..], n).map(|i| at + i);
        }
        at += 1;
    }
    None
}

/// How many places a needle longer than 8 bytes is compared at before [`find`] hands the
/// rest of the text to the two-way search.
const LONG_TRIES: u32 = 4;

/// `memchr::memmem::find`, out of line: its searcher's frame would otherwise be set up by
/// every caller of [`find`], short needles too.
#[inline(never)]
#[cold]
fn find_long(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Where byte `b` first occurs in `hay`, 8 bytes at a time.
#[inline]
fn byte(hay: &[u8], b: u8) -> Option<usize> {
    let mut at = 0;
    while at + 8 <= hay.len() {
        let x = word(hay, at) ^ u64::from_le_bytes([b; 8]);
        // The high bit of each zero byte of `x` (exact: no borrow crosses a zero byte
        // into a lower one, and the lowest set bit is what is read).
        let zeros = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
        if zeros != 0 {
            return Some(at + zeros.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    hay[at..].iter().position(|&c| c == b).map(|i| at + i)
}

#[inline]
fn word(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
}

#[inline]
fn half(s: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of a set of texts of lengths 0 to 20, differing at each place: the word
    /// compares answer as the byte ones.
    #[test]
    fn answers_as_the_standard_comparisons() {
        let base = "arn:aws:s3:::data-raw";
        let mut texts: Vec<String> = (0..=base.len()).map(|n| base[..n].to_string()).collect();
        for n in [1, 3, 4, 5, 7, 8, 9, 12, 16, 17, 21] {
            for at in 0..n {
                let mut t = base.as_bytes()[..n].to_vec();
                t[at] ^= 0x01;
                texts.push(String::from_utf8(t).unwrap());
            }
        }
        texts.extend(["/".into(), "a/".into(), "//x/".into(), "é".into()]);
        // Long needles met at several places of their first byte, before and after
        // `find` hands the rest to the two-way search.
        let repeated = "arn:arn:arn:arn:arn:arn:aws:s3:::data-raw-data-raw-data-raw-";
        texts.extend([repeated.into(), "arn:aws:s3:::data-raw-".into()]);
        texts.extend((1..=8).map(|n| repeated[4 * n..].to_string()));
        texts.extend([
            "éaéaéaéaéaéaéb".into(),
            "éaéaéb".into(),
            "éaéaéaéaéaéb".into(),
        ]);
        for a in &texts {
            for b in &texts {
                assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
                assert_eq!(starts_with(a, b), a.starts_with(b.as_str()), "{a:?} {b:?}");
                assert_eq!(ends_with(a, b), a.ends_with(b.as_str()), "{a:?} {b:?}");
                if !b.is_empty() {
                    assert_eq!(
                        find(a.as_bytes(), b.as_bytes()),
                        a.find(b.as_str()),
                        "{a:?} {b:?}"
                    );
                }
            }
        }
    }
}
