//! Condition value tests resolved once per evaluator for the common operator families.
//!
//! The general comparison of a context value with a condition's policy values dispatches
//! three times per value: on the operator family to parse the context value, on each
//! policy value's kind, and on the operator again to compare. Most conditions in real
//! policies are one of a few shapes — `StringEquals`/`StringNotEquals` against literal
//! strings, `StringLike` against globs, `ArnLike` against ARN patterns, `Bool`,
//! `IpAddress`/`NotIpAddress`, a date or number comparison against constants — so
//! [`ValueTests`] resolves each condition of the program into one [`ValueTest`] when the
//! evaluator is built: the literal strings as slices, globs and ARN patterns as the
//! resource plans' segment tests (`resource_plan`), dates and numbers parsed, a prefix
//! table as pairs of integers. A condition of any other shape (variables, `IgnoreCase`,
//! base64, lenient-mode errors) keeps [`ValueTest::General`] and the general comparison.
//!
//! A test answers what the general comparison answers (R-COND-7, R-OP-ERR-1): for a
//! positive operator, whether some policy value matches; for a negated one, whether none
//! matches and none is an `Error`. A context value that does not parse as the operator's
//! type is an `Error` against every policy value, so both answer false. A unit test in
//! `eval` runs every shape against the general comparison; the differential tests and the
//! `eval_differential` fuzz target compare the whole evaluator with the reference.
//!
//! ```text
//! "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}
//!   → Ip { first4: 0, end4: 2, first6: 0, end6: 0, invalid: false, negated: true }
//!     with v4[0..2] = [(0x0a000000, 0x0affffff), (0xc0000200, 0xc00002ff)]
//! "DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
//!   → Date { first: 0, end: 1, op: DateGreaterThan, negated: false }
//!     with instants[0] = 1893456000 s
//! "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Admin*"}
//!   → Arn { first: 0, end: 1, negated: true }
//!     with arns[0] = head "arn:aws:iam::111122223333:", segment 5 Prefix("role/Admin")
//! ```
//!
//! The parse of a date or an address through the scratch's memo of the last one parsed
//! is [`memo`]'s.

use std::cmp::Ordering;

use crate::primitives::ip::Address;

use crate::bytecode::{BaseOperator, OperatorFamily};
use crate::bytecode::{ConditionRec, MatcherKind, MatcherRec, StrId, ValueKind, ValueRec};
use crate::primitives::{self, Comparison, Decimal, Instant};
use crate::table::ProgramView;

use super::residual::bytes::same;
use super::resource_plan::{ResourcePlan, Seg, Target};

mod memo;
pub(super) use memo::ParseMemo;

/// How one condition compares a single context value with its policy values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueTest {
    /// `StringEquals` (or `StringNotEquals` when `negated`) against the literal strings
    /// `literals[first..end]`.
    Equals { first: u32, end: u32, negated: bool },
    /// `Bool` against literal booleans: whether a context `true` or `false` matches.
    Bool { on_true: bool, on_false: bool },
    /// An IP operator against prefix table `ip_tables[table]` ([`IpTable`]); kept apart so
    /// that a `ValueTest` is 12 bytes, two registers.
    Ip { table: u32, negated: bool },
    /// A date operator (positive form `op`) against `instants[first..end]`.
    Date {
        first: u32,
        end: u32,
        op: BaseOperator,
        negated: bool,
    },
    /// A numeric operator (positive form `op`) against `numbers[first..end]`.
    Number {
        first: u32,
        end: u32,
        op: BaseOperator,
        negated: bool,
    },
    /// `StringLike` (`StringNotLike` when `negated`) against patterns without variables,
    /// `likes[first..end]`.
    Like { first: u32, end: u32, negated: bool },
    /// An ARN operator (`ArnLike`, `ArnEquals` and their negations, which compare alike,
    /// R-OPA-*) against ARN patterns without variables, `arns[first..end]`.
    Arn { first: u32, end: u32, negated: bool },
    /// `StringEquals` (`StringNotEquals` when `negated`) against `texts[first..end]`, some
    /// with policy variables: literal (`Exact`) and token (`TokensText`) matcher records,
    /// compared piece by piece by `Evaluator::equals_text` (compare.rs) with no copy. It
    /// reads the request, so only `condition` runs it: [`ValueTests::get`] answers
    /// [`ValueTest::General`] for it (the residual ops then call `condition`), and
    /// [`ValueTests::with_variables`] gives it.
    EqualsTexts { first: u32, end: u32, negated: bool },
    /// Any other shape: the general comparison.
    General,
}

/// An IP condition's prefix table: IPv4 ranges `v4[first4..end4]`, IPv6 ranges
/// `v6[first6..end6]`; `invalid` when the condition also had invalid CIDRs (an address
/// outside every range is then an `Error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IpTable {
    first4: u32,
    end4: u32,
    first6: u32,
    end6: u32,
    invalid: bool,
}

/// The [`ValueTest`] of every condition record, and the constants they refer to.
#[derive(Clone, Debug, Default)]
pub(super) struct ValueTests<'p> {
    /// One per condition record of the program; [`ValueTest::General`] for a test that
    /// reads policy variables, which `with_variables` holds.
    tests: Vec<ValueTest>,
    /// The tests that read policy variables ([`ValueTest::EqualsTexts`]), by condition
    /// record, in record order.
    with_variables: Vec<(u32, ValueTest)>,
    literals: Vec<&'p str>,
    instants: Vec<Instant>,
    numbers: Vec<Decimal<'p>>,
    ip_tables: Vec<IpTable>,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    likes: Vec<Seg<'p>>,
    arns: Vec<ResourcePlan<'p>>,
    texts: Vec<MatcherRec>,
}

impl<'p> ValueTests<'p> {
    /// The bytes these tests hold on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        use super::build::heap_bytes;
        heap_bytes(&self.tests)
            + heap_bytes(&self.literals)
            + heap_bytes(&self.instants)
            + heap_bytes(&self.numbers)
            + heap_bytes(&self.ip_tables)
            + heap_bytes(&self.v4)
            + heap_bytes(&self.v6)
            + heap_bytes(&self.likes)
            + heap_bytes(&self.arns)
            + heap_bytes(&self.texts)
            + heap_bytes(&self.with_variables)
            + self
                .arns
                .iter()
                .map(ResourcePlan::heap_bytes)
                .sum::<usize>()
    }

    /// Resolves every condition of `v`; `s` reads a string of the program.
    pub(super) fn new(v: &ProgramView<'p>, s: impl Fn(StrId) -> &'p str) -> Self {
        let mut t = ValueTests::default();
        let mut tests = Vec::with_capacity(v.conditions.len());
        for (i, c) in v.conditions.iter().enumerate() {
            match t.resolve(v, c, &s) {
                Some(test @ ValueTest::EqualsTexts { .. }) => {
                    t.with_variables.push((i as u32, test));
                    tests.push(ValueTest::General);
                }
                test => tests.push(test.unwrap_or(ValueTest::General)),
            }
        }
        t.tests = tests;
        t
    }

    /// The test of condition record `i` that reads nothing but the context value
    /// ([`ValueTests::passes`] runs it); [`ValueTest::General`] for the others.
    #[inline]
    pub(super) fn get(&self, i: usize) -> ValueTest {
        self.tests.get(i).copied().unwrap_or(ValueTest::General)
    }

    /// The test of condition record `i`, including those that read policy variables
    /// (`Evaluator::test_value` runs them all; they are looked up only for a record
    /// whose [`ValueTests::get`] is [`ValueTest::General`]).
    #[inline]
    pub(super) fn with_variables(&self, i: usize) -> ValueTest {
        match self.get(i) {
            ValueTest::General => self
                .with_variables
                .binary_search_by_key(&(i as u32), |(record, _)| *record)
                .map_or(ValueTest::General, |at| self.with_variables[at].1),
            test => test,
        }
    }

    /// The matcher records of the [`ValueTest::EqualsTexts`] tests `first..end`.
    #[inline]
    pub(super) fn texts(&self, first: u32, end: u32) -> &[MatcherRec] {
        &self.texts[first as usize..end as usize]
    }

    /// Literal `i` of the [`ValueTest::Equals`] tests.
    pub(super) fn literal(&self, i: u32) -> &'p str {
        self.literals[i as usize]
    }

    /// Instant `i` of the [`ValueTest::Date`] tests.
    #[inline]
    pub(super) fn instant(&self, i: u32) -> Instant {
        self.instants[i as usize]
    }

    /// One condition's test, or `None` for the general comparison.
    fn resolve(
        &mut self,
        v: &ProgramView<'p>,
        c: &ConditionRec,
        s: &impl Fn(StrId) -> &'p str,
    ) -> Option<ValueTest> {
        let base = *BaseOperator::ALL.get(c.base as usize)?;
        let first = c.values_first as usize;
        let values = v
            .values
            .get(first..first.checked_add(c.values_len as usize)?)?;
        let (op, negated) = (base.positive(), base.is_negated());
        let kinds_are = |kind: ValueKind| values.iter().all(|p| p.kind == kind.code());
        if values.is_empty() {
            return None;
        }
        match base.family() {
            OperatorFamily::String if op == BaseOperator::StringEquals => {
                let start = self.literals.len();
                for p in values {
                    let m = v.matchers.get(p.a as usize)?;
                    if p.kind != ValueKind::Matcher.code() || m.kind != MatcherKind::Exact.code() {
                        self.literals.truncate(start);
                        return self.equals_texts(v, values, negated);
                    }
                    self.literals.push(s(m.a));
                }
                let (first, end) = (start as u32, self.literals.len() as u32);
                Some(ValueTest::Equals {
                    first,
                    end,
                    negated,
                })
            }
            OperatorFamily::String
                if op == BaseOperator::StringLike && kinds_are(ValueKind::Matcher) =>
            {
                let start = self.likes.len();
                for p in values {
                    let seg = Seg::of(p.a, v.matchers.get(p.a as usize)?, s);
                    if !seg.is_literal() {
                        self.likes.truncate(start);
                        return None;
                    }
                    self.likes.push(seg);
                }
                let (first, end) = (start as u32, self.likes.len() as u32);
                Some(ValueTest::Like {
                    first,
                    end,
                    negated,
                })
            }
            OperatorFamily::Arn if kinds_are(ValueKind::Arn) => {
                let start = self.arns.len();
                for p in values {
                    let segs = v.matchers.get(p.a as usize..p.a as usize + 6)?;
                    let plan = ResourcePlan::arn(std::array::from_fn(|i| {
                        Seg::of(p.a + i as u32, &segs[i], s)
                    }));
                    if !plan.is_literal() {
                        self.arns.truncate(start);
                        return None;
                    }
                    self.arns.push(plan);
                }
                let (first, end) = (start as u32, self.arns.len() as u32);
                Some(ValueTest::Arn {
                    first,
                    end,
                    negated,
                })
            }
            OperatorFamily::Bool if !negated && kinds_are(ValueKind::Bool) => {
                Some(ValueTest::Bool {
                    on_true: values.iter().any(|p| p.a == 1),
                    on_false: values.iter().any(|p| p.a == 0),
                })
            }
            OperatorFamily::Date if kinds_are(ValueKind::Date) => {
                let first = self.instants.len() as u32;
                self.instants.extend(values.iter().map(instant_of));
                let end = self.instants.len() as u32;
                Some(ValueTest::Date {
                    first,
                    end,
                    op,
                    negated,
                })
            }
            OperatorFamily::Numeric if kinds_are(ValueKind::Number) => {
                let start = self.numbers.len();
                for p in values {
                    let Some(n) = primitives::parse_decimal(s(p.a)) else {
                        self.numbers.truncate(start);
                        return None;
                    };
                    self.numbers.push(n);
                }
                let (first, end) = (start as u32, self.numbers.len() as u32);
                Some(ValueTest::Number {
                    first,
                    end,
                    op,
                    negated,
                })
            }
            OperatorFamily::Ip if values.len() == 1 && kinds_are(ValueKind::IpTable) => {
                let p = values[0];
                let (a, b, c) = (p.a as usize, p.b as usize, p.c as usize);
                let ranges = v.ip_ranges.get(a..a.checked_add(b)?.checked_add(c)?)?;
                let (v4, v6) = ranges.split_at(b);
                let (first4, first6) = (self.v4.len() as u32, self.v6.len() as u32);
                for r in v4 {
                    let (lo, hi) = r.bounds();
                    self.v4
                        .push((u32::try_from(lo).ok()?, u32::try_from(hi).ok()?));
                }
                self.v6.extend(v6.iter().map(|r| r.bounds()));
                self.ip_tables.push(IpTable {
                    first4,
                    end4: self.v4.len() as u32,
                    first6,
                    end6: self.v6.len() as u32,
                    invalid: p.d == 1,
                });
                Some(ValueTest::Ip {
                    table: self.ip_tables.len() as u32 - 1,
                    negated,
                })
            }
            _ => None,
        }
    }

    /// A `StringEquals` condition's test when some of its values have policy variables:
    /// every value a literal or tokens compared literally.
    fn equals_texts(
        &mut self,
        v: &ProgramView<'p>,
        values: &[ValueRec],
        negated: bool,
    ) -> Option<ValueTest> {
        let start = self.texts.len();
        for p in values {
            let m = v.matchers.get(p.a as usize).copied();
            let literal_or_tokens = |m: &MatcherRec| {
                m.kind == MatcherKind::Exact.code() || m.kind == MatcherKind::TokensText.code()
            };
            match m.filter(literal_or_tokens) {
                Some(m) if p.kind == ValueKind::Matcher.code() => self.texts.push(m),
                _ => {
                    self.texts.truncate(start);
                    return None;
                }
            }
        }
        let (first, end) = (start as u32, self.texts.len() as u32);
        Some(ValueTest::EqualsTexts {
            first,
            end,
            negated,
        })
    }

    /// Whether context value `v` passes `test` (which is neither [`ValueTest::General`] nor
    /// [`ValueTest::EqualsTexts`]: those are the caller's);
    /// `memo` remembers the last date and address parsed.
    ///
    /// A dispatch, inlined into its callers: `Equals` and an `Ip` test whose address is
    /// remembered run there; the other shapes and the IP parse are functions of their own,
    /// so that the common tests save no registers for the rare ones (main's one body for
    /// all saved six and kept a 184-byte frame on every call; BENCHMARKS.md, tenth
    /// session, `tests2`).
    #[inline(always)]
    pub(super) fn passes(&self, test: ValueTest, v: &str, memo: &mut ParseMemo) -> bool {
        match test {
            ValueTest::Equals {
                first,
                end,
                negated,
            } => self.equals(first, end, negated, v),
            ValueTest::Bool { on_true, on_false } => match parse_bool(v) {
                Some(true) => on_true,
                Some(false) => on_false,
                None => false,
            },
            ValueTest::Date {
                first,
                end,
                op,
                negated,
            } => self.date(first, end, op, negated, v, memo),
            ValueTest::Number {
                first,
                end,
                op,
                negated,
            } => self.number(first, end, op, negated, v),
            ValueTest::Ip { table, negated } => self.ip(table, negated, v, memo),
            ValueTest::Like {
                first,
                end,
                negated,
            } => self.like(first, end, negated, v),
            ValueTest::Arn {
                first,
                end,
                negated,
            } => self.arn(first, end, negated, v),
            ValueTest::EqualsTexts { .. } | ValueTest::General => false,
        }
    }

    /// [`ValueTest::Equals`]: `v` is one of `literals[first..end]` (none, when `negated`).
    #[inline(always)]
    fn equals(&self, first: u32, end: u32, negated: bool, v: &str) -> bool {
        let hit = self.literals[first as usize..end as usize]
            .iter()
            .any(|l| same(l.as_bytes(), v.as_bytes()));
        hit != negated
    }

    /// [`ValueTest::Date`].
    #[inline(never)]
    fn date(
        &self,
        first: u32,
        end: u32,
        op: BaseOperator,
        negated: bool,
        v: &str,
        memo: &mut ParseMemo,
    ) -> bool {
        let instants = &self.instants[first as usize..end as usize];
        let a = memo.date.parse(v, primitives::parse_date);
        ordered_test(op, negated, a, instants)
    }

    /// [`ValueTest::Number`].
    #[inline(never)]
    fn number(&self, first: u32, end: u32, op: BaseOperator, negated: bool, v: &str) -> bool {
        let numbers = &self.numbers[first as usize..end as usize];
        ordered_test(op, negated, primitives::parse_decimal(v), numbers)
    }

    /// [`ValueTest::Ip`]: with `v`'s address remembered, no call; else the parse and the
    /// test out of line.
    #[inline(always)]
    fn ip(&self, table: u32, negated: bool, v: &str, memo: &mut ParseMemo) -> bool {
        match memo.ip.remembered(v) {
            Some(address) => self.ip_within(table, negated, address),
            None => self.ip_parsed(table, negated, v, memo),
        }
    }

    /// [`ValueTest::Ip`] on an address not remembered.
    #[inline(never)]
    fn ip_parsed(&self, table: u32, negated: bool, v: &str, memo: &mut ParseMemo) -> bool {
        let address = memo.ip.parse_new(v);
        self.ip_within(table, negated, address)
    }

    /// Whether `address` lies in IP table `table` (outside, when `negated`); false for an
    /// `Error` (an invalid address, or one outside every range of a table with invalid
    /// CIDRs).
    #[inline(always)]
    fn ip_within(&self, table: u32, negated: bool, address: Address) -> bool {
        fn pair<T: Copy>(r: &(T, T)) -> (T, T) {
            *r
        }
        let t = self.ip_tables[table as usize];
        let inside = match address {
            Address::V4(a) => within(&self.v4[t.first4 as usize..t.end4 as usize], pair, a),
            Address::V6(a) => within(&self.v6[t.first6 as usize..t.end6 as usize], pair, a),
            Address::Invalid => return false,
        };
        match (inside, t.invalid) {
            (true, _) => !negated,
            // Outside with invalid CIDRs among the values: `Error`, false either way.
            (false, true) => false,
            (false, false) => negated,
        }
    }

    /// [`ValueTest::Like`].
    #[inline(never)]
    fn like(&self, first: u32, end: u32, negated: bool, v: &str) -> bool {
        let hit = self.likes[first as usize..end as usize]
            .iter()
            .any(|seg| seg.matches(v, &mut |_, _| false));
        hit != negated
    }

    /// [`ValueTest::Arn`]. A value that is not an ARN is an `Error` against every pattern:
    /// false either way (R-OP-ERR-1).
    #[inline(never)]
    fn arn(&self, first: u32, end: u32, negated: bool, v: &str) -> bool {
        let target = Target::new(v);
        target.is_arn()
            && self.arns[first as usize..end as usize]
                .iter()
                .any(|plan| plan.matches(&target, |_, _| false))
                != negated
    }
}

/// `true`/`false`, ASCII case-insensitive (R-OPB-1), as [`primitives::parse_bool`], read
/// as one word: each letter of `true` and `false` has its `0x20` bit set, so a byte ORed
/// with `0x20` equals it only when the byte is the letter in either case.
#[inline]
pub(super) fn parse_bool(v: &str) -> Option<bool> {
    let b = v.as_bytes();
    match b.len() {
        4 => (u32::from_le_bytes(b.try_into().ok()?) | 0x2020_2020 == u32::from_le_bytes(*b"true"))
            .then_some(true),
        5 => (u32::from_le_bytes(b[..4].try_into().ok()?) | 0x2020_2020
            == u32::from_le_bytes(*b"fals")
            && b[4] | 0x20 == b'e')
            .then_some(false),
        _ => None,
    }
}

/// Whether `x` lies in one of `ranges` (sorted, disjoint, inclusive bounds as `bounds`
/// gives them): the last range starting at or below `x` is the only candidate. Shared
/// with the general comparison's prefix tables. A table of up to four ranges is scanned
/// (a compare pair a range, no search loop).
#[inline(always)]
pub(super) fn within<R, T: Ord + Copy>(ranges: &[R], bounds: impl Fn(&R) -> (T, T), x: T) -> bool {
    if ranges.len() <= 4 {
        return ranges.iter().any(|r| {
            let (lo, hi) = bounds(r);
            lo <= x && x <= hi
        });
    }
    within_searched(ranges, bounds, x)
}

/// [`within`] on a table of more than four ranges: a binary search, out of line.
#[inline(never)]
fn within_searched<R, T: Ord + Copy>(ranges: &[R], bounds: impl Fn(&R) -> (T, T), x: T) -> bool {
    let i = ranges.partition_point(|r| bounds(r).0 <= x);
    i > 0 && x <= bounds(&ranges[i - 1]).1
}

/// A date or numeric test: a context value that did not parse is an `Error` against every
/// policy value (false either way); otherwise some value must hold (none, when negated).
#[inline]
fn ordered_test<T: Ord>(op: BaseOperator, negated: bool, a: Option<T>, values: &[T]) -> bool {
    match a {
        Some(a) => values.iter().any(|b| holds(op, a.cmp(b))) != negated,
        None => false,
    }
}

/// A date value record's instant.
fn instant_of(p: &ValueRec) -> Instant {
    Instant {
        secs: (p.a as u64 | (p.b as u64) << 32) as i64,
        nanos: p.c,
    }
}

/// Whether an ordering satisfies a positive ordering operator (R-OPN-*, R-OPD-*): a bit of
/// [`ORDERINGS`], a load and a shift where [`ordered`]'s match was a jump a test.
#[inline]
pub(super) fn holds(op: BaseOperator, ord: Ordering) -> bool {
    let orderings = ORDERINGS.get(op as usize).copied().unwrap_or(0);
    orderings >> (ord as i8 + 1) & 1 == 1
}

/// By base operator (its discriminant, its place in `BaseOperator::ALL`), the orderings
/// that satisfy it as [`ordered`] answers: bit 0 `Less`, bit 1 `Equal`, bit 2 `Greater`;
/// none for an operator that is not a positive ordering one.
const ORDERINGS: [u8; BaseOperator::ALL.len()] = {
    let mut table = [0u8; BaseOperator::ALL.len()];
    let mut i = 0;
    while i < table.len() {
        use BaseOperator as B;
        let (less, equal, greater) = (1, 2, 4);
        table[i] = match BaseOperator::ALL[i] {
            B::NumericEquals | B::DateEquals => equal,
            B::NumericLessThan | B::DateLessThan => less,
            B::NumericLessThanEquals | B::DateLessThanEquals => less | equal,
            B::NumericGreaterThan | B::DateGreaterThan => greater,
            B::NumericGreaterThanEquals | B::DateGreaterThanEquals => greater | equal,
            _ => 0,
        };
        i += 1;
    }
    table
};

/// The comparison an ordering makes under a positive ordering operator; `Error` for any
/// other operator.
pub(super) fn ordered(op: BaseOperator, ord: Ordering) -> Comparison {
    use BaseOperator as B;
    match op {
        B::NumericEquals | B::DateEquals => (ord == Ordering::Equal).into(),
        B::NumericLessThan | B::DateLessThan => (ord == Ordering::Less).into(),
        B::NumericLessThanEquals | B::DateLessThanEquals => (ord != Ordering::Greater).into(),
        B::NumericGreaterThan | B::DateGreaterThan => (ord == Ordering::Greater).into(),
        B::NumericGreaterThanEquals | B::DateGreaterThanEquals => (ord != Ordering::Less).into(),
        _ => Comparison::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of orderings answers as the match of [`ordered`], for every operator
    /// (each at its discriminant's place) and ordering.
    #[test]
    fn holds_answers_as_ordered() {
        for (i, op) in BaseOperator::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
            for ord in [Ordering::Less, Ordering::Equal, Ordering::Greater] {
                let want = ordered(*op, ord) == Comparison::Match;
                assert_eq!(holds(*op, ord), want, "{op:?} {ord:?}");
            }
        }
    }

    /// The word read of a boolean answers as `primitives::parse_bool` on every case mix of
    /// `true` and `false`, their neighbours by one bit, and other lengths.
    #[test]
    fn parse_bool_answers_as_the_primitive() {
        let mut texts: Vec<String> = ["", "t", "tru", "truee", "falsee", "yes", "1", " true"]
            .map(String::from)
            .to_vec();
        for word in ["true", "false"] {
            for mix in 0..1u32 << word.len() {
                let cased: String = word
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if mix >> i & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect();
                for at in 0..word.len() {
                    for bit in 0..8 {
                        let mut b = cased.clone().into_bytes();
                        b[at] ^= 1 << bit;
                        if let Ok(t) = String::from_utf8(b) {
                            texts.push(t);
                        }
                    }
                }
                texts.push(cased);
            }
        }
        for t in &texts {
            assert_eq!(
                super::parse_bool(t),
                crate::primitives::parse_bool(t),
                "{t:?}"
            );
        }
    }
}
