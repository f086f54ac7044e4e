//! The policy-set-size curve: nanoseconds per hop at 10, 100, 1,000 and 10,000 statements of
//! real AWS managed policies, for the paths a caller can take.
//!
//! The measurement is the library's (`fastiam::benchmark::rounds::measure`): every workload
//! is first checked (compiled = reference on every chain, and the packed and compact forms =
//! compiled), then four paths are timed in the same rounds — the compiled engine on
//! `Request`s, on prebuilt `CompactRequest`s, on `CompactRequest`s built per request inside
//! the timing (one reused `RequestBuilder`: `fill_from`, `finish_for`, evaluate), and the
//! reference evaluator — in an order across the sizes and paths that rotates each round, and
//! every point is the median of its rounds. For example, at 1,000 statements a round yields
//! four ns/hop figures, one per path, measured seconds apart. This file chooses the sizes and
//! paths and writes the CSV, the picture and the table.

use std::path::Path;
use std::time::Duration;

// `Row`: a path of the curve (`Path` here is a file's).
use fastiam::benchmark::rounds::{self, Path as Row, Point};
use fastiam::benchmark::scaling;
use plotters::prelude::*;

use crate::{series, Draw};

/// The statement counts of the curve.
pub const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// The paths of the curve, in CSV column order.
pub const ROWS: [Row; 4] = [
    Row::Compiled,
    Row::Compact,
    Row::CompactBuildEval,
    Row::Reference,
];

/// The median ns/hop of a path at a size (0 when it was not timed).
fn ns(point: &Point, path: Row) -> f64 {
    point.ns_per_hop(path).unwrap_or(0.0)
}

pub fn csv(points: &[Point]) -> String {
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
            point.x,
            point.requests,
            point.hops_evaluated,
            point.decisions[0],
            point.decisions[1],
            point.decisions[2]
        ));
        for p in ROWS {
            out.push_str(&format!(",{:.1}", ns(point, p)));
        }
        for p in ROWS {
            let list: Vec<String> = point.rounds(p).iter().map(|r| format!("{r:.1}")).collect();
            out.push_str(&format!(",{}", list.join(" ")));
        }
        out.push('\n');
    }
    out
}

pub fn print(points: &[Point]) {
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
        let (compiled, compact) = (ns(p, Row::Compiled), ns(p, Row::Compact));
        let reference = ns(p, Row::Reference);
        println!(
            "{:>10} {:>9} {:>18} {:>10.1} {:>10.1} {:>14.1} {:>12.1} {:>9.1}x {:>9.2}x",
            p.x,
            p.requests,
            format!("{}/{}/{}", p.decisions[0], p.decisions[1], p.decisions[2]),
            compiled,
            compact,
            ns(p, Row::CompactBuildEval),
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
            last.x / first.x,
            ns(last, path) / ns(first, path)
        );
    }
}

/// ns/hop against statements, both axes logarithmic, with the line a cost proportional to
/// the number of statements would follow from the first compact point.
pub fn draw(points: &[Point], path: &Path) -> Draw {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let ys = points.iter().flat_map(|p| ROWS.map(|e| ns(p, e)));
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
            let x = p.x as f64;
            (x, ns(first, Row::Compact) * x / first.x as f64)
        })
        .filter(|(_, y)| *y <= hi * 2.0)
        .collect();
    chart
        .draw_series(LineSeries::new(linear, BLACK.mix(0.35)))?
        .label("linear growth from 10 statements (compact)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.35)));
    let line = |path: Row| -> Vec<(f64, f64)> {
        points.iter().map(|p| (p.x as f64, ns(p, path))).collect()
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
    let by_size = rounds::measure(&workloads, &selection.rows, rounds, min_time)?;
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
                    p.x,
                    row.name(),
                    ns(p, row),
                    p.hops_evaluated
                );
            }
        }
    }
    Ok(())
}
