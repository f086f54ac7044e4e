//! Case folding and context-key canonicalisation (R-OPS-3, R-CTX-2, R-ACT-2).
//!
//! Every case-insensitive comparison in fastiam (`...IgnoreCase` operators, action matching,
//! tag suffixes of context keys) goes through [`fold`], which is *defined* as Rust's
//! `str::to_lowercase` (full Unicode lowercase mapping, R-OPS-3). [`fold_eq`] is the
//! allocation-free comparison the compiled evaluator uses on the hot path; it agrees exactly with
//! `fold(a) == fold(b)`.
//!
//! ```
//! use fastiam::primitives::fold::{canonical_key, fold, fold_eq};
//! assert_eq!(fold("PreProd"), "preprod");
//! assert!(fold_eq("PreProd", "preprod"));
//! assert_eq!(canonical_key("AWS:PrincipalTag/CostCenter"), "aws:principaltag/costcenter");
//! ```

/// The shared case-fold function (R-OPS-3): full Unicode lowercase, exactly
/// `str::to_lowercase` (including the contextual final-sigma rule `Σ` → `ς`).
///
/// This is the only primitive that allocates; compare with [`fold_eq`] instead where possible.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Appends `fold(s)` to `out` without allocating (after `out` has grown to size): the
/// compiled interpreter folds each request action into a reused buffer. Equal to
/// [`fold`] on every input; a string with `Σ` (whose lowercase depends on its position)
/// takes the allocating path. An ASCII string (every action name) is checked and
/// lower-cased eight bytes at a time, as request keys are (byte by byte it cost ~15
/// instructions more an action, BENCHMARKS.md, tenth session).
pub fn fold_into(s: &str, out: &mut String) {
    if is_ascii(s.as_bytes()) {
        push_ascii_lowercase(s, out);
    } else if s.contains('Σ') {
        out.push_str(&fold(s));
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// `fold(a) == fold(b)` without allocating (R-OPS-3, R-OPS-1 `StringEqualsIgnoreCase`).
///
/// Compares the per-character `char::to_lowercase` streams. `str::to_lowercase` differs from
/// that stream only for `Σ` (U+03A3, final-sigma rule, which needs Unicode properties that `std`
/// does not expose), so when either side contains `Σ` this falls back to the allocating
/// definition. Both-ASCII inputs take an `eq_ignore_ascii_case` fast path.
pub fn fold_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    if has_capital_sigma(a) || has_capital_sigma(b) {
        return fold(a) == fold(b);
    }
    lower_chars(a).eq(lower_chars(b))
}

/// Canonical form of a context-key name (R-CTX-2).
///
/// The part before the first `/` (prefix and base name) is lower-cased with ASCII lower-casing
/// (non-ASCII characters there are kept as they are); the part after the first `/` (the tag
/// suffix, which may contain further `/`) is lower-cased with [`fold`], applied to the suffix on
/// its own. `AWS:PrincipalTag/CostCenter` → `aws:principaltag/costcenter`.
pub fn canonical_key(key: &str) -> String {
    match key.split_once('/') {
        None => key.to_ascii_lowercase(),
        Some((head, tail)) => {
            let mut out = head.to_ascii_lowercase();
            out.push('/');
            out.push_str(&fold(tail));
            out
        }
    }
}

/// Appends `canonical_key(key)` to `out`, allocating only when `out` must grow (or the tag
/// suffix holds `Σ`, as [`fold_into`]): the C ABI canonicalises every request key into a
/// reused buffer.
pub fn canonical_key_into(key: &str, out: &mut String) {
    if is_ascii(key.as_bytes()) {
        // Head and suffix both lower-case by ASCII rules then: one copy, one pass.
        push_ascii_lowercase(key, out);
        return;
    }
    let (head, tail) = match key.split_once('/') {
        None => (key, None),
        Some((head, tail)) => (head, Some(tail)),
    };
    let start = out.len();
    out.push_str(head);
    out[start..].make_ascii_lowercase();
    if let Some(tail) = tail {
        out.push('/');
        fold_into(tail, out);
    }
}

/// Appends `ascii` (all ASCII) to `out`, lower-cased eight bytes at a time: every request key
/// goes through here, and lower-casing byte by byte cost 2 to 3 instructions a byte, some 900
/// a standard-workload chain (callgrind, BENCHMARKS.md "C ABI at Rust's cost").
///
/// Private, and called only on a string just checked to be ASCII (`canonical_key_into`,
/// `fold_into`).
#[allow(unsafe_code)]
#[inline]
fn push_ascii_lowercase(ascii: &str, out: &mut String) {
    debug_assert!(is_ascii(ascii.as_bytes()));
    // SAFETY: only ASCII bytes are appended (the caller checked; tests assert it) and
    // lower-casing ASCII gives ASCII, so `out` holds UTF-8 whenever it is used as a string
    // again, even if something here panicked half-way.
    let bytes = unsafe { out.as_mut_vec() };
    let start = bytes.len();
    bytes.extend_from_slice(ascii.as_bytes());
    lowercase_ascii_words(&mut bytes[start..]);
}

/// Lower-cases ASCII `bytes` in place, a word at a time; the last word overlaps the one before
/// (lower-casing twice is lower-casing once).
fn lowercase_ascii_words(bytes: &mut [u8]) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let lower = |at: usize, bytes: &mut [u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        let w = u64::from_ne_bytes(w);
        // Bytes are below 0x80, so no addition carries into the next byte: the high bit of
        // `w + (0x80 - c)` says `byte >= c`.
        let at_least_a = w.wrapping_add(ONES * (0x80 - b'A' as u64));
        let past_z = w.wrapping_add(ONES * (0x80 - b'Z' as u64 - 1));
        let upper = at_least_a & !past_z & (ONES * 0x80);
        bytes[at..at + 8].copy_from_slice(&(w | (upper >> 2)).to_ne_bytes());
    };
    let n = bytes.len();
    if n < 8 {
        bytes.make_ascii_lowercase();
        return;
    }
    let mut at = 0;
    while at + 8 < n {
        lower(at, bytes);
        at += 8;
    }
    lower(n - 8, bytes);
}

/// Whether `bytes` are all ASCII: eight bytes at a time, the last eight (or four) read
/// overlapping the ones before, so that a request's short strings (10 to 60 bytes) take a
/// handful of instructions each. `<[u8]>::is_ascii` aligns its reads first, which costs
/// more than the check on strings this short (callgrind, BENCHMARKS.md "C ABI at Rust's
/// cost"). Used on every context key and every string a C caller gives.
#[inline(always)]
pub fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let n = bytes.len();
    let word = |at: usize| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    if n >= 8 {
        let mut any = word(n - 8);
        let mut at = 0;
        while at + 8 < n {
            any |= word(at);
            at += 8;
        }
        return any & HIGH == 0;
    }
    if n >= 4 {
        let half = |at: usize| -> u32 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[at..at + 4]);
            u32::from_ne_bytes(w)
        };
        return (half(0) | half(n - 4)) & 0x8080_8080 == 0;
    }
    bytes.iter().all(|b| *b < 0x80)
}

/// `canonical_key(key) == key`, without allocating (R-CTX-2).
///
/// The head must contain no ASCII uppercase letter and every character of the suffix must be its
/// own lowercase mapping (`Σ` never is: it always lowercases to `σ` or `ς`).
pub fn is_canonical_key(key: &str) -> bool {
    let (head, tail) = key.split_once('/').unwrap_or((key, ""));
    !head.bytes().any(|b| b.is_ascii_uppercase()) && tail.chars().all(is_own_lowercase)
}

/// Whether `c` lowercases to exactly itself.
fn is_own_lowercase(c: char) -> bool {
    let mut lower = c.to_lowercase();
    lower.next() == Some(c) && lower.next().is_none()
}

/// Whether `s` contains U+03A3 GREEK CAPITAL LETTER SIGMA.
fn has_capital_sigma(s: &str) -> bool {
    s.contains('\u{03A3}')
}

/// The per-character lowercase stream of `s` (equal to `fold(s)` when `s` has no `Σ`).
fn lower_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Building blocks for generated strings: ASCII, Turkish dotted I, sigmas, sharp s, Kelvin,
    /// combining dot, word separators.
    const ATOMS: &[&str] = &[
        "a", "A", "k", "K", "\u{212A}", "i", "I", "\u{0130}", "\u{0307}", "\u{03A3}", "\u{03C3}",
        "\u{03C2}", "\u{00DF}", "SS", "ss", "\u{1E9E}", " ", "/", "'", "\u{00C9}", "\u{00E9}", "1",
    ];

    #[test]
    fn ascii_keys_lowercase_as_std_at_every_length_and_place() {
        for len in 0..24 {
            for at in 0..len.max(1) {
                for b in 0u8..0x80 {
                    let mut key = vec![b'K'; len];
                    if let Some(byte) = key.get_mut(at) {
                        *byte = b;
                    }
                    let key = String::from_utf8(key).unwrap();
                    let mut out = String::from("x");
                    push_ascii_lowercase(&key, &mut out);
                    assert_eq!(out, format!("x{}", key.to_ascii_lowercase()), "{key:?}");
                }
            }
        }
    }

    #[test]
    fn is_ascii_agrees_with_std_at_every_length_and_place() {
        for len in 0..40 {
            let ascii = vec![b'a'; len];
            assert!(is_ascii(&ascii), "{len}");
            for at in 0..len {
                for high in [0x80u8, 0xC3, 0xFF] {
                    let mut bytes = ascii.clone();
                    bytes[at] = high;
                    assert_eq!(is_ascii(&bytes), bytes.is_ascii(), "{len} {at}");
                    assert!(!is_ascii(&bytes), "{len} {at} {high:#x}");
                }
            }
        }
    }

    use crate::test_rng::XorShift;

    fn random_string(rng: &mut XorShift) -> String {
        let len = rng.below(5);
        (0..len).map(|_| ATOMS[rng.below(ATOMS.len())]).collect()
    }

    #[test]
    fn fold_is_to_lowercase() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("PreProd", "preprod"),
            ("\u{0130}", "i\u{0307}"),
            ("\u{212A}", "k"),
            ("\u{00DF}", "\u{00DF}"),
            ("\u{03A3}", "\u{03C3}"),
            ("A\u{03A3}", "a\u{03C2}"),
            ("A\u{03A3}B", "a\u{03C3}b"),
        ];
        for (input, want) in cases {
            assert_eq!(fold(input), *want, "fold({input:?})");
        }
    }

    #[test]
    fn fold_eq_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("PreProd", "preprod", true),
            ("preprod", "storage", false),
            ("k", "\u{212A}", true),
            ("K", "\u{212A}", true),
            ("i\u{0307}", "\u{0130}", true),
            ("i", "\u{0130}", false),
            ("\u{00DF}", "ss", false),
            ("\u{00DF}", "\u{1E9E}", true),
            ("A\u{03A3}", "a\u{03C2}", true),
            ("A\u{03A3}", "a\u{03C3}", false),
            ("\u{03A3}A", "\u{03C3}a", true),
            ("\u{00C9}t\u{00E9}", "\u{00E9}T\u{00C9}", true),
            ("abc", "abcd", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(fold_eq(a, b), *want, "fold_eq({a:?}, {b:?})");
            assert_eq!(fold_eq(b, a), *want, "fold_eq({b:?}, {a:?})");
            assert_eq!(fold(a) == fold(b), *want, "definition for ({a:?}, {b:?})");
        }
    }

    #[test]
    fn fold_eq_agrees_with_definition() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut equal_pairs = 0;
        for _ in 0..20_000 {
            let a = random_string(&mut rng);
            // Bias towards equal-after-fold pairs by sometimes deriving b from a.
            let b = match rng.below(3) {
                0 => a.to_uppercase(),
                1 => fold(&a),
                _ => random_string(&mut rng),
            };
            let want = fold(&a) == fold(&b);
            equal_pairs += usize::from(want);
            assert_eq!(fold_eq(&a, &b), want, "fold_eq({a:?}, {b:?})");
        }
        assert!(
            equal_pairs > 1000,
            "generator should produce many equal pairs"
        );
    }

    /// The premise of `fold_eq`: apart from `Σ`, `str::to_lowercase` is the per-char mapping,
    /// whatever the neighbouring characters (checked for every Unicode scalar value).
    #[test]
    fn str_lowercase_is_per_char_except_capital_sigma() {
        let mut buf = String::new();
        for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
            if c == '\u{03A3}' {
                continue;
            }
            for context in ["", "A", "\u{03A3}"] {
                buf.clear();
                buf.push_str(context);
                buf.push(c);
                buf.push_str(context);
                let per_char: String = lower_chars(&buf).collect();
                if context != "\u{03A3}" {
                    assert_eq!(fold(&buf), per_char, "{buf:?}");
                }
                buf.insert_str(0, "aws:tag/");
                assert_eq!(
                    is_canonical_key(&buf),
                    canonical_key(&buf) == buf,
                    "{buf:?}"
                );
            }
        }
    }

    #[test]
    fn canonical_key_table() {
        let cases: &[(&str, &str)] = &[
            ("AWS:PrincipalTag/CostCenter", "aws:principaltag/costcenter"),
            ("aws:SourceIp", "aws:sourceip"),
            ("g:ResourceTag/A/B/C", "g:resourcetag/a/b/c"),
            ("aws:RequestTag/\u{0130}", "aws:requesttag/i\u{0307}"),
            ("aws:RequestTag/X\u{03A3}", "aws:requesttag/x\u{03C2}"),
            ("aws:RequestTag/\u{03A3}", "aws:requesttag/\u{03C3}"),
            ("\u{00C9}:K\u{00C9}y", "\u{00C9}:k\u{00C9}y"),
            ("aws:TagKeys/", "aws:tagkeys/"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_key(input), *want, "canonical_key({input:?})");
            let mut into = String::new();
            canonical_key_into(input, &mut into);
            assert_eq!(into, *want, "canonical_key_into({input:?})");
            assert!(is_canonical_key(want), "is_canonical_key({want:?})");
        }
    }

    #[test]
    fn is_canonical_key_agrees_with_definition() {
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        for _ in 0..20_000 {
            let key = random_string(&mut rng);
            let want = canonical_key(&key) == key;
            assert_eq!(is_canonical_key(&key), want, "is_canonical_key({key:?})");
            let canon = canonical_key(&key);
            assert_eq!(canonical_key(&canon), canon, "idempotent on {key:?}");
            let mut into = String::from("prefix");
            canonical_key_into(&key, &mut into);
            assert_eq!(
                into,
                format!("prefix{canon}"),
                "canonical_key_into({key:?})"
            );
        }
    }
}

#[cfg(test)]
mod fold_into_tests {
    use super::*;

    #[test]
    fn fold_into_equals_fold() {
        for s in [
            "",
            "S3:GetObject",
            "İSTANBUL",
            "ΣΑΣ",
            "ßẞ",
            "Kelvin \u{212A}",
            "mixed Ǆ ǅ",
            "athena:StartQueryExecution",
            "IAM:PassRole",
            "@[`{AZaz@[`{AZaz@",
            "KMS:Decrypt\u{7f}",
        ] {
            let mut out = String::from("prefix:");
            fold_into(s, &mut out);
            assert_eq!(out, format!("prefix:{}", fold(s)), "{s}");
        }
    }
}
