//! fastiam and cedar-policy 4.14.1 on the same requests, with the same decisions, timed in
//! one process.
//!
//! Why a program of its own: the figures users compare engines by must come from one run on
//! one machine — timings taken on different days, or while something else runs, differ by
//! more than the effects measured. So this program generates the standard workload
//! (`fastiam::benchmark::standard`, the same requests `fastiam bench` times), gives Cedar
//! exactly the per-hop contexts fastiam derives (`fastiam::request::chain_contexts`,
//! R-FAS-4), checks that every hop gets the same decision from both, and only then times
//! fastiam's compiled engine, its reference evaluator and Cedar in interleaved rounds, and
//! prints the ratios of each round and their median. It is a crate apart (with its own
//! `[workspace]` and lock file) so that `cargo test` on fastiam never builds Cedar.
//!
//! Counting: a chain evaluator stops at the first hop that is not allowed (R-FAS-2). Both
//! sides count the same hops: fastiam evaluates each chain, Cedar is called hop by hop and
//! stops at the first hop it does not allow; the rate of both is hops evaluated per second
//! (22,621 of the 28,033 hops of 20,000 chains). The rate of Cedar on every hop (what the
//! shared `cedar-bench` on `hops.jsonl` measured) is printed too.
//!
//! What each side is given, prebuilt before timing: fastiam the `Request`s (principal, hop-0
//! context, hops) — it resolves context keys and derives every forwarded hop's context
//! inside the timed call — and, the path a fast caller takes, `CompactRequest`s built
//! against the evaluator (keys and actions resolved, resources split; forwarded hops still
//! derived inside the call); Cedar one prebuilt `cedar_policy::Request` per hop, with the
//! derived context already converted (ip addresses and datetimes parsed). Building the
//! compact requests is timed too, alone and followed by the evaluation ([`timing`]); the
//! cost of building Cedar's requests is printed apart.
//!
//! Modules: [`cedar`] the Cedar side, [`check`] the equality checks, [`timing`] the engines
//! and rounds; this file reads the arguments and prints.
//!
//! Usage: `cargo run --release -- [--cases N] [--seed S] [--rounds R] [--seconds T] [--json]
//! [--engines compact,cedar,…]` (defaults 20,000, 42, 5, 1.0, all seven engines).

mod cedar;
mod check;
mod timing;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use fastiam::benchmark::standard;
use fastiam::eval::Evaluator;
use fastiam::request::compact::{CompactRequest, RequestBuilder};
use serde_json::json;

use cedar::{cedar_chains, Cedar};
use timing::{Engine, Inputs, ENGINES};

struct Args {
    cases: usize,
    seed: u64,
    rounds: usize,
    min_time: Duration,
    json: bool,
    /// The engines timed (all by default; fewer for a profile of one, e.g. under callgrind).
    engines: Vec<Engine>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cases: 20_000,
        seed: 42,
        rounds: 5,
        min_time: Duration::from_secs(1),
        json: false,
        engines: ENGINES.to_vec(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--cases" => args.cases = number(&value()?)?,
            "--seed" => args.seed = number(&value()?)? as u64,
            "--rounds" => args.rounds = number(&value()?)?.max(1),
            "--seconds" => {
                let s: f64 = value()?.parse().map_err(|_| "--seconds: a number")?;
                args.min_time = Duration::from_secs_f64(s.max(0.01));
            }
            "--json" => args.json = true,
            "--engines" => {
                args.engines = value()?
                    .split(',')
                    .map(|name| {
                        Engine::from_short(name).ok_or_else(|| {
                            let all: Vec<&str> = ENGINES.iter().map(|e| e.short()).collect();
                            format!("--engines: `{name}` is none of {}", all.join(", "))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn number(text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("expected a whole number, found `{text}`"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The ratios printed and reported, (numerator, denominator, label): the compact rows
/// first, the headline being the prebuilt compact requests against Cedar.
const RATIOS: [(Engine, Engine, &str); 7] = [
    (Engine::Compact, Engine::Cedar, "fastiam compact / cedar"),
    (
        Engine::CompactBuildEval,
        Engine::Cedar,
        "compact build+eval / cedar",
    ),
    (Engine::Compiled, Engine::Cedar, "fastiam compiled / cedar"),
    (
        Engine::Reference,
        Engine::Cedar,
        "fastiam reference / cedar",
    ),
    (Engine::Compact, Engine::Compiled, "compact / compiled"),
    (Engine::Compiled, Engine::Reference, "compiled / reference"),
    (Engine::Compact, Engine::Reference, "compact / reference"),
];

/// The JSON name of a ratio: `compact_over_cedar`, ….
fn ratio_key(a: Engine, b: Engine) -> String {
    format!("{}_over_{}", a.short(), b.short())
}

fn run(args: &Args) -> Result<(), String> {
    let prepared = standard(args.cases, args.seed)?;
    let program = fastiam::compile::compile(&prepared.policies).map_err(|e| e.to_string())?;
    let evaluator = Evaluator::new(&program);
    let cedar = Cedar::new(&prepared.requests)?;
    let built = Instant::now();
    let chains = cedar_chains(&prepared.requests)?;
    let cedar_build_seconds = built.elapsed().as_secs_f64();
    let checked = check::check(&prepared, &evaluator, &cedar, &chains)?;
    // Prebuilt like Cedar's requests: one per chain, in chain order, against the evaluator.
    let mut builder = RequestBuilder::new();
    let compact = prepared
        .requests
        .iter()
        .map(|r| {
            builder
                .fill_from(r)
                .finish_for(&evaluator)
                .cloned()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<CompactRequest>, String>>()?;
    let inputs = Inputs {
        prepared: &prepared,
        evaluator: &evaluator,
        compact: &compact,
        hops_per_chain: &checked.hops_per_chain,
        cedar: &cedar,
        chains: &chains,
    };
    let cedar_col = Engine::Cedar.column();
    let compact_col = Engine::Compact.column();

    if !args.json {
        println!(
            "standard workload: {} chains (seed {}), {} hops; a chain evaluator evaluates {} (it stops at the first denied hop)",
            args.cases, args.seed, prepared.hops, checked.hops_evaluated
        );
        println!(
            "same decisions on all {} hops (fastiam compiled on Request = on CompactRequest = cedar; compiled = reference on every chain): hops Allow {}, ExplicitDeny {}, ImplicitDeny {}; chains Allow {}, ExplicitDeny {}, ImplicitDeny {}",
            prepared.hops, checked.hops[0], checked.hops[1], checked.hops[2], checked.chains[0], checked.chains[1], checked.chains[2]
        );
    }
    let rounds = timing::rounds(
        &inputs,
        &args.engines,
        args.rounds,
        args.min_time,
        |round, rates| {
            if !args.json {
                let ratio = rates[compact_col] / rates[cedar_col];
                println!(
                    "round {}: {}{}",
                    round + 1,
                    ENGINES
                        .iter()
                        .zip(rates)
                        .filter(|(_, r)| r.is_finite())
                        .map(|(e, r)| format!("{} {:.0}", e.name(), r))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if ratio.is_finite() {
                        format!("; compact / cedar {ratio:.1}x")
                    } else {
                        String::new()
                    }
                );
            }
        },
    );
    let column = |e: Engine| median(rounds.iter().map(|r| r[e.column()]).collect());
    let per_round = |a: Engine, b: Engine| -> Vec<f64> {
        rounds
            .iter()
            .map(|r| r[a.column()] / r[b.column()])
            .collect()
    };
    let hops_all = prepared.hops;
    if args.json {
        let engines: Vec<_> = args
            .engines
            .iter()
            .map(|&e| {
                json!({"engine": e.name(), "median_hops_per_second": column(e),
                       "per_round": rounds.iter().map(|r| r[e.column()]).collect::<Vec<_>>()})
            })
            .collect();
        let ratios: serde_json::Map<String, serde_json::Value> = RATIOS
            .iter()
            .map(|&(a, b, _)| {
                let v = per_round(a, b);
                (
                    ratio_key(a, b),
                    json!({"median": median(v.clone()), "per_round": v}),
                )
            })
            .collect();
        println!(
            "{}",
            json!({
                "workload": {"generator": "standard", "cases": args.cases, "seed": args.seed,
                             "hops": hops_all, "hops_evaluated": checked.hops_evaluated},
                "cedar_policy": "4.14.1",
                "decisions_equal_on_every_hop": true,
                "hop_decisions": {"Allow": checked.hops[0], "ExplicitDeny": checked.hops[1], "ImplicitDeny": checked.hops[2]},
                "chain_decisions": {"Allow": checked.chains[0], "ExplicitDeny": checked.chains[1], "ImplicitDeny": checked.chains[2]},
                "rounds": args.rounds,
                "seconds_per_engine_and_round": args.min_time.as_secs_f64(),
                "engines": engines,
                "ratios": ratios,
                "cedar_request_build_per_second": hops_all as f64 / cedar_build_seconds,
            })
        );
        return Ok(());
    }
    println!(
        "one thread, {} interleaved rounds of at least {:.1} s per engine; medians:",
        args.rounds,
        args.min_time.as_secs_f64()
    );
    println!("{:<22} {:>12} {:>10}", "engine", "hops/s", "ns/hop");
    for &e in &args.engines {
        let r = column(e);
        println!("{:<22} {:>12.0} {:>10.1}", e.name(), r, 1e9 / r);
    }
    for (a, b, label) in RATIOS {
        let v = per_round(a, b);
        if !v.iter().all(|x| x.is_finite()) {
            continue; // an engine not timed
        }
        let list: Vec<String> = v.iter().map(|x| format!("{x:.1}")).collect();
        println!(
            "{label:<29} {:>6.1}x  (rounds: {})",
            median(v.clone()),
            list.join(", ")
        );
    }
    println!(
        "(hops/s count the same hops on all rows: up to each chain's first denied hop; \"cedar, every hop\" counts all {hops_all}; \"compact build alone\" counts the hops the chains it builds evaluate. Building cedar's requests from the derived contexts, untimed above: {:.0} hops/s)",
        hops_all as f64 / cedar_build_seconds
    );
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cedar-compare: {e}");
            ExitCode::from(2)
        }
    }
}
