//! The chain walk: credentials, then each hop in turn until one is not allowed (R-FAS-*,
//! R-STS-5), and within a hop the phases in order.
//!
//! A hop sets up its participation, reads its candidates (tabulated, when a compact request
//! names its action's entry) or collects them (`candidates`), runs its action's residual
//! program or examines each candidate once (`statement`), decides (`decide`), then lists its
//! missing keys from the program's mask or the bitmap the examinations filled. Candidates
//! are examined in statement id order, so the matched statements come out in R-SIM-3 order
//! with no sort. Hop 0's slots come from the request (`slots`); each later hop's are derived
//! from its parent's before it runs.
//!
//! The frame around the steps is kept out of the common path: for a one-hop chain of a
//! compact request, the chain costs a template copy and the given keys' writes (`slots`),
//! the hop a table read for its candidates and its program, and the decision one pass over
//! the applied statements; forwarded hops' work (`forward_slots`) is out of line, so its
//! loop-invariant loads are not hoisted into every chain (BENCHMARKS.md, "The chain frame").

use crate::decision::{Decision, Reason};
use crate::primitives;
use crate::request::{PrincipalKind as Who, RequestView};

use super::candidates::Candidates;
use super::outcome::{ChainOutcome, HopOutcome};
use super::residual::{ActionProgram, Own};
use super::resource_plan::Target;
use super::slots::{Slot, Value};
use super::statement::Participation;
use super::{dialect_index, Evaluator, Scratch};

impl<'p> Evaluator<'p> {
    /// The chain's outcome from the hop it stopped at. Always inlined: `evaluate_each`
    /// called it out of line, ≈ 20 instructions a chain (`profile_eval 1 2000
    /// compact-batch` 3,553,078 -> 3,498,743 under callgrind); `evaluate` inlined it already.
    #[inline(always)]
    pub(super) fn finish<'s>(
        &self,
        denied_at: Option<usize>,
        scratch: &'s mut Scratch,
    ) -> ChainOutcome<'s> {
        let decision = match denied_at {
            Some(i) => scratch
                .hops
                .get(i)
                .map_or(Decision::InvalidCredentials, |h| h.decision),
            None => Decision::Allow,
        };
        ChainOutcome {
            decision,
            denied_at,
            hops: &scratch.hops,
            matched: &scratch.matched,
            missing: &scratch.missing,
        }
    }

    pub(super) fn run<R: RequestView>(&self, req: &R, sc: &mut Scratch) -> Option<usize> {
        self.initial_slots(req, sc);
        if let Some(creds) = req.credentials() {
            // R-STS-5, as the reference: no parsable time means not valid.
            let key = self.special.time[dialect_index(req.dialect())];
            let now = key.and_then(|k| match self.value(req, sc, k) {
                Value::Single(t) => primitives::parse_date(t),
                _ => None,
            });
            if !now.is_some_and(|now| creds.valid_at(now)) {
                return Some(0);
            }
        }
        for k in 0..req.hop_count() {
            if k > 0 {
                self.forward_slots(req, sc, k);
            }
            let outcome = self.hop(req, sc, k);
            sc.hops.push(outcome);
            if outcome.decision != Decision::Allow {
                return Some(k);
            }
        }
        None
    }

    #[inline(never)]
    pub(super) fn hop<R: RequestView>(&self, req: &R, sc: &mut Scratch, k: usize) -> HopOutcome {
        let matched_start = sc.matched.len() as u32;
        let missing_start = sc.missing.len() as u32;
        let mut out = HopOutcome {
            decision: Decision::Allow,
            reason: Reason::NoPermissionRequired,
            matched: (matched_start, matched_start),
            missing: (missing_start, missing_start),
        };
        if req.requires_no_permission(k) {
            return out; // R-EVAL-7
        }
        let who = req.principal_kind();
        let part = Participation {
            scp: self.meta.scp_levels > 0
                && !matches!(who, Who::Service | Who::Anonymous)
                && !req.service_linked()
                && !req.management_account(),
            rcp: self.meta.rcp_levels > 0 && !req.service_linked(),
            vpce: k == 0 && self.meta.has_vpce != 0,
            resource: req
                .resource_policy(k)
                .filter(|r| *r < self.meta.resource_policies),
            identity: !matches!(who, Who::Service | Who::Anonymous),
            ceilings: !matches!(who, Who::Service | Who::Anonymous | Who::Root),
        };
        sc.applied.clear();
        // The hop's own resource policy, merged in statement order (the index leaves
        // resource policies out); its action clauses are checked on the folded action.
        let own = part
            .resource
            .and_then(|slot| self.resource_policy_statements.get(slot as usize))
            .copied()
            .unwrap_or((0, 0));
        let mut has_own = own.0 < own.1;
        // A compact request built against this evaluator names its action's entry: its
        // tabulated candidates and its program are read here directly (the common case);
        // any other hop lets `collect_candidates` find them.
        let resolved = req.resolved_action(k, self.token);
        let (tabulated, folded) = match resolved
            .filter(|e| *e != crate::request::compact::NO_ID)
            .and_then(|e| Some((e, self.tabulated_range(e)?)))
        {
            Some(t) => (Some(t), false),
            None => self.look_up_candidates(req, sc, k, resolved),
        };
        let program = tabulated.and_then(|(e, range)| Some((e, range, self.residual.program(e)?)));
        let residual_missing = match program {
            // The action's residual program (the keys read as a mask of its key numbering).
            Some((entry, (first, end), p)) => {
                // A service class's open action clauses (an action the index does not name
                // exactly) and a resource policy's statements are checked on the folded
                // action, which the walk folds when the first of them needs it.
                sc.action_folded = folded;
                let mut walk = (p, &self.exact_candidates[first as usize..end as usize], own);
                if has_own {
                    // The action's candidates merged with the statements of its own
                    // resource policy that can apply, when the evaluator was built.
                    walk = self.with_own(walk, part.resource, entry);
                    has_own = walk.2 .0 < walk.2 .1;
                    // The residual walk records its own resource policy's missing keys in
                    // `missing_bits`, as `examine` does.
                    if has_own {
                        sc.missing_bits.iter_mut().for_each(|w| *w = 0);
                    }
                }
                let (p, candidates, own) = walk;
                let read = self.run_residual((entry, p), candidates, own, req, sc, k, &part);
                Some((p, read))
            }
            None => {
                self.examine_candidates(req, sc, k, &part, tabulated, folded, own);
                None
            }
        };
        let (decision, reason) = self.decide(req, sc, k, &part);
        out.decision = decision;
        out.reason = reason;
        // Candidates are examined in statement id order, so `applied`, and the matched
        // statements the decision takes from it in its order, are in R-SIM-3 order.
        debug_assert!(sc.matched[matched_start as usize..].is_sorted());
        out.matched.1 = sc.matched.len() as u32;
        match residual_missing {
            // Only the program's keys can be missing: R-SIM-4's name order is key-id order,
            // which the program's numbering keeps. The keys read are tested for absence
            // here, each pushed as found.
            Some((p, mut read)) if !has_own => {
                while read != 0 {
                    let key = self.residual.key(p, read.trailing_zeros());
                    read &= read - 1;
                    if sc.slots[key as usize] == Slot::Absent {
                        sc.missing.push(key);
                    }
                }
            }
            residual_missing => {
                // The program's missing keys join those `examine` recorded.
                if let Some((p, mut read)) = residual_missing {
                    while read != 0 {
                        let key = self.residual.key(p, read.trailing_zeros()) as usize;
                        read &= read - 1;
                        if sc.slots[key] == Slot::Absent {
                            sc.missing_bits[key / 64] |= 1 << (key % 64);
                        }
                    }
                }
                for (w, word) in sc.missing_bits.iter().enumerate() {
                    let mut bits = *word;
                    while bits != 0 {
                        let b = bits.trailing_zeros();
                        sc.missing.push((w * 64) as u32 + b);
                        bits &= bits - 1;
                    }
                }
            }
        }
        out.missing.1 = sc.missing.len() as u32;
        out
    }

    /// The walk of a hop of `entry` carrying resource policy `slot` (its program, its
    /// candidates and the policy's statements to merge, `walk`): the merged program built
    /// for the pair, or the action's alone when none of the policy's statements can apply
    /// (no statement left to merge either way), else `walk` as it is.
    #[inline(never)]
    fn with_own<'s>(
        &'s self,
        walk: (ActionProgram, &'s [u32], (u32, u32)),
        slot: Option<u32>,
        entry: u32,
    ) -> (ActionProgram, &'s [u32], (u32, u32)) {
        match slot.map(|slot| self.residual.own(slot, entry)) {
            Some(Own::Merged(candidates, p)) => (p, candidates, (0, 0)),
            Some(Own::Skip) => (walk.0, walk.1, (0, 0)),
            Some(Own::Walk) | None => walk,
        }
    }

    /// The candidates of a hop whose request did not name a tabulated entry: a tabulated
    /// entry found by `collect_candidates` (its entry and range), or `None` with the list
    /// built into `sc.candidates`; and whether `sc.action` now holds the folded action.
    #[inline(always)]
    fn look_up_candidates<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        k: usize,
        resolved: Option<u32>,
    ) -> (Option<Tabulated>, bool) {
        let mut built = std::mem::take(&mut sc.candidates);
        let found = self.collect_candidates(req.action(k), resolved, sc, &mut built);
        sc.candidates = built;
        match found {
            // A class's entry is found from the folded action.
            Candidates::Tabulated(first, end, entry) => {
                (Some((entry, (first, end))), self.is_class_entry(entry))
            }
            Candidates::Built => (None, true),
        }
    }

    /// The general examination of a hop's candidates — the tabulated ones of an entry
    /// without a residual program, or the list built into `sc.candidates` — merged with its
    /// own resource policy's statements (`own`) in statement order; missing keys go to
    /// `missing_bits`. `folded`: `sc.action` already holds the folded action. Inlined: out
    /// of line it cost the general evaluator 2.5% more instructions.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn examine_candidates<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        k: usize,
        part: &Participation,
        tabulated: Option<Tabulated>,
        folded: bool,
        own: (u32, u32),
    ) {
        let (mut own, own_end) = own;
        // A class's open action clauses and the own resource policy's are checked on the
        // folded action.
        let class = tabulated.is_some_and(|(e, _)| self.is_class_entry(e));
        if !folded && (own < own_end || class) {
            sc.action.clear();
            primitives::fold_into(req.action(k), &mut sc.action);
        }
        sc.missing_bits.iter_mut().for_each(|w| *w = 0);
        let built = std::mem::take(&mut sc.candidates);
        let candidates = match tabulated {
            Some((_, (first, end))) => &self.exact_candidates[first as usize..end as usize],
            None => &built[..],
        };
        let target = hop_target(req, k);
        let mut i = 0;
        while i < candidates.len() || own < own_end {
            if own < own_end && candidates.get(i).is_none_or(|c| c >> 1 > own) {
                self.examine(req, sc, &target, own, false, part);
                own += 1;
                continue;
            }
            // Each statement is a candidate once (`tabulate::dedup_candidates`).
            let code = candidates[i];
            i += 1;
            self.examine(req, sc, &target, code >> 1, code & 1 == 1, part);
        }
        sc.candidates = built;
    }
}

/// A tabulated entry (of `index_exact`, or a class) and its range of `exact_candidates`.
type Tabulated = (u32, (u32, u32));

/// Hop `k`'s resource cut at its colons: where a compact request built against this
/// evaluator found them, or found here.
pub(super) fn hop_target<R: RequestView>(req: &R, k: usize) -> Target<'_> {
    match req.resource_colons(k) {
        Some((at, found)) => {
            Target::with_colons(req.resource(k), at.map(|c| c as usize), found as usize)
        }
        None => Target::new(req.resource(k)),
    }
}
