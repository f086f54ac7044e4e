//! Runs the compiled engine over the standard workload in a loop, for profilers
//! (`perf record`, `valgrind --tool=callgrind`):
//! `cargo run --release --example profile_eval [ROUNDS] [CHAINS] [packed|request|compact|compact-batch|lazy|build|build-lazy] [general]`.
//!
//! `packed` (the default) packs every request once before timing and evaluates the packed
//! requests; `request` evaluates the [`fastiam::request::Request`]s as they are; `compact`
//! builds every request once into a [`fastiam::request::CompactRequest`] resolved against
//! the evaluator (keys and actions by id), and `compact-batch` evaluates those through
//! [`fastiam::eval::Evaluator::evaluate_each`] (the next request's lines asked for while one
//! is evaluated); `lazy` builds into requests built without the evaluator (keys by name). `build` and `build-lazy` build each request
//! per chain, inside the loop, from its strings through one reused `RequestBuilder` (as a C
//! caller's `fastiam_builder_build`), then evaluate it: profile `build_and_evaluate`. `general` evaluates without the residual programs
//! ([`fastiam::eval::Evaluator::general`]), so that one binary times both paths.

use fastiam::eval::{Evaluator, Scratch};
use fastiam::request::{CompactRequest, Request, RequestBuilder};

#[path = "c/build_compact.rs"]
mod build_compact;

/// One chain built from its strings and evaluated (never inlined: profilers find it).
#[inline(never)]
fn build_and_evaluate(
    builder: &mut RequestBuilder,
    evaluator: &Evaluator<'_>,
    scratch: &mut Scratch,
    request: &Request,
    resolved: bool,
) -> usize {
    let resolver: Option<&dyn fastiam::request::compact::Resolver> =
        if resolved { Some(evaluator) } else { None };
    let built = build_compact::build_compact(builder, request, resolver);
    evaluator.evaluate(built, scratch).hops.len()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let cases: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mode = std::env::args().nth(3).unwrap_or_else(|| "packed".into());
    let prepared = fastiam::benchmark::standard(cases, 42).expect("workload");
    let program = fastiam::compile::compile(&prepared.policies).expect("compile");
    let evaluator = if std::env::args().nth(4).as_deref() == Some("general") {
        Evaluator::general(&program)
    } else {
        Evaluator::new(&program)
    };
    let mut scratch = evaluator.scratch();
    let packed: Vec<_> = match mode.as_str() {
        "packed" => prepared
            .requests
            .iter()
            .map(fastiam::request::PackedRequest::from_request)
            .collect(),
        _ => Vec::new(),
    };
    let mut builder = RequestBuilder::new();
    let compact: Vec<CompactRequest> = match mode.as_str() {
        "compact" | "compact-batch" | "lazy" => prepared
            .requests
            .iter()
            .map(|r| {
                builder.fill_from(r);
                let built = match mode.as_str() {
                    "compact" | "compact-batch" => builder.finish_for(&evaluator),
                    _ => builder.finish(),
                };
                built.expect("a valid request").clone()
            })
            .collect(),
        "packed" | "request" | "build" | "build-lazy" => Vec::new(),
        other => {
            eprintln!(
                "unknown mode `{other}`: packed, request, compact, compact-batch, lazy, build or build-lazy"
            );
            std::process::exit(2)
        }
    };
    let started = std::time::Instant::now();
    let mut hops = 0;
    for _ in 0..rounds {
        match mode.as_str() {
            "packed" => {
                for request in &packed {
                    hops += evaluator.evaluate(request, &mut scratch).hops.len();
                }
            }
            "request" => {
                for request in &prepared.requests {
                    hops += evaluator.evaluate(request, &mut scratch).hops.len();
                }
            }
            "build" | "build-lazy" => {
                let resolved = mode == "build";
                for request in &prepared.requests {
                    hops += build_and_evaluate(
                        &mut builder,
                        &evaluator,
                        &mut scratch,
                        request,
                        resolved,
                    );
                }
            }
            "compact-batch" => {
                evaluator.evaluate_each(&compact, &mut scratch, |_, outcome| {
                    hops += outcome.hops.len();
                });
            }
            _ => {
                for request in &compact {
                    hops += evaluator.evaluate(request, &mut scratch).hops.len();
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{hops} hops in {elapsed:.3} s: {:.0} hops/s, {:.1} ns/hop",
        hops as f64 / elapsed,
        elapsed * 1e9 / hops as f64
    );
}
