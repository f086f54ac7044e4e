//! fastiam's scaling curves, measured and drawn: nanoseconds per hop as the policy set grows
//! (10, 100, 1,000, 10,000 statements of real AWS managed policies; the compiled engine on
//! parsed and on compact requests, and the reference evaluator: [`statements`]) and as
//! chains grow (1 to 5 hops, the compiled engine and the reference evaluator); and replay
//! records per second from 1 to N threads ([`replay_threads`]).
//!
//! Why a program of its own: the curves are pictures committed under `docs/`, and drawing
//! them needs `plotters`, which `cargo test` on fastiam should never build; so this is a
//! crate apart (own `[workspace]` and lock file), like `benches/cedar-compare`. The
//! workloads and the timing are fastiam's own (`fastiam::benchmark::scaling` and
//! `fastiam::benchmark::rounds`): every workload is first checked (compiled = reference on
//! every chain), then timed in rounds interleaved across the sizes and paths, and each
//! point is the median over the rounds.
//!
//! Usage: `cargo run --release -- [--out DIR] [--rounds R] [--seconds T] [--requests N]
//! [--chains N] [--records N] [--threads N] [--only statements|chains|replay]` (defaults
//! `../../docs`, 5, 0.5, 2,000, 2,000, 150,000, 4, all three). Writes
//! `scaling-statements.{csv,svg}`, `scaling-chains.{csv,svg}` and
//! `scaling-replay-threads.{csv,svg}` to DIR (those of `--only`'s curve alone) and prints the
//! points. `--sizes 10,10000` and `--paths compiled,compact,compact_build_eval,reference`
//! (or `packed`) time part of the statement curve only (for a profile under callgrind:
//! `--toggle-collect='*rounds::time_cell*'`), printed, not written.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use fastiam::benchmark::rounds::{self, Path as Row, Point};
use fastiam::benchmark::scaling;
use plotters::prelude::*;

mod replay_threads;
mod statements;

/// The curves, for `--only`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Curve {
    Statements,
    Chains,
    Replay,
}

struct Args {
    out: PathBuf,
    rounds: usize,
    min_time: Duration,
    requests: usize,
    chains: usize,
    /// Synthetic records of the replay curve, and its largest thread count.
    records: u64,
    max_threads: usize,
    /// One curve alone; all when `None`.
    only: Option<Curve>,
    /// The statement curve's sizes and paths (`--sizes`, `--paths`; all by default).
    selection: statements::Selection,
}

impl Args {
    fn wants(&self, curve: Curve) -> bool {
        self.only.is_none_or(|c| c == curve)
    }
}

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = Args {
        out: root.join("docs"),
        rounds: 5,
        min_time: Duration::from_millis(500),
        requests: 2_000,
        chains: 2_000,
        records: 150_000,
        max_threads: 4,
        only: None,
        selection: statements::Selection {
            sizes: statements::SIZES.to_vec(),
            rows: statements::ROWS.to_vec(),
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: expected a whole number, found `{value}`"))
        };
        match flag.as_str() {
            "--out" => args.out = PathBuf::from(&value),
            "--rounds" => args.rounds = number()?.max(1),
            "--requests" => args.requests = number()?.max(1),
            "--chains" => args.chains = number()?.max(1),
            "--records" => args.records = number()?.max(1) as u64,
            "--threads" => args.max_threads = number()?.max(1),
            "--only" => {
                args.only = Some(match value.as_str() {
                    "statements" => Curve::Statements,
                    "chains" => Curve::Chains,
                    "replay" => Curve::Replay,
                    _ => {
                        return Err(format!(
                            "--only: statements, chains or replay, not `{value}`"
                        ))
                    }
                })
            }
            "--sizes" => {
                args.selection.sizes = value
                    .split(',')
                    .map(|n| {
                        n.parse::<usize>()
                            .ok()
                            .filter(|n| *n > 0)
                            .ok_or(format!("--sizes: a statement count, not `{n}`"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--paths" => {
                args.selection.rows = value
                    .split(',')
                    .map(|name| {
                        Row::from_name(name).ok_or(format!(
                            "--paths: compiled, packed, compact, compact_build_eval or reference, not `{name}`"
                        ))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--seconds" => {
                let s: f64 = value.parse().map_err(|_| "--seconds: a number")?;
                args.min_time = Duration::from_secs_f64(s.max(0.01));
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

/// The managed policies bundled in the repository (`corpus/managed/`).
fn managed_documents() -> Result<Vec<(String, String)>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/managed/policies.tsv.gz");
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    scaling::read_managed_tsv(&text)
}

/// The compiled engine's median ns/hop at a chain length (timed at every one).
fn compiled(point: &Point) -> f64 {
    rounds::median(point.rounds(Row::Compiled))
}

fn csv(points: &[Point], x_name: &str) -> String {
    let mut out = format!(
        "{x_name},requests,hops_evaluated,allow,explicit_deny,implicit_deny,compiled_ns_per_hop,reference_ns_per_hop,compiled_ns_per_hop_rounds\n"
    );
    for p in points {
        let rounds: Vec<String> = p
            .rounds(Row::Compiled)
            .iter()
            .map(|r| format!("{r:.1}"))
            .collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{:.1},{},{}\n",
            p.x,
            p.requests,
            p.hops_evaluated,
            p.decisions[0],
            p.decisions[1],
            p.decisions[2],
            compiled(p),
            p.ns_per_hop(Row::Reference)
                .map_or(String::new(), |r| format!("{r:.1}")),
            rounds.join(" ")
        ));
    }
    out
}

fn print(title: &str, x_name: &str, points: &[Point]) {
    println!("{title}");
    println!(
        "{x_name:>10} {:>9} {:>22} {:>14} {:>16} {:>12}",
        "requests", "decisions A/ED/ID", "compiled ns/hop", "reference ns/hop", "ref/compiled"
    );
    for p in points {
        let reference = p.ns_per_hop(Row::Reference).unwrap_or(f64::NAN);
        println!(
            "{:>10} {:>9} {:>22} {:>14.1} {:>16.1} {:>11.1}x",
            p.x,
            p.requests,
            format!("{}/{}/{}", p.decisions[0], p.decisions[1], p.decisions[2]),
            compiled(p),
            reference,
            reference / compiled(p)
        );
    }
}

type Draw = Result<(), Box<dyn std::error::Error>>;

/// ns/hop against hops per chain.
fn draw_chains(points: &[Point], path: &Path) -> Draw {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let hi = points
        .iter()
        .flat_map(|p| [Some(compiled(p)), p.ns_per_hop(Row::Reference)])
        .flatten()
        .fold(0.0f64, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "fastiam: cost per hop by chain length (standard policies)",
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(0.5f64..5.5f64, 0f64..(hi * 1.15))?;
    chart
        .configure_mesh()
        .x_desc("hops per chain (every hop allowed, so every hop evaluated)")
        .y_desc("ns per hop (one thread, median)")
        .x_labels(5)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    engines(&mut chart, points)?;
    root.present()?;
    Ok(())
}

/// One engine's line and points, with its legend entry.
fn series<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    data: Vec<(f64, f64)>,
    color: RGBColor,
    label: &str,
) -> Draw
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    chart.draw_series(data.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
    Ok(())
}

/// The legend of the series drawn, upper left.
fn legend<'a, DB, X, Y>(chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>) -> Draw
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// Both engines' series of the chain curve, and the legend.
fn engines<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: &[Point],
) -> Draw
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let line = |y: &dyn Fn(&Point) -> Option<f64>| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|p| y(p).map(|v| (p.x as f64, v)))
            .collect()
    };
    series(chart, line(&|p| Some(compiled(p))), BLUE, "compiled")?;
    series(
        chart,
        line(&|p| p.ns_per_hop(Row::Reference)),
        RED,
        "reference evaluator",
    )?;
    legend(chart)
}

type Run = Result<(), Box<dyn std::error::Error>>;

fn statements_curve(args: &Args) -> Run {
    let policies = scaling::parse_managed(&managed_documents()?, 42)?;
    let total: usize = policies.iter().map(|p| p.statements.len()).sum();
    println!(
        "{} rounds, at least {:.1} s per path and point, one thread; medians. Managed corpus: {} policies, {total} statements.",
        args.rounds,
        args.min_time.as_secs_f64(),
        policies.len()
    );
    statements::curve(
        &policies,
        &args.selection,
        args.requests,
        args.rounds,
        args.min_time,
        &args.out,
    )
}

fn chains_curve(args: &Args) -> Run {
    let workloads = (1..=scaling::MAX_CHAIN)
        .map(|k| Ok((k, scaling::chains(k, args.chains, 42)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let by_length = rounds::measure(
        &workloads,
        &[Row::Compiled, Row::Reference],
        args.rounds,
        args.min_time,
    )?;
    std::fs::write(
        args.out.join("scaling-chains.csv"),
        csv(&by_length, "hops_per_chain"),
    )?;
    draw_chains(&by_length, &args.out.join("scaling-chains.svg"))?;
    print(
        "cost per hop by chain length (every hop allowed)",
        "hops",
        &by_length,
    );
    Ok(())
}

fn replay_curve(args: &Args) -> Run {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let measured = replay_threads::measure(
        &root,
        args.records,
        args.max_threads,
        args.rounds,
        args.min_time,
    )?;
    std::fs::write(
        args.out.join("scaling-replay-threads.csv"),
        replay_threads::csv(&measured),
    )?;
    replay_threads::draw(
        &measured,
        cores,
        &args.out.join("scaling-replay-threads.svg"),
    )?;
    println!(
        "{} rounds, at least {:.1} s per thread count and round; medians.",
        args.rounds,
        args.min_time.as_secs_f64()
    );
    replay_threads::print(&measured, cores);
    Ok(())
}

fn run(args: &Args) -> Run {
    std::fs::create_dir_all(&args.out)?;
    if args.wants(Curve::Statements) {
        statements_curve(args)?;
    }
    if args.wants(Curve::Chains) {
        chains_curve(args)?;
    }
    if args.wants(Curve::Replay) {
        replay_curve(args)?;
    }
    let nothing_written = args.only == Some(Curve::Statements) && !args.selection.is_full();
    if !nothing_written {
        println!("written to {}", args.out.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().map_err(Into::into).and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("curves: {e}");
            ExitCode::from(2)
        }
    }
}
