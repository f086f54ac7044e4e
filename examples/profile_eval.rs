//! Runs the compiled engine over the standard workload in a loop, for profilers
//! (`perf record`, `valgrind --tool=callgrind`): `cargo run --release --example profile_eval [ROUNDS]`.

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let cases: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let prepared = fastiam::benchmark::standard(cases, 42).expect("workload");
    let program = fastiam::compile::compile(&prepared.policies).expect("compile");
    let evaluator = fastiam::eval::Evaluator::new(&program);
    let mut scratch = evaluator.scratch();
    let started = std::time::Instant::now();
    let mut hops = 0;
    for _ in 0..rounds {
        for request in &prepared.requests {
            hops += evaluator.evaluate(request, &mut scratch).hops.len();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{hops} hops in {elapsed:.3} s: {:.0} hops/s, {:.1} ns/hop",
        hops as f64 / elapsed,
        elapsed * 1e9 / hops as f64
    );
}
