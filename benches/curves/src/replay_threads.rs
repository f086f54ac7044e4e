//! Replay throughput from 1 to N threads: records per second of `fastiam::replay::replay`
//! over synthetic CloudTrail records, what-if against the bundled data-perimeter SCP.
//!
//! The records are grown in-process from the bundled real ones (`corpus/replay/logs`, 698
//! records) by `fastiam::replay::synth::generate` (seed 42), written as one JSON Lines file
//! in the system's temporary directory (`replay` reads files: a large uncompressed JSON
//! Lines file is memory-mapped and cut into 4 MiB slices that all workers share) and removed
//! at the end. Each thread count gets its own rayon pool, `pool.install(|| replay(…))`.
//!
//! Before timing, every thread count replays the file once and its report must equal the
//! others' (records, allowed, explicitly and implicitly denied, depends on an unlogged key,
//! forwarded, unmappable, unreadable) and account for every record; every timed replay is
//! checked again. Rounds visit the thread counts in an order that rotates from round to
//! round; each point is the median over the rounds, and its speedup the median over the
//! rounds of its rate over the one-thread rate of the same round (a ratio taken within a
//! round, while the load others put on the machine is about the same).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fastiam::benchmark::rounds::median;
use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
use fastiam::replay::json;
use fastiam::replay::source::read_unit;
use fastiam::replay::{plan, replay, synth, Guardrails, ReplayOptions, ReplayPolicies, Report};
use plotters::prelude::*;

/// The bundled SCP the README's main job replays against.
const SCP: &str = "corpus/replay/policies/network-perimeter-iam-users-scp.json";
const LOGS: &str = "corpus/replay/logs";

/// One thread count's figures.
pub struct ThreadPoint {
    pub threads: usize,
    /// Records/s of each round, in round order.
    pub rounds: Vec<f64>,
    pub records_per_s: f64,
    /// Median over the rounds of this round's rate / the one-thread rate of the round.
    pub speedup: f64,
}

/// What the replay of the synthetic file reported, the same at every thread count.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    pub allowed: u64,
    pub explicit_deny: u64,
    pub implicit_deny: u64,
    pub depends_on: u64,
    pub forwarded: u64,
    pub unmappable: u64,
    pub unreadable: u64,
}

impl Counts {
    fn of(report: &Report) -> Counts {
        Counts {
            records: report.records_seen(),
            allowed: report.all.allowed,
            explicit_deny: report.all.explicit_deny,
            implicit_deny: report.all.implicit_deny,
            depends_on: report.all.depends_on,
            forwarded: report.forwarded.total(),
            unmappable: report.unmappable_total(),
            unreadable: report.unreadable.count,
        }
    }
}

pub struct Measured {
    pub records: u64,
    pub file_bytes: u64,
    pub counts: Counts,
    pub points: Vec<ThreadPoint>,
}

/// The synthetic JSON Lines file, removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

type Error = Box<dyn std::error::Error>;

/// Every record of the bundled real logs, parsed.
fn seeds(root: &Path) -> Result<Vec<serde_json::Value>, Error> {
    let (units, errors) = plan(&[root.join(LOGS)]);
    if let Some(e) = errors.first() {
        return Err(format!("{}: {}", e.position, e.message).into());
    }
    let mut seeds = Vec::new();
    let mut bad = None;
    for unit in &units {
        // The replay reads sonic-rs trees; `synth` edits serde_json's.
        read_unit(
            unit,
            &mut |at, parsed| match parsed.and_then(|v| json::to_serde(&v)) {
                Ok(v) => {
                    seeds.push(v);
                    true
                }
                Err(e) => {
                    bad = Some(format!("{at}: {e}"));
                    false
                }
            },
        )
        .map_err(|e| format!("{}: {}", e.position, e.message))?;
    }
    bad.map_or(Ok(seeds), |e| Err(e.into()))
}

fn synthetic_file(root: &Path, records: u64) -> Result<TempFile, Error> {
    let seeds = seeds(root)?;
    let path = std::env::temp_dir().join(format!("fastiam-curves-{}.jsonl", std::process::id()));
    let file = TempFile(path);
    let mut out = BufWriter::new(std::fs::File::create(&file.0)?);
    synth::generate(&seeds, records, 42, &mut out)?;
    out.flush()?;
    Ok(file)
}

fn bundled_scp(root: &Path) -> Result<ReplayPolicies, Error> {
    let path = root.join(SCP);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let scp = parse_policy(&text, "scp", &ParseOptions::new(PolicyKind::Scp))?;
    Ok(ReplayPolicies::what_if(&Guardrails {
        scp: vec![vec![scp]],
        ..Guardrails::default()
    })?)
}

/// Replays `inputs` in `pool` and checks the report against `expected` (the first run's).
fn replay_checked(
    pool: &rayon::ThreadPool,
    inputs: &[PathBuf],
    policies: &ReplayPolicies,
    expected: Option<&Counts>,
) -> Result<Counts, Error> {
    let report = pool.install(|| replay(inputs, policies, &ReplayOptions::default()));
    let counts = Counts::of(&report);
    let threads = pool.current_num_threads();
    if report.interrupted {
        return Err(format!("{threads} threads: the replay stopped early").into());
    }
    if let Some(expected) = expected.filter(|e| **e != counts) {
        return Err(format!("{threads} threads: {counts:?}, but {expected:?} before").into());
    }
    Ok(counts)
}

/// Times replays of `records` synthetic records at 1..=`max_threads` threads.
pub fn measure(
    root: &Path,
    records: u64,
    max_threads: usize,
    rounds: usize,
    min_time: Duration,
) -> Result<Measured, Error> {
    let file = synthetic_file(root, records)?;
    let file_bytes = std::fs::metadata(&file.0)?.len();
    let inputs = [file.0.clone()];
    let policies = bundled_scp(root)?;
    let pools = (1..=max_threads.max(1))
        .map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build())
        .collect::<Result<Vec<_>, _>>()?;

    let mut counts = None;
    for pool in &pools {
        counts = Some(replay_checked(pool, &inputs, &policies, counts.as_ref())?);
    }
    let counts = counts.expect("at least one pool");
    let accounted = counts.allowed
        + counts.explicit_deny
        + counts.implicit_deny
        + counts.depends_on
        + counts.unmappable;
    if counts.records != records || counts.unreadable != 0 || accounted != records {
        return Err(format!("{records} records written, but the replay reports {counts:?}").into());
    }

    let mut points: Vec<ThreadPoint> = pools
        .iter()
        .map(|p| ThreadPoint {
            threads: p.current_num_threads(),
            rounds: Vec::new(),
            records_per_s: 0.0,
            speedup: 0.0,
        })
        .collect();
    for round in 0..rounds.max(1) {
        for k in 0..pools.len() {
            let i = (k + round) % pools.len();
            let started = Instant::now();
            let mut replays = 0u64;
            while replays == 0 || started.elapsed() < min_time {
                replay_checked(&pools[i], &inputs, &policies, Some(&counts))?;
                replays += 1;
            }
            let rate = (records * replays) as f64 / started.elapsed().as_secs_f64();
            points[i].rounds.push(rate);
        }
    }
    let one = points[0].rounds.clone();
    for p in &mut points {
        p.records_per_s = median(&p.rounds);
        let ratios: Vec<f64> = p.rounds.iter().zip(&one).map(|(r, o)| r / o).collect();
        p.speedup = median(&ratios);
    }
    Ok(Measured {
        records,
        file_bytes,
        counts,
        points,
    })
}

pub fn csv(m: &Measured) -> String {
    let c = &m.counts;
    let mut out = String::from(
        "threads,records,allowed,explicit_deny,implicit_deny,depends_on,unmappable,records_per_s,speedup_vs_1_thread_within_rounds,records_per_s_rounds\n",
    );
    for p in &m.points {
        let rounds: Vec<String> = p.rounds.iter().map(|r| format!("{r:.0}")).collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{:.0},{:.2},{}\n",
            p.threads,
            c.records,
            c.allowed,
            c.explicit_deny,
            c.implicit_deny,
            c.depends_on,
            c.unmappable,
            p.records_per_s,
            p.speedup,
            rounds.join(" ")
        ));
    }
    out
}

pub fn print(m: &Measured, cores: usize) {
    let c = &m.counts;
    println!(
        "replay, 1 to {} threads ({cores} cores): {} synthetic records ({} MB of JSON Lines), what-if against the bundled SCP",
        m.points.len(),
        m.records,
        m.file_bytes / 1_000_000
    );
    println!(
        "report, equal at every thread count: allowed {}, explicit deny {}, implicit deny {}, depends {}, unmappable {} ({} forwarded)",
        c.allowed, c.explicit_deny, c.implicit_deny, c.depends_on, c.unmappable, c.forwarded
    );
    println!(
        "{:>8} {:>12} {:>24} {:>24}",
        "threads", "records/s", "speedup (within rounds)", "rounds (min-max)"
    );
    for p in &m.points {
        let (lo, hi) = p
            .rounds
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "{:>8} {:>12.0} {:>23.2}x {:>24}",
            p.threads,
            p.records_per_s,
            p.speedup,
            format!("{lo:.0}-{hi:.0}")
        );
    }
}

/// Records/s against threads, with the line perfect scaling up to `cores` would follow.
pub fn draw(m: &Measured, cores: usize, path: &Path) -> Result<(), Error> {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let one = m.points[0].records_per_s;
    let ideal: Vec<(f64, f64)> = m
        .points
        .iter()
        .map(|p| (p.threads as f64, one * p.threads.min(cores) as f64))
        .collect();
    let hi = m
        .points
        .iter()
        .flat_map(|p| p.rounds.iter().copied())
        .chain(ideal.iter().map(|(_, y)| *y))
        .fold(0.0f64, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "fastiam: replay throughput by threads ({} synthetic records, {cores} cores)",
                m.records
            ),
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(0.5f64..(m.points.len() as f64 + 0.5), 0f64..(hi * 1.15))?;
    chart
        .configure_mesh()
        .x_desc("threads (rayon pool)")
        .y_desc("records per second (median of rounds)")
        .x_labels(m.points.len())
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{:.0}k", y / 1000.0))
        .draw()?;
    let grey = BLACK.mix(0.35);
    chart
        .draw_series(LineSeries::new(ideal, grey))?
        .label(format!("1 thread × min(threads, {cores} cores)"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    let rounds = m.points.iter().flat_map(|p| {
        p.rounds
            .iter()
            .map(|r| Circle::new((p.threads as f64, *r), 2, BLUE.mix(0.4).filled()))
    });
    chart.draw_series(rounds)?;
    let medians: Vec<(f64, f64)> = m
        .points
        .iter()
        .map(|p| (p.threads as f64, p.records_per_s))
        .collect();
    chart
        .draw_series(LineSeries::new(medians.clone(), BLUE.stroke_width(2)))?
        .label("replay (median; small dots: each round)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart.draw_series(
        medians
            .into_iter()
            .map(|p| Circle::new(p, 4, BLUE.filled())),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
