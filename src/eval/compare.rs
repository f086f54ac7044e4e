//! Conditions: one condition record against the hop's context (§7, R-COND-*, R-OP-*).
//!
//! A condition reads its key's value from the slots, applies the set qualifier and
//! `IfExists`/`Null` rules, then compares each context value with the policy values: by the
//! value test resolved for it when the evaluator was built (`value_test`, the common shapes),
//! else by the general comparison here. The context value is parsed once for its operator's
//! family ([`Parsed`]) whatever the number of policy values; negated operators combine with
//! NOR, where an `Error` makes them false (R-COND-7, R-OP-ERR-1).
//!
//! For example, `"ForAnyValue:StringLike": {"aws:CalledVia": "*.amazonaws.com"}` walks the
//! CalledVia list (its base list, then the `via` of each hop that appended) and is true at
//! the first element that matches.

use std::net::IpAddr;

use smallvec::SmallVec;

use crate::bytecode::*;
use crate::primitives::{self, Comparison, Piece};
use crate::request::RequestView;

use super::residual::bytes::same;
use super::slots::{Multi, Value};
use super::value_test::{ordered, within, ParseMemo, ValueTest};
use super::{Evaluator, Scratch};

impl<'p> Evaluator<'p> {
    /// Condition record `i` (R-COND-*).
    pub(super) fn condition<R: RequestView>(&self, i: usize, req: &R, sc: &mut Scratch) -> bool {
        let c = &self.v.conditions[i];
        let test = self.value_tests.with_variables(i);
        let base = BaseOperator::ALL[c.base as usize];
        let values =
            &self.v.values[c.values_first as usize..(c.values_first + c.values_len) as usize];
        let value = self.value(req, sc, c.key);
        if base == BaseOperator::Null {
            let present = !matches!(value, Value::Absent);
            return values
                .iter()
                .any(|v| v.kind == ValueKind::Null.code() && (v.a == 1) != present);
        }
        let if_exists = c.if_exists == 1;
        let for_all = c.qualifier == 1;
        match (c.qualifier, value) {
            (_, Value::Absent) if c.qualifier == 0 => if_exists || base.is_negated(),
            (_, Value::Absent) => for_all || if_exists,
            // R-COND-8: an unqualified operator on a multi-valued key is false.
            (0, Value::Multi(_)) => false,
            (_, Value::Single(v)) => self.test_value(test, base, values, v, req, sc),
            (_, Value::Multi(m)) => {
                for i in 0..self.multi_len(m, req, sc) {
                    let Some(s) = self.multi_at(m, i, req, sc) else {
                        continue;
                    };
                    let hit = self.test_value(test, base, values, s, req, sc);
                    if hit != for_all {
                        return hit;
                    }
                }
                for_all
            }
        }
    }

    pub(super) fn multi_len<R: RequestView>(&self, m: Multi<'_>, req: &R, sc: &Scratch) -> usize {
        match m {
            Multi::List(list) => list.len(),
            Multi::One(_) => 1,
            Multi::CalledVia => self.called_via_len(req, sc),
        }
    }

    pub(super) fn multi_at<'r, R: RequestView>(
        &self,
        m: Multi<'r>,
        i: usize,
        req: &'r R,
        sc: &Scratch,
    ) -> Option<&'r str> {
        match m {
            Multi::List(list) => list.get(i),
            Multi::One(s) => Some(s),
            Multi::CalledVia => self.called_via_at(req, sc, i),
        }
    }

    /// One context value against a condition's policy values: by its resolved test, or
    /// by the general comparison.
    #[inline]
    pub(super) fn test_value<R: RequestView>(
        &self,
        test: ValueTest,
        base: BaseOperator,
        values: &[ValueRec],
        v: &str,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        match test {
            ValueTest::General => self.value_matches(base, values, v, req, sc),
            ValueTest::EqualsTexts {
                first,
                end,
                negated,
            } => {
                let texts = self.value_tests.texts(first, end);
                texts.iter().any(|m| self.equals_text(*m, v, req, sc)) != negated
            }
            test => self.value_tests.passes(test, v, &mut sc.memo),
        }
    }

    /// Whether `v` equals the text of matcher `m` (`Exact`, or `TokensText` with its
    /// variables substituted), compared piece by piece where `text_of` would copy the
    /// text first; a variable with no single value and no default equals nothing (R-VAR-6),
    /// as the general comparison's `NoMatch`.
    fn equals_text<R: RequestView>(&self, m: MatcherRec, v: &str, req: &R, sc: &Scratch) -> bool {
        if m.kind == MatcherKind::Exact.code() {
            return same(v.as_bytes(), self.s(m.a).as_bytes());
        }
        let mut rest = v;
        for t in &self.v.tokens[m.a as usize..(m.a + m.b) as usize] {
            let piece = match TokenKind::from_code(t.kind) {
                Some(TokenKind::Text | TokenKind::Literal) => self.s(t.a),
                Some(TokenKind::Variable) => match self.variable(t, req, sc) {
                    Some(value) => value,
                    None => return false,
                },
                Some(TokenKind::Unresolvable) | None => return false,
            };
            match rest.strip_prefix(piece) {
                Some(after) => rest = after,
                None => return false,
            }
        }
        rest.is_empty()
    }

    /// R-COND-7: OR for positive operators, NOR for negated ones (an `Error` makes a negated
    /// operator false, R-OP-ERR-1).
    pub(super) fn value_matches<R: RequestView>(
        &self,
        base: BaseOperator,
        values: &[ValueRec],
        v: &str,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        let positive = base.positive();
        // The context value is parsed once for all the policy values it is compared with.
        let parsed = Parsed::new(base, v, &mut sc.memo);
        if base.is_negated() {
            values
                .iter()
                .all(|p| self.compare(positive, p, v, &parsed, req, sc) == Comparison::NoMatch)
        } else {
            values
                .iter()
                .any(|p| self.compare(positive, p, v, &parsed, req, sc) == Comparison::Match)
        }
    }

    fn compare<R: RequestView>(
        &self,
        op: BaseOperator,
        p: &ValueRec,
        v: &str,
        parsed: &Parsed<'_>,
        req: &R,
        sc: &mut Scratch,
    ) -> Comparison {
        match ValueKind::from_code(p.kind) {
            Some(ValueKind::Matcher) => {
                if op == BaseOperator::StringLike {
                    return self.matcher(p.a, v, req, sc).into();
                }
                let m = self.v.matchers[p.a as usize];
                // A policy value without variables is compared in place; one with variables
                // is substituted into the scratch text first.
                let t = if m.kind == MatcherKind::Exact.code() {
                    self.s(m.a)
                } else if self.text_of(m, req, sc) {
                    sc.text.as_str()
                } else {
                    return Comparison::NoMatch;
                };
                match op {
                    BaseOperator::StringEquals => (v == t).into(),
                    BaseOperator::StringEqualsIgnoreCase => primitives::fold_eq(v, t).into(),
                    BaseOperator::StringStartWith => v.starts_with(t).into(),
                    BaseOperator::StringEndWith => v.ends_with(t).into(),
                    _ => Comparison::Error,
                }
            }
            Some(ValueKind::Bool) => match parsed.boolean() {
                Some(b) => (b == (p.a == 1)).into(),
                None => Comparison::Error,
            },
            Some(ValueKind::BoolMatcher) => {
                let m = self.v.matchers[p.a as usize];
                if !self.text_of(m, req, sc) {
                    return Comparison::NoMatch;
                }
                match (parsed.boolean(), primitives::parse_bool(&sc.text)) {
                    (None, _) => Comparison::Error,
                    (Some(_), None) => Comparison::NoMatch,
                    (Some(a), Some(b)) => (a == b).into(),
                }
            }
            Some(ValueKind::Number) => {
                match (parsed.number(), primitives::parse_decimal(self.s(p.a))) {
                    (Some(a), Some(b)) => ordered(op, a.cmp(&b)),
                    _ => Comparison::Error,
                }
            }
            Some(ValueKind::Date) => match parsed.date() {
                Some(a) => {
                    let b = primitives::Instant {
                        secs: (p.a as u64 | (p.b as u64) << 32) as i64,
                        nanos: p.c,
                    };
                    ordered(op, a.cmp(&b))
                }
                None => Comparison::Error,
            },
            Some(ValueKind::IpTable) => {
                let Some(ip) = parsed.ip() else {
                    return Comparison::Error;
                };
                let (v4, v6) = self.v.ip_ranges[p.a as usize..(p.a + p.b + p.c) as usize]
                    .split_at(p.b as usize);
                let (table, x) = match ip {
                    IpAddr::V4(a) => (v4, u32::from(a) as u128),
                    IpAddr::V6(a) => (v6, u128::from(a)),
                };
                match (within(table, IpRangeRec::bounds, x), p.d == 1) {
                    (true, _) => Comparison::Match,
                    // An invalid CIDR among the values is an `Error` (R-OP-ERR-1).
                    (false, true) => Comparison::Error,
                    (false, false) => Comparison::NoMatch,
                }
            }
            Some(ValueKind::Base64) => {
                if parsed.base64_valid() {
                    (v == self.s(p.a)).into()
                } else {
                    Comparison::Error
                }
            }
            Some(ValueKind::Arn) => match primitives::split_arn(v) {
                Some(parts) => {
                    let mut all = true;
                    for (i, part) in parts.iter().enumerate() {
                        let m = self.v.matchers[p.a as usize + i];
                        if m.kind == MatcherKind::TokensGlob.code() {
                            let mut pieces: SmallVec<[Piece<'_>; 24]> = SmallVec::new();
                            if !self.pieces(m, req, sc, &mut pieces) {
                                return Comparison::NoMatch;
                            }
                            all &= primitives::glob_match(&pieces, part);
                        } else {
                            all &= self.matcher(p.a + i as u32, part, req, sc);
                        }
                    }
                    all.into()
                }
                None => Comparison::Error,
            },
            Some(ValueKind::Error) => Comparison::Error,
            Some(ValueKind::Null | ValueKind::Never) | None => Comparison::NoMatch,
        }
    }
}

/// A context value parsed for the operator family it is compared under (the other
/// families' readings are `None`/`false`, as if parsing had failed: they are never asked).
enum Parsed<'v> {
    Nothing,
    Boolean(Option<bool>),
    Number(Option<primitives::Decimal<'v>>),
    Date(Option<primitives::Instant>),
    Ip(Option<IpAddr>),
    Base64(bool),
}

impl<'v> Parsed<'v> {
    #[inline]
    fn new(base: BaseOperator, v: &'v str, memo: &mut ParseMemo) -> Self {
        use crate::bytecode::OperatorFamily as F;
        match base.family() {
            F::Bool => Parsed::Boolean(primitives::parse_bool(v)),
            F::Numeric => Parsed::Number(primitives::parse_decimal(v)),
            F::Date => Parsed::Date(memo.date.parse(v, primitives::parse_date)),
            F::Ip => Parsed::Ip(memo.ip.parse(v)),
            F::Binary => Parsed::Base64(primitives::is_valid_base64(v)),
            F::String | F::Arn | F::Null => Parsed::Nothing,
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self {
            Parsed::Boolean(b) => *b,
            _ => None,
        }
    }

    fn number(&self) -> Option<primitives::Decimal<'v>> {
        match self {
            Parsed::Number(n) => *n,
            _ => None,
        }
    }

    fn date(&self) -> Option<primitives::Instant> {
        match self {
            Parsed::Date(d) => *d,
            _ => None,
        }
    }

    fn ip(&self) -> Option<IpAddr> {
        match self {
            Parsed::Ip(ip) => *ip,
            _ => None,
        }
    }

    fn base64_valid(&self) -> bool {
        matches!(self, Parsed::Base64(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every condition resolved into a [`ValueTest`] answers as the general comparison, for
    /// each shape (positive and negated, one and several values, IPv4 and IPv6 tables, a
    /// table with invalid CIDRs in lenient mode) on context values of every type, valid and
    /// not, given in an order that makes the parse memo both hit and miss.
    #[test]
    fn value_tests_answer_as_the_general_comparison() {
        let conditions = [
            r#""StringEquals": {"aws:username": ["alice", "Bob"]}"#,
            r#""StringNotEquals": {"aws:username": "alice"}"#,
            r#""StringNotEqualsIfExists": {"aws:username": ["alice", "bob"]}"#,
            r#""Bool": {"aws:username": "true"}"#,
            r#""Bool": {"aws:username": ["false", "true"]}"#,
            r#""BoolIfExists": {"aws:username": "false"}"#,
            r#""DateGreaterThan": {"aws:username": "2030-01-01T00:00:00Z"}"#,
            r#""DateNotEquals": {"aws:username": ["2026-05-01T12:00:00Z", "1700000000"]}"#,
            r#""DateLessThanEquals": {"aws:username": "2026-05-01"}"#,
            r#""NumericGreaterThan": {"aws:username": "3600"}"#,
            r#""NumericNotEquals": {"aws:username": ["60", "-1.50"]}"#,
            r#""NumericLessThanEquals": {"aws:username": "0.5"}"#,
            r#""IpAddress": {"aws:username": ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]}"#,
            r#""NotIpAddress": {"aws:username": ["10.0.0.0/8", "192.0.2.7"]}"#,
            r#""NotIpAddress": {"aws:username": ["10.0.0.0/8", "not an ip"]}"#,
            r#""IpAddress": {"aws:username": ["::/0", "10.1.0.0/16", "bad"]}"#,
            // More than four ranges a family: searched, not scanned.
            r#""IpAddress": {"aws:username": ["10.0.0.0/8", "172.16.0.0/12", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "fe80::/10", "::1", "::ffff:0:0/96", "2002::/16"]}"#,
            r#""NotIpAddress": {"aws:username": ["10.0.0.0/8", "172.16.0.0/12", "192.0.2.7", "198.51.100.0/24", "203.0.113.0/25"]}"#,
            // Edge prefixes: the whole space and one address, each family; IPv4-mapped.
            r#""IpAddress": {"aws:username": ["0.0.0.0/0"]}"#,
            r#""NotIpAddress": {"aws:username": ["1.2.3.4/32", "::ffff:1.2.3.0/120"]}"#,
            r#""IpAddress": {"aws:username": ["255.255.255.255/32", "::/0"]}"#,
            r#""NotIpAddress": {"aws:username": "::1/128"}"#,
            r#""StringLike": {"aws:username": "*"}"#,
            r#""StringLike": {"aws:username": ["alice", "b*", "*.amazonaws.com"]}"#,
            r#""StringNotLike": {"aws:username": ["a?ice", "*o*b*", ""]}"#,
            r#""StringNotLikeIfExists": {"aws:username": "*"}"#,
            r#""StringLike": {"aws:username": ["", "?", "*e", "s3.amazonaws.com"]}"#,
            r#""ArnLike": {"aws:username": "arn:aws:iam::111122223333:role/Admin*"}"#,
            r#""ArnNotLike": {"aws:username": ["arn:aws:iam::*:role/*", "arn:*:s3:::b/?"]}"#,
            r#""ArnEquals": {"aws:username": ["arn:aws:iam::111122223333:user/x:y", "arn:aws:sqs:*:*:q*"]}"#,
            r#""ArnNotEquals": {"aws:username": "arn:aws:iam::111122223333:root"}"#,
        ];
        let statements: Vec<String> = conditions
            .iter()
            .map(|c| {
                format!(r#"{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{{c}}}}}"#)
            })
            .collect();
        let case = crate::eval::test_case(&statements);
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        let mut sc = evaluator.scratch();
        let values = [
            "alice",
            "Alice",
            "bob",
            "Bob",
            "",
            "true",
            "TRUE",
            "false",
            "False",
            "yes",
            "2030-01-01T00:00:01Z",
            "2030-01-01T00:00:00Z",
            "2026-05-01T12:00:00Z",
            "2026-05-01",
            "1700000000",
            "2026-13-01T00:00:00Z",
            "3600",
            "3600.0",
            "3601",
            "60",
            "-1.5",
            "-1.50",
            "0.5",
            "00.50",
            "1e3",
            "10.1.2.3",
            "10.1.2.3",
            "192.0.2.7",
            "192.0.2.8",
            "198.51.100.7",
            "11.0.0.0",
            "2001:db8::1",
            "::1",
            "2001:db9::",
            "010.1.2.3",
            "10.1.2",
            "not an ip",
            "172.31.255.255",
            "172.32.0.0",
            "203.0.113.127",
            "203.0.113.128",
            "9.255.255.255",
            "fe80::1",
            "::ffff:10.1.2.3",
            "2001:db8:0:0:0:0:0:1",
            "2001:db8:0:0:0:0:0:1",
            "fe80:0000:0000:0000:0000:0000:0000:0001",
            "2002::",
            "::2",
            "*",
            "?",
            "a*",
            "alice*",
            "b",
            "bo?",
            "s3.amazonaws.com",
            "dynamodb.amazonaws.com",
            ".amazonaws.com",
            "e",
            "arn:aws:iam::111122223333:role/Admin",
            "arn:aws:iam::111122223333:role/AdminX",
            "arn:aws:iam::111122223333:role/admin",
            "arn:aws:iam::444455556666:role/Dev",
            "arn:aws:iam::111122223333:user/x:y",
            "arn:aws:iam::111122223333:user/x",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333",
            "arn:aws:s3:::b/k",
            "arn:aws-cn:s3:::b/k",
            "arn:aws:s3:::b/kk",
            "arn:aws:sqs:us-east-1:111122223333:queue",
            "arn:aws:sqs:us-east-1:111122223333:q:x",
            "ARN:aws:iam::111122223333:root",
            "arn:aws:iam:::::",
            "arn:::::",
            // Addresses at the edges of the dotted-quad read and of the prefixes above.
            "1.2.3.4",
            "1.2.3.5",
            "1.2.3.04",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "255.255.255.255",
            "255.255.255.256",
            "0.0.0.0",
            "00.0.0.0",
            " 1.2.3.4",
            "1.2.3.4 ",
            "1.2.3. 4",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1234.2.3.4",
            "1.2.3.4/32",
            "::ffff:1.2.3.4",
            "::FFFF:1.2.3.4",
            "::ffff:102:304",
            "::1",
            "::1%lo",
            "[::1]",
            "0:0:0:0:0:0:0:1",
            "1.2.3.4:80",
        ];
        let mut resolved = 0;
        for i in 0..program.view().conditions.len() {
            let test = evaluator.value_tests.get(i);
            if test == ValueTest::General {
                continue;
            }
            resolved += 1;
            let c = program.view().conditions[i];
            let base = BaseOperator::ALL[c.base as usize];
            let first = c.values_first as usize;
            let records = &program.view().values[first..first + c.values_len as usize];
            for v in values {
                let general =
                    evaluator.value_matches(base, records, v, &case.chain.request, &mut sc);
                let resolved = evaluator.value_tests.passes(test, v, &mut sc.memo);
                assert_eq!(resolved, general, "{base:?} {test:?} on {v:?}");
            }
        }
        // Every condition above has a resolved shape.
        assert_eq!(resolved, conditions.len());
    }

    /// `StringEquals`/`StringNotEquals` against values with policy variables resolve to
    /// [`ValueTest::EqualsTexts`] (hidden from `get`, which the residual ops read) and
    /// decide as the reference evaluator on contexts where each variable is single, absent,
    /// multi-valued, empty or holds `*`, alone and under `ForAnyValue`/`ForAllValues`.
    #[test]
    fn equals_with_variables_decides_as_the_reference() {
        let conditions = [
            r#""StringEquals": {"aws:ResourceTag/Project": "${aws:PrincipalTag/Project}"}"#,
            r#""StringNotEquals": {"aws:ResourceTag/Project": "${aws:PrincipalTag/Project}"}"#,
            r#""StringEquals": {"aws:ResourceTag/Project": ["x", "p-${aws:username}-${aws:PrincipalTag/Project}"]}"#,
            r#""StringEqualsIfExists": {"aws:ResourceTag/Project": "${aws:username, 'dflt'}*"}"#,
            r#""StringNotEqualsIfExists": {"aws:ResourceTag/Project": ["${aws:username}", "${*}"]}"#,
            r#""ForAnyValue:StringEquals": {"aws:TagKeys": ["${aws:username}", "k"]}"#,
            r#""ForAllValues:StringNotEquals": {"aws:TagKeys": "${aws:PrincipalTag/Project}"}"#,
        ];
        let contexts = [
            r#"{}"#,
            r#"{"aws:ResourceTag/Project":"gemini","aws:PrincipalTag/Project":"gemini","aws:username":"alice"}"#,
            r#"{"aws:ResourceTag/Project":"apollo","aws:PrincipalTag/Project":"gemini","aws:username":"alice"}"#,
            r#"{"aws:ResourceTag/Project":"p-alice-gemini","aws:PrincipalTag/Project":"gemini","aws:username":"alice"}"#,
            r#"{"aws:ResourceTag/Project":"p-alice-","aws:PrincipalTag/Project":"","aws:username":"alice"}"#,
            r#"{"aws:ResourceTag/Project":"dflt*","aws:PrincipalTag/Project":["gemini"],"aws:TagKeys":["k","dflt"]}"#,
            r#"{"aws:ResourceTag/Project":"alice*","aws:username":"alice","aws:TagKeys":["alice","k"]}"#,
            r#"{"aws:ResourceTag/Project":"*","aws:username":"*","aws:TagKeys":["*"],"aws:PrincipalTag/Project":"*"}"#,
            r#"{"aws:ResourceTag/Project":["gemini"],"aws:PrincipalTag/Project":"gemini","aws:TagKeys":"gemini"}"#,
        ];
        for condition in conditions {
            for context in contexts {
                let text = format!(
                    r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
                    "options":{{"mode":"lenient"}},"context":{context},
                    "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[
                    {{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{{condition}}}}}]}}]}},
                    "chain":[{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}]}}"#
                );
                let case = crate::request::parse_case(&text, "test").unwrap();
                let program = crate::compile::compile(&case.chain.policies).unwrap();
                for evaluator in [Evaluator::new(&program), Evaluator::general(&program)] {
                    assert!(
                        matches!(
                            evaluator.value_tests.with_variables(0),
                            ValueTest::EqualsTexts { .. }
                        ),
                        "{condition}"
                    );
                    assert_eq!(evaluator.value_tests.get(0), ValueTest::General);
                    let mut sc = evaluator.scratch();
                    let outcome = evaluator.evaluate(&case.chain.request, &mut sc);
                    assert_eq!(
                        evaluator.decision(&outcome),
                        crate::reference::evaluate_chain(&case.chain),
                        "{condition} with {context}"
                    );
                }
            }
        }
    }

    /// A remembered parse answers as the parse itself, whatever the order of texts: repeats,
    /// texts that differ in one byte or in length, the empty text and texts too long to keep.
    #[test]
    fn parse_memo_answers_as_the_parse() {
        let long = format!("{}Z", "2".repeat(60));
        let texts = [
            "2026-05-01T12:00:00Z",
            "2026-05-01T12:00:00Z",
            "2026-05-01T12:00:01Z",
            "",
            "2026-05-01T12:00:01Z",
            "10.0.0.1",
            "10.0.0.1",
            "10.0.0.10",
            "2001:db8::1",
            "1700000000",
            &long,
            &long,
            "2026-05-01",
            "not a date",
            "not a date",
            // Texts of 16 to 24 bytes, compared as three words: each word differing, and
            // the lengths at both ends and just past them.
            "2026-05-01T12:00:00Z",
            "2026-05-02T12:00:00Z",
            "2026-05-01T13:00:00Z",
            "2026-05-01T12:00:01Z",
            "2026-05-01T12:00",
            "2026-05-01T12:01",
            "2026-05-01T12:00:00.123Z",
            "2026-05-01T12:00:00.124Z",
            "2026-05-01T12:00:00.1234Z",
            "2026-05-01T12:00:00.1235Z",
            "2026-05-01T12:0",
            // Texts of 4 to 16 bytes that differ only in a middle byte, in length or past
            // the first eight, an IPv6 text longer than 16 and one shorter than 4.
            "1.2.3.4",
            "1.2.9.4",
            "1.2.3.4",
            "1.2.3.45",
            "1.2.3.4",
            "203.0.113.250",
            "203.0.113.251",
            "203.0.114.250",
            "255.255.255.255",
            "255.255.255.2555",
            "255.255.255.25",
            "2001:db8:1234:5678::1",
            "2001:db8:1234:5678::1",
            "2001:db8:1234:5678::2",
            "::1",
            "::1",
            "::2",
            "1.2.",
            "1.2.",
        ];
        let mut memo = ParseMemo::default();
        for t in texts {
            assert_eq!(
                memo.date.parse(t, primitives::parse_date),
                primitives::parse_date(t),
                "{t:?}"
            );
            assert_eq!(memo.ip.parse(t), primitives::parse_ip(t), "{t:?}");
        }
    }
}
