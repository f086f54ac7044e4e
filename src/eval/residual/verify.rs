//! Checks, once when the evaluator is built, that every index the residual tables hold is
//! in range of the table it indexes, so that the walk (`run`) reads them without bounds
//! tests.
//!
//! This is what regex-automata does for a DFA it deserializes: the tables are validated
//! once, then read unchecked on the hot path. Here the tables are the evaluator's own,
//! laid out by `build` from a program the loader has already checked, so a failure is a
//! bug of the layout, never a property of the input; but the unchecked reads are only
//! sound if the invariants hold, so they are checked rather than assumed, and a residual
//! that fails is dropped (every hop takes the general path, which reads with bounds
//! tests) rather than run. Each unchecked read in `run` names the check here that makes it
//! valid.
//!
//! ```text
//! heads[3] = Head { at: 10, conditions: 12, end: 13 }  with ops.len() == 13   ok
//! heads[3] = Head { at: 10, conditions: 14, end: 13 }                          HeadRange(3)
//! ```

use super::super::Evaluator;
use super::run::Head;
use super::*;

/// An index of the residual tables out of range of the table it indexes: the residual is
/// not run (`build` drops it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VerifyError {
    /// Not one head per statement.
    HeadCount { heads: usize, statements: usize },
    /// Statement `id`'s head's `at <= conditions <= end <= ops.len()` fails, or its block
    /// does not start with a head op.
    HeadRange(u32),
    /// A tabulated candidate (at this place of `exact_candidates`) names no statement.
    Candidate(usize),
    /// A resource policy's statement range (of this slot) reaches past the statements.
    OwnRange(usize),
    /// The op at this place holds an index out of range of its table (its text, its ARN
    /// segment tests, its glob, its `AnyOf` group past its block's resource ops).
    OpIndex(usize),
    /// Program `entry`'s keys or masks range is outside `keys` / `masks`, it has more than
    /// 64 keys, or one of its masks has a bit past its keys.
    Program(usize),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::HeadCount { heads, statements } => {
                write!(f, "{heads} statement heads for {statements} statements")
            }
            VerifyError::HeadRange(id) => write!(f, "statement {id}'s block is out of range"),
            VerifyError::Candidate(i) => write!(f, "candidate {i} names no statement"),
            VerifyError::OwnRange(slot) => {
                write!(f, "resource policy {slot}'s statements are out of range")
            }
            VerifyError::OpIndex(at) => write!(f, "op {at} holds an index out of range"),
            VerifyError::Program(entry) => write!(f, "program {entry}'s tables are out of range"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Whether `(first, end)` is a range of a table of `len` entries.
fn range_in(first: u32, end: u32, len: usize) -> bool {
    first <= end && end as usize <= len
}

impl Residual<'_> {
    /// Checks the invariants the walk's unchecked reads rely on (see the module docs).
    pub(super) fn verify(&self, e: &Evaluator<'_>) -> Result<(), VerifyError> {
        let statements = e.v.statements.len();
        if self.heads.len() != statements {
            return Err(VerifyError::HeadCount {
                heads: self.heads.len(),
                statements,
            });
        }
        for (id, head) in self.heads.iter().enumerate() {
            self.verify_head(id as u32, head)?;
        }
        // A compare of every entry folded into one flag first (signed, so that the
        // compiler vectorizes it with the baseline x86-64 instructions; an id is below 2^31),
        // the place of a bad one only when there is one: testing the 325,245 candidates
        // one by one took a third of the check's 3.9M instructions.
        let limit = i32::try_from(statements).unwrap_or(i32::MAX);
        let any_bad =
            (e.exact_candidates.iter()).fold(false, |bad, &c| bad | ((c >> 1) as i32 >= limit));
        if any_bad {
            let mut candidates = e.exact_candidates.iter();
            if let Some(i) = candidates.position(|&c| (c >> 1) as usize >= statements) {
                return Err(VerifyError::Candidate(i));
            }
        }
        for (slot, &(first, end)) in e.resource_policy_statements.iter().enumerate() {
            if !range_in(first, end, statements) {
                return Err(VerifyError::OwnRange(slot));
            }
        }
        for (at, op) in self.ops.iter().enumerate() {
            if !self.op_in_range(*op) {
                return Err(VerifyError::OpIndex(at));
            }
        }
        for (entry, p) in self.programs.iter().enumerate() {
            if let Some(p) = p {
                self.verify_program(*p)
                    .map_err(|()| VerifyError::Program(entry))?;
            }
        }
        Ok(())
    }

    /// A head's block lies in `ops`, starts with a head op, and its resource ops'
    /// `AnyOf` groups end before its conditions.
    fn verify_head(&self, id: u32, head: &Head) -> Result<(), VerifyError> {
        let (at, conditions, end) = head.ranges();
        let bad = Err(VerifyError::HeadRange(id));
        if !(at < conditions && conditions <= end && end as usize <= self.ops.len()) {
            return bad;
        }
        if !matches!(self.ops[at as usize], Op::Head { .. }) {
            return bad;
        }
        for pc in at + 1..conditions {
            if let Op::AnyOf { count, .. } = self.ops[pc as usize] {
                if pc as u64 + 1 + count as u64 > conditions as u64 {
                    return Err(VerifyError::OpIndex(pc as usize));
                }
            }
        }
        Ok(())
    }

    /// Whether the indices `op` holds are in range of the tables they index.
    fn op_in_range(&self, op: Op) -> bool {
        let text = |t: Text| range_in(t.0, t.1, self.texts.len());
        let stars = |s: &Stars<'_>| range_in(s.middles.0, s.middles.1, self.middles.len());
        match op {
            Op::Exact(t) | Op::Prefix(t) | Op::Equals { literal: t, .. } => text(t),
            Op::Arn {
                head,
                literal,
                count,
                checks,
            } => {
                text(head)
                    && literal <= 5
                    && self
                        .arn_checks
                        .get(checks as usize..checks as usize + count as usize)
                        .is_some_and(|c| c.iter().all(|c| literal <= c.seg && c.seg <= 5))
            }
            Op::Stars(i) => self.stars.get(i as usize).is_some_and(stars),
            Op::VariableGlob(i) => self
                .globs
                .get(i as usize)
                .is_some_and(|g| text(g.head) && stars(&g.tail)),
            Op::Accounts(first, end) => range_in(first, end, self.accounts.len()),
            _ => true,
        }
    }

    /// A program's ranges lie in `keys` and `masks`, it has at most 64 keys, and its masks'
    /// bits name its keys.
    pub(super) fn verify_program(&self, p: ActionProgram) -> Result<(), ()> {
        let (kf, ke) = p.keys;
        let (mf, me) = p.masks;
        if !range_in(kf, ke, self.keys.len()) || ke - kf > 64 || !range_in(mf, me, self.masks.len())
        {
            return Err(());
        }
        let width = ke - kf;
        let allowed = if width == 64 {
            u64::MAX
        } else {
            (1 << width) - 1
        };
        match self.masks[mf as usize..me as usize]
            .iter()
            .all(|m| m & !allowed == 0)
        {
            true => Ok(()),
            false => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program with a block of every op holding an index: exact, ARN, glob, variable
    /// glob and `AnyOf` resources, a condition reading a key, and a resource policy whose
    /// principal is an account (an `Accounts` op).
    const CASE: &str = r#"{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
        "options":{"mode":"lenient"},
        "policies":{"identity":[{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"},
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:*:111122223333:b/*"},
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"d*-x*y"},
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::h/${aws:username}/*"},
          {"Effect":"Deny","Action":"s3:GetObject","Resource":["arn:aws:s3:::c","arn:aws:s3:::d/*"],
           "Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}]},
        "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_policy":
          {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
           "Action":"s3:*","Resource":"*"}]}}]}"#;

    fn first_at(r: &Residual<'_>, is: impl Fn(&Op) -> bool) -> usize {
        r.ops.iter().position(is).expect("the case lays out the op")
    }

    /// Each kind of index the walk reads unchecked, corrupted in a verified residual, fails
    /// the check with its error; the residual as built passes.
    #[test]
    fn verify_rejects_each_out_of_range_index() {
        let case = crate::request::parse_case(CASE, "test").unwrap();
        let program = super::super::tests::program_of(&case);
        let built = Evaluator::new(&program);
        assert!(built.residual_programs() > 0);
        assert_eq!(built.residual.verify(&built), Ok(()));
        type Corrupt = fn(&mut Evaluator<'_>) -> VerifyError;
        let corruptions: [(&str, Corrupt); 16] = [
            ("a head fewer", |e| {
                e.residual.heads.pop();
                VerifyError::HeadCount {
                    heads: e.residual.heads.len(),
                    statements: e.residual.heads.len() + 1,
                }
            }),
            ("a block past the ops", |e| {
                e.residual.heads[1].end = e.residual.ops.len() as u32 + 1;
                VerifyError::HeadRange(1)
            }),
            ("conditions past the end", |e| {
                let h = &mut e.residual.heads[2];
                h.conditions = h.end + 1;
                VerifyError::HeadRange(2)
            }),
            ("a block not starting with a head", |e| {
                e.residual.heads[0].at += 1;
                VerifyError::HeadRange(0)
            }),
            ("an AnyOf group past the conditions", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::AnyOf { .. }));
                if let Op::AnyOf { count, .. } = &mut e.residual.ops[at] {
                    *count += 5;
                }
                VerifyError::OpIndex(at)
            }),
            ("a candidate past the statements", |e| {
                e.exact_candidates[0] = u32::MAX;
                VerifyError::Candidate(0)
            }),
            ("a resource policy past the statements", |e| {
                e.resource_policy_statements[0].1 = e.residual.heads.len() as u32 + 1;
                VerifyError::OwnRange(0)
            }),
            ("a text past the texts", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::Exact(_)));
                let len = e.residual.texts.len() as u32;
                e.residual.ops[at] = Op::Exact(Text(0, len + 1));
                VerifyError::OpIndex(at)
            }),
            ("an equals literal past the texts", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::Equals { .. }));
                if let Op::Equals { literal, .. } = &mut e.residual.ops[at] {
                    *literal = Text(3, 2);
                }
                VerifyError::OpIndex(at)
            }),
            ("ARN segments past the table", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::Arn { .. }));
                let len = e.residual.arn_checks.len() as u32;
                if let Op::Arn { checks, .. } = &mut e.residual.ops[at] {
                    *checks = len;
                }
                VerifyError::OpIndex(at)
            }),
            ("an ARN check of a literal segment", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::Arn { .. }));
                if let Op::Arn { checks, .. } = e.residual.ops[at] {
                    e.residual.arn_checks[checks as usize].seg = 0;
                }
                VerifyError::OpIndex(at)
            }),
            ("a glob past the globs", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::Stars(_)));
                e.residual.ops[at] = Op::Stars(e.residual.stars.len() as u32);
                VerifyError::OpIndex(at)
            }),
            ("a variable glob past the globs", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::VariableGlob(_)));
                e.residual.ops[at] = Op::VariableGlob(e.residual.globs.len() as u32);
                VerifyError::OpIndex(at)
            }),
            ("accounts past the table", |e| {
                let at = first_at(&e.residual, |op| matches!(op, Op::Accounts(..)));
                e.residual.ops[at] = Op::Accounts(0, e.residual.accounts.len() as u32 + 1);
                VerifyError::OpIndex(at)
            }),
            ("a program's keys past the table", |e| {
                let (entry, mut p) = program_reading_keys(e);
                p.keys.1 = e.residual.keys.len() as u32 + 1;
                e.residual.programs[entry] = Some(p);
                VerifyError::Program(entry)
            }),
            ("a mask bit past the program's keys", |e| {
                let (entry, p) = program_reading_keys(e);
                let width = p.keys.1 - p.keys.0;
                e.residual.masks[p.masks.0 as usize] |= 1 << width;
                VerifyError::Program(entry)
            }),
        ];
        for (what, corrupt) in corruptions {
            let mut e = Evaluator::new(&program);
            let expected = corrupt(&mut e);
            assert_eq!(e.residual.verify(&e), Err(expected), "{what}");
        }
    }

    /// The first program whose candidates read keys, and its entry.
    fn program_reading_keys(e: &Evaluator<'_>) -> (usize, ActionProgram) {
        e.residual
            .programs
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.filter(|p| p.masks.0 < p.masks.1).map(|p| (i, p)))
            .expect("a program reads keys")
    }
}
