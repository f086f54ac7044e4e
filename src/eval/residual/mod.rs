//! Per-action residual programs: a tabulated action's candidate statements as blocks of
//! typed ops (issue 17, item 2).
//!
//! The general interpreter examines a hop's candidates by reading, for each, its statement
//! record and its policy record, decoding the policy kind into a participation test,
//! resolving each resource record through its plan (cutting the hop's ARN at its colons
//! first), walking the statement's referenced keys against the slots to record the missing
//! ones (R-SIM-4), and reading each condition record before running its value test. None of
//! that depends on the request: it is decided when the [`Evaluator`](super::Evaluator) is
//! built, here, for every action the index names exactly and for every *class* of the
//! actions it does not (one per service of the index, one for the services it does not
//! know: `candidates` tabulates their statements, each action clause decided for the class
//! when it can be, else checked on the hop's folded action). Each statement is laid out
//! once as a block of small ops ([`ops`]), shared by every program naming it. What is left
//! for a hop — the *residual* — is:
//!
//! - participation as one mask test: each block's head carries its policy kind's
//!   participation bit (a `Position` op the resource-policy position), the hop sets the
//!   bits of the kinds taking part;
//! - the resource clause as typed ops: nothing for `*`, an exact literal
//!   (`arn:aws:s3:::b`), a literal head with a `*` tail (`arn:aws:s3:::b/*` is "starts with
//!   `arn:aws:s3:::b/`"), ARN heads with segment tests, globs of literals and stars, or the
//!   general [`ResourcePlan`](super::resource_plan) for any other (policy variables,
//!   folding); several records as an any-of group;
//! - R-SIM-4 missing keys as a mask AND: each action numbers the distinct keys its
//!   statements read (at most 64, in key-id order, so the bits come out in R-SIM-4's name
//!   order), each candidate reading keys has the mask of its keys; the walk ORs the masks
//!   of the statements that pass their principal and resource tests, and tests those keys'
//!   slots for absence once, after the walk;
//! - conditions as ops read through the key's slot: one-literal `StringEquals`, `Bool`, a
//!   date against one instant inside the op; `Null` as its answers to absent and present; a
//!   qualified operator's answer to an absent key; other resolved value tests through
//!   [`ValueTests`](super::value_test); the rest the general condition code.
//!
//! A statement with a principal clause keeps the general principal test, its other parts
//! typed: the choice is per statement (and per resource record, per condition), never per
//! program. An action whose statements read more than 64 distinct keys, and an action
//! without a `:`, keep the general path. Candidates are run in statement-id order, the order
//! the general path examines them in, so the applied list and the R-SIM-3 matched
//! statements come out the same. Resource policies are not in the index, hence in no
//! action's program: for each resource policy and exact action, the policy's statements
//! that can apply to the action's service are merged into its candidates at build, with a
//! program of their own ([`own_programs`]); past that table's caps, and for a class's
//! hop, a hop's own resource policy's statements run through their blocks too (their
//! action clauses read from a table decided per service at build, [`own_actions`], or,
//! when a clause depends on the action's name, matched on the index's folded service and
//! name or the folded action), merged by statement id with the program's
//! (as the general path merges them with its candidates), their missing keys recorded as
//! the general `examine` records them. Short literals are compared in words (`bytes`), not
//! through `memcmp`; ARN segments are cut at the colons the compact request found. Every
//! index the tables hold is checked once when they are built ([`verify`]), so the walk
//! reads them without bounds tests; a residual failing the check is not run.
//!
//! ```text
//! s3:GetObject, with candidates 3 (identity, Allow arn:aws:s3:::b/*, StringEquals on
//! aws:SourceVpc) and 7 (boundary, Allow *):
//!   keys   [aws:sourcevpc]                           bit 0
//!   block 3  Head(identity) Prefix("arn:aws:s3:::b/") Equals   missing 0b1
//!   block 7  Head(ceilings)                                   missing 0b0
//! ```
//!
//! `Evaluator::general` builds an evaluator without residual programs: the differential
//! tests compare the two with the reference evaluator.

mod build;
pub(super) mod bytes;
mod ops;
mod own_actions;
mod own_programs;
mod run;
#[cfg(test)]
mod typed_tests;
mod verify;

use crate::bytecode::KeyId;
use crate::bytecode::PolicyKind as Kind;

use super::resource_plan::Seg;
use ops::Op;

pub(super) use build::{blocks, build};
pub(super) use own_programs::Own;

/// Participation bits, one per class of policies that take part in a hop or not together.
pub(super) const PART_SCP: u8 = 1;
pub(super) const PART_RCP: u8 = 2;
pub(super) const PART_VPCE: u8 = 4;
pub(super) const PART_RESOURCE: u8 = 8;
pub(super) const PART_IDENTITY: u8 = 16;
pub(super) const PART_CEILINGS: u8 = 32;
/// Not a participation bit: set in a head's `part` when its statement reads keys, so that
/// the walk takes the candidate's key mask (the next of its program's `masks`).
pub(super) const READS_KEYS: u8 = 128;

/// The residual programs of an evaluator (empty for `Evaluator::general`).
#[derive(Clone, Debug, Default)]
pub(super) struct Residual<'p> {
    /// Per `index_exact` entry: its action program, if it has one.
    programs: Vec<Option<ActionProgram>>,
    /// Per tabulated candidate whose statement reads keys (a range per program, in
    /// candidate order; its head has [`READS_KEYS`]): the statement's keys as a mask of the
    /// program's key numbering.
    masks: Vec<u64>,
    /// Each program's keys (a range per program), in id order: bit `i` is key `keys[i]`.
    keys: Vec<KeyId>,
    /// Every statement's block of ops (see [`ops`]) …
    ops: Vec<Op>,
    /// … and where each statement's block starts …
    starts: Vec<u32>,
    /// … and each statement's head, decoded.
    heads: Vec<run::Head>,
    /// The texts of the typed ops (see [`Text`]).
    texts: String,
    /// The segment tests of [`Op::Arn`] ops, `*` segments left out.
    arn_checks: Vec<ArnCheck<'p>>,
    /// The globs of [`Op::Stars`] ops …
    stars: Vec<Stars<'p>>,
    /// … and their middle literals (those of [`Op::VariableGlob`] tails too).
    middles: Vec<&'p str>,
    /// The patterns of [`Op::VariableGlob`] ops.
    globs: Vec<VariableGlob<'p>>,
    /// The accounts of typed principal clauses (see [`Op::Accounts`]).
    accounts: Vec<AccountId<'p>>,
    /// Per `index_exact` entry, its service's index (`u32::MAX` for a service whose name
    /// holds a `:`): a hop of an exact action checks its own resource policy's action
    /// clauses on the index's folded service and name, without folding its action. Empty
    /// for a program without resource policies.
    entry_services: Vec<u32>,
    /// The resource-policy statements' action clauses decided per service (empty for a
    /// program without resource policies).
    own_actions: own_actions::OwnActions,
    /// Per resource-policy slot and exact entry, the entry's candidates merged with the
    /// policy's statements that can apply, and their program (empty for a program without
    /// resource policies).
    own_programs: own_programs::OwnPrograms,
}

/// One action's program: its statements are its tabulated candidates; a range of `keys`,
/// and the range of `masks` of its candidates that read keys.
#[derive(Clone, Copy, Debug)]
pub(super) struct ActionProgram {
    keys: (u32, u32),
    masks: (u32, u32),
}

/// An `AWS`/`IAM`/`ID` principal value: its text, and the account it names when it is an
/// account root ARN (`arn:aws:iam::111122223333:root`).
#[derive(Clone, Copy, Debug)]
struct AccountId<'p> {
    id: &'p str,
    root_of: Option<&'p str>,
}

/// A range of `Residual::texts`: the texts of the typed ops share one buffer, each
/// distinct text once, rather than a box per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Text(u32, u32);

/// An ARN pattern whose last segment is `literal${variable}glob`
/// (`arn:aws:s3:::home-bucket/${aws:username}/*`): the text starts with `head` (the five
/// literal segments and the literal), then the variable's value (token record `token`: a
/// single value, else its default, else no match, R-VAR-6), then the rest matches `tail`.
#[derive(Clone, Copy, Debug)]
struct VariableGlob<'p> {
    head: Text,
    token: u32,
    tail: Stars<'p>,
}

/// One ARN segment's test: the resolved plan's, or [`Stars`] for a glob of literals and
/// `*`s (`data-*/*`), split at its stars once here rather than on every match.
#[derive(Clone, Copy, Debug)]
enum SegTest<'p> {
    Seg(Seg<'p>),
    Stars(Stars<'p>),
    /// A literal of twelve bytes (an account, `111122223333`): its bytes 0..8 and 8..12
    /// as little-endian words, compared as two words rather than through a loop.
    Twelve(u64, u32),
}

/// One segment test of an ARN pattern's tail that is not `*`: the segment's number
/// (`literal..6`) and its test. `arn:aws:kms:*:111122223333:key/*` (three literal
/// segments) holds two: segment 4 `Twelve("111122223333")`, segment 5 `Prefix("key/")`;
/// the region is never cut.
#[derive(Clone, Copy, Debug)]
struct ArnCheck<'p> {
    seg: u8,
    test: SegTest<'p>,
}

/// A glob of literals and `*`s, `first*…*last`, as its first and last literals and the
/// range of `Residual::middles` holding the literals between (each may be empty).
#[derive(Clone, Copy, Debug)]
struct Stars<'p> {
    first: &'p str,
    last: &'p str,
    middles: (u32, u32),
}

impl Residual<'_> {
    /// The program of `index_exact` entry `entry`, if it has one.
    #[inline]
    pub(super) fn program(&self, entry: u32) -> Option<ActionProgram> {
        self.programs.get(entry as usize).copied().flatten()
    }

    /// The bytes its tables hold on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        use super::build::heap_bytes;
        heap_bytes(&self.programs)
            + heap_bytes(&self.masks)
            + heap_bytes(&self.keys)
            + heap_bytes(&self.ops)
            + heap_bytes(&self.starts)
            + heap_bytes(&self.heads)
            + heap_bytes(&self.accounts)
            + heap_bytes(&self.stars)
            + heap_bytes(&self.middles)
            + heap_bytes(&self.globs)
            + self.texts.capacity()
            + heap_bytes(&self.arn_checks)
            + heap_bytes(&self.entry_services)
            + self.own_actions.heap_bytes()
            + self.own_programs.heap_bytes()
    }

    /// What a hop of exact entry `entry` does with its own resource policy, slot `slot`.
    #[inline]
    pub(super) fn own(&self, slot: u32, entry: u32) -> Own<'_> {
        self.own_programs.own(slot, entry)
    }

    /// How many actions have a program.
    pub(super) fn programs(&self) -> usize {
        self.programs.iter().filter(|p| p.is_some()).count()
    }

    /// The text of a typed test, as bytes: the ops compare bytes, and a `str` range would
    /// test both ends for character boundaries on every read.
    #[allow(unsafe_code)]
    #[inline]
    fn text(&self, t: Text) -> &[u8] {
        let range = t.0 as usize..t.1 as usize;
        debug_assert!(range.start <= range.end && range.end <= self.texts.len());
        // SAFETY: every `Text` the ops hold (and the variable globs' heads) is a range of
        // `texts` (`verify::op_in_range`), and the ops are the only source of them.
        unsafe { self.texts.as_bytes().get_unchecked(range) }
    }

    /// Key `bit` of program `p`; `bit` is one of the bits of `p`'s masks.
    #[allow(unsafe_code)]
    #[inline]
    pub(super) fn key(&self, p: ActionProgram, bit: u32) -> KeyId {
        debug_assert!(bit < p.keys.1 - p.keys.0 && p.keys.1 as usize <= self.keys.len());
        // SAFETY: `p` is one of `programs`, whose key ranges lie in `keys` and whose masks
        // have no bit past their keys (`verify::verify_program`); the walk's and the hop's
        // bits are its masks' bits.
        unsafe { *self.keys.get_unchecked((p.keys.0 + bit) as usize) }
    }

    /// The `count` segment tests of an [`Op::Arn`] from `first`.
    #[allow(unsafe_code)]
    #[inline]
    fn arn_checks(&self, first: u32, count: u8) -> &[ArnCheck<'_>] {
        let range = first as usize..first as usize + count as usize;
        debug_assert!(range.end <= self.arn_checks.len());
        // SAFETY: every `Op::Arn`'s checks lie in `arn_checks` (`verify::op_in_range`),
        // and the ops are the only source of them.
        unsafe { self.arn_checks.get_unchecked(range) }
    }

    /// The key masks of `p`'s candidates that read keys.
    #[allow(unsafe_code)]
    #[inline]
    fn masks(&self, p: ActionProgram) -> &[u64] {
        let range = p.masks.0 as usize..p.masks.1 as usize;
        debug_assert!(range.start <= range.end && range.end <= self.masks.len());
        // SAFETY: `p` is one of `programs`, whose mask ranges lie in `masks`
        // (`verify::verify_program`).
        unsafe { self.masks.get_unchecked(range) }
    }
}

impl super::Evaluator<'_> {
    /// Whether a hop of `action` runs a residual program (the action is named exactly by
    /// the index and its program was built). For tests and measurements.
    pub fn takes_residual_path(&self, action: &str) -> bool {
        let mut folded = String::new();
        crate::primitives::fold_into(action, &mut folded);
        self.exact
            .get(folded.as_str())
            .or_else(|| self.class_entry(&folded))
            .filter(|e| self.exact_candidate_ranges.get(*e as usize).is_some())
            .and_then(|e| self.residual.program(e))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::build::stars;
    use super::run::stars_match;
    use crate::eval::Evaluator;

    /// The program of a case's policies: a fixture of the typed tests (`typed_tests`),
    /// which build programs with the compiler as every test of the run-time side does.
    pub(super) fn program_of(
        case: &crate::request::Case,
    ) -> crate::table::Program<crate::table::AlignedBytes> {
        crate::compile::compile(&case.chain.policies).unwrap()
    }

    /// Actions the index does not name exactly run their service's class program (or the
    /// unknown services'), whose action clauses are decided for the class where they can
    /// be (`iam:*`: always for `iam`; `s3:*`: never; a literal name the index names: never)
    /// and checked per hop otherwise (`iam:Get*`, `*:List*`, `NotAction`): every action
    /// below is decided as the reference decides it, with the same matched statements and
    /// missing keys, and the programs are taken.
    #[test]
    fn class_programs_decide_as_the_reference() {
        let statements = [
            r#"{"Sid":"A","Effect":"Allow","Action":"iam:*","Resource":"*"}"#,
            r#"{"Sid":"B","Effect":"Allow","Action":["iam:Get*","iam:PassRole"],"Resource":"*",
                "Condition":{"StringEquals":{"aws:PrincipalTag/Team":"x"}}}"#,
            r#"{"Sid":"C","Effect":"Deny","NotAction":["s3:*","iam:List*"],"Resource":"*",
                "Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
            r#"{"Sid":"D","Effect":"Allow","Action":"*:List*","Resource":"*"}"#,
            r#"{"Sid":"E","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}"#,
            r#"{"Sid":"F","Effect":"Deny","Action":"*","Resource":"*",
                "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}"#,
            r#"{"Sid":"G","Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#,
            r#"{"Sid":"H","Effect":"Allow","Action":["sts:GetCallerIdentity","s?s:Get*"],
                "Resource":"*"}"#,
        ]
        .map(String::from);
        let mut case = crate::eval::test_case(&statements);
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        let general = Evaluator::general(&program);
        let mut scratch = evaluator.scratch();
        let actions = [
            "iam:GetRole",
            "IAM:getuser",
            "iam:PassRole",
            "iam:ListUsers",
            "iam:CreateRole",
            "s3:GetObject",
            "s3:PutObject",
            "athena:ListWorkGroups",
            "athena:StartQueryExecution",
            "sts:GetSessionToken",
            "sts:GetCallerIdentity",
            "sns:GetTopic",
            "ec2:DescribeInstances",
        ];
        let mut classes = 0;
        for action in actions {
            case.chain.request.hops[0].action = action.into();
            case.chain.request.hops[0].resource = "arn:aws:s3:::b/k".into();
            let expected = crate::reference::evaluate_chain(&case.chain);
            for e in [&evaluator, &general] {
                let outcome = e.evaluate(&case.chain.request, &mut scratch);
                assert_eq!(e.decision(&outcome), expected, "{action}");
            }
            classes += evaluator.takes_residual_path(action) as usize;
        }
        assert_eq!(classes, actions.len(), "every action has a program");
    }

    /// Resource patterns `literal${variable}glob` after five literal segments type as
    /// [`super::Op::VariableGlob`] and decide as the reference on resources that
    /// pass or miss each part (the literal, the value, the glob, the value absent with and
    /// without a default); patterns of other shapes keep the general plan.
    #[test]
    fn variable_globs_decide_as_the_reference() {
        let patterns = [
            ("arn:aws:s3:::home/${aws:username}/*", true),
            (
                "arn:aws:s3:::home/${aws:PrincipalTag/team, 'all'}/*.txt",
                true,
            ),
            ("arn:aws:s3:::${aws:username}*", true),
            ("arn:aws:s3:::h*/${aws:username}/*", false),
            ("arn:aws:s3:::home/${aws:username}/x", false),
            ("arn:aws:s3:::home/${aws:username}/${aws:username}*", false),
        ];
        let resources = [
            "arn:aws:s3:::home/a/k",
            "arn:aws:s3:::home/a/",
            "arn:aws:s3:::home/a",
            "arn:aws:s3:::home/ab/k",
            "arn:aws:s3:::home/all/k.txt",
            "arn:aws:s3:::home/all/k.txt2",
            "arn:aws:s3:::a",
            "arn:aws:s3:::ax/y",
            "arn:aws:s3:::h/a/k",
            "arn:aws:s3:::home/a/x",
            "arn:aws:s3:::home/a/aa",
            "arn:aws:s3::home/a/k",
            "home/a/k",
        ];
        for (pattern, typed) in patterns {
            let statement =
                format!(r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"{pattern}"}}"#);
            let mut case = crate::eval::test_case(&[statement]);
            let program = crate::compile::compile(&case.chain.policies).unwrap();
            let evaluator = Evaluator::new(&program);
            let ops = &evaluator.residual.ops;
            assert_eq!(
                ops.iter()
                    .any(|op| matches!(op, super::Op::VariableGlob(_))),
                typed,
                "{pattern}"
            );
            let mut scratch = evaluator.scratch();
            for resource in resources {
                case.chain.request.hops[0].resource = resource.into();
                let expected = crate::reference::evaluate_chain(&case.chain);
                let outcome = evaluator.evaluate(&case.chain.request, &mut scratch);
                assert_eq!(
                    evaluator.decision(&outcome),
                    expected,
                    "{pattern} {resource}"
                );
            }
        }
    }

    /// On the programs of the spec vectors and conformance cases (resource policies of
    /// every kind), every resource-policy statement's action clause answers, for every
    /// action the index names exactly, on the index's service and name (what a hop of that
    /// action reads instead of folding its own) as on the folded action itself.
    #[test]
    fn entry_action_clauses_answer_as_the_folded_action() {
        let (mut programs, mut checked) = (0, 0);
        let mut joined = String::new();
        for program in crate::eval::tabulate::case_programs() {
            let e = Evaluator::new(&program);
            if e.resource_policy_statements.is_empty() {
                continue;
            }
            programs += 1;
            let r = &e.residual;
            assert_eq!(r.entry_services.len(), e.v.index_exact.len());
            for &(first, end) in &e.resource_policy_statements {
                for id in first..end {
                    let st = &e.v.statements[id as usize];
                    for (entry, service) in r.entry_services.iter().enumerate() {
                        // A service whose name holds a `:` is left to the fold.
                        let Some(svc) = e.v.services.get(*service as usize) else {
                            continue;
                        };
                        let name = e.s(e.v.index_exact[entry].name);
                        joined.clear();
                        joined.push_str(e.s(svc.name));
                        joined.push(':');
                        joined.push_str(name);
                        let split = Some((e.s(svc.name), name));
                        if let Some(answer) = e.action_clause_split(st, split, None) {
                            assert_eq!(answer, e.action_clause(st, &joined), "{joined}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(programs > 20 && checked > 50, "{programs} {checked}");
    }

    /// A glob split at its stars answers as the general glob match, on texts that make each
    /// literal match early, late, overlap its neighbour or miss.
    #[test]
    fn stars_answer_as_the_glob_match() {
        let globs = [
            "data-*/*",
            "a*a",
            "ab*b",
            "*",
            "**",
            "*x*",
            "a*b*c",
            "*/incoming/*",
            "table/app-*",
            "x*yy*yy*z",
            "é*ü",
            "",
        ];
        let texts = [
            "data-raw/bob/obj.parquet",
            "data-raw",
            "data-/",
            "a",
            "aa",
            "ab",
            "abb",
            "abc",
            "aXbYc",
            "acb",
            "x",
            "",
            "data-a/incoming/b",
            "/incoming/",
            "table/app-",
            "table/app-orders",
            "xyyyyz",
            "xyyzyyz",
            "xyyyz",
            "éaü",
            "éü",
        ];
        for glob in globs {
            let mut middles = Vec::new();
            let Some(split) = stars(glob, &mut middles) else {
                assert!(!glob.contains('*'), "{glob:?} is split");
                continue;
            };
            for text in texts {
                assert_eq!(
                    stars_match(&split, &middles, text.as_bytes()),
                    crate::primitives::wildcard_match(glob, text),
                    "{glob:?} on {text:?}"
                );
            }
        }
        assert!(stars("a?b", &mut Vec::new()).is_none());
    }
}
