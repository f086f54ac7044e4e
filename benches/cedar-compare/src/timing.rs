//! The engines timed, and how: whole passes over the workload for at least a minimum time,
//! one thread, counting hops.
//!
//! Every engine counts the same hops — up to each chain's first denied hop (R-FAS-2), 22,621
//! of the 28,033 on the standard workload — except "cedar, every hop", which counts all of
//! them (what the shared `cedar-bench` measured). The rows a fast fastiam caller would use
//! are the compact ones: `CompactRequest`s built against the evaluator before timing (as
//! Cedar's requests are), and the same built per chain inside the timing (one reused
//! `RequestBuilder`: `fill_from` the parsed request, `finish_for` the evaluator), with the
//! build alone timed as its own row, so that build + evaluation ≈ build alone + prebuilt
//! evaluation can be read off one round. For example, a round of 1 s per engine yields seven
//! rates, and each ratio (say compact / cedar) is taken within that round.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cedar_policy::{Decision as CedarDecision, Request as CedarRequest};
use fastiam::benchmark::Prepared;
use fastiam::eval::{Evaluator, Scratch};
use fastiam::request::compact::{CompactRequest, RequestBuilder};

use crate::cedar::Cedar;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The compiled engine on parsed `Request`s (it resolves keys inside the call).
    Compiled,
    /// The compiled engine on `CompactRequest`s built against it before timing.
    Compact,
    /// Building each chain's `CompactRequest` and evaluating it, both timed.
    CompactBuildEval,
    /// Building each chain's `CompactRequest` alone (no evaluation).
    CompactBuild,
    Reference,
    Cedar,
    CedarEveryHop,
}

/// In the order of the printed columns; each round starts one further along.
pub const ENGINES: [Engine; 7] = [
    Engine::Compiled,
    Engine::Compact,
    Engine::CompactBuildEval,
    Engine::CompactBuild,
    Engine::Reference,
    Engine::Cedar,
    Engine::CedarEveryHop,
];

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Compiled => "fastiam compiled",
            Engine::Compact => "fastiam compact",
            Engine::CompactBuildEval => "compact build+eval",
            Engine::CompactBuild => "compact build alone",
            Engine::Reference => "fastiam reference",
            Engine::Cedar => "cedar is_authorized",
            Engine::CedarEveryHop => "cedar, every hop",
        }
    }

    /// Its name in `--engines` and in the JSON ratios (`compact_over_cedar`).
    pub fn short(self) -> &'static str {
        match self {
            Engine::Compiled => "compiled",
            Engine::Compact => "compact",
            Engine::CompactBuildEval => "compact_build_eval",
            Engine::CompactBuild => "compact_build",
            Engine::Reference => "reference",
            Engine::Cedar => "cedar",
            Engine::CedarEveryHop => "cedar_every_hop",
        }
    }

    /// The engine of a [`Engine::short`] name.
    pub fn from_short(name: &str) -> Option<Engine> {
        ENGINES.into_iter().find(|e| e.short() == name)
    }

    /// Its column in a round's rates.
    pub fn column(self) -> usize {
        ENGINES
            .iter()
            .position(|&e| e == self)
            .expect("every engine is listed")
    }
}

/// Everything the engines run on, built and checked before timing.
pub struct Inputs<'a> {
    pub prepared: &'a Prepared,
    pub evaluator: &'a Evaluator<'a>,
    /// One per chain, built against `evaluator`.
    pub compact: &'a [CompactRequest],
    /// Per chain: the hops a chain evaluator evaluates (from the check).
    pub hops_per_chain: &'a [usize],
    pub cedar: &'a Cedar,
    /// Per chain, one Cedar request per hop.
    pub chains: &'a [Vec<CedarRequest>],
}

/// The buffers the timed calls reuse.
pub struct Reused {
    pub scratch: Scratch,
    pub builder: RequestBuilder,
}

/// Work units per second: whole passes of `pass` (which returns its units) until
/// `min_time` has passed.
fn rate(min_time: Duration, mut pass: impl FnMut() -> usize) -> f64 {
    let started = Instant::now();
    let mut units = 0;
    while units == 0 || started.elapsed() < min_time {
        units += pass();
    }
    units as f64 / started.elapsed().as_secs_f64()
}

/// Hops per second of one engine over the whole workload.
pub fn measure(engine: Engine, inputs: &Inputs, reused: &mut Reused, min_time: Duration) -> f64 {
    let Inputs {
        prepared,
        evaluator,
        compact,
        hops_per_chain,
        cedar,
        chains,
    } = inputs;
    let Reused { scratch, builder } = reused;
    let all_hops: usize = hops_per_chain.iter().sum();
    match engine {
        Engine::Compiled => rate(min_time, || {
            prepared
                .requests
                .iter()
                .map(|r| evaluator.evaluate(black_box(r), scratch).hops.len())
                .sum()
        }),
        Engine::Compact => rate(min_time, || {
            compact
                .iter()
                .map(|r| evaluator.evaluate(black_box(r), scratch).hops.len())
                .sum()
        }),
        Engine::CompactBuildEval => rate(min_time, || {
            let mut hops = 0;
            for r in &prepared.requests {
                // `check` built every request without error: a failure here is a bug.
                let built = builder
                    .fill_from(black_box(r))
                    .finish_for(*evaluator)
                    .expect("checked before timing");
                hops += evaluator.evaluate(built, scratch).hops.len();
            }
            hops
        }),
        Engine::CompactBuild => rate(min_time, || {
            for r in &prepared.requests {
                black_box(
                    builder
                        .fill_from(black_box(r))
                        .finish_for(*evaluator)
                        .expect("checked before timing"),
                );
            }
            all_hops
        }),
        Engine::Reference => rate(min_time, || {
            prepared
                .requests
                .iter()
                .map(|r| {
                    fastiam::reference::evaluate(black_box(r), &prepared.policies)
                        .hops
                        .len()
                })
                .sum()
        }),
        Engine::Cedar => rate(min_time, || {
            let mut hops = 0;
            for chain in chains.iter() {
                for request in chain {
                    hops += 1;
                    let response = cedar.authorizer.is_authorized(
                        black_box(request),
                        &cedar.policies,
                        &cedar.entities,
                    );
                    if response.decision() != CedarDecision::Allow {
                        break;
                    }
                }
            }
            hops
        }),
        Engine::CedarEveryHop => rate(min_time, || {
            let mut hops = 0;
            for request in chains.iter().flatten() {
                hops += 1;
                black_box(cedar.authorizer.is_authorized(
                    black_box(request),
                    &cedar.policies,
                    &cedar.entities,
                ));
            }
            hops
        }),
    }
}

/// Rounds of the `selected` engines, the order rotating each round (so no engine always
/// runs first or right after the same one); `each_round` sees each round's rates as it ends.
/// The rate of an engine not selected is NaN.
pub fn rounds(
    inputs: &Inputs,
    selected: &[Engine],
    rounds: usize,
    min_time: Duration,
    mut each_round: impl FnMut(usize, &[f64; ENGINES.len()]),
) -> Vec<[f64; ENGINES.len()]> {
    let mut reused = Reused {
        scratch: inputs.evaluator.scratch(),
        builder: RequestBuilder::new(),
    };
    let mut all = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut rates = [f64::NAN; ENGINES.len()];
        for i in 0..selected.len() {
            let engine = selected[(i + round) % selected.len()];
            rates[engine.column()] = measure(engine, inputs, &mut reused, min_time);
        }
        each_round(round, &rates);
        all.push(rates);
    }
    all
}
