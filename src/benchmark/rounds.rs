//! Timing workloads in rotating rounds: the one measurement behind the scaling curves, for
//! every form in which a caller can hand requests to the engines.
//!
//! A figure is worth something only if the answers it times are right and the load other
//! processes put on the machine falls on every figure alike. So [`measure`] first compiles
//! every workload, builds its evaluator and checks it ([`super::check`]: compiled =
//! reference on every chain, and the packed and compact forms = compiled), then times each
//! (workload, [`Path`]) cell once a round, visiting the cells in an order that rotates from
//! round to round, and reports the median over the rounds. A path is how the requests reach
//! an engine: the compiled engine on parsed `Request`s, on `PackedRequest`s or on
//! `CompactRequest`s built against its evaluator before timing (any [`RequestView`]:
//! [`time_views`]), building each `CompactRequest` inside the timing and evaluating it, or the
//! reference evaluator. [`ns_per_hop`] is the timer under all of them, public so that a
//! caller timing something else (a replay, a build) counts the same way.
//!
//! ```
//! use std::time::Duration;
//! use fastiam::benchmark::{rounds::{self, Path}, scaling};
//!
//! let workloads = vec![
//!     (1, scaling::chains(1, 20, 7).unwrap()),
//!     (2, scaling::chains(2, 20, 7).unwrap()),
//! ];
//! // Zero minimum time: one pass a cell, enough for an example.
//! let points =
//!     rounds::measure(&workloads, &[Path::Compiled, Path::Compact], 3, Duration::ZERO).unwrap();
//! assert_eq!(points[1].hops_evaluated, 40);
//! assert_eq!(points[1].rounds(Path::Compact).len(), 3);
//! assert!(points[1].ns_per_hop(Path::Compiled).is_some());
//! assert_eq!(points[1].ns_per_hop(Path::Reference), None, "not timed");
//! ```

use std::time::{Duration, Instant};

use super::Prepared;
use crate::eval::Evaluator;
use crate::request::{CompactRequest, PackedRequest, RequestBuilder, RequestView};

/// How a workload's requests reach an engine: one row of a measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// The compiled engine on the parsed `Request`s.
    Compiled,
    /// The compiled engine on `PackedRequest`s packed before timing.
    Packed,
    /// The compiled engine on `CompactRequest`s built against its evaluator before timing.
    Compact,
    /// The same `CompactRequest`s through [`Evaluator::evaluate_each`], which asks for the
    /// next request's cache lines while it evaluates one.
    CompactBatch,
    /// Building each request's `CompactRequest` (one reused `RequestBuilder`: `fill_from`,
    /// `finish_for`) and evaluating it, both timed.
    CompactBuildEval,
    /// The reference evaluator on the parsed `Request`s.
    Reference,
}

impl Path {
    /// Every path, in the order of the variants.
    pub const ALL: [Path; 6] = [
        Path::Compiled,
        Path::Packed,
        Path::Compact,
        Path::CompactBatch,
        Path::CompactBuildEval,
        Path::Reference,
    ];

    /// The path's name in CSV columns and command lines.
    pub fn name(self) -> &'static str {
        match self {
            Path::Compiled => "compiled",
            Path::Packed => "packed",
            Path::Compact => "compact",
            Path::CompactBatch => "compact_batch",
            Path::CompactBuildEval => "compact_build_eval",
            Path::Reference => "reference",
        }
    }

    /// The path of a [`Path::name`].
    pub fn from_name(name: &str) -> Option<Path> {
        Path::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// One workload's figures: what the check counted, and each timed path's rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// What varies from workload to workload (statements in the set, hops per chain).
    pub x: usize,
    pub requests: usize,
    pub hops_evaluated: usize,
    /// Chain decisions: Allow, ExplicitDeny, ImplicitDeny (equal on every engine and form).
    pub decisions: [usize; 3],
    /// Each timed path with its ns per hop of every round, in round order; the paths in
    /// the order [`measure`] was given them.
    pub timings: Vec<(Path, Vec<f64>)>,
}

impl Point {
    /// A path's ns per hop of every round (none when it was not timed).
    pub fn rounds(&self, path: Path) -> &[f64] {
        self.timings
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(&[], |(_, r)| r)
    }

    /// A path's median ns per hop over the rounds; `None` when it was not timed.
    pub fn ns_per_hop(&self, path: Path) -> Option<f64> {
        let rounds = self.rounds(path);
        (!rounds.is_empty()).then(|| median(rounds))
    }
}

/// Checks every workload, then times each of `paths` (a path named twice is timed once) on
/// every workload, one thread: each round visits every (workload, path) cell once, in an
/// order that rotates from round to round, running whole passes for at least `min_time`
/// per cell. The first difference between engines or request forms is an error naming
/// the workload and the chain.
pub fn measure(
    workloads: &[(usize, Prepared)],
    paths: &[Path],
    rounds: usize,
    min_time: Duration,
) -> Result<Vec<Point>, String> {
    let mut unique: Vec<Path> = Vec::with_capacity(paths.len());
    for &path in paths {
        if !unique.contains(&path) {
            unique.push(path);
        }
    }
    let programs = workloads
        .iter()
        .map(|(x, w)| {
            crate::compile::compile(&w.policies).map_err(|e| format!("workload {x}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let evaluators: Vec<Evaluator> = programs.iter().map(Evaluator::new).collect();
    let mut points = Vec::with_capacity(workloads.len());
    let mut forms = Vec::with_capacity(workloads.len());
    let mut builder = RequestBuilder::new();
    for ((x, w), evaluator) in workloads.iter().zip(&evaluators) {
        let checked = super::check(w, evaluator).map_err(|e| format!("workload {x}: {e}"))?;
        points.push(Point {
            x: *x,
            requests: w.requests.len(),
            hops_evaluated: checked.hops_evaluated,
            decisions: checked.decisions,
            timings: unique.iter().map(|&p| (p, Vec::new())).collect(),
        });
        forms.push(
            Forms::prepare(w, evaluator, &unique, &mut builder)
                .map_err(|e| format!("workload {x}: {e}"))?,
        );
    }
    let cells: Vec<(usize, usize)> = (0..workloads.len())
        .flat_map(|w| (0..unique.len()).map(move |p| (w, p)))
        .collect();
    for round in 0..rounds.max(1) {
        for k in 0..cells.len() {
            let (i, p) = cells[(k + round) % cells.len()];
            let cell = Cell {
                workload: &workloads[i].1,
                evaluator: &evaluators[i],
                forms: &forms[i],
                hops: points[i].hops_evaluated,
            };
            let ns = time_cell(unique[p], &cell, &mut builder, min_time);
            points[i].timings[p].1.push(ns);
        }
    }
    Ok(points)
}

/// A workload's requests in the forms the timed paths need, made before timing (empty for
/// a form no path uses).
struct Forms {
    packed: Vec<PackedRequest>,
    compact: Vec<CompactRequest>,
}

impl Forms {
    fn prepare(
        workload: &Prepared,
        evaluator: &Evaluator,
        paths: &[Path],
        builder: &mut RequestBuilder,
    ) -> Result<Forms, String> {
        let packed = if paths.contains(&Path::Packed) {
            workload
                .requests
                .iter()
                .map(PackedRequest::from_request)
                .collect()
        } else {
            Vec::new()
        };
        let compact = if paths.contains(&Path::Compact) || paths.contains(&Path::CompactBatch) {
            workload
                .requests
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    builder
                        .fill_from(r)
                        .finish_for(evaluator)
                        .cloned()
                        .map_err(|e| format!("chain {i}: {e}"))
                })
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(Forms { packed, compact })
    }
}

/// What one workload's timings run on.
struct Cell<'a> {
    workload: &'a Prepared,
    evaluator: &'a Evaluator<'a>,
    forms: &'a Forms,
    /// Hops a pass evaluates.
    hops: usize,
}

/// ns per hop of one path on one workload. Never inlined, so that callgrind can count it
/// alone: `valgrind --tool=callgrind --toggle-collect='*rounds::time_cell*' …`.
#[inline(never)]
fn time_cell(path: Path, cell: &Cell, builder: &mut RequestBuilder, min_time: Duration) -> f64 {
    let Cell {
        workload: w,
        evaluator,
        forms,
        hops,
    } = *cell;
    match path {
        Path::Compiled => time_views(evaluator, &w.requests, hops, min_time),
        Path::Packed => time_views(evaluator, &forms.packed, hops, min_time),
        Path::Compact => time_views(evaluator, &forms.compact, hops, min_time),
        Path::CompactBatch => {
            let mut scratch = evaluator.scratch();
            ns_per_hop(hops, min_time, || {
                evaluator.evaluate_each(&forms.compact, &mut scratch, |_, o| {
                    std::hint::black_box(o.decision);
                });
            })
        }
        Path::CompactBuildEval => {
            let mut scratch = evaluator.scratch();
            ns_per_hop(hops, min_time, || {
                for r in &w.requests {
                    // `check` built every request without error before timing.
                    if let Ok(built) = builder.fill_from(r).finish_for(evaluator) {
                        std::hint::black_box(evaluator.evaluate(built, &mut scratch).decision);
                    }
                }
            })
        }
        Path::Reference => ns_per_hop(hops, min_time, || {
            for r in &w.requests {
                std::hint::black_box(crate::reference::evaluate(r, &w.policies).decision);
            }
        }),
    }
}

/// The compiled engine's ns per hop on `requests` in any form (one scratch, whole passes
/// evaluating `hops` hops each, for at least `min_time`). The caller checks the decisions
/// first ([`super::check`]); this only times them.
pub fn time_views<R: RequestView>(
    evaluator: &Evaluator,
    requests: &[R],
    hops: usize,
    min_time: Duration,
) -> f64 {
    let mut scratch = evaluator.scratch();
    ns_per_hop(hops, min_time, || {
        for r in requests {
            std::hint::black_box(evaluator.evaluate(r, &mut scratch).decision);
        }
    })
}

/// Nanoseconds per hop over whole passes, each evaluating `hops` hops, run back to back
/// until `min_time` has passed (at least one pass).
pub fn ns_per_hop(hops: usize, min_time: Duration, mut pass: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut passes = 0usize;
    while passes == 0 || started.elapsed() < min_time {
        pass();
        passes += 1;
    }
    started.elapsed().as_nanos() as f64 / (passes * hops.max(1)) as f64
}

/// The median (the mean of the middle two for an even count; 0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::scaling;

    #[test]
    fn every_path_is_checked_then_timed_once_a_round() {
        let workloads: Vec<(usize, Prepared)> = (1..=3)
            .map(|k| (k, scaling::chains(k, 15, 3).unwrap()))
            .collect();
        let points = measure(&workloads, &Path::ALL, 4, Duration::ZERO).unwrap();
        assert_eq!(points.len(), 3);
        for (k, point) in (1..=3).zip(&points) {
            assert_eq!(point.x, k);
            assert_eq!(point.requests, 15);
            assert_eq!(point.hops_evaluated, 15 * k);
            assert_eq!(point.decisions, [15, 0, 0]);
            for path in Path::ALL {
                let rounds = point.rounds(path);
                assert_eq!(rounds.len(), 4, "{k} hops, {}", path.name());
                assert!(rounds.iter().all(|ns| ns.is_finite() && *ns > 0.0));
            }
        }
    }

    #[test]
    fn a_path_named_twice_is_timed_once_and_one_not_named_not_at_all() {
        let workloads = vec![(1, scaling::chains(1, 5, 1).unwrap())];
        let paths = [Path::Reference, Path::Compiled, Path::Reference];
        let points = measure(&workloads, &paths, 2, Duration::ZERO).unwrap();
        let timed: Vec<Path> = points[0].timings.iter().map(|(p, _)| *p).collect();
        assert_eq!(timed, [Path::Reference, Path::Compiled]);
        assert_eq!(points[0].rounds(Path::Reference).len(), 2);
        assert!(points[0].rounds(Path::Compact).is_empty());
        assert_eq!(points[0].ns_per_hop(Path::Packed), None);
    }

    #[test]
    fn no_path_still_checks_and_counts() {
        let workloads = vec![(2, scaling::chains(2, 5, 1).unwrap())];
        let points = measure(&workloads, &[], 3, Duration::ZERO).unwrap();
        assert_eq!(points[0].hops_evaluated, 10);
        assert!(points[0].timings.is_empty());
    }

    #[test]
    fn the_timer_runs_whole_passes_for_at_least_the_minimum() {
        let mut passes = 0;
        let ns = ns_per_hop(10, Duration::ZERO, || passes += 1);
        assert_eq!(
            passes, 1,
            "at least one pass, and no more once the time is up"
        );
        assert!(ns >= 0.0);
        let min_time = Duration::from_millis(5);
        let started = Instant::now();
        ns_per_hop(1, min_time, || {});
        assert!(started.elapsed() >= min_time);
    }

    #[test]
    fn medians() {
        for (values, expected) in [
            (vec![], 0.0),
            (vec![7.0], 7.0),
            (vec![3.0, 1.0, 2.0], 2.0),
            (vec![4.0, 1.0, 3.0, 2.0], 2.5),
        ] {
            assert_eq!(median(&values), expected, "{values:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for path in Path::ALL {
            assert_eq!(Path::from_name(path.name()), Some(path));
        }
        assert_eq!(Path::from_name("compact-build+eval"), None);
    }
}
