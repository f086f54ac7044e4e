//! Runs the compiled engine over the standard workload in a loop, for profilers
//! (`perf record`, `valgrind --tool=callgrind`):
//! `cargo run --release --example profile_eval [ROUNDS] [CHAINS] [packed|request] [general]`.
//!
//! `packed` (the default) packs every request once before timing and evaluates the packed
//! requests; `request` evaluates the [`fastiam::request::Request`]s as they are. `general`
//! evaluates without the residual programs ([`fastiam::eval::Evaluator::general`]), so
//! that one binary times both paths.

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let cases: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let packed_input = std::env::args().nth(3).as_deref() != Some("request");
    let prepared = fastiam::benchmark::standard(cases, 42).expect("workload");
    let packed: Vec<_> = prepared
        .requests
        .iter()
        .map(fastiam::request::PackedRequest::from_request)
        .collect();
    let program = fastiam::compile::compile(&prepared.policies).expect("compile");
    let evaluator = if std::env::args().nth(4).as_deref() == Some("general") {
        fastiam::eval::Evaluator::general(&program)
    } else {
        fastiam::eval::Evaluator::new(&program)
    };
    let mut scratch = evaluator.scratch();
    let started = std::time::Instant::now();
    let mut hops = 0;
    for _ in 0..rounds {
        if packed_input {
            for request in &packed {
                hops += evaluator.evaluate(request, &mut scratch).hops.len();
            }
        } else {
            for request in &prepared.requests {
                hops += evaluator.evaluate(request, &mut scratch).hops.len();
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
