//! Replaying a batch of real CloudTrail records: the README's main job, timed stage by stage.
//!
//! Data: the bundled slice of real logs (`corpus/replay/logs`, 698 records in 6 delivery
//! files, one of them gzip) replayed in what-if mode against the bundled data-perimeter SCP
//! (`corpus/replay/policies/network-perimeter-iam-users-scp.json`). Before timing, each stage
//! checks its data gives the README's answer: 698 records read, none unreadable; 637 mapped
//! and 61 unmappable; and the report of a whole replay, 439 allowed, 16 explicitly denied,
//! 182 depending on a key the log does not carry, 61 unmappable — at one thread and at two.
//! A fast wrong answer is not a result.
//!
//! Stages (throughput in records):
//! * `setup/action_map`: the bundled event → action table, which a process builds once (`ActionMap::shared`);
//! * `replay_batch/read_parse`: the files read and parsed into JSON values, one thread;
//! * `replay_batch/map`: the records already in memory, mapped to requests (a fresh
//!   `RecordMapper` each, as `map_record` makes);
//! * `replay_batch/replay_1_thread`, `replay_2_threads`: `replay` over the directory, end to
//!   end (plan, read, parse, map, evaluate, count), in a rayon pool of that many threads.
//!
//! Mapping and evaluating records already in memory cannot be timed apart from reading: the
//! library evaluates a mapped record only inside `replay_to`. Evaluation is what remains
//! of `replay_1_thread` once setup, reading and mapping are taken away.
//!
//! Run: `cargo bench --bench replay` (about half a minute).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
use fastiam::replay::json::Record as Value;
use fastiam::replay::source::read_unit;
use fastiam::replay::RecordMapper;
use fastiam::replay::{
    plan, replay, ActionMap, Guardrails, MapOptions, Position, ReplayOptions, ReplayPolicies,
    Report,
};

/// The README's main job: records, and the report's counts.
const RECORDS: u64 = 698;
const ALLOWED: u64 = 439;
const EXPLICIT_DENY: u64 = 16;
const DEPENDS_ON: u64 = 182;
const UNMAPPABLE: u64 = 61;

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/replay")
        .join(path)
}

fn bundled_scp() -> ReplayPolicies {
    let path = corpus("policies/network-perimeter-iam-users-scp.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let scp = parse_policy(&text, "scp", &ParseOptions::new(PolicyKind::Scp)).unwrap();
    ReplayPolicies::what_if(&Guardrails {
        scp: vec![vec![scp]],
        ..Guardrails::default()
    })
    .unwrap()
}

/// Every record under `inputs`, parsed, with where it came from; panics on a read error.
fn read_records(inputs: &[PathBuf]) -> Vec<(String, Value)> {
    let (units, errors) = plan(inputs);
    assert!(errors.is_empty(), "{errors:?}");
    let mut records = Vec::new();
    for unit in &units {
        let mut each = |at: &Position, parsed: Result<Value, String>| {
            records.push((at.to_string(), parsed.unwrap()));
            true
        };
        read_unit(unit, &mut each).unwrap();
    }
    records
}

/// How many records map to a request, and how many are unmappable.
fn map_all(records: &[(String, Value)], actions: &ActionMap) -> (u64, u64) {
    let options = MapOptions::default();
    let mut mapped = 0;
    for (at, record) in records {
        if black_box(RecordMapper::new().map(record, at, actions, &options)).is_ok() {
            mapped += 1;
        }
    }
    (mapped, records.len() as u64 - mapped)
}

fn assert_main_job(report: &Report, threads: usize) {
    let all = &report.all;
    let found = [
        report.records_seen(),
        all.allowed,
        all.explicit_deny,
        all.implicit_deny,
        all.depends_on,
        report.unmappable_total(),
        report.unreadable.count,
    ];
    let expected = [
        RECORDS,
        ALLOWED,
        EXPLICIT_DENY,
        0,
        DEPENDS_ON,
        UNMAPPABLE,
        0,
    ];
    assert_eq!(
        found, expected,
        "{threads} threads: records, allowed, explicit deny, implicit deny, depends, unmappable, unreadable"
    );
    assert!(!report.interrupted);
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn replay_batch(c: &mut Criterion) {
    let logs = vec![corpus("logs")];
    let policies = bundled_scp();
    let options = ReplayOptions::default();
    let actions = ActionMap::bundled();

    let records = read_records(&logs);
    assert_eq!(records.len() as u64, RECORDS);
    assert_eq!(
        map_all(&records, &actions),
        (RECORDS - UNMAPPABLE, UNMAPPABLE)
    );
    let pools = [(1, pool(1)), (2, pool(2))];
    for (threads, pool) in &pools {
        assert_main_job(
            &pool.install(|| replay(&logs, &policies, &options)),
            *threads,
        );
    }
    eprintln!(
        "bundled logs, what-if against the perimeter SCP: {RECORDS} records, {} mapped; allowed {ALLOWED}, explicit deny {EXPLICIT_DENY}, depends {DEPENDS_ON}, unmappable {UNMAPPABLE} (1 and 2 threads)",
        RECORDS - UNMAPPABLE
    );

    let mut group = c.benchmark_group("setup");
    group.sample_size(20);
    group.bench_function("action_map", |b| b.iter(ActionMap::bundled));
    group.finish();

    let mut group = c.benchmark_group("replay_batch");
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("read_parse", |b| {
        b.iter(|| read_records(black_box(&logs)).len())
    });
    group.bench_function("map", |b| b.iter(|| map_all(black_box(&records), &actions)));
    for (threads, pool) in &pools {
        let name = format!(
            "replay_{threads}_thread{}",
            if *threads > 1 { "s" } else { "" }
        );
        group.bench_function(name, |b| {
            b.iter(|| pool.install(|| replay(black_box(&logs), &policies, &options)))
        });
    }
    group.finish();
}

criterion_group!(benches, replay_batch);
criterion_main!(benches);
