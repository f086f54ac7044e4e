//! Splitting AWS ARNs and Huawei URNs into segments (R-RES-2, R-RES-3, R-OPA-2, R-HW-6, R-HW-7).
//!
//! An ARN is `arn:<partition>:<service>:<region>:<account>:<resource>`: split on the first five
//! `:`; the resource part is everything after the fifth colon and may itself contain `:` and
//! `/`. A Huawei URN is `<service>:<region>:<account>:<type>:<path>`: split on the first four
//! `:`. Segments are matched separately by the callers (a wildcard in an early segment can never
//! consume a `:`), so the split must be shared by both evaluators (R-COMP-4). Splitting borrows
//! from the input and never allocates.
//!
//! ```
//! use fastiam::primitives::arn::{split_arn, split_urn};
//! let arn = split_arn("arn:aws:logs:us-east-1:111122223333:log-group:my-group:*").unwrap();
//! assert_eq!(arn, ["arn", "aws", "logs", "us-east-1", "111122223333", "log-group:my-group:*"]);
//! let urn = split_urn("obs:*:*:object:b/k").unwrap();
//! assert_eq!(urn, ["obs", "*", "*", "object", "b/k"]);
//! ```

/// Splits an ARN into its six parts (R-RES-2). `s` must start with `arn:` (case-sensitive);
/// fewer than six parts → `None` (R-RES-3, R-OPA-2). Empty parts are kept (`arn:aws:s3:::b`).
pub fn split_arn(s: &str) -> Option<[&str; 6]> {
    if !s.starts_with("arn:") {
        return None;
    }
    split_colons(s)
}

/// Splits a Huawei URN into its five parts (R-HW-6, R-HW-7); the fifth is the rest of the
/// string. Fewer than five parts → `None`. A leading `urn:` is not special (it is then the
/// first part).
pub fn split_urn(s: &str) -> Option<[&str; 5]> {
    split_colons(s)
}

/// The account segment (fifth part) of an ARN, if it is non-empty (R-RES-2).
pub fn arn_account(s: &str) -> Option<&str> {
    split_arn(s).map(|parts| parts[4]).filter(|a| !a.is_empty())
}

/// The account part (third part) of a Huawei URN, unless it is empty or `*` (R-HW-6).
pub fn urn_account(s: &str) -> Option<&str> {
    split_urn(s)
        .map(|parts| parts[2])
        .filter(|a| !a.is_empty() && *a != "*")
}

/// Splits on the first `N - 1` colons; the last part is the remainder.
fn split_colons<const N: usize>(s: &str) -> Option<[&str; N]> {
    // Positions of the first N - 1 colons (N is at most 6 here).
    let mut colons = [0usize; 8];
    if find_colons(s, &mut colons[..N - 1]) < N - 1 {
        return None;
    }
    split_at_colons(s, &colons[..N - 1])
}

/// [`split_arn`] from the first five colons of `s` found beforehand (`colons[..found]`, as
/// [`find_colons`] gives them): a caller that keeps a resource's colons splits it once.
pub fn split_arn_at<'s>(s: &'s str, colons: &[usize; 5], found: usize) -> Option<[&'s str; 6]> {
    if !s.starts_with("arn:") || found < 5 {
        return None;
    }
    split_at_colons(s, colons)
}

/// [`split_urn`] from the first colons of `s` found beforehand, as [`split_arn_at`].
pub fn split_urn_at<'s>(s: &'s str, colons: &[usize; 5], found: usize) -> Option<[&'s str; 5]> {
    if found < 4 {
        return None;
    }
    split_at_colons(s, &colons[..4])
}

/// Cuts `s` at `colons` (ascending positions of colons in `s`) into `colons.len() + 1`
/// parts.
fn split_at_colons<'s, const N: usize>(s: &'s str, colons: &[usize]) -> Option<[&'s str; N]> {
    let mut parts = [""; N];
    let mut start = 0;
    for (part, &colon) in parts.iter_mut().zip(colons) {
        *part = s.get(start..colon)?;
        start = colon + 1;
    }
    parts[N - 1] = s.get(start..)?;
    Some(parts)
}

/// Writes the byte positions of the first `out.len()` colons of `s` into `out`; returns how
/// many it found. The compiled interpreter keeps a hop resource's colon positions and cuts
/// out only the segments a pattern asks for.
///
/// Every hop's resource goes through here, so the scan reads eight bytes at a time: a word
/// whose bytes are XORed with `:` has a zero byte exactly where a colon was, and
/// `zero_bytes` marks those bytes. Cutting at an ASCII `:` always cuts on a character
/// boundary.
pub fn find_colons(s: &str, out: &mut [usize]) -> usize {
    let bytes = s.as_bytes();
    let want = out.len();
    let mut found = 0;
    let mut at = 0;
    while found < want && at + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let mut hits = zero_bytes(word ^ u64::from_le_bytes([b':'; 8]));
        while hits != 0 && found < want {
            out[found] = at + hits.trailing_zeros() as usize / 8;
            found += 1;
            hits &= hits - 1;
        }
        at += 8;
    }
    while found < want && at < bytes.len() {
        if bytes[at] == b':' {
            out[found] = at;
            found += 1;
        }
        at += 1;
    }
    found
}

/// The high bit of every byte of `x` that is zero, and no other bit (exact, unlike the
/// shorter `(x - 0x01…) & !x & 0x80…`, which can also mark a `0x01` byte above a zero).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time scan against `str::splitn`, on strings of colons, ASCII and
    /// multi-byte characters whose colons fall at every offset of a word.
    #[test]
    fn split_colons_agrees_with_splitn() {
        let alphabet = [":", "a", "/", "*", "é", "\u{1F600}", "\u{7f}", "\u{1}", ";"];
        let mut rng = crate::test_rng::XorShift(0x5eed);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let s: String = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let naive6: Vec<&str> = s.splitn(6, ':').collect();
            let expected6: Option<[&str; 6]> = naive6.try_into().ok();
            assert_eq!(split_colons::<6>(&s), expected6, "{s:?}");
            let naive5: Vec<&str> = s.splitn(5, ':').collect();
            let expected5: Option<[&str; 5]> = naive5.try_into().ok();
            assert_eq!(split_colons::<5>(&s), expected5, "{s:?}");
        }
    }

    #[test]
    fn zero_bytes_is_exact() {
        for x in [
            0u64,
            1,
            0x0100,
            0x0001_0000_0000_0100,
            u64::MAX,
            0x8000_0000_0000_0000,
        ] {
            let naive = (0..8).fold(0u64, |m, i| {
                if (x >> (8 * i)) & 0xff == 0 {
                    m | 0x80 << (8 * i)
                } else {
                    m
                }
            });
            assert_eq!(zero_bytes(x), naive, "{x:#x}");
        }
    }

    #[test]
    fn split_arn_table() {
        let cases: &[(&str, Option<[&str; 6]>)] = &[
            (
                "arn:aws:logs:us-east-1:111122223333:log-group:my-group:*",
                Some([
                    "arn",
                    "aws",
                    "logs",
                    "us-east-1",
                    "111122223333",
                    "log-group:my-group:*",
                ]),
            ),
            (
                "arn:aws:s3:::bucket/key",
                Some(["arn", "aws", "s3", "", "", "bucket/key"]),
            ),
            (
                "arn:aws:iam::111122223333:user/Bob",
                Some(["arn", "aws", "iam", "", "111122223333", "user/Bob"]),
            ),
            (
                "arn:aws:iam::111122223333:role/aws:ec2-infrastructure",
                Some([
                    "arn",
                    "aws",
                    "iam",
                    "",
                    "111122223333",
                    "role/aws:ec2-infrastructure",
                ]),
            ),
            ("arn:aws:s3:::", Some(["arn", "aws", "s3", "", "", ""])),
            ("arn:::::", Some(["arn", "", "", "", "", ""])),
            ("arn:aws:s3::", None),
            ("arn:aws:iam::123456789012", None),
            ("arn:", None),
            ("arn", None),
            ("", None),
            ("*", None),
            ("ARN:aws:s3:::bucket", None),
            ("iam::123:user:alice", None),
        ];
        for (input, want) in cases {
            assert_eq!(split_arn(input), *want, "split_arn({input:?})");
        }
    }

    #[test]
    fn split_urn_table() {
        let cases: &[(&str, Option<[&str; 5]>)] = &[
            (
                "iam::123:user:alice",
                Some(["iam", "", "123", "user", "alice"]),
            ),
            (
                "obs:*:*:object:b/k",
                Some(["obs", "*", "*", "object", "b/k"]),
            ),
            (
                "iam::123:agency:service-linked-agency/svc/name",
                Some(["iam", "", "123", "agency", "service-linked-agency/svc/name"]),
            ),
            (
                "kms:r1:123:KeyId:a:b:c",
                Some(["kms", "r1", "123", "KeyId", "a:b:c"]),
            ),
            (
                "sts::123::assumed-agency:a/s",
                Some(["sts", "", "123", "", "assumed-agency:a/s"]),
            ),
            ("modelarts:*:*:trainingJobs", None),
            ("obs:*:*:bucket:", Some(["obs", "*", "*", "bucket", ""])),
            ("*", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(split_urn(input), *want, "split_urn({input:?})");
        }
    }

    #[test]
    fn account_table() {
        let arns: &[(&str, Option<&str>)] = &[
            ("arn:aws:iam::111122223333:user/Bob", Some("111122223333")),
            ("arn:aws:s3:::bucket/key", None),
            ("arn:aws:iam::*:role/x", Some("*")),
            ("arn:aws:iam::123", None),
            ("iam::123:user:alice", None),
        ];
        for (input, want) in arns {
            assert_eq!(arn_account(input), *want, "arn_account({input:?})");
        }
        let urns: &[(&str, Option<&str>)] = &[
            ("iam::123:user:alice", Some("123")),
            ("iam::system:policy:CCEFullPolicy", Some("system")),
            ("obs:*:*:object:b/k", None),
            ("cdn:::domain:x", None),
            ("iam::123", None),
        ];
        for (input, want) in urns {
            assert_eq!(urn_account(input), *want, "urn_account({input:?})");
        }
    }
}
