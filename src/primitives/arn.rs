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
    // A byte scan for `:` (ASCII, so every cut is on a character boundary).
    let mut parts = [""; N];
    let bytes = s.as_bytes();
    let mut start = 0;
    for slot in parts.iter_mut().take(N - 1) {
        let colon = start + bytes.get(start..)?.iter().position(|&b| b == b':')?;
        *slot = s.get(start..colon)?;
        start = colon + 1;
    }
    parts[N - 1] = s.get(start..)?;
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

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
