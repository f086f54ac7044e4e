//! Programs of an action merged with a resource policy's statements, laid out when the
//! evaluator is built.
//!
//! A hop that carries its own resource policy used to walk its action's program and, merged
//! in statement order, each of the policy's statements through a step of its own (its
//! action clause read from [`own_actions`](super::own_actions), its missing keys recorded in
//! a bitmap): an out-of-line walk, a call a statement and a bitmap pass after the walk, on
//! every such hop. Which of a resource policy's statements can apply to an action the
//! index names exactly does not depend on the request: a statement whose clause is decided
//! *no* for the action's service is left out, one decided *yes* joins verified, one that
//! depends on the action's name joins unverified (the walk checks its clause, as a class's
//! open clause). This table holds, per (resource-policy slot, exact entry), that merged
//! candidate list (still in statement-id order: R-SIM-3) and its program, whose key
//! numbering covers the policy's statements too, so the hop walks it as any other program:
//! inline, with its missing keys as one mask (R-SIM-4).
//!
//! ```text
//! kms:Decrypt: candidates [12, 13, 17]; key policy (slot 0): statement 20, Allow kms:*
//!   slot 0, kms:Decrypt  →  merged [12, 13, 17, 20 (verified)], its own program
//!   slot 0, s3:GetObject →  skip: no statement of the key policy can apply
//! ```
//!
//! A class entry (an action the index does not name exactly), an entry without a program,
//! a merged list reading more than 64 keys, and every cell past [`MAX_CELLS`] or
//! [`MAX_CANDIDATES`] keep the general merge ([`Own::Walk`]).

use super::super::Evaluator;
use super::build::{program, ProgramScratch, StatementKeys};
use super::{ActionProgram, Residual};

/// Past this many (slot, entry) cells (four bytes each) the table is not built.
const MAX_CELLS: usize = 1 << 18;
/// Past this many merged candidates in all (four bytes each, plus their key masks), the
/// remaining cells merge at run time: at most about 1 MB more tables.
const MAX_CANDIDATES: usize = 1 << 18;

/// A cell: merged at run time, as without the table.
const WALK: u32 = u32::MAX;
/// A cell: none of the slot's statements can apply to the entry's action.
const SKIP: u32 = u32::MAX - 1;

/// Per (resource-policy slot, exact entry): [`WALK`], [`SKIP`], or the index of its merged
/// list in `merged` (see the module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct OwnPrograms {
    /// How many entries a slot's row has (`index_exact`'s).
    width: usize,
    cells: Vec<u32>,
    /// Each merged list's range of `candidates` and its program.
    merged: Vec<(u32, u32, ActionProgram)>,
    /// The merged lists (`id << 1 | verified`, in statement order).
    candidates: Vec<u32>,
}

/// What a hop of an exact entry does with its own resource policy.
pub(in crate::eval) enum Own<'r> {
    /// Walk these candidates with this program: no statement left to merge.
    Merged(&'r [u32], ActionProgram),
    /// Walk the action's program alone: no statement of the policy can apply.
    Skip,
    /// Merge the policy's statements while walking, as without the table.
    Walk,
}

impl OwnPrograms {
    /// The merged programs of `e`'s resource policies with every exact entry's program
    /// (`r`'s, whose `entry_services` and `own_actions` are built); their keys and masks
    /// join `r`'s.
    pub(super) fn build(
        e: &Evaluator<'_>,
        statements: &StatementKeys,
        scratch: &mut ProgramScratch,
        r: &mut Residual<'_>,
    ) -> OwnPrograms {
        let width = r.entry_services.len();
        let slots = e.resource_policy_statements.len();
        if width == 0 || slots == 0 || slots.saturating_mul(width) > MAX_CELLS {
            return OwnPrograms::default();
        }
        let mut table = OwnPrograms {
            width,
            cells: Vec::with_capacity(slots * width),
            ..OwnPrograms::default()
        };
        let mut own = Vec::new();
        let mut merged = Vec::new();
        for (slot, &(first, end)) in e.resource_policy_statements.iter().enumerate() {
            // A range past the statements (which `verify` rejects) merges nothing here.
            if first > end || end as usize > e.v.statements.len() {
                table.cells.extend(std::iter::repeat_n(WALK, width));
                continue;
            }
            for entry in 0..width {
                let service = r.entry_services[entry];
                let range = e.exact_candidate_ranges.get(entry).copied();
                let cell = match (service, range, r.programs.get(entry).copied().flatten()) {
                    (WALK, ..) | (_, None, _) | (_, _, None) => WALK,
                    _ if table.candidates.len() > MAX_CANDIDATES => WALK,
                    (_, Some((from, to)), Some(_)) => {
                        own.clear();
                        for id in first..end {
                            match r.own_actions.answer(slot as u32, first, id, service) {
                                Some(false) => {}
                                Some(true) => own.push(id << 1 | 1),
                                None => own.push(id << 1),
                            }
                        }
                        if own.is_empty() {
                            SKIP
                        } else {
                            let action = &e.exact_candidates[from as usize..to as usize];
                            merge(action, &own, &mut merged);
                            match program(e, statements, &merged, scratch, r) {
                                Some(p) => {
                                    let at = table.candidates.len() as u32;
                                    table.candidates.extend_from_slice(&merged);
                                    let end = table.candidates.len() as u32;
                                    table.merged.push((at, end, p));
                                    (table.merged.len() - 1) as u32
                                }
                                None => WALK,
                            }
                        }
                    }
                };
                table.cells.push(cell);
            }
        }
        table.candidates.shrink_to_fit();
        table.merged.shrink_to_fit();
        table
    }

    /// What a hop of exact entry `entry` whose own resource policy is slot `slot` does
    /// with it.
    #[inline]
    pub(super) fn own(&self, slot: u32, entry: u32) -> Own<'_> {
        let (slot, entry) = (slot as usize, entry as usize);
        if entry >= self.width {
            return Own::Walk;
        }
        match self.cells.get(slot * self.width + entry) {
            None | Some(&WALK) => Own::Walk,
            Some(&SKIP) => Own::Skip,
            Some(&i) => match self.merged.get(i as usize) {
                Some(&(first, end, p)) => self
                    .candidates
                    .get(first as usize..end as usize)
                    .map_or(Own::Walk, |c| Own::Merged(c, p)),
                None => Own::Walk,
            },
        }
    }

    /// Whether every merged candidate names one of `statements` statements (the walk reads
    /// their heads unchecked) and every merged range lies in `candidates`; the programs are
    /// checked with `Residual::verify`'s.
    pub(super) fn check(&self, statements: usize) -> bool {
        self.candidates
            .iter()
            .all(|c| ((c >> 1) as usize) < statements)
            && self
                .merged
                .iter()
                .all(|&(first, end, _)| first <= end && end as usize <= self.candidates.len())
    }

    /// The merged programs, for `Residual::verify`'s program check.
    pub(super) fn programs(&self) -> impl Iterator<Item = ActionProgram> + '_ {
        self.merged.iter().map(|m| m.2)
    }

    /// The bytes its tables hold on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        use super::super::build::heap_bytes;
        heap_bytes(&self.cells) + heap_bytes(&self.merged) + heap_bytes(&self.candidates)
    }
}

/// `action` and `own` (each sorted by statement id, none in both: the index leaves
/// resource policies out) merged into `out` in statement-id order.
fn merge(action: &[u32], own: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < action.len() || j < own.len() {
        let take_own = match (action.get(i), own.get(j)) {
            (Some(a), Some(o)) => o >> 1 < a >> 1,
            (None, _) => true,
            (_, None) => false,
        };
        if take_own {
            out.push(own[j]);
            j += 1;
        } else {
            out.push(action[i]);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge;

    /// Merged lists are in statement-id order, each code kept with its verified bit.
    #[test]
    fn merge_keeps_statement_order() {
        let cases: [(&[u32], &[u32], &[u32]); 5] = [
            (&[], &[], &[]),
            (&[2 << 1 | 1], &[], &[2 << 1 | 1]),
            (&[], &[5 << 1], &[5 << 1]),
            (
                &[1 << 1 | 1, 4 << 1 | 1, 9 << 1],
                &[3 << 1, 5 << 1 | 1, 12 << 1],
                &[1 << 1 | 1, 3 << 1, 4 << 1 | 1, 5 << 1 | 1, 9 << 1, 12 << 1],
            ),
            (
                &[7 << 1 | 1, 8 << 1 | 1],
                &[0, 1 << 1 | 1],
                &[0, 1 << 1 | 1, 7 << 1 | 1, 8 << 1 | 1],
            ),
        ];
        for (action, own, expected) in cases {
            let mut out = vec![99];
            merge(action, own, &mut out);
            assert_eq!(out, expected, "{action:?} {own:?}");
        }
    }
}
