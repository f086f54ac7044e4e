//! Strings that realise every combination of pattern matches: one witness per class.
//!
//! A replay decides whether an answer could change with a value the log does not carry
//! ([`super::certainty`]). The policies compare that value with patterns — `StringEquals`
//! literals, `StringLike` globs, prefixes, `ArnLike` ARNs, resource ARNs — and the decision
//! depends on the value only through *which* of those patterns it matches. So it is enough to
//! try one value for each combination of matches that some value can produce; and to be
//! exact, every such combination must be found, including the ones no single pattern
//! suggests (`"ab"` is the only kind of value that matches both `a*` and `*b`).
//!
//! [`witnesses`] finds them all by walking the product of the patterns' automata breadth
//! first: a state is the set of positions each pattern can be at after the characters read so
//! far; every reachable state is a class, and the path to it is its witness. Characters that
//! appear in no pattern all behave alike, so the walk reads the patterns' own characters
//! (with their case variants where a pattern ignores case) and one character found in none.
//!
//! ```
//! use fastiam::replay::witness::{witnesses, Sym};
//! let glob = |s: &str| -> Vec<Sym> { s.chars().map(|c| match c {
//!     '*' => Sym::Star { colon: true }, c => Sym::Lit(c) }).collect() };
//! let found = witnesses(&[glob("a*"), glob("*b")], 1000).unwrap();
//! // Four classes: neither, only `a*`, only `*b`, both.
//! assert_eq!(found.len(), 4);
//! assert!(found.iter().any(|(v, _)| *v == 0b11));
//! ```

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

/// One symbol of a pattern's automaton.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    /// This character exactly.
    Lit(char),
    /// A character whose lowercase is this character's lowercase (R-OPS-3 per character).
    Fold(char),
    /// Any one character; `colon: false` inside an ARN or URN segment, which has none.
    One { colon: bool },
    /// Any run of characters (empty included); `colon: false` inside a segment.
    Star { colon: bool },
}

/// The longest pattern the walk takes (positions are bits of a `u128`).
const MAX_LEN: usize = 127;

/// Every class of values over `patterns`, as `(bitmask of the patterns matched, witness)`,
/// one per distinct mask. `None` when the walk would exceed `max_states` product states,
/// when there are more than 64 patterns or a pattern longer than 127 symbols, or when a
/// case-insensitive character lowercases to several (the caller then cannot prove an answer
/// certain, and says so).
pub fn witnesses(patterns: &[Vec<Sym>], max_states: usize) -> Option<Vec<(u64, String)>> {
    if patterns.len() > 64 || patterns.iter().any(|p| p.len() > MAX_LEN) {
        return None;
    }
    let alphabet = alphabet(patterns)?;
    let start: Vec<u128> = patterns.iter().map(|p| closure(p, 1)).collect();
    let mut seen: FxHashMap<Vec<u128>, ()> = FxHashMap::default();
    let mut classes: FxHashMap<u64, String> = FxHashMap::default();
    let mut queue = VecDeque::new();
    seen.insert(start.clone(), ());
    queue.push_back((start, String::new()));
    while let Some((state, text)) = queue.pop_front() {
        let mask = accepting(patterns, &state);
        classes.entry(mask).or_insert_with(|| text.clone());
        for &c in &alphabet {
            let next: Vec<u128> = patterns
                .iter()
                .zip(&state)
                .map(|(p, &s)| step(p, s, c))
                .collect();
            if seen.contains_key(&next) {
                continue;
            }
            if seen.len() >= max_states {
                return None;
            }
            seen.insert(next.clone(), ());
            let mut longer = text.clone();
            longer.push(c);
            queue.push_back((next, longer));
        }
    }
    let mut out: Vec<(u64, String)> = classes.into_iter().collect();
    out.sort();
    Some(out)
}

/// The characters worth reading: every literal, the case variants of case-insensitive
/// ones, `:` (the separator of segmented patterns) and one character no pattern names.
fn alphabet(patterns: &[Vec<Sym>]) -> Option<Vec<char>> {
    let mut chars = vec![':'];
    for sym in patterns.iter().flatten() {
        match *sym {
            Sym::Lit(c) => chars.push(c),
            Sym::Fold(c) => {
                let lower = single(c.to_lowercase())?;
                chars.push(c);
                chars.push(lower);
                if let Some(upper) = single(lower.to_uppercase()) {
                    chars.push(upper);
                }
                // Characters outside ASCII whose lowercase is an ASCII or Latin letter.
                chars.extend(match lower {
                    'k' => Some('\u{212A}'),
                    'å' => Some('\u{212B}'),
                    'ω' => Some('\u{2126}'),
                    _ => None,
                });
            }
            Sym::One { .. } | Sym::Star { .. } => {}
        }
    }
    chars.sort_unstable();
    chars.dedup();
    let fresh = ['~', '#', 'q', '\u{E000}', '\u{E001}']
        .into_iter()
        .find(|c| !chars.contains(c) && !chars.iter().any(|l| fold_char_eq(*l, *c)))?;
    chars.push(fresh);
    Some(chars)
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

fn fold_char_eq(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Positions reachable from `set` without reading: past any `Star`.
fn closure(pattern: &[Sym], mut set: u128) -> u128 {
    for (i, sym) in pattern.iter().enumerate() {
        if set & (1 << i) != 0 && matches!(sym, Sym::Star { .. }) {
            set |= 1 << (i + 1);
        }
    }
    set
}

/// The positions after reading `c` from the positions `set`.
fn step(pattern: &[Sym], set: u128, c: char) -> u128 {
    let mut next = 0u128;
    for (i, sym) in pattern.iter().enumerate() {
        if set & (1 << i) == 0 {
            continue;
        }
        match *sym {
            Sym::Lit(l) if l == c => next |= 1 << (i + 1),
            Sym::Fold(l) if fold_char_eq(l, c) => next |= 1 << (i + 1),
            Sym::One { colon } if colon || c != ':' => next |= 1 << (i + 1),
            Sym::Star { colon } if colon || c != ':' => next |= 1 << i,
            _ => {}
        }
    }
    closure(pattern, next)
}

fn accepting(patterns: &[Vec<Sym>], state: &[u128]) -> u64 {
    patterns
        .iter()
        .zip(state)
        .enumerate()
        .fold(0, |mask, (i, (p, s))| {
            if s & (1 << p.len()) != 0 {
                mask | 1 << i
            } else {
                mask
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{glob_match, parse_wildcards};

    fn glob(s: &str) -> Vec<Sym> {
        s.chars()
            .map(|c| match c {
                '*' => Sym::Star { colon: true },
                '?' => Sym::One { colon: true },
                c => Sym::Lit(c),
            })
            .collect()
    }

    /// Every mask some string over a small alphabet produces is found, and every witness
    /// produces its mask (checked with the shared glob matcher).
    #[test]
    fn witnesses_are_exactly_the_realisable_masks() {
        let sets: &[&[&str]] = &[
            &["a*", "*b"],
            &["a*b", "ab", "*"],
            &["?", "??", "a?", "*a*"],
            &["x*y*z", "*y*", "xyz", "x?z"],
            &["", "*", "a"],
        ];
        for patterns in sets {
            let autos: Vec<Vec<Sym>> = patterns.iter().map(|p| glob(p)).collect();
            let found = witnesses(&autos, 10_000).unwrap();
            let mask_of = |s: &str| -> u64 {
                patterns.iter().enumerate().fold(0, |m, (i, p)| {
                    let pieces: Vec<_> = parse_wildcards(p).collect();
                    if glob_match(&pieces, s) {
                        m | 1 << i
                    } else {
                        m
                    }
                })
            };
            for (mask, w) in &found {
                assert_eq!(mask_of(w), *mask, "{patterns:?}: witness {w:?}");
            }
            // Brute force: every string of length ≤ 4 over the patterns' letters and one other.
            let letters = ['a', 'b', 'x', 'y', 'z', '~'];
            let mut all = vec![String::new()];
            for _ in 0..4 {
                let longer: Vec<String> = all
                    .iter()
                    .flat_map(|s| letters.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                all.extend(longer);
            }
            all.sort();
            all.dedup();
            for s in &all {
                let m = mask_of(s);
                assert!(
                    found.iter().any(|(f, _)| *f == m),
                    "{patterns:?}: {s:?} has mask {m:b}, not found"
                );
            }
        }
    }

    #[test]
    fn case_folding_and_segments() {
        let fold: Vec<Sym> = "Ab".chars().map(Sym::Fold).collect();
        let exact = glob("ab");
        let found = witnesses(&[fold, exact], 1000).unwrap();
        let masks: Vec<u64> = found.iter().map(|(m, _)| *m).collect();
        // "ab" matches both, "AB" only the folded one; nothing matches only the exact one.
        assert!(masks.contains(&0b11) && masks.contains(&0b01) && !masks.contains(&0b10));
        // A star that cannot cross a colon.
        let seg = vec![Sym::Star { colon: false }, Sym::Lit(':'), Sym::Lit('x')];
        let found = witnesses(&[seg, glob("*:*:x")], 1000).unwrap();
        let both = found.iter().find(|(m, _)| *m == 0b11);
        assert!(both.is_none(), "a:b:x matches the second only: {found:?}");
    }

    #[test]
    fn the_walk_is_bounded() {
        let many: Vec<Vec<Sym>> = (0..12).map(|i| glob(&format!("*{i}*{i}*"))).collect();
        assert!(witnesses(&many, 50).is_none());
    }
}
