//! The interpreter's side of [`CompactRequest`](crate::request::CompactRequest): names
//! resolved when the request was built are used instead of being looked up again.
//!
//! Every evaluator gets a token, distinct within the process. A request built against an
//! evaluator ([`Resolver`]) carries that evaluator's key ids and action entries with its
//! token; evaluated by the same evaluator, its context slots are set from the ids and its
//! candidates read from the entry, without hashing a name. Evaluated by any other
//! evaluator, the ids are ignored and the keys looked up by name, as for a
//! [`Request`](crate::request::Request).
//!
//! ```
//! use fastiam::eval::Evaluator;
//! use fastiam::request::{parse_case, RequestBuilder};
//! let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//!  "policies":{"identity":[{"Statement":[{"Effect":"Allow","Action":"s3:GetObject",
//!  "Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}]},
//!  "chain":[{"action":"s3:GetObject","resource":"*"}]}"#, "doc").unwrap();
//! let program = fastiam::compile::compile(&case.chain.policies).unwrap();
//! let evaluator = Evaluator::new(&program);
//! let mut scratch = evaluator.scratch();
//! let mut b = RequestBuilder::new();
//! b.principal("arn:aws:iam::111122223333:user/a").unwrap();
//! b.context("aws:SourceIp", "10.1.2.3").hop("s3:GetObject", "arn:aws:s3:::b/k");
//! let request = b.finish_for(&evaluator).unwrap();
//! let outcome = evaluator.evaluate(request, &mut scratch);
//! assert_eq!(outcome.decision, fastiam::decision::Decision::Allow);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Evaluator, Scratch, Slot};
use crate::primitives;
use crate::request::compact::{Resolver, NO_ID};
use crate::request::RequestView;

/// A token no other evaluator of this process has (never 0).
pub(super) fn next_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Resolver for Evaluator<'_> {
    fn token(&self) -> u64 {
        self.token
    }

    fn key_id(&self, canonical: &str) -> u32 {
        Evaluator::key_id(self, canonical).unwrap_or(NO_ID)
    }

    fn key_count(&self) -> usize {
        self.v.keys.len()
    }

    /// As `collect_candidates` looks it up: the action's entry in the index, else its
    /// service's class (`Evaluator::class_entry`), so that a hop of an action the index
    /// does not name exactly reads its class's candidates without folding and looking up
    /// its service again (it still folds the action, which the class's open action clauses
    /// are checked on).
    fn action_entry(&self, action: &str, fold: &mut String) -> u32 {
        let ascii = action.is_ascii();
        let exact = if ascii {
            self.exact.get_ascii_lowercase(action)
        } else {
            fold.clear();
            primitives::fold_into(action, fold);
            self.exact.get(fold.as_str())
        };
        if let Some(entry) = exact {
            return entry;
        }
        if ascii {
            fold.clear();
            primitives::fold_into(action, fold);
        }
        self.class_entry(fold).unwrap_or(NO_ID)
    }
}

impl Evaluator<'_> {
    /// Points the slots of the keys context `ctx` gives at its values.
    ///
    /// The common case — a compact request built against this evaluator — is a tight loop
    /// over the entries' [`GivenKey`](crate::request::compact::GivenKey)s, inlined into the chain walk (an empty hop context
    /// costs a range check): a single value's slot is its span of the request's text
    /// ([`Slot::Text`]), read later with one slice. The lookups by name are out of line.
    #[inline]
    pub(super) fn given_slots<R: RequestView>(&self, req: &R, ctx: usize, sc: &mut Scratch) {
        match req.given_keys(ctx, self.token) {
            Some(given) => {
                for g in given {
                    if let Some(slot) = sc.slots.get_mut(g.id as usize) {
                        *slot = Slot::Text {
                            start: g.start,
                            len: g.len.into(),
                        };
                    }
                }
            }
            None => self.given_slots_looked_up(req, ctx, sc),
        }
    }

    /// [`Evaluator::given_slots`] for a context whose keys were not resolved against this
    /// evaluator: each key looked up by name.
    #[inline(never)]
    fn given_slots_looked_up<R: RequestView>(&self, req: &R, ctx: usize, sc: &mut Scratch) {
        for (entry, name) in req.context_keys(ctx).enumerate() {
            let id = Evaluator::key_id(self, name).unwrap_or(NO_ID);
            if let Some(slot) = sc.slots.get_mut(id as usize) {
                *slot = Slot::Given {
                    ctx: ctx as u32,
                    entry: entry as u32,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Decision;
    use crate::request::{parse_case, RequestBuilder};

    /// Answers with `evaluator`'s token but ids of its own: what the interpreter does with a
    /// request shows whether it read the ids or the names.
    struct Lying<'e>(&'e Evaluator<'e>, u32);

    impl Resolver for Lying<'_> {
        fn token(&self) -> u64 {
            self.0.token
        }
        fn key_id(&self, _: &str) -> u32 {
            NO_ID
        }
        fn key_count(&self) -> usize {
            Resolver::key_count(self.0)
        }
        fn action_entry(&self, _: &str, _: &mut String) -> u32 {
            self.1
        }
    }

    /// The ids of a request built for an evaluator are used (a request whose resolver said
    /// "no such key" does not see its key), those of another evaluator are not.
    #[test]
    fn resolved_ids_are_used_by_their_evaluator_only() {
        let case = parse_case(
            r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
            "policies":{"identity":[{"Statement":[{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}]},
            "chain":[{"action":"s3:GetObject","resource":"*"}]}"#,
            "test",
        )
        .unwrap();
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        let other = Evaluator::new(&program);
        assert_ne!(evaluator.token, other.token);
        let mut sc = evaluator.scratch();
        let mut b = RequestBuilder::new();
        b.principal("arn:aws:iam::111122223333:user/a").unwrap();
        b.context("aws:SourceIp", "10.1.2.3")
            .hop("s3:GetObject", "*");
        let decide = |b: &mut RequestBuilder, resolver: &dyn Resolver, sc: &mut Scratch| {
            let req = b.finish_for(resolver).unwrap();
            evaluator.evaluate(req, sc).decision
        };
        assert_eq!(decide(&mut b, &evaluator, &mut sc), Decision::Allow);
        assert_eq!(decide(&mut b, &other, &mut sc), Decision::Allow);
        let entry = Resolver::action_entry(&evaluator, "S3:getobject", &mut String::new());
        assert_ne!(entry, NO_ID);
        let lying = Lying(&evaluator, entry);
        assert_eq!(decide(&mut b, &lying, &mut sc), Decision::ImplicitDeny);
        let lying = Lying(&other, entry);
        assert_eq!(decide(&mut b, &lying, &mut sc), Decision::Allow);
    }

    /// A compact request's given values — single texts and lists, in the request context
    /// and a hop's own, including a given CalledVia list that a forwarded hop extends
    /// (R-FAS-4, R-COMP-5) — decide as the parsed request's do, and each condition below
    /// is needed to decide.
    #[test]
    fn value_places_decide_as_the_parsed_request() {
        let statement = |condition: &str| {
            format!(
                r#"{{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*",
                "Condition":{condition}}}"#
            )
        };
        let conditions = [
            r#"{"StringEquals":{"aws:SourceVpc":"vpc-1"}}"#,
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"b"}}"#,
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            r#"{"ForAnyValue:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}"#,
            r#"{"StringEquals":{"aws:CalledViaFirst":"athena.amazonaws.com"}}"#,
            r#"{"StringEquals":{"aws:CalledViaLast":"s3.amazonaws.com"}}"#,
            r#"{"StringEquals":{"s3:prefix":"home/"}}"#,
        ];
        let mut decided = std::collections::HashSet::new();
        for condition in conditions {
            let text = format!(
                r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
                "context":{{"aws:SourceVpc":"vpc-1","aws:TagKeys":["a","b"],
                "aws:CalledVia":["athena.amazonaws.com"]}},
                "policies":{{"identity":[{{"Statement":[{}]}}]}},
                "chain":[{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k",
                "context":{{"s3:prefix":"home/"}}}},
                {{"via":"s3.amazonaws.com","action":"kms:Decrypt",
                "resource":"arn:aws:kms:us-east-1:111122223333:key/1"}}]}}"#,
                statement(condition)
            );
            let case = parse_case(&text, "test").unwrap();
            let request = &case.chain.request;
            let program = crate::compile::compile(&case.chain.policies).unwrap();
            let evaluator = Evaluator::new(&program);
            let mut sc = evaluator.scratch();
            let parsed = evaluator.evaluate(request, &mut sc);
            let parsed = evaluator.decision(&parsed);
            let mut b = RequestBuilder::new();
            b.fill_from(request);
            let compact = b.finish_for(&evaluator).unwrap();
            let outcome = evaluator.evaluate(compact, &mut sc);
            assert_eq!(evaluator.decision(&outcome), parsed, "{condition}");
            decided.extend(parsed.hops.iter().map(|h| h.decision));
        }
        // Not vacuous: the conditions allow some hops and deny others.
        assert!(decided.contains(&Decision::Allow), "{decided:?}");
        assert!(decided.contains(&Decision::ImplicitDeny), "{decided:?}");
    }

    /// Actions the index does not name exactly resolve to their service's class when the
    /// request is built, and decide as the same requests parsed — with the residual
    /// programs and without them (`Evaluator::general`, whose general path reads the
    /// folded action for the class's open action clauses).
    #[test]
    fn class_entries_decide_as_parsed_requests() {
        let prepared = crate::benchmark::standard(400, 7).unwrap();
        let program = crate::compile::compile(&prepared.policies).unwrap();
        let mut builder = RequestBuilder::new();
        let mut classes = 0;
        for evaluator in [Evaluator::new(&program), Evaluator::general(&program)] {
            // Apart, so that nothing the parsed request leaves in its scratch (its folded
            // action) helps the compact one.
            let (mut sc, mut parsed_sc) = (evaluator.scratch(), evaluator.scratch());
            for request in &prepared.requests {
                let parsed = evaluator.evaluate(request, &mut parsed_sc);
                let parsed = evaluator.decision(&parsed);
                builder.fill_from(request);
                let compact = builder.finish_for(&evaluator).unwrap();
                classes += (0..compact.hop_count())
                    .filter_map(|k| compact.resolved_action(k, evaluator.token))
                    .filter(|e| *e != NO_ID && evaluator.is_class_entry(*e))
                    .count();
                let outcome = evaluator.evaluate(compact, &mut sc);
                assert_eq!(evaluator.decision(&outcome), parsed);
            }
        }
        assert!(classes > 0, "the sample has actions resolved to classes");
    }

    /// A class leaves `iam:Get*` open (the index names no `iam:` action exactly): each hop
    /// checks it on its own folded action, not on one a previous request left behind.
    #[test]
    fn class_entries_check_open_action_clauses_on_the_hops_action() {
        let case = parse_case(
            r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
            "policies":{"identity":[{"Statement":[{"Effect":"Allow","Action":"iam:Get*",
            "Resource":"*"}]}]},
            "chain":[{"action":"iam:GetUser","resource":"*"}]}"#,
            "test",
        )
        .unwrap();
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        for evaluator in [Evaluator::new(&program), Evaluator::general(&program)] {
            let mut sc = evaluator.scratch();
            let mut b = RequestBuilder::new();
            for (action, want) in [
                ("iam:GetUser", Decision::Allow),
                ("iam:ListUsers", Decision::ImplicitDeny),
                ("IAM:GetRole", Decision::Allow),
                ("iam:ListRoles", Decision::ImplicitDeny),
            ] {
                b.clear();
                b.principal("arn:aws:iam::111122223333:user/a").unwrap();
                b.hop(action, "*");
                let req = b.finish_for(&evaluator).unwrap();
                let entry = req.resolved_action(0, evaluator.token).unwrap();
                assert!(evaluator.is_class_entry(entry), "{action}");
                assert_eq!(evaluator.evaluate(req, &mut sc).decision, want, "{action}");
            }
        }
    }
}
