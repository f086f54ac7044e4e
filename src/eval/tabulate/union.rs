//! Sorted unions of candidate runs, without repeats: how an exact action's list is put
//! together from its parts (its index hits, its service's glob hits, the entries every
//! action of its service shares), each already sorted and without repeats.
//!
//! Most lists are a few index hits placed among the 17 entries every action of a service
//! shares, or among the hundreds of `ec2:Describe*` statements: each short entry is placed
//! by a binary search in the long run and the long run is copied between them
//! (`extend_from_slice`), rather than comparing every entry of both (the merge it replaced
//! took ≈ 20 instructions an entry, then a second pass to merge repeats). Two runs of
//! similar length are merged entry by entry.
//!
//! For example the union of `[3, 9]` and `[1, 3, 5, 7, 11]` appends `1, 3, 5, 7, 9, 11`:
//! `[1]` copied, `3` found there (kept once), `[5, 7]` copied, `9` placed, `[11]` copied.
//!
//! Entries are equal when their statements are: an exact action's entries are all
//! verified (`id << 1 | 1`), so a repeat is the same value.

/// Whether `run` is sorted without repeats.
pub(super) fn strictly_sorted(run: &[u32]) -> bool {
    run.windows(2).all(|w| w[0] < w[1])
}

/// Appends the sorted union of `a` and `b` (each sorted, without repeats) to `out`, an
/// entry in both once.
pub(super) fn union_into(out: &mut Vec<u32>, a: &[u32], b: &[u32]) {
    debug_assert!(strictly_sorted(a) && strictly_sorted(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    // Placing costs a binary search and a copy call per short entry: worth it while the
    // short run is a small part of the long one.
    if short.len() * 4 <= long.len() {
        place_into(out, short, long);
    } else {
        merge_into(out, short, long);
    }
}

/// Appends the sorted union of three runs (each sorted, without repeats) to `out`: the
/// two shorter ones first, into `buffer`, so that the longest (the hundreds of
/// `ec2:Describe*` statements) is copied once.
pub(super) fn union3_into(out: &mut Vec<u32>, mut runs: [&[u32]; 3], buffer: &mut Vec<u32>) {
    runs.sort_unstable_by_key(|r| r.len());
    let [a, b, longest] = runs;
    if a.is_empty() {
        return union_into(out, b, longest);
    }
    buffer.clear();
    union_into(buffer, a, b);
    union_into(out, buffer, longest);
}

/// The union by placing each entry of `short` in `long`.
fn place_into(out: &mut Vec<u32>, short: &[u32], mut long: &[u32]) {
    out.reserve(short.len() + long.len());
    for &s in short {
        let at = long.partition_point(|&x| x < s);
        out.extend_from_slice(&long[..at]);
        out.push(s);
        // An entry of both is kept once.
        let skip = at + usize::from(long.get(at) == Some(&s));
        long = &long[skip..];
    }
    out.extend_from_slice(long);
}

/// The union by walking `long` once, an entry at a time, and `short` once: each entry of
/// `long` is compared with the next entry of `short` only (≈ 10 instructions an entry,
/// where comparing both sides each step took ≈ 17).
fn merge_into(out: &mut Vec<u32>, short: &[u32], mut long: &[u32]) {
    out.reserve(short.len() + long.len());
    for &s in short {
        while let Some((&x, rest)) = long.split_first() {
            if x >= s {
                break;
            }
            out.push(x);
            long = rest;
        }
        out.push(s);
        // An entry of both is kept once.
        if long.first() == Some(&s) {
            long = &long[1..];
        }
    }
    out.extend_from_slice(long);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of strictly sorted runs drawn from a small range, of every length split
    /// (both ways of placing, and the merge): the union is the sorted, deduplicated
    /// concatenation, appended after what `out` held.
    #[test]
    fn union_is_the_sorted_deduplicated_concatenation() {
        let runs: Vec<Vec<u32>> = (0u32..1 << 7)
            .map(|bits| {
                (0..7)
                    .filter(|i| bits & 1 << i != 0)
                    .map(|i| i * 2 + 1)
                    .collect()
            })
            .chain([(1..60).collect(), (30..200).step_by(3).collect()])
            .collect();
        let mut checked = 0;
        for a in &runs {
            for b in &runs {
                let mut expected: Vec<u32> = a.iter().chain(b).copied().collect();
                expected.sort_unstable();
                expected.dedup();
                let mut out = vec![u32::MAX];
                union_into(&mut out, a, b);
                assert_eq!(out[0], u32::MAX);
                assert_eq!(&out[1..], expected.as_slice(), "{a:?} {b:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 130 * 130);
    }

    /// Three runs, in every order: their union.
    #[test]
    fn union_of_three_is_the_sorted_deduplicated_concatenation() {
        let runs: [&[u32]; 5] = [
            &[],
            &[3],
            &[1, 3, 5, 9],
            &[2, 3, 4, 5, 6, 7, 8, 9, 10],
            &[11],
        ];
        let mut buffer = Vec::new();
        for a in runs {
            for b in runs {
                for c in runs {
                    let mut expected: Vec<u32> = a.iter().chain(b).chain(c).copied().collect();
                    expected.sort_unstable();
                    expected.dedup();
                    let mut out = Vec::new();
                    union3_into(&mut out, [a, b, c], &mut buffer);
                    assert_eq!(out, expected, "{a:?} {b:?} {c:?}");
                }
            }
        }
    }

    #[test]
    fn strictly_sorted_rejects_repeats_and_disorder() {
        assert!(strictly_sorted(&[]) && strictly_sorted(&[4]) && strictly_sorted(&[1, 2, 9]));
        assert!(!strictly_sorted(&[1, 1]) && !strictly_sorted(&[2, 1]));
    }
}
