//! `wildcard_match` and `glob_match` against an obviously correct exponential matcher over
//! chars (R-OPS-3, R-OPS-4): the first byte splits the input into pattern and text. Also the
//! word-at-a-time ARN and URN splitters (R-RES-2, R-HW-6) against `str::splitn` on the input.
#![no_main]

use fastiam::primitives::{
    glob_match, parse_wildcards, split_arn, split_urn, wildcard_match, Piece,
};
use libfuzzer_sys::fuzz_target;

fn naive(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| naive(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && naive(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && naive(rest, &t[1..]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let urn: Option<[&str; 5]> = s.splitn(5, ':').collect::<Vec<_>>().try_into().ok();
    assert_eq!(split_urn(s), urn, "{s:?}");
    let arn: Option<[&str; 6]> = s.splitn(6, ':').collect::<Vec<_>>().try_into().ok();
    assert_eq!(split_arn(s), arn.filter(|_| s.starts_with("arn:")), "{s:?}");
    let at = (split as usize).min(s.len());
    let Some((pattern, text)) = s.get(..at).zip(s.get(at..)) else {
        return;
    };
    // Bound the naive matcher's work.
    if pattern.chars().filter(|c| *c == '*').count() > 6 || text.len() > 64 {
        return;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let want = naive(&p, &t);
    assert_eq!(wildcard_match(pattern, text), want, "{pattern:?} {text:?}");
    let pieces: Vec<Piece<'_>> = parse_wildcards(pattern).collect();
    assert_eq!(glob_match(&pieces, text), want, "{pattern:?} {text:?}");
});
