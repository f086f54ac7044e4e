//! A compact request's given keys are eight bytes (`GivenKey`: a `u32` start, a `u16` key
//! id, a `u16` length or entry index). What does not fit must never be cut: a value longer
//! than 65,535 bytes is read through its entry, and an entry index past 65,535 or an
//! evaluator of more than 65,535 keys sends the evaluator to look the keys up by name.
//! Each boundary, at and past the narrow limit, through every engine against the
//! reference, and checked to take the path it should. The entry-index and key-count
//! boundaries need requests of 65,537 entries and programs of 65,536 keys: minutes in a
//! debug build, so they are ignored by default and run with `--release --include-ignored`
//! (the same boundaries are unit-tested on the builder alone in `resolve_keys.rs`).

use fastiam::eval::Evaluator;
use fastiam::request::compact::Resolver;
use fastiam::request::{parse_case, RequestBuilder, RequestView};
use fastiam::runner::Engine;

use crate::util::engines;

/// Every engine's decision of `line` equals the reference's (the first engine's); returns
/// the first hop's, whose conditions the tests below make decisive.
fn agree(engines: &[Box<dyn Engine>], line: &str, what: &str) -> String {
    let case = parse_case(line, what).unwrap();
    let reference = engines[0].evaluate(&case.chain);
    for engine in &engines[1..] {
        let decided = engine.evaluate(&case.chain);
        assert_eq!(decided, reference, "{what}: {}", engine.name());
    }
    format!("{:?}", reference.hops[0].decision)
}

/// A case whose identity policy is `statements` and whose request context is `context`
/// (JSON object members, without the braces).
fn case(statements: &str, context: &str) -> String {
    format!(
        r#"{{"id":"n","principal":"arn:aws:iam::111122223333:user/a","context":{{{context}}},
        "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{statements}]}}]}},
        "chain":[{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}},
        {{"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"*"}}]}}"#
    )
}

/// Whether a request for `line`'s chain built against its program's evaluator keeps its
/// given keys (`given_keys` answers for the evaluator's token).
fn keeps_given_keys(line: &str) -> bool {
    let case = parse_case(line, "n").unwrap();
    let program = fastiam::compile::compile(&case.chain.policies).unwrap();
    let evaluator = Evaluator::new(&program);
    let mut b = RequestBuilder::new();
    b.fill_from(&case.chain.request);
    let req = b.finish_for(&evaluator).unwrap();
    req.given_keys(0, Resolver::token(&evaluator)).is_some()
}

/// Single values of 65,535 bytes (the narrow length) and 65,536 (read through the entry),
/// matching and not, in the request context (hop 0) and carried to the forwarded hop.
#[test]
fn values_at_and_past_the_narrow_length_decide_as_the_reference() {
    let allow = |v: &str| {
        format!(
            r#"{{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*",
            "Condition":{{"StringEquals":{{"aws:SourceVpc":"{v}"}}}}}}"#
        )
    };
    let engines = engines();
    for len in [65_534, 65_535, 65_536, 65_537] {
        let value = "v".repeat(len);
        let other = format!("{}w", "v".repeat(len - 1));
        for (given, want) in [(&value, "Allow"), (&other, "ImplicitDeny")] {
            let line = case(
                &allow(&value),
                &format!(r#""aws:SourceVpc":"{given}","aws:TagKeys":["a"]"#),
            );
            let decided = agree(&engines, &line, &format!("value of {len} bytes"));
            assert_eq!(decided, want, "{len}");
            assert!(keeps_given_keys(&line), "{len}");
        }
    }
}

/// A list at entry 65,535 (the last index the narrow field holds) and at 65,536, and a long
/// single value there: the request of 65,537 entries looks its keys up by name.
#[test]
#[ignore = "minutes in a debug build, a minute in release (65,537-entry requests, seven engines): \
            cargo test --release --test integration narrow_keys -- --include-ignored"]
fn entries_at_and_past_the_narrow_index_decide_as_the_reference() {
    let statement = r#"{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*",
        "Condition":{"ForAnyValue:StringEquals":{"zz:list":"b"}}}"#;
    let engines = engines();
    for (fillers, keeps) in [(65_535, true), (65_536, false)] {
        // The fillers sort before `zz:list`, which is then entry `fillers`.
        let mut context: String = (0..fillers)
            .map(|i| format!(r#""f:{i:05}":"x","#))
            .collect();
        for (list, want) in [(r#"["a","b"]"#, "Allow"), (r#"["a","c"]"#, "ImplicitDeny")] {
            let line = case(statement, &format!(r#"{context}"zz:list":{list}"#));
            let what = format!("list at entry {fillers}");
            let decided = agree(&engines, &line, &what);
            assert_eq!(decided, want, "{what}");
            assert_eq!(keeps_given_keys(&line), keeps, "{what}");
        }
        context.push_str(&format!(r#""zz:long":"{}","#, "x".repeat(70_000)));
        let long = r#"{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*",
            "Condition":{"StringLike":{"zz:long":"xx*"}}}"#;
        let line = case(long, &format!(r#"{context}"zz:x":"1""#));
        let what = format!("long value at entry {fillers}");
        assert_eq!(agree(&engines, &line, &what), "Allow");
        assert_eq!(keeps_given_keys(&line), keeps, "{what}");
    }
}

/// Evaluators of 65,535 keys (every id fits beside "no such key") and 65,536 (it might
/// not: keys looked up by name), with the request giving the keys of the highest ids and a
/// key the program does not know.
#[test]
#[ignore = "minutes in a debug build, a minute in release (65,536-key programs, seven engines): \
            cargo test --release --test integration narrow_keys -- --include-ignored"]
fn evaluators_at_and_past_the_narrow_key_count_decide_as_the_reference() {
    // A statement that reads `n` keys and never applies (it denies only if all equal "x",
    // and the request gives one of them another value).
    let fillers = |n: usize| {
        let keys: Vec<String> = (0..n).map(|i| format!(r#""f:{i:05}":"x""#)).collect();
        format!(
            r#"{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}"#,
            keys.join(",")
        )
    };
    let probe = r#"{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*",
        "Condition":{"StringEquals":{"t:probe":"yes"}}}"#;
    let key_count = |statements: &str| {
        let case = parse_case(&case(statements, ""), "n").unwrap();
        let program = fastiam::compile::compile(&case.chain.policies).unwrap();
        Resolver::key_count(&Evaluator::new(&program))
    };
    // The keys besides the fillers (the probe's, the evaluator's own).
    let others = key_count(&format!("{},{probe}", fillers(1))) - 1;
    let engines = engines();
    for (count, keeps) in [(65_535, true), (65_536, false)] {
        let statements = format!("{},{probe}", fillers(count - others));
        let case_line = |probe_value: &str| {
            let last = count - others - 1;
            case(
                &statements,
                &format!(
                    r#""f:00000":"y","f:{last:05}":"x","t:probe":"{probe_value}","zz:unknown":"1""#
                ),
            )
        };
        assert_eq!(key_count(&statements), count);
        for (value, want) in [("yes", "Allow"), ("no", "ImplicitDeny")] {
            let line = case_line(value);
            let what = format!("{count} keys, probe {value}");
            assert_eq!(agree(&engines, &line, &what), want, "{what}");
            assert_eq!(keeps_given_keys(&line), keeps, "{what}");
        }
    }
}

/// A compact hop holds its resource's colons as `u16` offsets: a resource of 65,535 bytes
/// has them recorded, one of 65,536 or more has the interpreter find them. Either way the
/// resource patterns (an ARN pattern cut at the colons, a glob) decide as the reference.
#[test]
fn resources_at_and_past_the_narrow_offsets_decide_as_the_reference() {
    let engines = engines();
    let statement = |resource: &str| {
        format!(r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"{resource}"}}"#)
    };
    for len in [65_534, 65_535, 65_536, 65_537] {
        // `arn:aws:s3:us-east-1:111122223333:b/` then `k`s up to `len` bytes: the last
        // colon sits at byte 33, the ARN's tail runs past the `u16` offsets.
        let head = "arn:aws:s3:us-east-1:111122223333:b/";
        let resource = format!("{head}{}", "k".repeat(len - head.len()));
        for (pattern, want) in [
            ("arn:aws:s3:us-east-1:111122223333:b/k*", "Allow"),
            ("arn:aws:s3:*:111122223333:b/kk*", "Allow"),
            ("arn:aws:s3:*:444455556666:b/k*", "ImplicitDeny"),
            ("arn:aws:s3:us-east-1:111122223333:b/x*", "ImplicitDeny"),
        ] {
            let line = format!(
                r#"{{"id":"n","principal":"arn:aws:iam::111122223333:user/a",
                "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{}]}}]}},
                "chain":[{{"action":"s3:GetObject","resource":"{resource}"}}]}}"#,
                statement(pattern)
            );
            let what = format!("resource of {len} bytes, {pattern}");
            assert_eq!(agree(&engines, &line, &what), want, "{what}");
            let case = parse_case(&line, "n").unwrap();
            let mut b = RequestBuilder::new();
            b.fill_from(&case.chain.request);
            let req = b.finish().unwrap();
            let colons = req.resource_colons(0);
            assert_eq!(colons.is_some(), len <= 65_535, "{what}");
            if let Some((at, found)) = colons {
                assert_eq!((at, found), ([3, 7, 10, 20, 33], 5), "{what}");
            }
        }
    }
}
