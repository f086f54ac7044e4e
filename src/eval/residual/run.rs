//! Runs a hop's action program: its statements' op blocks in statement order.
//!
//! What the walk does for statement 3 of the example in the module docs, on a hop of
//! `s3:GetObject` on `arn:aws:s3:::b/k` by an IAM user: `PART_IDENTITY & mask` (the hop's
//! participating kinds) is non-zero; the resource starts with `arn:aws:s3:::b/`; its key
//! mask `0b1` is ANDed with the hop's absent mask (computed on the first statement that needs
//! it, from the action's one key) into the missing keys; its one condition reads
//! `aws:sourcevpc`'s slot and runs the `Equals` test. Then it joins the applied list, as the
//! general path's `examine` would have it.

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
/// part, the hop's resource text and index, its participation.
struct HopTests<'r, 'a> {
    mask: u8,
    text: &'r str,
    k: usize,
    part: &'a Participation,
}

impl<'p> Evaluator<'p> {
    /// Runs program `p`, whose tabulated candidates are `candidates`, on hop `k`, merged in
    /// statement order with the hop's own resource policy's statements `own` (`first..end`,
    /// run through their blocks too, their missing keys recorded in `sc.missing_bits` as
    /// the general [`Evaluator::examine`] records them): pushes the applicable statements onto `sc.applied`, in
    /// statement order, and returns the program's missing keys as a mask of its key
    /// numbering.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::eval) fn run_residual<R: RequestView>(
        &self,
        p: ActionProgram,
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
            text: req.resource(k),
            k,
            part,
        };
        let mut target: Option<Target<'_>> = None;
        let mut absent: Option<u64> = None;
        let mut missing = 0;
        let (mut with_keys, with_keys_end) = p.masks;
        let mut previous = None;
        let (mut own, own_end) = own;
        for (i, c) in candidates.iter().enumerate() {
            let id = c >> 1;
            if previous == Some(id) {
                continue; // the same statement found twice by the index
            }
            previous = Some(id);
            // This candidate's key mask, if its statement reads keys (read before any test
            // can skip the statement, so that the cursor follows the candidates).
            let keys = if with_keys < with_keys_end && r.mask_at[with_keys as usize] == i as u32 {
                with_keys += 1;
                r.masks[with_keys as usize - 1]
            } else {
                0
            };
            // The index leaves resource policies out: `id` is never one of `own`.
            while own < own_end && own < id {
                self.own_step(own, &hop, req, sc, &mut target);
                own += 1;
            }
            let Some((categories, head)) =
                self.statement_matches(id, c & 1 == 1, &hop, req, sc, &mut target)
            else {
                continue;
            };
            if keys != 0 {
                let absent = *absent.get_or_insert_with(|| self.absent_keys(p, sc));
                missing |= keys & absent;
            }
            self.conditions_then_apply(id, head, categories, req, sc);
        }
        while own < own_end {
            self.own_step(own, &hop, req, sc, &mut target);
            own += 1;
        }
        missing
    }

    /// Statement `id` of the hop's own resource policy (never in a program: the index
    /// leaves resource policies out), through its block as the program's are; its action
    /// clause is checked on the folded action (`sc.action`, which the hop fills when it has
    /// a resource policy), and its absent keys go to `sc.missing_bits` as
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
        let Some((categories, head)) = self.statement_matches(id, false, hop, req, sc, target)
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

    /// Whether statement `id`'s block passes its participation, action (unless `verified`),
    /// principal and resource ops: its principal categories and its head if it does.
    #[inline(always)]
    fn statement_matches<'r, R: RequestView>(
        &self,
        id: u32,
        verified: bool,
        hop: &HopTests<'r, '_>,
        req: &'r R,
        sc: &mut Scratch,
        target: &mut Option<Target<'r>>,
    ) -> Option<(u8, Head)> {
        let ops = &self.residual.ops;
        let at = self.residual.starts[id as usize] as usize;
        let Op::Head {
            part,
            kind,
            deny,
            level,
            conditions,
            end,
        } = ops[at]
        else {
            // The layout starts every block with its head (`build::block`).
            debug_assert!(false, "statement {id}'s block starts with {:?}", ops[at]);
            return None;
        };
        if part & hop.mask == 0 {
            return None;
        }
        // A class's candidate whose action clause the class leaves open (never one of an
        // exact action's), or a resource policy's statement: checked on the action folded
        // into `sc.action`.
        if !verified && !self.action_clause(&self.v.statements[id as usize], &sc.action) {
            return None;
        }
        let mut categories = 0;
        let mut pc = at + 1;
        while pc < conditions as usize {
            let passes = match ops[pc] {
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
                    let group = &ops[pc + 1..pc + 1 + count as usize];
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
        Some((
            categories,
            Head {
                kind,
                deny,
                level,
                conditions,
                end,
            },
        ))
    }

    /// Runs the statement's condition ops; if they hold, the statement joins the applied
    /// list.
    #[inline(always)]
    fn conditions_then_apply<R: RequestView>(
        &self,
        id: u32,
        head: Head,
        categories: u8,
        req: &R,
        sc: &mut Scratch,
    ) {
        let ops = &self.residual.ops[head.conditions as usize..head.end as usize];
        for op in ops {
            if !self.condition_op(*op, req, sc) {
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

    /// The mask of `p`'s keys whose slot is absent.
    fn absent_keys(&self, p: ActionProgram, sc: &Scratch) -> u64 {
        let keys = &self.residual.keys[p.keys.0 as usize..p.keys.1 as usize];
        keys.iter().enumerate().fold(0, |mask, (bit, key)| {
            mask | ((sc.slots[*key as usize] == Slot::Absent) as u64) << bit
        })
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
            Op::Exact(s) => bytes::same(text.as_bytes(), r.text(s).as_bytes()),
            Op::Prefix(s) => bytes::starts_with(text, r.text(s)),
            Op::Arn {
                head,
                literal,
                segs,
            } => {
                let head = r.text(head);
                bytes::starts_with(text, head) && {
                    let literal = literal as usize;
                    let segs = &r.arn_segs[segs as usize..segs as usize + 6 - literal];
                    if literal == 5 {
                        // The head holds the five colons: the rest is the last segment.
                        self.seg_test(&segs[0], &text[head.len()..])
                    } else {
                        let target = target.get_or_insert_with(|| hop_target(req, hop.k));
                        self.arn_tail(target, literal, segs)
                    }
                }
            }
            Op::Stars(i) => stars_match(&r.stars[i as usize], &r.middles, text),
            Op::VariableGlob(i) => {
                let glob = &r.globs[i as usize];
                let head = r.text(glob.head);
                bytes::starts_with(text, head)
                    && self
                        .variable(&self.v.tokens[glob.token as usize], req, sc)
                        .is_some_and(|value| {
                            let rest = &text[head.len()..];
                            bytes::starts_with(rest, value)
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
    /// code.
    #[inline(always)]
    fn condition_op<R: RequestView>(&self, op: Op, req: &R, sc: &mut Scratch) -> bool {
        let (key, absent) = match op {
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
        match op {
            Op::Equals {
                literal, negated, ..
            } => bytes::same(v.as_bytes(), self.residual.text(literal).as_bytes()) != negated,
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

/// What a statement's head says once its block matched: its applied entry's data and the
/// range of its condition ops.
#[derive(Clone, Copy)]
struct Head {
    kind: Kind,
    deny: bool,
    level: u32,
    conditions: u32,
    end: u32,
}

impl Evaluator<'_> {
    /// Whether segments `literal..6` of the hop's resource, `target` (whose text starts with
    /// the pattern's head, `literal` segments), pass `segs` (R-RES-4); a resource with fewer
    /// than five colons is not an ARN (R-RES-2), and fails. The colons are the ones the
    /// compact request found when it was built (or `find_colons` once per hop), never
    /// searched again here.
    #[inline(never)]
    fn arn_tail(&self, target: &Target<'_>, literal: usize, segs: &[SegTest<'_>]) -> bool {
        target.is_arn()
            && (literal..6)
                .zip(segs)
                .all(|(i, seg)| self.seg_test(seg, target.part(i)))
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
            SegTest::Stars(stars) => stars_match(stars, &self.residual.middles, part),
        }
    }
}

/// Whether `text` matches a glob of literals and stars (R-RES-5): it starts with the first
/// literal, ends with the last, and holds the middle ones (`middles` holds them) in order
/// between; the leftmost place of each middle literal is as good as any, a star taking the
/// rest.
#[inline(always)]
pub(super) fn stars_match(stars: &Stars<'_>, middles: &[&str], text: &str) -> bool {
    let (head, tail) = (stars.first.len(), stars.last.len());
    if text.len() < head + tail
        || !bytes::starts_with(text, stars.first)
        || !bytes::ends_with(text, stars.last)
    {
        return false;
    }
    let mut rest = &text[head..text.len() - tail];
    let (first, end) = stars.middles;
    for middle in &middles[first as usize..end as usize] {
        match bytes::find(rest, middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}
