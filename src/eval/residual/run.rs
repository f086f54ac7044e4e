//! Runs a hop's action program: its statements' op blocks in statement order.
//!
//! What the walk does for statement 3 of the example in the module docs, on a hop of
//! `s3:GetObject` on `arn:aws:s3:::b/k` by an IAM user: `PART_IDENTITY & mask` (the hop's
//! participating kinds) is non-zero; the resource starts with `arn:aws:s3:::b/`; its key
//! mask `0b1` joins the keys read (whose slots are tested for absence once, after the walk:
//! the missing keys); its one condition reads `aws:sourcevpc`'s slot and runs the `Equals`
//! test. Then it joins the applied list, as the general path's `examine` would have it.

use crate::request::RequestView;

use super::super::chain::hop_target;
use super::super::outcome::Applied;
use super::super::principal::account_category_of;
use super::super::resource_plan::Target;
use super::super::slots::{NotSingle, Slot};
use super::super::statement::Participation;
use super::super::value_test::{holds, parse_bool};
use super::super::{Evaluator, Scratch};
use super::bytes;
use super::*;

impl Participation {
    /// The participation bits of the kinds that take part in the hop.
    #[inline]
    fn mask(&self) -> u8 {
        (self.scp as u8 * PART_SCP)
            | (self.rcp as u8 * PART_RCP)
            | (self.vpce as u8 * PART_VPCE)
            | (self.resource.is_some() as u8 * PART_RESOURCE)
            | (self.identity as u8 * PART_IDENTITY)
            | (self.ceilings as u8 * PART_CEILINGS)
    }
}

/// What every statement of a hop tests against: the participation bits of the kinds taking
/// part, the hop's entry, its resource text and index, its participation.
struct HopTests<'r, 'a> {
    mask: u8,
    /// The hop's tabulated entry (of `index_exact`, or a class).
    entry: u32,
    text: &'r str,
    k: usize,
    part: &'a Participation,
    /// The first statement of the hop's own resource policy.
    own_first: u32,
}

impl<'p> Evaluator<'p> {
    /// Runs program `p`, whose tabulated candidates are `candidates`, on hop `k`, merged in
    /// statement order with the hop's own resource policy's statements `own` (`first..end`,
    /// run through their blocks too, their missing keys recorded in `sc.missing_bits` as
    /// the general [`Evaluator::examine`] records them): pushes the applicable statements
    /// onto `sc.applied`, in statement order, and returns the program's keys that the
    /// statements passing their principal and resource tests read, as a mask of its key
    /// numbering (R-SIM-4: those whose slot is absent are the hop's missing keys). A hop without a resource policy of its own (nearly all)
    /// walks its candidates alone, with no merge test per candidate.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(in crate::eval) fn run_residual<R: RequestView>(
        &self,
        (entry, p): (u32, ActionProgram),
        candidates: &[u32],
        own: (u32, u32),
        req: &R,
        sc: &mut Scratch,
        k: usize,
        part: &Participation,
    ) -> u64 {
        if own.0 < own.1 {
            self.walk_with_own((entry, p), candidates, own, req, sc, k, part)
        } else {
            self.walk::<false, R>((entry, p), candidates, own, req, sc, k, part)
        }
    }

    /// [`Evaluator::walk`] merging the hop's own resource policy: out of line, so that the
    /// common walk has none of its state.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn walk_with_own<R: RequestView>(
        &self,
        (entry, p): (u32, ActionProgram),
        candidates: &[u32],
        own: (u32, u32),
        req: &R,
        sc: &mut Scratch,
        k: usize,
        part: &Participation,
    ) -> u64 {
        self.walk::<true, R>((entry, p), candidates, own, req, sc, k, part)
    }

    /// The walk of [`Evaluator::run_residual`]; `OWN`: merging the statements `own`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn walk<const OWN: bool, R: RequestView>(
        &self,
        (entry, p): (u32, ActionProgram),
        candidates: &[u32],
        own: (u32, u32),
        req: &R,
        sc: &mut Scratch,
        k: usize,
        part: &Participation,
    ) -> u64 {
        let r = &self.residual;
        let hop = HopTests {
            mask: part.mask(),
            entry,
            text: req.resource(k),
            k,
            part,
            own_first: own.0,
        };
        let mut target: Option<Target<'_>> = None;
        // The keys of the statements that passed their principal and resource tests
        // (R-SIM-4 counts a key missing whether or not the conditions then hold): their
        // absent ones are the missing keys, tested once after the walk.
        let mut read = 0;
        // The key masks of the candidates that read keys, in candidate order.
        let mut masks = r.masks(p).iter();
        // The next own statement to merge, `NONE_LEFT` once all are: one compare a
        // candidate (statement ids are below `u32::MAX`, `verify`).
        const NONE_LEFT: u32 = u32::MAX;
        let own_end = own.1;
        let mut own = if own.0 < own.1 { own.0 } else { NONE_LEFT };
        let own_step = |e: &Self, own: &mut u32, sc: &mut Scratch, target: &mut _| {
            e.own_step(*own, &hop, req, sc, target);
            *own += 1;
            if *own == own_end {
                *own = NONE_LEFT;
            }
        };
        // The tables reached through an opaque reference: otherwise the compiler hoists
        // every table's pointer and length the inlined walk might read (about thirty) into
        // stack slots before the loop, on every hop, to reload them from there
        // (BENCHMARKS.md, "The hop's walk (issue 17, tenth session)"). Once a walk, not a
        // candidate: `black_box` passes its value through the stack (a store, an address
        // and a load), and the tables' loads stay in the loop either way (`walk5`).
        let e = std::hint::black_box(self);
        for &c in candidates {
            let r = &e.residual;
            let id = c >> 1;
            // The index leaves resource policies out: `id` is never one of `own`.
            while OWN && own < id {
                own_step(e, &mut own, sc, &mut target);
            }
            let head = r.head(id);
            // Taken before any test can skip the statement, so that the masks follow the
            // candidates.
            let keys = if head.part & READS_KEYS != 0 {
                masks.next().copied().unwrap_or(0)
            } else {
                0
            };
            let Some(categories) =
                e.block_matches(id, head, c & 1 == 1, &hop, req, sc, &mut target)
            else {
                continue;
            };
            read |= keys;
            e.conditions_then_apply(id, head, categories, req, sc);
        }
        while OWN && own != NONE_LEFT {
            own_step(e, &mut own, sc, &mut target);
        }
        read
    }

    /// Statement `id` of the hop's own resource policy (never in a program: the index
    /// leaves resource policies out), through its block as the program's are; its action
    /// clause is read from `own_actions` when the hop's service decides it, else checked as
    /// `open_action_clause` checks it; its absent keys go to `sc.missing_bits` as
    /// [`Evaluator::examine`] records them.
    #[inline(never)]
    fn own_step<'r, R: RequestView>(
        &self,
        id: u32,
        hop: &HopTests<'r, '_>,
        req: &'r R,
        sc: &mut Scratch,
        target: &mut Option<Target<'r>>,
    ) {
        let r = &self.residual;
        // The clause decided for the hop's service when the evaluator was built, if it
        // does not depend on the action's name.
        let decided = match (hop.part.resource, r.entry_services.get(hop.entry as usize)) {
            (Some(slot), Some(service)) => r.own_actions.answer(slot, hop.own_first, id, *service),
            _ => None,
        };
        if decided == Some(false) {
            return;
        }
        let head = r.head(id);
        let Some(categories) =
            self.block_matches(id, head, decided.is_some(), hop, req, sc, target)
        else {
            return;
        };
        let st = &self.v.statements[id as usize];
        let keys =
            &self.v.statement_keys[st.keys_first as usize..(st.keys_first + st.keys_len) as usize];
        for key in keys {
            if sc.slots[*key as usize] == Slot::Absent {
                sc.missing_bits[*key as usize / 64] |= 1 << (key % 64);
            }
        }
        self.conditions_then_apply(id, head, categories, req, sc);
    }

    /// Whether statement `id`'s block, whose head is `head`, passes its
    /// participation, action (unless `verified`), principal and resource ops: its principal
    /// categories if it does.
    #[allow(unsafe_code)]
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn block_matches<'r, R: RequestView>(
        &self,
        id: u32,
        head: &Head,
        verified: bool,
        hop: &HopTests<'r, '_>,
        req: &'r R,
        sc: &mut Scratch,
        target: &mut Option<Target<'r>>,
    ) -> Option<u8> {
        if head.part & hop.mask == 0 {
            return None;
        }
        // A class's candidate whose action clause the class leaves open (never one of an
        // exact action's), or a resource policy's statement: checked on the action folded
        // into `sc.action`.
        if !verified && !self.open_action_clause(id, hop, req, sc) {
            return None;
        }
        let ops = &self.residual.ops;
        let mut categories = 0;
        let mut pc = head.at as usize + 1;
        let conditions = head.conditions as usize;
        while pc < conditions {
            debug_assert!(conditions <= ops.len());
            // SAFETY: `pc < head.conditions <= ops.len()`: every head's block lies in `ops`
            // (`verify_head`), and `head` is one of `heads` (`Residual::head`).
            let passes = match unsafe { *ops.get_unchecked(pc) } {
                Op::Position(position) => hop.part.resource == Some(position),
                Op::Accounts(first, end) => {
                    let accounts = &self.residual.accounts[first as usize..end as usize];
                    categories = accounts.iter().fold(0, |cats, a| {
                        cats | account_category_of(a.id, a.root_of, req)
                    });
                    categories != 0
                }
                Op::Principal => {
                    let st = self.v.statements[id as usize];
                    categories = self.principal_categories(&st, req, sc, hop.part);
                    categories != 0
                }
                Op::AnyOf { count, not } => {
                    let group = pc + 1..pc + 1 + count as usize;
                    debug_assert!(group.end <= conditions);
                    // SAFETY: an `AnyOf` group of a block's resource ops ends at or before
                    // the block's conditions (`verify_head`), which lie in `ops`.
                    let group = unsafe { ops.get_unchecked(group) };
                    pc += count as usize;
                    group
                        .iter()
                        .any(|op| self.resource_op(*op, hop, target, req, sc))
                        != not
                }
                op => self.resource_op(op, hop, target, req, sc),
            };
            if !passes {
                return None;
            }
            pc += 1;
        }
        Some(categories)
    }

    /// Runs the statement's condition ops; if they hold, the statement joins the applied
    /// list.
    #[allow(unsafe_code)]
    #[inline(always)]
    fn conditions_then_apply<R: RequestView>(
        &self,
        id: u32,
        head: &Head,
        categories: u8,
        req: &R,
        sc: &mut Scratch,
    ) {
        let ops = &self.residual.ops;
        let conditions = head.conditions as usize..head.end as usize;
        debug_assert!(conditions.start <= conditions.end && conditions.end <= ops.len());
        // SAFETY: `head` is one of `heads` (`Residual::head`), whose condition ranges lie in
        // `ops` (`verify_head`).
        let ops = unsafe { ops.get_unchecked(conditions) };
        for op in ops {
            if !self.condition_op(op, req, sc) {
                return;
            }
        }
        sc.applied.push(Applied {
            statement: id,
            categories,
            kind: head.kind,
            level: head.level,
            deny: head.deny,
        });
    }

    /// Statement `id`'s action clause, which the tabulation left open (a class's
    /// candidate) or never checked (a resource policy's statement): on a hop of an action
    /// the index names exactly, on the index's folded service and name; else on the hop's
    /// action, folded into `sc.action` on first need (most hops never fold).
    #[inline(never)]
    fn open_action_clause<R: RequestView>(
        &self,
        id: u32,
        hop: &HopTests<'_, '_>,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        let st = &self.v.statements[id as usize];
        let entry = hop.entry as usize;
        let service = self.residual.entry_services.get(entry);
        if let Some(svc) = service.and_then(|s| self.v.services.get(*s as usize)) {
            let name = self.s(self.v.index_exact[entry].name);
            if let Some(answer) = self.action_clause_split(st, Some((self.s(svc.name), name)), None)
            {
                return answer;
            }
        }
        if !sc.action_folded {
            sc.action.clear();
            crate::primitives::fold_into(req.action(hop.k), &mut sc.action);
            sc.action_folded = true;
        }
        // A class's open clause: only the patterns that concern the class (`class_clauses`).
        let patterns = (hop.entry as usize)
            .checked_sub(self.v.index_exact.len())
            .and_then(|class| self.class_clauses.patterns(class as u32, id));
        match patterns {
            Some(actions) => self.action_clause_over(st, actions, &sc.action),
            None => self.action_clause(st, &sc.action),
        }
    }

    /// One resource op's test of the hop's resource; `target` is the hop's resource cut at
    /// its colons, on first need.
    #[inline(always)]
    fn resource_op<'r, R: RequestView>(
        &self,
        op: Op,
        hop: &HopTests<'r, '_>,
        target: &mut Option<Target<'r>>,
        req: &'r R,
        sc: &mut Scratch,
    ) -> bool {
        let r = &self.residual;
        let text = hop.text;
        match op {
            Op::Exact(s) => bytes::same(text.as_bytes(), r.text(s)),
            Op::Prefix(s) => bytes::prefix_of(text.as_bytes(), r.text(s)),
            Op::Arn {
                head,
                literal,
                count,
                checks,
            } => {
                let head = r.text(head);
                bytes::prefix_of(text.as_bytes(), head) && {
                    let checks = r.arn_checks(checks, count);
                    if literal == 5 {
                        // The head holds the five colons: the rest is the last segment.
                        // At most one check, of segment 5.
                        let last = text.get(head.len()..).unwrap_or_default();
                        match checks.first() {
                            Some(check) => self.seg_test(&check.test, last),
                            None => true,
                        }
                    } else if let Some((colons, found)) = req.resource_colons(hop.k) {
                        // The colons the compact request found: no `Target` to build.
                        self.arn_tail_at(text, &colons, found, checks)
                    } else {
                        let target = target.get_or_insert_with(|| hop_target(req, hop.k));
                        self.arn_tail(target, checks)
                    }
                }
            }
            Op::Stars(i) => stars_match(&r.stars[i as usize], &r.middles, text.as_bytes()),
            Op::VariableGlob(i) => {
                let glob = &r.globs[i as usize];
                let head = r.text(glob.head);
                bytes::prefix_of(text.as_bytes(), head)
                    && self
                        .variable(&self.v.tokens[glob.token as usize], req, sc)
                        .is_some_and(|value| {
                            let rest = text.as_bytes().get(head.len()..).unwrap_or_default();
                            bytes::prefix_of(rest, value.as_bytes())
                                && stars_match(&glob.tail, &r.middles, &rest[value.len()..])
                        })
            }
            Op::Plan(plan) => {
                let target = target.get_or_insert_with(|| hop_target(req, hop.k));
                self.resource_plans[plan as usize]
                    .matches(target, |m, t| self.matcher(m, t, req, sc))
            }
            Op::Fail => false,
            // The layout puts only resource ops here (`build::block`).
            _ => {
                debug_assert!(false, "{op:?} is not a resource op");
                false
            }
        }
    }

    /// One condition op: its typed test (the key's value read once: an absent key answers
    /// the op's `absent`, a multi-valued one false, R-COND-8), or the general condition
    /// code. The op by reference: taken by value, all its fields were loaded before the
    /// dispatch, whichever the arm (`walk5`: 25 instructions a hop). Resource ops measured
    /// the other way (by reference, +3 a hop), and stay copies.
    #[inline(always)]
    fn condition_op<R: RequestView>(&self, op: &Op, req: &R, sc: &mut Scratch) -> bool {
        let (key, absent) = match *op {
            Op::Equals { key, absent, .. }
            | Op::Bool { key, absent, .. }
            | Op::Date { key, absent, .. }
            | Op::Test { key, absent, .. } => (key, absent),
            Op::Null {
                key,
                on_absent,
                on_present,
            } => {
                return match self.single(req, sc, key) {
                    Err(NotSingle::Absent) => on_absent,
                    _ => on_present,
                }
            }
            Op::Qualified {
                key,
                condition,
                absent,
            } => {
                return match self.single(req, sc, key) {
                    Err(NotSingle::Absent) => absent,
                    _ => self.condition(condition as usize, req, sc),
                }
            }
            Op::Condition(i) => return self.condition(i as usize, req, sc),
            // The layout puts only condition ops here (`build::block`).
            _ => {
                debug_assert!(false, "{op:?} is not a condition op");
                return false;
            }
        };
        let v = match self.single(req, sc, key) {
            Ok(v) => v,
            Err(NotSingle::Absent) => return absent,
            Err(NotSingle::Multi) => return false,
        };
        match *op {
            Op::Equals {
                literal, negated, ..
            } => bytes::same(v.as_bytes(), self.residual.text(literal)) != negated,
            Op::Bool {
                on_true, on_false, ..
            } => match parse_bool(v) {
                Some(true) => on_true,
                Some(false) => on_false,
                None => false,
            },
            Op::Date {
                op,
                negated,
                instant,
                ..
            } => match sc.memo.date.parse(v, crate::primitives::parse_date) {
                Some(a) => holds(op, a.cmp(&self.value_tests.instant(instant))) != negated,
                None => false,
            },
            Op::Test { condition, .. } => {
                let test = self.value_tests.get(condition as usize);
                self.value_tests.passes(test, v, &mut sc.memo)
            }
            _ => false,
        }
    }
}

/// A statement's head, read once per candidate: its participation bits (and
/// [`READS_KEYS`]), its applied entry's data, where its block starts and the range of its
/// condition ops. Decoded from the block's `Op::Head` when the evaluator is built
/// (`Residual::heads`), so that a candidate costs one record read, not a start, an op and
/// its tag test.
#[derive(Clone, Copy, Debug)]
pub(super) struct Head {
    part: u8,
    kind: Kind,
    deny: bool,
    level: u32,
    pub(super) at: u32,
    pub(super) conditions: u32,
    pub(super) end: u32,
}

impl Head {
    /// The block's first op, where its conditions start and its end, for `verify`.
    pub(super) fn ranges(&self) -> (u32, u32, u32) {
        (self.at, self.conditions, self.end)
    }

    /// A head that never takes part (no participation bit), with no ops.
    fn never(at: u32) -> Head {
        Head {
            part: 0,
            kind: Kind::Identity,
            deny: false,
            level: 0,
            at,
            conditions: at,
            end: at,
        }
    }
}

impl Residual<'_> {
    /// The head of the block starting at op `at`; a block that does not start with one
    /// (never laid out: `build::block` starts every block with its head) never takes part.
    pub(super) fn decode_head(&self, at: u32) -> Head {
        match self.ops.get(at as usize) {
            Some(Op::Head {
                part,
                kind,
                deny,
                level,
                conditions,
                end,
            }) => Head {
                part: *part,
                kind: *kind,
                deny: *deny,
                level: *level,
                at,
                conditions: *conditions,
                end: *end,
            },
            op => {
                debug_assert!(false, "the block at {at} starts with {op:?}");
                Head::never(at)
            }
        }
    }

    /// Statement `id`'s head; `id` is a tabulated candidate's statement (of
    /// `exact_candidates`) or one of a resource policy's (`resource_policy_statements`).
    /// By reference, each field read where it is needed: a copy held every field in a
    /// register or a stack slot from the candidate's first test to its push (`walk5`: 11
    /// instructions a hop).
    #[allow(unsafe_code)]
    #[inline(always)]
    fn head(&self, id: u32) -> &Head {
        debug_assert!((id as usize) < self.heads.len());
        // SAFETY: there is one head per statement, every `exact_candidates` entry names a
        // statement and every `resource_policy_statements` range lies in the statements
        // (`verify`), and the walk runs only those.
        unsafe { self.heads.get_unchecked(id as usize) }
    }
}

impl Evaluator<'_> {
    /// Whether the segments of the hop's resource, `target` (whose text starts with the
    /// pattern's head), pass `checks` (R-RES-4; the `*` segments are not among them); a
    /// resource with fewer than five colons is not an ARN (R-RES-2), and fails.
    #[inline(never)]
    fn arn_tail(&self, target: &Target<'_>, checks: &[ArnCheck<'_>]) -> bool {
        if !target.is_arn() {
            return false;
        }
        for check in checks {
            if !self.seg_test(&check.test, target.part(check.seg as usize)) {
                return false;
            }
        }
        true
    }

    /// [`Evaluator::arn_tail`] on the hop's resource `text` whose first five colons a
    /// compact request found (`found` of them, at `colons`): each tested segment is cut
    /// from those places, with no `Target` built. Places that are not `text`'s colons (a
    /// hostile request) cut wrong segments, never panic.
    #[inline(always)]
    fn arn_tail_at(
        &self,
        text: &str,
        colons: &[u32; 5],
        found: u8,
        checks: &[ArnCheck<'_>],
    ) -> bool {
        // R-RES-2, as `Target::with_colons` decides it.
        if found != 5 || !bytes::starts_with(text, "arn:") {
            return false;
        }
        // Segment `i` is `cuts[i] + 1..cuts[i + 1]` (the first starts after a colon at
        // -1, the last ends at the text's end); nine entries, so that `i & 7` and
        // `(i & 7) + 1` index them with no bound test.
        let [c0, c1, c2, c3, c4] = *colons;
        let cuts = [u32::MAX, c0, c1, c2, c3, c4, text.len() as u32, 0, 0];
        for check in checks {
            let i = check.seg as usize & 7;
            let (start, end) = (cuts[i].wrapping_add(1) as usize, cuts[i + 1] as usize);
            // The literal tests compare bytes: a segment cut at colons (ASCII) is cut on
            // character boundaries, with no test of them; the others take it as text.
            let part = text.as_bytes().get(start..end).unwrap_or_default();
            let passes = match check.test {
                SegTest::Twelve(lo, hi) => twelve(part, lo, hi),
                SegTest::Seg(Seg::Exact(s)) => bytes::same(part, s.as_bytes()),
                SegTest::Seg(Seg::Prefix(s)) => bytes::prefix_of(part, s.as_bytes()),
                test => self.other_seg_test(&test, text, start..end),
            };
            if !passes {
                return false;
            }
        }
        true
    }

    /// [`Evaluator::arn_tail_at`]'s rarer segment tests (globs, suffixes, the general
    /// segment match), out of line: the inlined walk keeps only the literal ones.
    #[inline(never)]
    fn other_seg_test(&self, seg: &SegTest<'_>, text: &str, part: std::ops::Range<usize>) -> bool {
        self.seg_test(seg, text.get(part).unwrap_or_default())
    }

    /// One ARN segment's test.
    #[inline(always)]
    fn seg_test(&self, seg: &SegTest<'_>, part: &str) -> bool {
        match seg {
            SegTest::Seg(seg) => match *seg {
                Seg::Any => true,
                Seg::Exact(s) => bytes::same(part.as_bytes(), s.as_bytes()),
                Seg::Prefix(s) => bytes::starts_with(part, s),
                Seg::Suffix(s) => bytes::ends_with(part, s),
                seg => seg.matches(part, &mut |_, _| false),
            },
            SegTest::Stars(stars) => stars_match(stars, &self.residual.middles, part.as_bytes()),
            SegTest::Twelve(lo, hi) => twelve(part.as_bytes(), *lo, *hi),
        }
    }
}

/// Whether `part` is the twelve bytes whose words are `lo` (bytes 0..8) and `hi` (8..12).
#[inline(always)]
fn twelve(part: &[u8], lo: u64, hi: u32) -> bool {
    match part {
        [a @ .., b0, b1, b2, b3] if a.len() == 8 => {
            let a: [u8; 8] = a.try_into().unwrap_or_default();
            u64::from_le_bytes(a) == lo && u32::from_le_bytes([*b0, *b1, *b2, *b3]) == hi
        }
        _ => false,
    }
}

/// Whether `text` matches a glob of literals and stars (R-RES-5): it starts with the first
/// literal, ends with the last, and holds the middle ones (`middles` holds them) in order
/// between; the leftmost place of each middle literal is as good as any, a star taking the
/// rest.
#[inline(always)]
pub(super) fn stars_match(stars: &Stars<'_>, middles: &[&str], text: &[u8]) -> bool {
    let (first, last) = (stars.first.as_bytes(), stars.last.as_bytes());
    let Some(end) = text.len().checked_sub(last.len()) else {
        return false;
    };
    let Some(mut rest) = text.get(first.len()..end) else {
        return false;
    };
    if !bytes::same(&text[..first.len()], first) || !bytes::same(&text[end..], last) {
        return false;
    }
    let (from, end) = stars.middles;
    for middle in &middles[from as usize..end as usize] {
        let middle = middle.as_bytes();
        match bytes::find(rest, middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}
