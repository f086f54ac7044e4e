//! Lays out the residual programs when an evaluator is built.
//!
//! Each statement becomes one block of ops (see [`super::ops`]: its policy decoded, its
//! resource records and conditions typed), shared by every action that names it; each tabulated action becomes
//! an [`ActionProgram`]: its statements are its tabulated candidates (sorted, each once),
//! so only the distinct keys those statements read are stored, numbered in id order, and
//! for each candidate whose statement reads keys the mask of its keys in that numbering,
//! in candidate order (its head says it reads keys) — nothing for the others: of the managed
//! policies' 315,781 tabulated candidates, about 36,000 read keys (a mask for every
//! candidate of the programs that read keys took 2.5 MB; the evaluator's tables went from
//! 12.1 MB to 10.1 MB).
//!
//! For example `arn:aws:s3:::b/*` (segments `arn`, `aws`, `s3`,
//! empty, empty, then `b/*`) types as `Prefix("arn:aws:s3:::b/")`: the five literal
//! segments are the head, and a text starting with the head has its first five colons
//! where the pattern's are, which is what the general plan checks.

use crate::bytecode::*;
use crate::bytecode::{BaseOperator, PolicyKind as Kind};

use super::super::build::join_if;
use super::super::resource_plan::{ResourcePlan, Seg};
use super::super::value_test::ValueTest;
use super::super::Evaluator;
use super::*;

/// The statements' blocks, laid out (see [`blocks`]): what the rest of the residual
/// build ([`build`]) starts from.
pub(in crate::eval) struct Blocks<'p>(Residual<'p>);

/// The blocks of `e`'s statements (see [`block`]) and what they share: they read the
/// resolved resource patterns (`plans`, `e`'s to be) and value tests, not the tabulated
/// candidates, so they can be laid out while the candidates are tabulated.
pub(in crate::eval) fn blocks<'p>(e: &Evaluator<'p>, plans: &[ResourcePlan<'p>]) -> Blocks<'p> {
    let v = &e.v;
    let mut l = Layout::default();
    let mut r = Residual {
        ops: Vec::with_capacity(v.statements.len() * 3),
        starts: Vec::with_capacity(v.statements.len()),
        ..Residual::default()
    };
    let mut records = Vec::new();
    for st in v.statements.iter() {
        r.starts.push(r.ops.len() as u32);
        block(e, plans, st, &mut l, &mut records, &mut r);
    }
    r.heads = r.starts.iter().map(|at| r.decode_head(*at)).collect();
    let Layout {
        middles,
        mut texts,
        mut arn_checks,
        stars,
        globs,
        ..
    } = l;
    texts.shrink_to_fit();
    arn_checks.shrink_to_fit();
    r.ops.shrink_to_fit();
    (r.texts, r.arn_checks, r.middles) = (texts, arn_checks, middles);
    (r.stars, r.globs) = (stars, globs);
    Blocks(r)
}

/// The programs of `e`'s tabulated candidates ([`program`], one per range of
/// `exact_candidate_ranges`) into `r`; when `parallel`, the first half of the ranges on
/// this thread and the second on the rayon pool's, each with key and mask tables of its
/// own, joined in order with the second's offsets moved — the same tables as one run.
fn programs<'p>(
    e: &Evaluator<'p>,
    statements: &StatementKeys,
    scratch: &mut ProgramScratch,
    r: &mut Residual<'p>,
    parallel: bool,
) {
    let ranges = &e.exact_candidate_ranges;
    r.programs = Vec::with_capacity(ranges.len());
    let candidates = |&(first, end): &(u32, u32)| &e.exact_candidates[first as usize..end as usize];
    if !parallel {
        for range in ranges {
            let program = program(e, statements, candidates(range), scratch, r);
            r.programs.push(program);
        }
        return;
    }
    // Two runs: the first on this thread, the second on the pool's.
    let run = |run: &[(u32, u32)]| {
        let mut own = Residual::default();
        let mut scratch = ProgramScratch::new(statements.key_count);
        let programs: Vec<_> = (run.iter())
            .map(|range| program(e, statements, candidates(range), &mut scratch, &mut own))
            .collect();
        (programs, own.keys, own.masks)
    };
    let (first, second) = ranges.split_at(ranges.len() / 2);
    let (first, second) = join_if(true, || run(first), || run(second));
    let runs = [first, second];
    r.keys.reserve(runs.iter().map(|run| run.1.len()).sum());
    r.masks.reserve(runs.iter().map(|run| run.2.len()).sum());
    for (programs, keys, masks) in runs {
        let (k, m) = (r.keys.len() as u32, r.masks.len() as u32);
        r.programs.extend(programs.into_iter().map(|p| {
            p.map(|p| ActionProgram {
                keys: (p.keys.0 + k, p.keys.1 + k),
                // A program none of whose statements reads keys has no masks: `(0, 0)`.
                masks: if p.masks.0 == p.masks.1 {
                    p.masks
                } else {
                    (p.masks.0 + m, p.masks.1 + m)
                },
            })
        }));
        r.keys.extend_from_slice(&keys);
        r.masks.extend_from_slice(&masks);
    }
}

/// The residual programs of `e`, whose candidates are tabulated, from its statements'
/// `blocks`; the programs on the current rayon pool's threads when `parallel`.
pub(in crate::eval) fn build<'p>(
    e: &Evaluator<'p>,
    blocks: Blocks<'p>,
    parallel: bool,
) -> Residual<'p> {
    let v = &e.v;
    let Blocks(mut r) = blocks;
    let statements = StatementKeys::new(v.statements, v.statement_keys);
    let mut scratch = ProgramScratch::new(statements.key_count);
    programs(e, &statements, &mut scratch, &mut r, parallel);
    r.masks.shrink_to_fit();
    r.keys.shrink_to_fit();
    if !e.resource_policy_statements.is_empty() {
        r.entry_services = vec![u32::MAX; v.index_exact.len()];
        for (i, svc) in v.services.iter().enumerate() {
            if e.s(svc.name).contains(':') {
                continue;
            }
            let entries = svc.exact_first as usize..(svc.exact_first + svc.exact_len) as usize;
            if let Some(entries) = r.entry_services.get_mut(entries) {
                entries.fill(i as u32);
            }
        }
        r.own_actions = own_actions::OwnActions::build(e);
        r.own_programs = own_programs::OwnPrograms::build(e, &statements, &mut scratch, &mut r);
    }
    // The walk reads these tables without bounds tests (`verify`): a residual that fails
    // its checks is not run — every hop takes the general path.
    match r.verify(e) {
        Ok(()) => {
            // The merged programs are read as unchecked as the others: failing their
            // checks, they are dropped (each hop merges its own policy while walking).
            let merged_ok = r.own_programs.check(v.statements.len())
                && r.own_programs
                    .programs()
                    .all(|p| r.verify_program(p).is_ok());
            if !merged_ok {
                debug_assert!(false, "the merged own-policy programs fail their checks");
                r.own_programs = own_programs::OwnPrograms::default();
            }
            r
        }
        Err(error) => {
            debug_assert!(false, "the residual tables fail their checks: {error}");
            Residual::default()
        }
    }
}

/// Which statements read keys, and their ranges of `statement_keys`: read per candidate
/// from these small tables rather than from the statement records. Most candidates' statements
/// read no key (about 37,000 of the managed policies' 325,495 tabulated candidates do),
/// and a byte per statement answers for those in one load.
pub(super) struct StatementKeys {
    /// Per statement: it reads keys (a byte each, 9 KB for the managed policies' 9,032
    /// statements: one load a candidate where a bit took a shift and a mask more, on
    /// 325,245 candidates).
    reads: Vec<bool>,
    /// Per statement, its range of `statement_keys`.
    ranges: Vec<(u32, u32)>,
    /// One more than the largest key id the statements read.
    key_count: usize,
}

impl StatementKeys {
    fn new(statements: &[StatementRec], statement_keys: &[KeyId]) -> Self {
        let reads = statements.iter().map(|st| st.keys_len != 0).collect();
        let ranges = statements
            .iter()
            .map(|st| (st.keys_first, st.keys_first + st.keys_len))
            .collect();
        let key_count = statement_keys.iter().max().map_or(0, |&k| k as usize + 1);
        StatementKeys {
            reads,
            ranges,
            key_count,
        }
    }
}

/// Buffers reused by every [`program`] call.
pub(super) struct ProgramScratch {
    /// The candidates whose statements read keys, in order: their ranges of
    /// `statement_keys`.
    reading: Vec<(u32, u32)>,
    /// The keys those statements read, as a bit set by key id (all clear between calls).
    seen: Vec<u64>,
    /// Per key id, its bit in the program being built (meaningful for its keys only).
    bit_of: Vec<u8>,
}

impl ProgramScratch {
    /// Buffers for the statements' keys, which are below `key_count`.
    fn new(key_count: usize) -> Self {
        ProgramScratch {
            reading: Vec::new(),
            seen: vec![0; key_count.div_ceil(64)],
            bit_of: vec![0; key_count],
        }
    }
}

/// The program of one action's (or one class's) tabulated candidates (`id << 1 |
/// verified`, sorted), or `None` when its statements read more than 64 distinct keys (an
/// unverified candidate, a class's, has its action clause checked when run). The
/// candidates themselves are the program's statements (each once); only the key masks are
/// stored, and only for the candidates whose statements read keys, in candidate order (the
/// walk takes the next one when a head says its statement reads keys, [`READS_KEYS`]).
///
/// One pass over the candidates tests each one's statement in [`StatementKeys`], keeps
/// the few that read keys (about 37,000 of the managed policies' 325,495) and marks their
/// keys in a bit set; the set's bits, in id order, are the program's keys (sorted and
/// distinct without a sort), each given its bit in a table by key id; the masks are then
/// computed from the short list with one table read a key, rather than by a second pass
/// over every candidate and a binary search a key.
pub(super) fn program(
    e: &Evaluator<'_>,
    statements: &StatementKeys,
    candidates: &[u32],
    scratch: &mut ProgramScratch,
    r: &mut Residual<'_>,
) -> Option<ActionProgram> {
    let ProgramScratch {
        reading,
        seen,
        bit_of,
    } = scratch;
    let statement_keys = |first: u32, end: u32| &e.v.statement_keys[first as usize..end as usize];
    reading.clear();
    for (i, &c) in candidates.iter().enumerate() {
        let id = c >> 1;
        if !statements.reads[id as usize] {
            continue;
        }
        // Each statement is a candidate once (`tabulate::dedup_candidates`): the walk
        // takes one mask per candidate whose head says it reads keys.
        debug_assert!(
            i == 0 || candidates[i - 1] >> 1 != id,
            "a repeated candidate"
        );
        let (first, end) = statements.ranges[id as usize];
        reading.push((first, end));
        for &key in statement_keys(first, end) {
            seen[key as usize / 64] |= 1 << (key % 64);
        }
    }
    let keys_first = r.keys.len() as u32;
    if reading.is_empty() {
        return Some(ActionProgram {
            keys: (keys_first, keys_first),
            masks: (0, 0),
        });
    }
    // Number the keys in id order, clearing the set for the next program.
    let mut count = 0usize;
    for (w, word) in seen.iter_mut().enumerate() {
        let mut bits = std::mem::take(word);
        while bits != 0 {
            let key = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if count < 64 {
                bit_of[key] = count as u8;
                r.keys.push(key as KeyId);
            }
            count += 1;
        }
    }
    if count > 64 {
        r.keys.truncate(keys_first as usize);
        return None;
    }
    let masks_first = r.masks.len() as u32;
    r.masks.reserve(reading.len());
    for &(first, end) in reading.iter() {
        // Every key of the statement is among the program's.
        let mask = statement_keys(first, end)
            .iter()
            .fold(0u64, |mask, &key| mask | 1 << bit_of[key as usize]);
        r.masks.push(mask);
    }
    Some(ActionProgram {
        keys: (keys_first, r.keys.len() as u32),
        masks: (masks_first, r.masks.len() as u32),
    })
}

/// Lays out statement `st`'s block at the end of `r.ops` (see [`super::ops`]); `records`
/// is a buffer for its typed resource records.
fn block<'p>(
    e: &Evaluator<'p>,
    plans: &[ResourcePlan<'p>],
    st: &StatementRec,
    l: &mut Layout<'p>,
    records: &mut Vec<Option<Op>>,
    r: &mut Residual<'p>,
) {
    let policy = e.v.policies[st.policy as usize];
    let kind = policy_kind_from_code(policy.kind);
    let part = match kind {
        Some(Kind::Scp) => PART_SCP,
        Some(Kind::Rcp) => PART_RCP,
        Some(Kind::VpcEndpoint) => PART_VPCE,
        Some(Kind::ResourceBased) => PART_RESOURCE,
        Some(Kind::Identity) => PART_IDENTITY,
        Some(Kind::PermissionsBoundary | Kind::Session) => PART_CEILINGS,
        None => 0,
    };
    let head = r.ops.len();
    r.ops.push(Op::Fail); // the head, once its ranges are known
    if part == PART_RESOURCE {
        r.ops.push(Op::Position(policy.position));
    }
    principal(e, st, &mut r.accounts, &mut r.ops);
    // The resource clause: any of the records passes (none, for `NotResource`).
    let not_resource = st.flags & STMT_NOT_RESOURCE != 0;
    records.clear();
    for i in st.resources_first..st.resources_first + st.resources_len {
        records.push(resource_op(e, i, &plans[i as usize], l));
    }
    let any = records.iter().any(Option::is_none);
    match (records.len(), any, not_resource) {
        (_, true, false) => {} // `*` among them: always passes
        (_, true, true) | (0, false, false) => r.ops.push(Op::Fail),
        (0, false, true) => {} // `NotResource: []`: always passes
        (1, false, false) => r.ops.extend(records.iter().flatten()),
        (count, false, not) => {
            r.ops.push(Op::AnyOf {
                count: count as u32,
                not,
            });
            r.ops.extend(records.iter().flatten());
        }
    }
    let conditions = r.ops.len() as u32;
    for i in st.conditions_first..st.conditions_first + st.conditions_len {
        let c = &e.v.conditions[i as usize];
        r.ops
            .push(condition_op(i, c, e.value_tests.get(i as usize), e, l));
    }
    r.ops[head] = Op::Head {
        part: part | if st.keys_len != 0 { READS_KEYS } else { 0 },
        kind: kind.unwrap_or(Kind::Identity),
        deny: st.flags & STMT_DENY != 0,
        level: policy.level,
        conditions,
        end: r.ops.len() as u32,
    };
}

/// The statement's principal clause: typed when every entry is an account id or ARN
/// (`Principal: {"AWS": "arn:aws:iam::111122223333:root"}`, as in most key policies).
fn principal<'p>(
    e: &Evaluator<'p>,
    st: &StatementRec,
    accounts: &mut Vec<AccountId<'p>>,
    ops: &mut Vec<Op>,
) {
    if st.flags & STMT_HAS_PRINCIPAL == 0 {
        return;
    }
    let first = st.principals_first as usize;
    let entries = &e.v.principals[first..first + st.principals_len as usize];
    let typed = st.flags & STMT_NOT_PRINCIPAL == 0
        && entries.iter().all(|p| {
            matches!(
                PrincipalKind::from_code(p.kind),
                Some(PrincipalKind::Account | PrincipalKind::ObsId)
            )
        });
    if !typed {
        ops.push(Op::Principal);
        return;
    }
    let start = accounts.len() as u32;
    accounts.extend(entries.iter().map(|p| {
        let id = e.s(p.value);
        let root_of = match crate::primitives::split_arn(id) {
            Some([_, _, "iam", "", account, "root"]) => Some(account),
            _ => None,
        };
        AccountId { id, root_of }
    }));
    ops.push(Op::Accounts(start, accounts.len() as u32));
}

/// The shared buffers the typed resource tests point into, while they are built.
#[derive(Default)]
struct Layout<'p> {
    middles: Vec<&'p str>,
    texts: String,
    /// Where each distinct text already is in `texts`.
    placed: rustc_hash::FxHashMap<String, Text>,
    /// The text being looked up.
    joined: String,
    arn_checks: Vec<ArnCheck<'p>>,
    stars: Vec<Stars<'p>>,
    globs: Vec<VariableGlob<'p>>,
}

impl Layout<'_> {
    /// `head` followed by `tail`, placed once in `texts`.
    fn text(&mut self, head: &str, tail: &str) -> Text {
        // Joined in a reused buffer: a string is allocated only for a text not seen yet.
        self.joined.clear();
        self.joined.push_str(head);
        self.joined.push_str(tail);
        if let Some(t) = self.placed.get(self.joined.as_str()) {
            return *t;
        }
        let first = self.texts.len() as u32;
        self.texts.push_str(&self.joined);
        let t = Text(first, self.texts.len() as u32);
        self.placed.insert(self.joined.clone(), t);
        t
    }
}

/// The typed op of resource record `index`, resolved as `plan`; `None` for `*`.
fn resource_op<'p>(
    e: &Evaluator<'p>,
    index: u32,
    plan: &ResourcePlan<'p>,
    l: &mut Layout<'p>,
) -> Option<Op> {
    let tail = |l: &mut Layout<'p>, head: &str, seg: &Seg<'_>| match seg {
        Seg::Any => Some(Op::Prefix(l.text(head, ""))),
        Seg::Exact(s) => Some(Op::Exact(l.text(head, s))),
        Seg::Prefix(s) => Some(Op::Prefix(l.text(head, s))),
        _ => None,
    };
    let typed = match plan {
        ResourcePlan::Any => return None,
        ResourcePlan::Plain(Seg::Glob(glob)) => stars(glob, &mut l.middles).map(|s| {
            l.stars.push(s);
            Op::Stars(l.stars.len() as u32 - 1)
        }),
        ResourcePlan::Plain(seg) => tail(l, "", seg),
        // Five literal segments, the first `arn`: a text starting with the head is an ARN
        // (R-RES-2) whose first five segments are the pattern's.
        ResourcePlan::Arn {
            head,
            literal: 5,
            segs,
        } if head.starts_with("arn:")
            && matches!(segs[5], Seg::Any | Seg::Exact(_) | Seg::Prefix(_)) =>
        {
            tail(l, head, &segs[5])
        }
        // Five literal segments, then a variable between a literal and a glob.
        ResourcePlan::Arn {
            head,
            literal: 5,
            segs,
        } if head.starts_with("arn:") && matches!(segs[5], Seg::General(_)) => match segs[5] {
            Seg::General(m) => variable_glob(e, m, head, l),
            _ => None,
        },
        // Other ARN patterns with a head and no variables: the head, then the segments.
        ResourcePlan::Arn {
            head,
            literal,
            segs,
        } if head.starts_with("arn:") && !segs.iter().any(|g| matches!(g, Seg::General(_))) => {
            let head = l.text(head, "");
            let first = l.arn_checks.len() as u32;
            for (i, &seg) in segs.iter().enumerate().skip(*literal) {
                let test = match seg {
                    // `*` passes any segment: not cut, not tested.
                    Seg::Any => continue,
                    Seg::Glob(glob) => {
                        stars(glob, &mut l.middles).map_or(SegTest::Seg(seg), SegTest::Stars)
                    }
                    Seg::Exact(s) if s.len() == 12 => {
                        let (lo, hi) = s.as_bytes().split_at(8);
                        let lo = u64::from_le_bytes(lo.try_into().expect("8 bytes"));
                        SegTest::Twelve(lo, u32::from_le_bytes(hi.try_into().expect("4 bytes")))
                    }
                    seg => SegTest::Seg(seg),
                };
                l.arn_checks.push(ArnCheck { seg: i as u8, test });
            }
            Some(Op::Arn {
                head,
                literal: *literal as u8,
                count: (l.arn_checks.len() as u32 - first) as u8,
                checks: first,
            })
        }
        _ => None,
    };
    Some(typed.unwrap_or(Op::Plan(index)))
}

/// The test of an ARN pattern `head` (five literal segments) whose last segment is
/// matcher `m`, if that is a glob of the shape `literal${variable}glob`
/// (`home-bucket/${aws:username}/*`): literal text tokens, one variable, one text token
/// holding at least one `*` and no `?`. The general matcher substitutes the variable into
/// glob pieces (a literal piece each), so the literal, the value and the glob follow each
/// other at fixed places until the glob's first star: `VariableGlob` tests them in that
/// order, the glob split at its stars.
fn variable_glob<'p>(e: &Evaluator<'p>, m: u32, head: &str, l: &mut Layout<'p>) -> Option<Op> {
    let m = e.v.matchers.get(m as usize)?;
    if MatcherKind::from_code(m.kind) != Some(MatcherKind::TokensGlob) {
        return None;
    }
    let tokens = e.v.tokens.get(m.a as usize..(m.a + m.b) as usize)?;
    let at = tokens
        .iter()
        .position(|t| TokenKind::from_code(t.kind) == Some(TokenKind::Variable))?;
    let (before, [_, after]) = (&tokens[..at], &tokens[at..]) else {
        return None;
    };
    let mut joined = head.to_string();
    for t in before {
        let text = e.s(t.a);
        match TokenKind::from_code(t.kind) {
            Some(TokenKind::Text) if !text.contains(['*', '?']) => joined.push_str(text),
            Some(TokenKind::Literal) => joined.push_str(text),
            _ => return None,
        }
    }
    if TokenKind::from_code(after.kind) != Some(TokenKind::Text) {
        return None;
    }
    let tail = stars(e.s(after.a), &mut l.middles)?;
    let head = l.text(&joined, "");
    l.globs.push(VariableGlob {
        head,
        token: m.a + at as u32,
        tail,
    });
    Some(Op::VariableGlob(l.globs.len() as u32 - 1))
}

/// A glob of literals and `*`s split at its stars (`None` if it has a `?`).
pub(super) fn stars<'p>(glob: &'p str, middles: &mut Vec<&'p str>) -> Option<Stars<'p>> {
    if glob.contains('?') {
        return None;
    }
    let mut parts = glob.split('*');
    let first = parts.next()?;
    let mut last = parts.next()?;
    let start = middles.len() as u32;
    // Each part but the first and the last is a middle (kept when not empty).
    for part in parts {
        if !last.is_empty() {
            middles.push(last);
        }
        last = part;
    }
    Some(Stars {
        first,
        last,
        middles: (start, middles.len() as u32),
    })
}

/// The op of condition record `i` (`c`), whose value test is `test`: `Null` as the
/// answers to absent and present, a qualified operator's answer to an absent key; an
/// unqualified one typed when its test is resolved, the common shapes (one literal,
/// `Bool`, one date) inside the op.
fn condition_op(
    i: u32,
    c: &ConditionRec,
    test: ValueTest,
    e: &Evaluator<'_>,
    l: &mut Layout<'_>,
) -> Op {
    let Some(base) = BaseOperator::ALL.get(c.base as usize).copied() else {
        return Op::Condition(i);
    };
    let key = c.key;
    if base == BaseOperator::Null {
        // As the general code: a `Null` value record answers when the key's presence is
        // the opposite of its boolean; any other record never does.
        let first = c.values_first as usize;
        let Some(values) = e.v.values.get(first..first + c.values_len as usize) else {
            return Op::Condition(i);
        };
        let answers = |present: bool| {
            values
                .iter()
                .any(|v| v.kind == ValueKind::Null.code() && (v.a == 1) != present)
        };
        return Op::Null {
            key,
            on_absent: answers(false),
            on_present: answers(true),
        };
    }
    if c.qualifier != 0 {
        return Op::Qualified {
            key,
            condition: i,
            absent: c.qualifier == 1 || c.if_exists == 1,
        };
    }
    let absent = c.if_exists == 1 || base.is_negated();
    match test {
        ValueTest::General => Op::Condition(i),
        ValueTest::Equals {
            first,
            end,
            negated,
        } if end == first + 1 => Op::Equals {
            key,
            literal: l.text(e.value_tests.literal(first), ""),
            negated,
            absent,
        },
        ValueTest::Bool { on_true, on_false } => Op::Bool {
            key,
            on_true,
            on_false,
            absent,
        },
        ValueTest::Date {
            first,
            end,
            op,
            negated,
        } if end == first + 1 => Op::Date {
            key,
            op,
            negated,
            absent,
            instant: first,
        },
        _ => Op::Test {
            key,
            condition: i,
            absent,
        },
    }
}
