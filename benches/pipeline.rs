//! Every stage a user pays for, on real data: parsing and compiling policies, loading a
//! compiled program (verified, unchecked, memory-mapped), and deciding one hop and one
//! chain on the compiled engine and on the reference evaluator.
//!
//! Data: the standard workload's 3 policies (20 statements) and all 1,645 AWS managed
//! policies (9,032 statements, `corpus/managed/`). Before timing, each bench checks its
//! data gives the expected answer — statement counts for parsing, and for compiled or
//! loaded programs the decisions of requests compared with the reference evaluator and
//! with the counts written below: a fast wrong answer is not a result.
//!
//! Run: `cargo bench --bench pipeline` (about a minute and a half); `cargo bench --bench
//! pipeline -- evaluator_build` for the evaluator build alone.

use std::hint::black_box;
use std::io::Read;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fastiam::benchmark::{check, scaling, standard, Prepared};
use fastiam::compile::compile;
use fastiam::decision::Decision;
use fastiam::eval::Evaluator;
use fastiam::policy::{parse_policy, ParseOptions, Policy, PolicyKind};
use fastiam::reference;
use fastiam::request::{PolicySet, Request};
use fastiam::table::{AlignedBytes, Program};

/// Policies and statements of the bundled managed corpus.
const MANAGED_POLICIES: usize = 1_645;
const MANAGED_STATEMENTS: usize = 9_032;
/// The program the load benches load: the managed set less its 13 blanket denies
/// (`scaling::is_blanket_deny`: with `AWSDenyAll` in the set every request is denied,
/// which would make a poor check).
const LOADED_STATEMENTS: usize = 9_019;
/// Requests evaluated against that program to check each loaded form, and the decisions
/// they get (Allow, ExplicitDeny, ImplicitDeny).
const LOAD_CHECK_REQUESTS: usize = 1_000;
const LOAD_CHECK_DECISIONS: [usize; 3] = [864, 134, 2];

fn managed_documents() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/managed/policies.tsv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    scaling::read_managed_tsv(&text).unwrap()
}

fn parse_all(documents: &[(String, String)]) -> Vec<Policy> {
    let options = ParseOptions::new(PolicyKind::Identity);
    documents
        .iter()
        .map(|(name, text)| parse_policy(text, name, &options).unwrap())
        .collect()
}

fn statements(policies: &[Policy]) -> usize {
    policies.iter().map(|p| p.statements.len()).sum()
}

fn parsing(c: &mut Criterion) {
    let documents = managed_documents();
    let policies = parse_all(&documents);
    assert_eq!(policies.len(), MANAGED_POLICIES);
    assert_eq!(statements(&policies), MANAGED_STATEMENTS);
    let bytes: usize = documents.iter().map(|(_, d)| d.len()).sum();

    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("managed_1645_policies", |b| {
        b.iter(|| parse_all(black_box(&documents)))
    });
    group.finish();

    let set = PolicySet {
        identity: policies,
        ..PolicySet::default()
    };
    let program = compile(&set).unwrap();
    assert_eq!(program.view().statements.len(), MANAGED_STATEMENTS);
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function("managed_1645_policies", |b| {
        b.iter(|| compile(black_box(&set)).unwrap())
    });
    group.finish();
    evaluator_build(c, &program);
}

/// Building the evaluator of the whole managed set (issue 17: at most 20 ms), with what it
/// keeps: the program's bytes (borrowed) and the evaluator's own tables.
fn evaluator_build(c: &mut Criterion, program: &Program<AlignedBytes>) {
    let evaluator = Evaluator::new(program);
    assert_eq!(evaluator.view().statements.len(), MANAGED_STATEMENTS);
    assert!(
        evaluator.tabulated_candidates() > 0,
        "the candidates are tabulated"
    );
    eprintln!(
        "managed evaluator: program {} bytes; evaluator tables {} bytes ({} tabulated candidates)",
        program.as_bytes().len(),
        evaluator.table_bytes(),
        evaluator.tabulated_candidates()
    );
    let mut group = c.benchmark_group("evaluator_build");
    group.sample_size(20);
    group.bench_function("managed_1645_policies", |b| {
        b.iter(|| Evaluator::new(black_box(program)))
    });
    group.finish();
}

fn assert_decides<B: AsRef<[u8]>>(program: &Program<B>, prepared: &Prepared, form: &str) {
    let checked = check(prepared, &Evaluator::new(program)).unwrap();
    assert_eq!(checked.decisions, LOAD_CHECK_DECISIONS, "{form}");
}

fn loading(c: &mut Criterion) {
    let policies = scaling::parse_managed(&managed_documents(), 42).unwrap();
    let prepared =
        scaling::statements(&policies, LOADED_STATEMENTS, LOAD_CHECK_REQUESTS, 7).unwrap();
    let compiled = compile(&prepared.policies).unwrap();
    assert_eq!(compiled.view().statements.len(), LOADED_STATEMENTS);
    let bytes = AlignedBytes::copy_from(compiled.as_bytes());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("managed.fiam");
    std::fs::write(&path, compiled.as_bytes()).unwrap();
    let file = std::fs::File::open(&path).unwrap();

    assert_decides(&compiled, &prepared, "compiled in memory");
    assert_decides(&Program::from_bytes(&bytes).unwrap(), &prepared, "verified");
    // SAFETY: `bytes` are what `compile` wrote, and `from_bytes` has just accepted them.
    let unchecked = unsafe { Program::from_bytes_unchecked(&bytes) }.unwrap();
    assert_decides(&unchecked, &prepared, "unchecked");
    // SAFETY: the file was written above and nothing modifies it while mapped.
    let mapped = unsafe { Program::map(&file) }.unwrap().unwrap();
    assert_decides(&mapped, &prepared, "mapped");
    eprintln!(
        "managed program: {} bytes, {LOADED_STATEMENTS} statements; {LOAD_CHECK_REQUESTS} requests decide {LOAD_CHECK_DECISIONS:?} (Allow, ExplicitDeny, ImplicitDeny) in every loaded form",
        bytes.as_ref().len()
    );

    let mut group = c.benchmark_group("load_managed_program");
    group.throughput(Throughput::Bytes(bytes.as_ref().len() as u64));
    group.bench_function("verified", |b| {
        b.iter(|| Program::from_bytes(black_box(&bytes)).unwrap())
    });
    group.bench_function("unchecked", |b| {
        // SAFETY: as above, bytes `from_bytes` accepted.
        b.iter(|| unsafe { Program::from_bytes_unchecked(black_box(&bytes)) }.unwrap())
    });
    group.bench_function("mapped_verified", |b| {
        // SAFETY: as above, the file is not modified while mapped.
        b.iter(|| unsafe { Program::map(black_box(&file)) }.unwrap().unwrap())
    });
    group.finish();
}

/// The first request of the standard workload with `hops` hops that is allowed at every
/// hop (so that all its hops are evaluated).
fn allowed_with(prepared: &Prepared, evaluator: &Evaluator, hops: usize) -> Request {
    let mut scratch = evaluator.scratch();
    prepared
        .requests
        .iter()
        .find(|r| {
            r.hops.len() == hops && evaluator.evaluate(*r, &mut scratch).decision == Decision::Allow
        })
        .cloned()
        .unwrap()
}

fn one_hop_and_one_chain(c: &mut Criterion) {
    let prepared = standard(2_000, 42).unwrap();
    let program = compile(&prepared.policies).unwrap();
    let evaluator = Evaluator::new(&program);
    let mut scratch = evaluator.scratch();
    for (name, hops) in [("one_hop", 1), ("one_chain_3_hops", 3)] {
        let request = allowed_with(&prepared, &evaluator, hops);
        let expected = reference::evaluate(&request, &prepared.policies);
        assert_eq!(expected.decision, Decision::Allow);
        assert_eq!(expected.hops.len(), hops);
        let outcome = evaluator.evaluate(&request, &mut scratch);
        assert_eq!(evaluator.decision(&outcome), expected);

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(hops as u64));
        group.bench_function("compiled", |b| {
            b.iter(|| {
                evaluator
                    .evaluate(black_box(&request), &mut scratch)
                    .decision
            })
        });
        group.bench_function("reference", |b| {
            b.iter(|| reference::evaluate(black_box(&request), &prepared.policies).decision)
        });
        group.finish();
    }
}

criterion_group!(benches, parsing, loading, one_hop_and_one_chain);
criterion_main!(benches);
