//! Evaluation throughput on the standard workload (seed 42): the compiled engine (on the
//! requests as parsed, and on the same requests packed once before timing) and the
//! reference evaluator on the same requests and policies, and compiling all the policies.
//!
//! Before timing, every request is evaluated by both engines and the results must be equal
//! (decision, reason, matched statements, missing keys), and the counts by decision are
//! printed: a fast wrong answer is not a result.
//!
//! Run: `cargo bench --bench evaluate`. The throughput is in hops evaluated per second
//! (a chain stops at its first denied hop, R-FAS-2).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use fastiam::benchmark::{standard, Prepared};
use fastiam::compile::compile;
use fastiam::decision::Decision;
use fastiam::eval::Evaluator;
use fastiam::reference;
use fastiam::request::PackedRequest;

const CASES: usize = 20_000;
/// What the 20,000 chains of seed 42 decide (Allow, ExplicitDeny, ImplicitDeny), and the
/// hops a chain evaluator evaluates (the shared README's figures, and the reference's).
const EXPECTED_DECISIONS: [usize; 3] = [5_000, 8_285, 6_715];
const EXPECTED_HOPS: usize = 22_621;

fn check(prepared: &Prepared) -> usize {
    let program = compile(&prepared.policies).unwrap();
    let evaluator = Evaluator::new(&program);
    let mut scratch = evaluator.scratch();
    let (mut hops, mut counts) = (0, [0usize; 4]);
    for request in &prepared.requests {
        let outcome = evaluator.evaluate(request, &mut scratch);
        let compiled = evaluator.decision(&outcome);
        let oracle = reference::evaluate(request, &prepared.policies);
        assert_eq!(compiled, oracle, "engines disagree");
        hops += compiled.hops.len();
        counts[match compiled.decision {
            Decision::Allow => 0,
            Decision::ExplicitDeny => 1,
            Decision::ImplicitDeny => 2,
            Decision::InvalidCredentials => 3,
        }] += 1;
    }
    eprintln!(
        "standard workload, {} chains, {hops} hops evaluated ({} in all): Allow {}, ExplicitDeny {}, ImplicitDeny {}",
        prepared.requests.len(),
        prepared.hops,
        counts[0],
        counts[1],
        counts[2]
    );
    assert_eq!(counts[..3], EXPECTED_DECISIONS);
    assert_eq!(hops, EXPECTED_HOPS);
    hops
}

fn evaluation(c: &mut Criterion) {
    let prepared = standard(CASES, 42).unwrap();
    let hops = check(&prepared);
    let program = compile(&prepared.policies).unwrap();
    let evaluator = Evaluator::new(&program);
    let mut scratch = evaluator.scratch();

    let mut group = c.benchmark_group("standard_workload");
    group.throughput(Throughput::Elements(hops as u64));
    group.sample_size(20);
    group.bench_function("compiled", |b| {
        b.iter(|| {
            for request in &prepared.requests {
                black_box(
                    evaluator
                        .evaluate(black_box(request), &mut scratch)
                        .decision,
                );
            }
        })
    });
    let packed: Vec<PackedRequest> = prepared
        .requests
        .iter()
        .map(PackedRequest::from_request)
        .collect();
    group.bench_function("compiled_packed", |b| {
        b.iter(|| {
            for request in &packed {
                black_box(
                    evaluator
                        .evaluate(black_box(request), &mut scratch)
                        .decision,
                );
            }
        })
    });
    group.sample_size(10);
    group.bench_function("reference", |b| {
        b.iter(|| {
            for request in &prepared.requests {
                black_box(reference::evaluate(black_box(request), &prepared.policies).decision);
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("compile");
    group.bench_function("standard_policies", |b| {
        b.iter_batched(
            || prepared.policies.clone(),
            |set| compile(&set).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
