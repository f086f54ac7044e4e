//! Typed context entries from the command line: `KEY=VALUE[,VALUE...]`, checked against the
//! type of the key.
//!
//! A condition with a mistyped value does not fail loudly in IAM: the comparison is simply
//! false (R-OP-ERR-1), so `--context aws:SourceIp=10.0.0` would silently answer "denied".
//! The simulator therefore checks every value against the key's type before asking: the
//! type comes from a registry of the well-known global keys (R-CTX-5 for AWS, R-HW-11 for
//! Huawei), or from an explicit annotation `KEY(TYPE)=…` for any other key (parentheses
//! occur in no IAM key or tag name). The type names are the AWS simulator's
//! (`simulate-custom-policy --context-entries … ContextKeyType=ip`): `string`, `numeric`,
//! `boolean`, `date`, `ip`, `binary`, `arn`, each with a `…List` form. A list type, or a key
//! registered as multi-valued (R-CTX-3), makes the key multi-valued even with one value.
//!
//! ```
//! use fastiam::simulate::context::{parse_entry, KeyType};
//! let e = parse_entry("aws:CalledVia=athena.amazonaws.com").unwrap();
//! assert_eq!(e.key, "aws:calledvia");
//! assert_eq!(e.key_type, KeyType::String.list());
//! let err = parse_entry("aws:SourceIp=10.0.0").unwrap_err();
//! assert!(err.to_string().contains("expected an IP address"), "{err}");
//! let typed = parse_entry("s3:max-keys(numeric)=10").unwrap();
//! assert_eq!(typed.values, ["10"]);
//! ```

use std::fmt;

use crate::primitives::{
    canonical_key, is_valid_base64, parse_bool, parse_date, parse_decimal, parse_ip, split_arn,
};
use crate::request::{is_multi_valued, ContextValue};

/// The scalar type of a context key (R-CTX-5); [`KeyType`] adds whether it is a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    String,
    Numeric,
    Boolean,
    Date,
    Ip,
    Binary,
    Arn,
}

/// A key's type: a scalar, single- or multi-valued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyType {
    pub scalar: Scalar,
    pub list: bool,
}

#[allow(non_upper_case_globals)]
impl KeyType {
    pub const String: KeyType = KeyType::single(Scalar::String);

    const fn single(scalar: Scalar) -> KeyType {
        KeyType {
            scalar,
            list: false,
        }
    }

    /// The list form of this type.
    pub const fn list(self) -> KeyType {
        KeyType {
            scalar: self.scalar,
            list: true,
        }
    }

    /// The AWS simulator's name of the type (`ip`, `stringList`, …).
    pub fn name(self) -> String {
        let base = match self.scalar {
            Scalar::String => "string",
            Scalar::Numeric => "numeric",
            Scalar::Boolean => "boolean",
            Scalar::Date => "date",
            Scalar::Ip => "ip",
            Scalar::Binary => "binary",
            Scalar::Arn => "arn",
        };
        if self.list {
            format!("{base}List")
        } else {
            base.to_string()
        }
    }

    /// Parses a type name (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<KeyType> {
        let lower = name.to_ascii_lowercase();
        let (base, list) = match lower.strip_suffix("list") {
            Some(base) => (base, true),
            None => (lower.as_str(), false),
        };
        let scalar = match base {
            "string" => Scalar::String,
            "numeric" => Scalar::Numeric,
            "boolean" => Scalar::Boolean,
            "date" => Scalar::Date,
            "ip" => Scalar::Ip,
            "binary" => Scalar::Binary,
            "arn" => Scalar::Arn,
            _ => return None,
        };
        Some(KeyType { scalar, list })
    }

    /// What a value of this scalar type looks like, for error messages.
    fn expected(self) -> &'static str {
        match self.scalar {
            Scalar::String => "a string",
            Scalar::Numeric => "a number (`600`, `1.5`)",
            Scalar::Boolean => "`true` or `false`",
            Scalar::Date => "a date (`2026-12-01T10:00:00Z` or epoch seconds)",
            Scalar::Ip => "an IP address (`203.0.113.9`, `2001:db8::1`)",
            Scalar::Binary => "base64 text",
            Scalar::Arn => "an ARN (`arn:partition:service:region:account:resource`)",
        }
    }

    /// Whether `value` is a valid value of this scalar type.
    fn accepts(self, value: &str) -> bool {
        match self.scalar {
            Scalar::String => true,
            Scalar::Numeric => parse_decimal(value).is_some(),
            Scalar::Boolean => parse_bool(value).is_some(),
            Scalar::Date => parse_date(value).is_some(),
            Scalar::Ip => parse_ip(value).is_some(),
            Scalar::Binary => is_valid_base64(value),
            Scalar::Arn => split_arn(value).is_some(),
        }
    }
}

/// Every type name, as error messages list them.
pub const TYPE_NAMES: &str = "string, numeric, boolean, date, ip, binary, arn, or one of them \
                              with `List` (stringList, ipList, …)";

/// Well-known keys whose type is not `string` (R-CTX-5, R-HW-11), by canonical name.
/// Multi-valued string keys come from [`crate::request::MULTI_VALUED_KEYS`].
const TYPED_KEYS: &[(&str, Scalar)] = &[
    ("aws:principalarn", Scalar::Arn),
    ("aws:sourcearn", Scalar::Arn),
    ("aws:sourcevpcarn", Scalar::Arn),
    ("aws:signinsessionarn", Scalar::Arn),
    ("aws:chatbotsourcearn", Scalar::Arn),
    ("ec2:sourceinstancearn", Scalar::Arn),
    ("lambda:sourcefunctionarn", Scalar::Arn),
    ("codebuild:buildarn", Scalar::Arn),
    ("codebuild:projectarn", Scalar::Arn),
    ("ssm:sourceinstancearn", Scalar::Arn),
    ("aws:principalisawsservice", Scalar::Boolean),
    ("aws:viaawsservice", Scalar::Boolean),
    ("aws:viaawsmcpservice", Scalar::Boolean),
    ("aws:securetransport", Scalar::Boolean),
    ("aws:multifactorauthpresent", Scalar::Boolean),
    ("aws:assumedroot", Scalar::Boolean),
    ("aws:ismcpserviceaction", Scalar::Boolean),
    ("aws:currenttime", Scalar::Date),
    ("aws:tokenissuetime", Scalar::Date),
    // Date or numeric (R-CTX-5): epoch seconds are both.
    ("aws:epochtime", Scalar::Date),
    ("aws:multifactorauthage", Scalar::Numeric),
    ("ec2:roledelivery", Scalar::Numeric),
    ("aws:sourceip", Scalar::Ip),
    ("aws:vpcsourceip", Scalar::Ip),
    ("aws:ec2instancesourceprivateipv4", Scalar::Ip),
    ("g:principalisrootuser", Scalar::Boolean),
    ("g:mfapresent", Scalar::Boolean),
    ("g:viaservice", Scalar::Boolean),
    ("g:securetransport", Scalar::Boolean),
    ("g:mfaage", Scalar::Numeric),
    ("g:tokenissuetime", Scalar::Date),
    ("g:currenttime", Scalar::Date),
    ("g:sourceip", Scalar::Ip),
    ("g:vpcsourceip", Scalar::Ip),
];

/// The registered type of a canonical key, if the registry knows it: a typed global key,
/// or a multi-valued key (a string list). Tag keys and unknown keys are `None`.
pub fn registered_type(canonical: &str) -> Option<KeyType> {
    if is_multi_valued(canonical) {
        return Some(KeyType::String.list());
    }
    TYPED_KEYS
        .iter()
        .find(|(k, _)| *k == canonical)
        .map(|(_, scalar)| KeyType::single(*scalar))
}

/// One `--context` entry, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextEntry {
    /// Canonical key (R-CTX-2).
    pub key: String,
    pub key_type: KeyType,
    pub values: Vec<String>,
}

impl ContextEntry {
    /// The value as the request context stores it (R-CTX-1, R-CTX-3).
    pub fn value(&self) -> ContextValue {
        match (self.key_type.list, self.values.as_slice()) {
            (false, [one]) => ContextValue::Single(one.clone()),
            _ => ContextValue::Multi(self.values.clone()),
        }
    }
}

/// Why a `--context` entry was refused; `Display` names the entry as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextError {
    /// The entry as given.
    pub entry: String,
    pub problem: String,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--context `{}`: {}", self.entry, self.problem)
    }
}

impl std::error::Error for ContextError {}

/// Parses `KEY[(TYPE)]=VALUE[,VALUE...]`; `\,` is a comma inside a value.
pub fn parse_entry(spec: &str) -> Result<ContextEntry, ContextError> {
    let fail = |problem: String| ContextError {
        entry: spec.to_string(),
        problem,
    };
    let (key_part, value_part) = spec
        .split_once('=')
        .ok_or_else(|| fail("expected KEY=VALUE[,VALUE...] (no `=` found)".into()))?;
    let (key, declared) = match key_part.strip_suffix(')') {
        Some(head) => {
            let (key, name) = head
                .split_once('(')
                .ok_or_else(|| fail("expected KEY(TYPE)=VALUE: `)` without `(`".into()))?;
            let ty = KeyType::from_name(name).ok_or_else(|| {
                fail(format!(
                    "unknown context type `{name}`; expected {TYPE_NAMES}"
                ))
            })?;
            (key, Some(ty))
        }
        None => (key_part, None),
    };
    if key.is_empty() || key.contains(['(', ')']) || !key.contains(':') {
        return Err(fail(format!(
            "`{key}` is not a condition key (expected `prefix:name`, e.g. `aws:SourceIp`)"
        )));
    }
    let canonical = canonical_key(key);
    let registered = registered_type(&canonical);
    let values = split_values(value_part);
    let key_type = match (declared, registered) {
        (Some(d), Some(r)) if d.scalar != r.scalar || (d.list && !r.list) => {
            return Err(fail(format!(
                "`{key}` is registered as {}, not {}",
                r.name(),
                d.name()
            )))
        }
        (Some(d), _) => KeyType {
            list: d.list || registered.is_some_and(|r| r.list),
            ..d
        },
        (None, Some(r)) => r,
        // An unregistered key with several values is a string list (R-CTX-3).
        (None, None) => KeyType {
            scalar: Scalar::String,
            list: values.len() > 1,
        },
    };
    if !key_type.list && values.len() != 1 {
        return Err(fail(format!(
            "`{key}` is single-valued ({}), but {} values were given (write `\\,` for a comma inside a value)",
            key_type.name(),
            values.len()
        )));
    }
    if let Some(bad) = values.iter().find(|v| !key_type.accepts(v)) {
        return Err(fail(format!(
            "`{bad}` is not a valid {} value for `{key}`: expected {}",
            key_type.name(),
            key_type.expected()
        )));
    }
    Ok(ContextEntry {
        key: canonical,
        key_type,
        values,
    })
}

/// Splits on unescaped commas; `\,` is a comma and `\\` a backslash.
fn split_values(text: &str) -> Vec<String> {
    let mut values = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ (',' | '\\')) => push(&mut values, next),
                Some(other) => {
                    push(&mut values, '\\');
                    push(&mut values, other);
                }
                None => push(&mut values, '\\'),
            },
            ',' => values.push(String::new()),
            _ => push(&mut values, c),
        }
    }
    values
}

fn push(values: &mut [String], c: char) {
    if let Some(last) = values.last_mut() {
        last.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (entry, canonical key, type name, values) for accepted entries.
    const ACCEPTED: &[(&str, &str, &str, &[&str])] = &[
        (
            "aws:SourceIp=203.0.113.9",
            "aws:sourceip",
            "ip",
            &["203.0.113.9"],
        ),
        (
            "aws:SourceIp=2001:db8::1",
            "aws:sourceip",
            "ip",
            &["2001:db8::1"],
        ),
        (
            "aws:CalledVia=athena.amazonaws.com",
            "aws:calledvia",
            "stringList",
            &["athena.amazonaws.com"],
        ),
        (
            "aws:CalledVia=a.amazonaws.com,b.amazonaws.com",
            "aws:calledvia",
            "stringList",
            &["a.amazonaws.com", "b.amazonaws.com"],
        ),
        (
            "aws:MultiFactorAuthPresent=TRUE",
            "aws:multifactorauthpresent",
            "boolean",
            &["TRUE"],
        ),
        (
            "aws:CurrentTime=2026-12-01T10:00:00Z",
            "aws:currenttime",
            "date",
            &["2026-12-01T10:00:00Z"],
        ),
        (
            "aws:EpochTime=1764583200",
            "aws:epochtime",
            "date",
            &["1764583200"],
        ),
        (
            "aws:MultiFactorAuthAge=600",
            "aws:multifactorauthage",
            "numeric",
            &["600"],
        ),
        (
            "aws:PrincipalTag/Team=red",
            "aws:principaltag/team",
            "string",
            &["red"],
        ),
        ("aws:UserAgent=a\\,b", "aws:useragent", "string", &["a,b"]),
        ("aws:referer=", "aws:referer", "string", &[""]),
        ("s3:max-keys(numeric)=10", "s3:max-keys", "numeric", &["10"]),
        ("s3:prefix(stringList)=a", "s3:prefix", "stringList", &["a"]),
        (
            "ec2:ResourceTag/env=x,y",
            "ec2:resourcetag/env",
            "stringList",
            &["x", "y"],
        ),
        ("g:SourceIp=10.1.2.3", "g:sourceip", "ip", &["10.1.2.3"]),
        ("g:ViaService=true", "g:viaservice", "boolean", &["true"]),
        (
            "aws:SourceArn=arn:aws:s3:::bucket",
            "aws:sourcearn",
            "arn",
            &["arn:aws:s3:::bucket"],
        ),
    ];

    /// (entry, a fragment of the error) for refused entries.
    const REFUSED: &[(&str, &str)] = &[
        ("aws:SourceIp", "expected KEY=VALUE"),
        (
            "aws:SourceIp=10.0.0",
            "not a valid ip value for `aws:SourceIp`: expected an IP address",
        ),
        ("aws:SourceIp=10.0.0.0/8", "expected an IP address"),
        (
            "aws:SourceIp=1.2.3.4,5.6.7.8",
            "single-valued (ip), but 2 values",
        ),
        ("aws:SecureTransport=yes", "expected `true` or `false`"),
        ("aws:CurrentTime=tomorrow", "expected a date"),
        ("aws:MultiFactorAuthAge=ten", "expected a number"),
        ("s3:max-keys(colour)=1", "unknown context type `colour`"),
        ("aws:SourceIp(string)=x", "registered as ip, not string"),
        ("SourceIp=1.2.3.4", "not a condition key"),
        ("aws:x)=1", "`)` without `(`"),
        ("aws:PrincipalArn=alice", "expected an ARN"),
    ];

    #[test]
    fn accepted_entries_are_typed_by_the_registry() {
        for (spec, key, ty, values) in ACCEPTED {
            let e = parse_entry(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(e.key, *key, "{spec}");
            assert_eq!(e.key_type.name(), *ty, "{spec}");
            assert_eq!(e.values, *values, "{spec}");
        }
    }

    #[test]
    fn refused_entries_say_what_was_expected() {
        for (spec, fragment) in REFUSED {
            let err = parse_entry(spec).expect_err(spec).to_string();
            assert!(err.starts_with(&format!("--context `{spec}`: ")), "{err}");
            assert!(err.contains(fragment), "{spec}: {err}");
        }
    }

    #[test]
    fn lists_become_multi_values_and_scalars_single() {
        let multi = parse_entry("aws:CalledVia=athena.amazonaws.com").unwrap();
        assert_eq!(
            multi.value(),
            ContextValue::Multi(vec!["athena.amazonaws.com".into()])
        );
        let single = parse_entry("aws:SourceVpc=vpc-1").unwrap();
        assert_eq!(single.value(), ContextValue::Single("vpc-1".into()));
    }

    #[test]
    fn every_type_name_round_trips() {
        for name in [
            "string", "numeric", "boolean", "date", "ip", "binary", "arn",
        ] {
            for n in [name.to_string(), format!("{name}List")] {
                assert_eq!(KeyType::from_name(&n).map(KeyType::name), Some(n.clone()));
            }
        }
        assert_eq!(KeyType::from_name("list"), None);
    }
}
