//! The policy-set-size curve: nanoseconds per hop at 10, 100, 1,000 and 10,000 statements of
//! real AWS managed policies, for the paths a caller can take.
//!
//! Why its own timing rather than `fastiam::benchmark::scaling::measure`: that one times the
//! compiled engine on parsed `Request`s and the reference evaluator; a fast caller hands the
//! evaluator `CompactRequest`s built against it (issue 17), so this curve times four rows in
//! the same rounds — the compiled engine on `Request`s, on prebuilt `CompactRequest`s, on
//! `CompactRequest`s built per request inside the timing (one reused `RequestBuilder`:
//! `fill_from`, `finish_for`, evaluate), and the reference evaluator. Each workload is first
//! checked by `fastiam::benchmark::check` (compiled = reference on every chain, and the
//! packed and compact forms = compiled); rounds run across the sizes and engines in an order
//! that rotates each round, and every point is the median of its rounds. For example, at
//! 1,000 statements a round yields four ns/hop figures, one per row, measured seconds apart.

use std::path::Path;
use std::time::{Duration, Instant};

use fastiam::benchmark::{check, scaling, Prepared};
use fastiam::eval::Evaluator;
use fastiam::request::compact::{CompactRequest, RequestBuilder};
use plotters::prelude::*;

use crate::{series, Draw};

/// The statement counts of the curve.
pub const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// The rows (paths) of the curve, in CSV column order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// The compiled engine on parsed `Request`s.
    Compiled,
    /// The compiled engine on `CompactRequest`s built against it before timing.
    Compact,
    /// Building each request's `CompactRequest`, then evaluating it, both timed.
    CompactBuildEval,
    /// The reference evaluator on parsed `Request`s.
    Reference,
}

pub const ROWS: [Row; 4] = [
    Row::Compiled,
    Row::Compact,
    Row::CompactBuildEval,
    Row::Reference,
];

impl Row {
    /// The row of a [`Row::name`] (for `--paths`).
    pub fn from_name(name: &str) -> Option<Row> {
        ROWS.into_iter().find(|r| r.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Row::Compiled => "compiled",
            Row::Compact => "compact",
            Row::CompactBuildEval => "compact_build_eval",
            Row::Reference => "reference",
        }
    }
}

/// One size: what the check counted, and each path's ns/hop per round.
pub struct SizePoint {
    pub statements: usize,
    pub requests: usize,
    pub hops_evaluated: usize,
    /// Allow, ExplicitDeny, ImplicitDeny.
    pub decisions: [usize; 3],
    /// Per path (in [`ROWS`] order), ns per hop of each round.
    pub rounds: [Vec<f64>; 4],
}

impl SizePoint {
    /// The median ns/hop of a path.
    pub fn ns(&self, path: Row) -> f64 {
        let i = ROWS.iter().position(|&p| p == path).unwrap_or(0);
        scaling::median(&self.rounds[i])
    }
}

/// Nanoseconds per hop over whole passes (each evaluating `hops` hops) for at least
/// `min_time`.
fn ns_per_hop(hops: usize, min_time: Duration, mut pass: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut passes = 0usize;
    while passes == 0 || started.elapsed() < min_time {
        pass();
        passes += 1;
    }
    started.elapsed().as_nanos() as f64 / (passes * hops.max(1)) as f64
}

/// Checks every workload, then times the `selected` paths on every size in `rounds` rounds
/// (a path not selected has no rounds).
pub fn measure(
    workloads: &[(usize, Prepared)],
    selected: &[Row],
    rounds: usize,
    min_time: Duration,
) -> Result<Vec<SizePoint>, String> {
    let programs = workloads
        .iter()
        .map(|(_, w)| fastiam::compile::compile(&w.policies).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let evaluators: Vec<Evaluator> = programs.iter().map(Evaluator::new).collect();
    let mut points = Vec::new();
    let mut compact: Vec<Vec<CompactRequest>> = Vec::new();
    let mut builder = RequestBuilder::new();
    for ((x, w), evaluator) in workloads.iter().zip(&evaluators) {
        let checked = check(w, evaluator)?;
        points.push(SizePoint {
            statements: *x,
            requests: w.requests.len(),
            hops_evaluated: checked.hops_evaluated,
            decisions: checked.decisions,
            rounds: Default::default(),
        });
        compact.push(
            w.requests
                .iter()
                .map(|r| {
                    builder
                        .fill_from(r)
                        .finish_for(evaluator)
                        .cloned()
                        .map_err(|e| format!("{x} statements: {e}"))
                })
                .collect::<Result<_, _>>()?,
        );
    }
    let cells: Vec<(usize, Row)> = (0..workloads.len())
        .flat_map(|size| selected.iter().map(move |&row| (size, row)))
        .collect();
    for round in 0..rounds.max(1) {
        for k in 0..cells.len() {
            let (i, row) = cells[(k + round) % cells.len()];
            let cell = Cell {
                workload: &workloads[i].1,
                evaluator: &evaluators[i],
                compact: &compact[i],
                hops: points[i].hops_evaluated,
            };
            let ns = time_cell(row, &cell, &mut builder, min_time);
            let at = ROWS.iter().position(|&r| r == row).unwrap_or(0);
            points[i].rounds[at].push(ns);
        }
    }
    Ok(points)
}

/// What one size's timings run on.
struct Cell<'a> {
    workload: &'a Prepared,
    evaluator: &'a Evaluator<'a>,
    /// The workload's requests, built against `evaluator` before timing.
    compact: &'a [CompactRequest],
    /// Hops a pass evaluates.
    hops: usize,
}

/// ns per hop of one path on one size. Never inlined, so that callgrind can count it alone:
/// `valgrind --tool=callgrind --toggle-collect='curves::statements::time_cell' …`.
#[inline(never)]
fn time_cell(row: Row, cell: &Cell, builder: &mut RequestBuilder, min_time: Duration) -> f64 {
    let Cell {
        workload: w,
        evaluator,
        compact,
        hops,
    } = *cell;
    let mut scratch = evaluator.scratch();
    match row {
        Row::Compiled => ns_per_hop(hops, min_time, || {
            for r in &w.requests {
                std::hint::black_box(evaluator.evaluate(r, &mut scratch).decision);
            }
        }),
        Row::Compact => ns_per_hop(hops, min_time, || {
            for r in compact {
                std::hint::black_box(evaluator.evaluate(r, &mut scratch).decision);
            }
        }),
        Row::CompactBuildEval => ns_per_hop(hops, min_time, || {
            for r in &w.requests {
                // Every request was built without error before timing.
                let built = builder
                    .fill_from(r)
                    .finish_for(evaluator)
                    .expect("built before timing");
                std::hint::black_box(evaluator.evaluate(built, &mut scratch).decision);
            }
        }),
        Row::Reference => ns_per_hop(hops, min_time, || {
            for r in &w.requests {
                std::hint::black_box(fastiam::reference::evaluate(r, &w.policies).decision);
            }
        }),
    }
}

pub fn csv(points: &[SizePoint]) -> String {
    let mut out =
        String::from("statements,requests,hops_evaluated,allow,explicit_deny,implicit_deny");
    for p in ROWS {
        out.push_str(&format!(",{}_ns_per_hop", p.name()));
    }
    for p in ROWS {
        out.push_str(&format!(",{}_ns_per_hop_rounds", p.name()));
    }
    out.push('\n');
    for point in points {
        out.push_str(&format!(
            "{},{},{},{},{},{}",
            point.statements,
            point.requests,
            point.hops_evaluated,
            point.decisions[0],
            point.decisions[1],
            point.decisions[2]
        ));
        for p in ROWS {
            out.push_str(&format!(",{:.1}", point.ns(p)));
        }
        for rounds in &point.rounds {
            let list: Vec<String> = rounds.iter().map(|r| format!("{r:.1}")).collect();
            out.push_str(&format!(",{}", list.join(" ")));
        }
        out.push('\n');
    }
    out
}

pub fn print(points: &[SizePoint]) {
    println!("cost per hop by policy-set size (one-hop requests), ns/hop, medians");
    println!(
        "{:>10} {:>9} {:>18} {:>10} {:>10} {:>14} {:>12} {:>10} {:>10}",
        "statements",
        "requests",
        "decisions A/ED/ID",
        "compiled",
        "compact",
        "build+eval",
        "reference",
        "ref/compact",
        "comp/compact"
    );
    for p in points {
        let (compiled, compact) = (p.ns(Row::Compiled), p.ns(Row::Compact));
        let reference = p.ns(Row::Reference);
        println!(
            "{:>10} {:>9} {:>18} {:>10.1} {:>10.1} {:>14.1} {:>12.1} {:>9.1}x {:>9.2}x",
            p.statements,
            p.requests,
            format!("{}/{}/{}", p.decisions[0], p.decisions[1], p.decisions[2]),
            compiled,
            compact,
            p.ns(Row::CompactBuildEval),
            reference,
            reference / compact,
            compiled / compact
        );
    }
    let (first, last) = (&points[0], &points[points.len() - 1]);
    for path in ROWS {
        println!(
            "{}: {}x the statements, {:.2}x the cost per hop",
            path.name(),
            last.statements / first.statements,
            last.ns(path) / first.ns(path)
        );
    }
}

/// ns/hop against statements, both axes logarithmic, with the line a cost proportional to
/// the number of statements would follow from the first compact point.
pub fn draw(points: &[SizePoint], path: &Path) -> Draw {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let ys = points.iter().flat_map(|p| ROWS.map(|e| p.ns(e)));
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(l, h), y| (l.min(y), h.max(y)));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "fastiam: cost per hop by policy-set size (AWS managed policies)",
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (8f64..12_500f64).log_scale(),
            ((lo / 2.0)..(hi * 2.0)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("statements in the policy set")
        .y_desc("ns per hop (one thread, median)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let first = &points[0];
    let linear: Vec<(f64, f64)> = points
        .iter()
        .map(|p| {
            let x = p.statements as f64;
            (x, first.ns(Row::Compact) * x / first.statements as f64)
        })
        .filter(|(_, y)| *y <= hi * 2.0)
        .collect();
    chart
        .draw_series(LineSeries::new(linear, BLACK.mix(0.35)))?
        .label("linear growth from 10 statements (compact)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.35)));
    let line = |path: Row| -> Vec<(f64, f64)> {
        points
            .iter()
            .map(|p| (p.statements as f64, p.ns(path)))
            .collect()
    };
    series(
        &mut chart,
        line(Row::Compiled),
        BLUE,
        "compiled, parsed Request",
    )?;
    series(
        &mut chart,
        line(Row::Compact),
        RGBColor(0, 150, 70),
        "compiled, prebuilt CompactRequest",
    )?;
    series(
        &mut chart,
        line(Row::CompactBuildEval),
        RGBColor(230, 140, 0),
        "CompactRequest built per request + evaluated",
    )?;
    series(&mut chart, line(Row::Reference), RED, "reference evaluator")?;
    crate::legend(&mut chart)?;
    root.present()?;
    Ok(())
}

/// Which sizes and paths to time: all of them for the curve, fewer for a profile.
pub struct Selection {
    pub sizes: Vec<usize>,
    pub rows: Vec<Row>,
}

impl Selection {
    /// Every size and every path: what the committed curve needs.
    pub fn is_full(&self) -> bool {
        self.sizes == SIZES && self.rows == ROWS
    }
}

/// The whole curve: workloads from the managed corpus, timing, CSV, SVG, print. A partial
/// selection (a profile) is printed only, so that it never overwrites the committed curve.
pub fn curve(
    policies: &[fastiam::policy::Policy],
    selection: &Selection,
    requests: usize,
    rounds: usize,
    min_time: Duration,
    out: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let workloads = selection
        .sizes
        .iter()
        .map(|&n| Ok((n, scaling::statements(policies, n, requests, 42)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let by_size = measure(&workloads, &selection.rows, rounds, min_time)?;
    if selection.is_full() {
        std::fs::write(out.join("scaling-statements.csv"), csv(&by_size))?;
        draw(&by_size, &out.join("scaling-statements.svg"))?;
        print(&by_size);
    } else {
        println!("a partial selection: printed only, no CSV or SVG written");
        for p in &by_size {
            for &row in &selection.rows {
                println!(
                    "{} statements, {}: {:.1} ns/hop ({} hops a pass)",
                    p.statements,
                    row.name(),
                    p.ns(row),
                    p.hops_evaluated
                );
            }
        }
    }
    Ok(())
}
