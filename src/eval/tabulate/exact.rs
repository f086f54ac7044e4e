//! The exact actions' lists and the service classes, tabulated side by side.
//!
//! Why: on the 1,645 AWS managed policies the tabulation is about half of an evaluator
//! build, and the service classes' lists (with their class clauses, a third of it) read
//! none of the exact lists. So when the build is parallel the classes are built on the
//! rayon pool's thread while this thread builds the exact lists, each in a table of its
//! own, and the classes' table is appended after the exact one with its offsets moved: the
//! same table, entry for entry, as one after the other.
//!
//! For example, with 300,000 exact entries and the `s3` class's list at `(10, 14)` in the
//! classes' table, the joined table has it at `(300,010, 300,014)`.
//!
//! The cut-off [`MAX_TABULATED_CANDIDATES`] is decided as the sequential build decides it:
//! the classes keep the largest `table.len() + list size` they tested (`peak`, in their
//! own offsets); after the exact lists, the sequential build would have tested
//! `exact length + peak`.

use crate::bytecode::*;

use super::super::build::join_if;
use super::super::candidates::{in_resource_policy, MAX_TABULATED_CANDIDATES};
use super::super::class_clauses::ClassClauses;
use super::super::Evaluator;
use super::{union, Hit, Is, Keep, Lists, NameGlob};

/// What [`Evaluator::tabulate`] builds: the evaluator's `exact_candidates`,
/// `exact_candidate_ranges` and `class_clauses`.
pub(in crate::eval) struct Tabulated {
    pub(in crate::eval) table: Vec<u32>,
    pub(in crate::eval) ranges: Vec<(u32, u32)>,
    pub(in crate::eval) class_clauses: ClassClauses,
}

/// The exact actions' lists: the table, and per exact entry its range in it.
type ExactLists = (Vec<u32>, Vec<(u32, u32)>);

/// The service classes' lists, in offsets of their own table (see the module docs).
pub(super) struct Classes {
    pub(super) table: Vec<u32>,
    pub(super) ranges: Vec<(u32, u32)>,
    pub(super) peak: usize,
}

impl<'p> Evaluator<'p> {
    /// Tabulates the candidates of every action the index names exactly (see
    /// `exact_candidates`), then the service classes ([`Evaluator::tabulate_classes`]),
    /// unless the table would exceed [`MAX_TABULATED_CANDIDATES`] (`None`: no action is
    /// tabulated). Each list is what `collect_dynamic(…, check_always = true)` builds for
    /// the action's folded `service:name`, built service by service (see the module docs);
    /// the classes on the rayon pool's thread when `parallel`, with the same result.
    pub(in crate::eval) fn tabulate(&self, parallel: bool) -> Option<Tabulated> {
        let v = self.v;
        let kinds: Vec<Hit> = (0..v.statements.len() as StatementId)
            .map(|id| {
                if in_resource_policy(&v, id) {
                    Hit::Ignored
                } else if v.statements[id as usize].flags & STMT_NOT_ACTION != 0 {
                    Hit::Excludes
                } else {
                    Hit::Candidate
                }
            })
            .collect();
        // The `NotAction` and always-check statements, sorted: every action's list has
        // those its hits do not exclude and whose clause passes.
        let mut shared: Vec<(StatementId, bool)> = (self.not_action.iter().map(|id| (*id, true)))
            .chain(self.always.iter().map(|id| (*id, false)))
            .collect();
        shared.sort_unstable();
        let exact = || self.tabulate_exact(&kinds, &shared);
        let classes = || {
            let classes = self.tabulate_classes();
            let clauses = self.build_class_clauses(&classes.ranges, &classes.table);
            (classes, clauses)
        };
        let (exact, (classes, class_clauses)) = join_if(parallel, exact, classes);
        let (mut table, mut ranges) = exact?;
        let (exact_len, offset) = (table.len(), table.len() as u32);
        let keep_classes = exact_len + classes.peak <= MAX_TABULATED_CANDIDATES;
        if keep_classes {
            table.extend_from_slice(&classes.table);
            for &(first, end) in &classes.ranges {
                ranges.push((first + offset, end + offset));
            }
        }
        // Sized for the index's hits and the lists every action repeats; the globs' hits
        // grew it: give back what is left.
        table.shrink_to_fit();
        Some(Tabulated {
            table,
            ranges,
            class_clauses: if keep_classes {
                class_clauses
            } else {
                ClassClauses::default()
            },
        })
    }

    /// The exact lists of the actions the index names (the table and, per entry, its
    /// range), or `None` when a list would cross [`MAX_TABULATED_CANDIDATES`] (the whole
    /// tabulation is then dropped).
    fn tabulate_exact(&self, kinds: &[Hit], shared: &[(StatementId, bool)]) -> Option<ExactLists> {
        let v = self.v;
        let mut lists = Lists::default();
        // Sized for the index's hits and the lists every action repeats.
        let mut table: Vec<u32> =
            Vec::with_capacity(v.index_statements.len() + v.index_exact.len() * shared.len());
        let mut ranges = vec![(0, 0); v.index_exact.len()];
        let mut globs: Vec<NameGlob<'p>> = Vec::new();
        let mut keeps: Vec<Keep> = Vec::new();
        let mut service_shared: Vec<u32> = Vec::new();
        for (service_index, svc) in v.services.iter().enumerate() {
            let service = self.s(svc.name);
            let entries = svc.exact_first..svc.exact_first + svc.exact_len;
            if service.contains(':') {
                // A joined name would split elsewhere than at the service: build such a
                // list as a hop would (no verified program has one).
                for i in entries {
                    lists.joined.clear();
                    lists.joined.push_str(service);
                    lists.joined.push(':');
                    lists
                        .joined
                        .push_str(self.s(v.index_exact[i as usize].name));
                    let (mut list, mut excluded) = (Vec::new(), Vec::new());
                    self.collect_dynamic(&mut list, &mut excluded, &lists.joined, true);
                    if table.len() + list.len() > MAX_TABULATED_CANDIDATES {
                        return None;
                    }
                    let first = table.len() as u32;
                    table.extend_from_slice(&list);
                    ranges[i as usize] = (first, table.len() as u32);
                }
                continue;
            }
            self.service_name_globs(service_index, &mut globs);
            keeps.clear();
            keeps.extend(shared.iter().map(|&(id, not_action)| {
                if not_action {
                    Keep::UnlessExcluded
                } else {
                    match self.exact_verdict(&v.statements[id as usize], service) {
                        Is::Yes => Keep::Yes,
                        Is::No => Keep::No,
                        Is::Maybe => Keep::Check,
                    }
                }
            }));
            // What every action of the service without exclusions keeps, when no clause is
            // left to check.
            let uniform = !keeps.contains(&Keep::Check);
            service_shared.clear();
            service_shared.extend(
                shared
                    .iter()
                    .zip(&keeps)
                    .filter(|(_, keep)| **keep != Keep::No)
                    .map(|((id, _), _)| id << 1 | 1),
            );
            // A statement both `NotAction` and always-check would be there twice.
            service_shared.dedup();
            lists.globs.reset();
            for i in entries {
                let entry = v.index_exact[i as usize];
                let name = self.s(entry.name);
                lists.hits.clear();
                lists.excluded.clear();
                let first = entry.statements_first as usize;
                for id in &v.index_statements[first..first + entry.statements_len as usize] {
                    lists.hit(kinds, *id);
                }
                if !union::strictly_sorted(&lists.hits) {
                    lists.hits.sort_unstable();
                    lists.hits.dedup();
                }
                (lists.globs).of(&globs, name, &self.globs_by_pattern, kinds);
                lists.excluded.extend_from_slice(&lists.globs.excluded);
                let kept = if uniform && lists.excluded.is_empty() {
                    &service_shared
                } else {
                    self.shared_entries(&mut lists, shared, &keeps, service, name);
                    &lists.shared
                };
                let runs = [lists.hits.as_slice(), &lists.globs.hits, kept];
                if table.len() + runs.iter().map(|r| r.len()).sum::<usize>()
                    > MAX_TABULATED_CANDIDATES
                {
                    return None;
                }
                let first = table.len() as u32;
                union::union3_into(&mut table, runs, &mut lists.found);
                ranges[i as usize] = (first, table.len() as u32);
            }
        }
        Some((table, ranges))
    }
}
