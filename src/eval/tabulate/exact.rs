//! The exact actions' lists and the service classes, tabulated in runs of services that
//! can be built on several threads and assembled in a fixed order.
//!
//! Why: on the 1,645 AWS managed policies the tabulation is about half of an evaluator
//! build, and every service's lists depend only on the program, not on another service's
//! (the buffers reused from action to action are reset at each service). So the services
//! are cut into runs of about equal work, each run builds its own table with offsets of its
//! own, and the runs are joined in service order with their offsets moved: the result is
//! the same table, entry for entry, whatever the number of runs — one run (a small program,
//! or a 1-thread pool) is the sequential build itself. The service classes are built beside
//! the exact lists (they read none of them) and appended after them.
//!
//! For example, with services `ec2` (600 actions) and `s3` (150) cut into two runs on two
//! threads, `ec2`'s lists are the first run's table and `s3`'s the second's; `s3:getobject`'s
//! range `(10, 14)` in the second run becomes `(10 + len₁, 14 + len₁)` in the joined table.
//!
//! The cut-off [`MAX_TABULATED_CANDIDATES`] is decided as the sequential build decides it:
//! each run keeps the largest `table.len() + list size` it tested (its `peak`, in its own
//! offsets); with the runs before it, the joined build would have tested `offset + peak`.

use std::ops::Range;

use crate::bytecode::*;

use super::super::candidates::{in_resource_policy, MAX_TABULATED_CANDIDATES};
use super::super::class_clauses::ClassClauses;
use super::super::Evaluator;
use super::{union, Hit, Is, Keep, Lists, NameGlob};

/// Runs of services per thread when the build is parallel: more runs than threads, so that
/// one slow run (a large service's) does not leave the other threads idle.
const RUNS_PER_THREAD: usize = 4;

/// What [`Evaluator::tabulate`] builds: the evaluator's `exact_candidates`,
/// `exact_candidate_ranges` and `class_clauses`.
pub(in crate::eval) struct Tabulated {
    pub(in crate::eval) table: Vec<u32>,
    pub(in crate::eval) ranges: Vec<(u32, u32)>,
    pub(in crate::eval) class_clauses: ClassClauses,
}

/// A run of services' exact lists, in offsets of its own table.
#[derive(Default)]
struct Run {
    table: Vec<u32>,
    /// Per exact entry of the run's services: the entry, and its list's range in `table`.
    ranges: Vec<(u32, u32, u32)>,
    /// The largest `table.len() + list size` tested against [`MAX_TABULATED_CANDIDATES`].
    peak: usize,
}

/// The service classes' lists, in offsets of their own table (see [`Run`]).
pub(super) struct Classes {
    pub(super) table: Vec<u32>,
    pub(super) ranges: Vec<(u32, u32)>,
    pub(super) peak: usize,
}

/// `a` and `b`, on two threads when `parallel` (in the current rayon pool).
pub(in crate::eval) fn join_if<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// The services cut into `count` consecutive runs of about equal `weight` (at least one
/// run; each run holds at least one service when there are any).
fn cut(weights: &[usize], count: usize) -> Vec<Range<usize>> {
    let total: usize = weights.iter().sum();
    let mut runs = Vec::with_capacity(count);
    let (mut start, mut sum) = (0, 0);
    for (i, w) in weights.iter().enumerate() {
        sum += w;
        let goal = total / count * (runs.len() + 1);
        if sum >= goal && runs.len() + 1 < count {
            runs.push(start..i + 1);
            start = i + 1;
        }
    }
    runs.push(start..weights.len());
    runs
}

impl<'p> Evaluator<'p> {
    /// Tabulates the candidates of every action the index names exactly (see
    /// `exact_candidates`), then the service classes ([`Evaluator::tabulate_classes`]),
    /// unless the table would exceed [`MAX_TABULATED_CANDIDATES`] (`None`: no action is
    /// tabulated). Each list is what `collect_dynamic(…, check_always = true)` builds for
    /// the action's folded `service:name`, built service by service (see the module docs);
    /// on the threads of the current rayon pool when `parallel`, with the same result.
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
        let exact_runs = || {
            let one = 0..v.services.len();
            if !parallel {
                // Sized for the index's hits and the lists every action repeats.
                let room = v.index_statements.len() + v.index_exact.len() * shared.len();
                return vec![self.tabulate_run(one, &kinds, &shared, room)];
            }
            use rayon::prelude::*;
            let (weights, rooms): (Vec<usize>, Vec<usize>) = v
                .services
                .iter()
                .map(|svc| {
                    let entries =
                        svc.exact_first as usize..(svc.exact_first + svc.exact_len) as usize;
                    let hits = (v.index_exact.get(entries).unwrap_or_default().iter())
                        .map(|e| e.statements_len as usize)
                        .sum::<usize>();
                    let room = hits + svc.exact_len as usize * shared.len();
                    (room + svc.exact_len as usize, room)
                })
                .unzip();
            let runs = cut(&weights, rayon::current_num_threads() * RUNS_PER_THREAD);
            runs.into_par_iter()
                .map(|run| {
                    let room = rooms[run.clone()].iter().sum();
                    self.tabulate_run(run, &kinds, &shared, room)
                })
                .collect::<Vec<Run>>()
        };
        let classes = || {
            let classes = self.tabulate_classes();
            let clauses = self.build_class_clauses(&classes.ranges, &classes.table);
            (classes, clauses)
        };
        let (runs, (classes, class_clauses)) = join_if(parallel, exact_runs, classes);
        // Where each run starts in the joined table, and whether a list would have
        // crossed the cut-off there.
        let mut offset = 0usize;
        for run in &runs {
            if offset + run.peak > MAX_TABULATED_CANDIDATES {
                return None;
            }
            offset += run.table.len();
        }
        let exact_len = offset;
        let mut ranges = vec![(0, 0); v.index_exact.len()];
        let mut table = Vec::new();
        let mut offset = 0u32;
        for run in runs {
            for &(entry, first, end) in &run.ranges {
                ranges[entry as usize] = (first + offset, end + offset);
            }
            offset += run.table.len() as u32;
            if table.is_empty() {
                table = run.table;
            } else {
                table.extend_from_slice(&run.table);
            }
        }
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

    /// The exact lists of the actions of `services`, in a table of their own sized
    /// `room` (see [`Run`]); stopped at the first list that would cross
    /// [`MAX_TABULATED_CANDIDATES`] (the whole tabulation is then dropped).
    fn tabulate_run(
        &self,
        services: Range<usize>,
        kinds: &[Hit],
        shared: &[(StatementId, bool)],
        room: usize,
    ) -> Run {
        let v = self.v;
        let mut lists = Lists::default();
        let mut run = Run {
            table: Vec::with_capacity(room),
            ..Run::default()
        };
        let mut globs: Vec<NameGlob<'p>> = Vec::new();
        let mut keeps: Vec<Keep> = Vec::new();
        let mut service_shared: Vec<u32> = Vec::new();
        for service_index in services {
            let svc = &v.services[service_index];
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
                    run.peak = run.peak.max(run.table.len() + list.len());
                    if run.peak > MAX_TABULATED_CANDIDATES {
                        return run;
                    }
                    let first = run.table.len() as u32;
                    run.table.extend_from_slice(&list);
                    run.ranges.push((i, first, run.table.len() as u32));
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
                let size = runs.iter().map(|r| r.len()).sum::<usize>();
                run.peak = run.peak.max(run.table.len() + size);
                if run.peak > MAX_TABULATED_CANDIDATES {
                    return run;
                }
                let first = run.table.len() as u32;
                union::union3_into(&mut run.table, runs, &mut lists.found);
                run.ranges.push((i, first, run.table.len() as u32));
            }
        }
        run
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    /// The runs cover every service once, in order, at most `count` of them.
    #[test]
    fn runs_cover_the_services_in_order() {
        for weights in [
            vec![],
            vec![5],
            vec![1; 10],
            vec![100, 1, 1, 1, 1, 50, 2, 2],
        ] {
            for count in 1..6 {
                let runs = cut(&weights, count);
                assert!(
                    !runs.is_empty() && runs.len() <= count.max(1),
                    "{weights:?} {count}"
                );
                let mut next = 0;
                for r in &runs {
                    assert_eq!(r.start, next, "{weights:?} {count} {runs:?}");
                    next = r.end;
                }
                assert_eq!(next, weights.len());
            }
        }
        assert_eq!(cut(&[1; 8], 4), vec![0..2, 2..4, 4..6, 6..8]);
    }
}
