//! Runs a hop's action program: the steps in statement order, each a few typed tests.
//!
//! What a step does for statement 3 of the example in the module docs, on a hop of
//! `s3:GetObject` on `arn:aws:s3:::b/k` by an IAM user: `PART_IDENTITY & mask` (the hop's
//! participating kinds) is non-zero; the resource starts with `arn:aws:s3:::b/`; its key
//! mask `0b1` is ANDed with the hop's absent mask (computed on the first step that needs
//! it, from the action's one key) into the missing keys; its one condition reads
//! `aws:sourcevpc`'s slot and runs the `Equals` test. Then it joins the applied list, as the
//! general path's `examine` would have it.

use crate::request::RequestView;

use super::super::chain::hop_target;
use super::super::outcome::Applied;
use super::super::principal::account_category_of;
use super::super::resource_plan::Target;
use super::super::slots::{Slot, Value};
use super::super::statement::Participation;
use super::super::{Evaluator, Scratch};
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

impl<'p> Evaluator<'p> {
    /// Runs program `p`, whose tabulated candidates are `candidates`, on hop `k`, merged in
    /// statement order with the hop's own resource policy's statements `own` (`first..end`,
    /// examined by the general [`Evaluator::examine`], which records their missing keys in
    /// `sc.missing_bits`): pushes the applicable statements onto `sc.applied`, in
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
        let mask = part.mask();
        let text = req.resource(k);
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
            // can skip the step, so that the cursor follows the candidates).
            let keys = if with_keys < with_keys_end && r.mask_at[with_keys as usize] == i as u32 {
                with_keys += 1;
                r.masks[with_keys as usize - 1]
            } else {
                0
            };
            // The index leaves resource policies out: `id` is never one of `own`.
            while own < own_end && own < id {
                let target = target.get_or_insert_with(|| hop_target(req, k));
                self.examine(req, sc, target, own, false, part);
                own += 1;
            }
            let step = &r.steps[id as usize];
            if step.part & mask == 0
                || (step.part == PART_RESOURCE && part.resource != Some(step.position))
            {
                continue;
            }
            let categories = match step.principal {
                Principal::None => 0,
                Principal::Accounts(first, end) => {
                    let accounts = &r.accounts[first as usize..end as usize];
                    match accounts.iter().fold(0, |cats, a| {
                        cats | account_category_of(a.id, a.root_of, req)
                    }) {
                        0 => continue,
                        c => c,
                    }
                }
                Principal::General => {
                    let st = self.v.statements[id as usize];
                    match self.principal_categories(&st, req, sc, part) {
                        0 => continue,
                        c => c,
                    }
                }
            };
            if !self.residual_resource(step, text, k, &mut target, req, sc) {
                continue;
            }
            if keys != 0 {
                let absent = *absent.get_or_insert_with(|| self.absent_keys(p, sc));
                missing |= keys & absent;
            }
            let (cf, ce) = step.conditions;
            if (cf..ce).all(|c| self.residual_condition(c, req, sc)) {
                sc.applied.push(Applied {
                    statement: id,
                    categories,
                    kind: step.kind,
                    level: step.level,
                    deny: step.deny,
                });
            }
        }
        while own < own_end {
            let target = target.get_or_insert_with(|| hop_target(req, k));
            self.examine(req, sc, target, own, false, part);
            own += 1;
        }
        missing
    }

    /// The mask of `p`'s keys whose slot is absent.
    fn absent_keys(&self, p: ActionProgram, sc: &Scratch) -> u64 {
        let keys = &self.residual.keys[p.keys.0 as usize..p.keys.1 as usize];
        keys.iter().enumerate().fold(0, |mask, (bit, key)| {
            mask | ((sc.slots[*key as usize] == Slot::Absent) as u64) << bit
        })
    }

    /// The statement's resource clause: any of its records' tests, negated for
    /// `NotResource`; `target` is the hop's resource cut at its colons, on first need.
    #[inline]
    fn residual_resource<'r, R: RequestView>(
        &self,
        step: &Step,
        text: &'r str,
        k: usize,
        target: &mut Option<Target<'r>>,
        req: &'r R,
        sc: &mut Scratch,
    ) -> bool {
        let (first, end) = step.resources;
        let r = &self.residual;
        let any = (first..end).any(|i| match &r.resources[i as usize] {
            ResourceTest::Any => true,
            ResourceTest::Exact(s) => text == r.text(*s),
            ResourceTest::Prefix(s) => text.starts_with(r.text(*s)),
            ResourceTest::Arn {
                head,
                literal,
                segs,
            } => text.strip_prefix(r.text(*head)).is_some_and(|rest| {
                let segs = &r.arn_segs[segs.0 as usize..segs.1 as usize];
                self.arn_tail(rest, *literal as usize, segs)
            }),
            ResourceTest::Stars(stars) => stars_match(stars, &self.residual.middles, text),
            ResourceTest::Plan(plan) => {
                let target = target.get_or_insert_with(|| hop_target(req, k));
                self.resource_plans[*plan as usize]
                    .matches(target, |m, t| self.matcher(m, t, req, sc))
            }
        });
        any != step.not_resource
    }

    /// Condition record `i`: its typed test, or the general condition code.
    #[inline]
    fn residual_condition<R: RequestView>(&self, i: u32, req: &R, sc: &mut Scratch) -> bool {
        match self.residual.conditions[i as usize] {
            ConditionStep::Single { key, test, absent } => match self.value(req, sc, key) {
                Value::Single(v) => self.value_tests.passes(test, v, &mut sc.memo),
                Value::Absent => absent,
                Value::Multi(_) => false,
            },
            ConditionStep::General => self.condition(i as usize, req, sc),
        }
    }
}

impl Evaluator<'_> {
    /// Whether the segments `literal..6` of an ARN, `rest` being the text after its first
    /// `literal` colons, pass `segs` (the tests of segments `literal..6`, R-RES-4): segments
    /// up to the fifth colon, the last one to the end; fewer colons than that is not an ARN
    /// (R-RES-2), and fails.
    #[inline]
    fn arn_tail(&self, mut rest: &str, literal: usize, segs: &[SegTest<'_>]) -> bool {
        let mut never = |_: u32, _: &str| false;
        for (i, seg) in (literal..6).zip(segs) {
            let part = if i < 5 {
                let Some(colon) = rest.bytes().position(|b| b == b':') else {
                    return false;
                };
                let part = &rest[..colon];
                rest = &rest[colon + 1..];
                part
            } else {
                rest
            };
            let pass = match seg {
                SegTest::Seg(seg) => seg.matches(part, &mut never),
                SegTest::Stars(stars) => stars_match(stars, &self.residual.middles, part),
            };
            if !pass {
                return false;
            }
        }
        true
    }
}

/// Whether `text` matches a glob of literals and stars (R-RES-5): it starts with the first
/// literal, ends with the last, and holds the middle ones (`middles` holds them) in order
/// between; the leftmost place of each middle literal is as good as any, a star taking the
/// rest.
#[inline]
pub(super) fn stars_match(stars: &Stars<'_>, middles: &[&str], text: &str) -> bool {
    let Some(rest) = text.strip_prefix(stars.first) else {
        return false;
    };
    let Some(mut rest) = rest.strip_suffix(stars.last) else {
        return false;
    };
    let (first, end) = stars.middles;
    for middle in &middles[first as usize..end as usize] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}
