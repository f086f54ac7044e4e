//! The standard workload, prepared for timing: one policy set, many policy-free requests.
//!
//! The generated cases ([`crate::workload`]) carry the same 3 identity policies (or none,
//! with `inline_policies = false`) and, on KMS hops, the same key policy inline. For
//! timing, the identity policies are compiled once and the key policy becomes resource
//! slot 0 that every KMS hop names, so each engine evaluates exactly the requests of the
//! cases against exactly their policies, without re-reading them per request.
//!
//! [`check`] is the gate every benchmark passes before timing (both engines, every chain,
//! full equality); [`run`] is `fastiam bench`; [`scaling`] builds the workloads of the
//! scaling curves (policy-set size, chain length) and [`rounds`] times them.
//!
//! ```
//! let prepared = fastiam::benchmark::standard(200, 42).unwrap();
//! assert_eq!(prepared.requests.len(), 200);
//! assert_eq!(prepared.policies.identity.len(), 3);
//! ```

pub mod rounds;
pub mod scaling;

use crate::policy::{parse_policy, ParseOptions, Policy, PolicyKind};
use crate::request::{
    parse_case, CompactRequest, PackedRequest, PolicySet, Request, RequestBuilder, RequestView,
};
use crate::workload;

/// A workload ready to evaluate: the policy set and the requests.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub policies: PolicySet,
    pub requests: Vec<Request>,
    /// Hops in all requests (evaluation stops at a denied hop, so fewer are evaluated).
    pub hops: usize,
}

/// Generates `n` standard cases with `seed` and prepares them.
pub fn standard(n: usize, seed: u64) -> Result<Prepared, String> {
    let mut identity = Vec::new();
    let policies: serde_json::Value =
        serde_json::from_str(&workload::policies_json()).map_err(|e| e.to_string())?;
    for entry in policies["identityPolicies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = entry["name"].as_str().unwrap_or("policy");
        let text = entry["policy"].to_string();
        let policy = parse_policy(&text, name, &ParseOptions::new(PolicyKind::Identity))
            .map_err(|e| e.to_string())?;
        identity.push(policy);
    }
    let mut key_policy: Option<Policy> = None;
    let mut requests = Vec::with_capacity(n);
    let mut hops = 0;
    let mut failure = None;
    workload::generate_each(n, seed, false, |line| {
        if failure.is_some() {
            return;
        }
        match prepare_line(line, &mut key_policy) {
            Ok(request) => {
                hops += request.hops.len();
                requests.push(request);
            }
            Err(e) => failure = Some(e),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    // Parsing interleaves each request's allocations with the JSON tree's; cloning them
    // once lays each request's strings out together, as a freshly built request is.
    let requests = requests.to_vec();
    Ok(Prepared {
        policies: PolicySet {
            identity,
            resource: key_policy.into_iter().collect(),
            ..PolicySet::default()
        },
        requests,
        hops,
    })
}

/// Reads one case; its inline resource policy must be the workload's one key policy,
/// which becomes slot 0.
fn prepare_line(line: &str, key_policy: &mut Option<Policy>) -> Result<Request, String> {
    let case = parse_case(line, "workload").map_err(|e| e.to_string())?;
    let mut request = case.chain.request;
    for hop in &mut request.hops {
        let Some(slot) = hop.resource_policy else {
            continue;
        };
        let policy = &case.chain.policies.resource[slot];
        match key_policy {
            None => {
                let mut shared = policy.clone();
                shared.id = "key-policy".into();
                *key_policy = Some(shared);
            }
            Some(shared)
                if shared.statements == policy.statements && shared.version == policy.version => {}
            Some(_) => {
                return Err(format!(
                    "case {}: a resource policy other than the key policy",
                    case.id
                ))
            }
        }
        hop.resource_policy = Some(0);
    }
    Ok(request)
}

/// Which engines a benchmark run times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engines {
    Compiled,
    Reference,
    Both,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub cases: usize,
    pub seed: u64,
    pub threads: usize,
    pub engines: Engines,
    /// Minimum time per measurement.
    pub min_time: std::time::Duration,
}

/// One engine's figures.
#[derive(Clone, Debug)]
pub struct EngineFigures {
    pub engine: &'static str,
    pub threads: usize,
    /// Chain decisions per second (one decision per chain, whatever its length).
    pub decisions_per_second: f64,
    pub hops_per_second: f64,
    pub ns_per_hop: f64,
    /// Per-chain latency percentiles, nanoseconds (single thread, includes timer cost).
    pub p50_ns: f64,
    pub p99_ns: f64,
}

/// A benchmark run's report.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub cases: usize,
    pub seed: u64,
    pub hops_in_requests: usize,
    pub hops_evaluated: usize,
    pub allow: usize,
    pub explicit_deny: usize,
    pub implicit_deny: usize,
    pub results: Vec<EngineFigures>,
    /// Peak resident memory of the process, bytes (from /proc; 0 where unavailable).
    pub peak_memory_bytes: u64,
}

/// Runs the standard workload: checks that both engines agree on every chain, then times.
pub fn run(config: &BenchConfig) -> Result<BenchReport, String> {
    use crate::eval::Evaluator;

    let prepared = standard(config.cases, config.seed)?;
    let program = crate::compile::compile(&prepared.policies).map_err(|e| e.to_string())?;
    let evaluator = Evaluator::new(&program);
    let mut scratch = evaluator.scratch();
    let checked = check(&prepared, &evaluator)?;
    let mut report = BenchReport {
        cases: config.cases,
        seed: config.seed,
        hops_in_requests: prepared.hops,
        hops_evaluated: checked.hops_evaluated,
        allow: checked.decisions[0],
        explicit_deny: checked.decisions[1],
        implicit_deny: checked.decisions[2],
        results: Vec::new(),
        peak_memory_bytes: 0,
    };
    let hops = report.hops_evaluated;
    if config.engines != Engines::Reference {
        let mut rows = |name, requests: Rows<'_>| -> Result<(), String> {
            for threads in thread_counts(config.threads) {
                let (rate, p50, p99) = match requests {
                    Rows::Request(r) => evaluate_rows(&evaluator, r, threads, config.min_time),
                    Rows::Packed(r) => evaluate_rows(&evaluator, r, threads, config.min_time),
                    Rows::Compact(r) => evaluate_rows(&evaluator, r, threads, config.min_time),
                }?;
                let row = figures(name, threads, rate, &prepared, hops, p50, p99);
                report.results.push(row);
            }
            Ok(())
        };
        rows("compiled", Rows::Request(&prepared.requests))?;
        // The same requests packed once, before timing (`check` compared their decisions
        // too): what a caller that keeps requests in memory gets.
        let packed: Vec<PackedRequest> = prepared
            .requests
            .iter()
            .map(PackedRequest::from_request)
            .collect();
        rows("compiled-packed", Rows::Packed(&packed))?;
        // Compact requests (issue 17) built against the evaluator once, before timing.
        let mut builder = RequestBuilder::new();
        let mut compact = Vec::with_capacity(prepared.requests.len());
        for r in &prepared.requests {
            builder.fill_from(r);
            compact.push(
                builder
                    .finish_for(&evaluator)
                    .map_err(|e| e.to_string())?
                    .clone(),
            );
        }
        rows("compiled-compact", Rows::Compact(&compact))?;
        // The same requests through `evaluate_each`, which asks for the next request's cache
        // lines while evaluating one. A batch has no per-chain latency: p50/p99 not measured.
        for threads in thread_counts(config.threads) {
            let rate = throughput(&compact, threads, config.min_time, |reqs| {
                let mut scratch = evaluator.scratch();
                evaluator.evaluate_each(reqs, &mut scratch, |_, o| {
                    std::hint::black_box(o.decision);
                });
            })?;
            let row = figures(
                "compiled-compact-batch",
                threads,
                rate,
                &prepared,
                hops,
                f64::NAN,
                f64::NAN,
            );
            report.results.push(row);
        }
        // Building them, per chain through one reused builder (from the parsed requests:
        // the principal copied, not parsed again), alone and followed by the evaluation.
        for evaluate in [false, true] {
            let build = |b: &mut RequestBuilder, sc: &mut crate::eval::Scratch, r: &Request| {
                b.fill_from(r);
                let built = b.finish_for(&evaluator);
                match built {
                    Ok(c) if evaluate => std::hint::black_box(evaluator.evaluate(c, sc).decision),
                    _ => std::hint::black_box(crate::decision::Decision::Allow),
                };
            };
            let rate = throughput(&prepared.requests, 1, config.min_time, |reqs| {
                let (mut b, mut sc) = (RequestBuilder::new(), evaluator.scratch());
                reqs.iter().for_each(|r| build(&mut b, &mut sc, r));
            })?;
            let (p50, p99) =
                latencies(&prepared.requests, |r| build(&mut builder, &mut scratch, r));
            let name = if evaluate {
                "compact-build+eval"
            } else {
                "compact-build"
            };
            report
                .results
                .push(figures(name, 1, rate, &prepared, hops, p50, p99));
        }
    }
    if config.engines != Engines::Compiled {
        let rate = throughput(&prepared.requests, 1, config.min_time, |reqs| {
            for r in reqs {
                std::hint::black_box(crate::reference::evaluate(r, &prepared.policies).decision);
            }
        })?;
        let (p50, p99) = latencies(&prepared.requests, |r| {
            std::hint::black_box(crate::reference::evaluate(r, &prepared.policies).decision);
        });
        report
            .results
            .push(figures("reference", 1, rate, &prepared, hops, p50, p99));
    }
    report.peak_memory_bytes = peak_memory();
    Ok(report)
}

/// The requests of one row of the compiled engine, in one of its input layouts.
#[derive(Clone, Copy)]
enum Rows<'a> {
    Request(&'a [Request]),
    Packed(&'a [PackedRequest]),
    Compact(&'a [CompactRequest]),
}

/// Times the evaluation of `requests` on `threads` threads, and the single-thread
/// per-chain latency percentiles: (chains per second, p50 ns, p99 ns).
fn evaluate_rows<R: RequestView + Sync>(
    evaluator: &crate::eval::Evaluator<'_>,
    requests: &[R],
    threads: usize,
    min_time: std::time::Duration,
) -> Result<(f64, f64, f64), String> {
    let rate = throughput(requests, threads, min_time, |reqs| {
        let mut scratch = evaluator.scratch();
        for r in reqs {
            std::hint::black_box(evaluator.evaluate(r, &mut scratch).decision);
        }
    })?;
    let mut scratch = evaluator.scratch();
    let (p50, p99) = latencies(requests, |r| {
        std::hint::black_box(evaluator.evaluate(r, &mut scratch).decision);
    });
    Ok((rate, p50, p99))
}

/// What [`check`] found: both engines gave these results on every chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Hops evaluated (a chain stops at its first denied hop).
    pub hops_evaluated: usize,
    /// Chain decisions: Allow, ExplicitDeny, ImplicitDeny (InvalidCredentials counts as
    /// ImplicitDeny; no generated workload has credentials).
    pub decisions: [usize; 3],
}

/// A fast wrong answer is not a result: evaluates every chain with the compiled engine (the
/// request as it is, packed, and compact) and the reference evaluator, fails on the first difference
/// (decision, reason, matched statements, missing keys), and counts the decisions.
pub fn check(prepared: &Prepared, evaluator: &crate::eval::Evaluator) -> Result<Checked, String> {
    use crate::decision::Decision;
    let mut scratch = evaluator.scratch();
    let mut checked = Checked::default();
    let mut packed = PackedRequest::default();
    let mut builder = RequestBuilder::new();
    for (i, request) in prepared.requests.iter().enumerate() {
        let outcome = evaluator.evaluate(request, &mut scratch);
        let compiled = evaluator.decision(&outcome);
        let oracle = crate::reference::evaluate(request, &prepared.policies);
        if compiled != oracle {
            return Err(format!(
                "chain {i}: the engines disagree; compiled {compiled:?}, reference {oracle:?}"
            ));
        }
        packed.pack(request);
        let from_packed = evaluator.decision(&evaluator.evaluate(&packed, &mut scratch));
        if from_packed != compiled {
            return Err(format!(
                "chain {i}: the packed request disagrees; {from_packed:?}, not {compiled:?}"
            ));
        }
        builder.fill_from(request);
        let built = builder
            .finish_for(evaluator)
            .map_err(|e| format!("chain {i}: {e}"))?;
        let from_compact = evaluator.decision(&evaluator.evaluate(built, &mut scratch));
        if from_compact != compiled {
            return Err(format!(
                "chain {i}: the compact request disagrees; {from_compact:?}, not {compiled:?}"
            ));
        }
        checked.hops_evaluated += compiled.hops.len();
        checked.decisions[match compiled.decision {
            Decision::Allow => 0,
            Decision::ExplicitDeny => 1,
            _ => 2,
        }] += 1;
    }
    Ok(checked)
}

/// 1, then each doubling up to `max`, then `max`.
fn thread_counts(max: usize) -> Vec<usize> {
    let mut counts = vec![1];
    let mut n = 2;
    while n < max {
        counts.push(n);
        n *= 2;
    }
    if max > 1 {
        counts.push(max);
    }
    counts
}

fn figures(
    engine: &'static str,
    threads: usize,
    decisions_per_second: f64,
    prepared: &Prepared,
    hops: usize,
    p50_ns: f64,
    p99_ns: f64,
) -> EngineFigures {
    let hops_per_second = decisions_per_second * hops as f64 / prepared.requests.len() as f64;
    EngineFigures {
        engine,
        threads,
        decisions_per_second,
        hops_per_second,
        ns_per_hop: 1e9 / hops_per_second,
        p50_ns,
        p99_ns,
    }
}

/// Chains per second over whole passes of `requests`, split into one part per thread of a
/// rayon pool of `threads`, repeated until `min_time` has passed. `work` makes its own
/// scratch per part, so each worker evaluates with its own.
fn throughput<T, F>(
    requests: &[T],
    threads: usize,
    min_time: std::time::Duration,
    work: F,
) -> Result<f64, String>
where
    T: Sync,
    F: Fn(&[T]) + Sync,
{
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| format!("thread pool of {threads}: {e}"))?;
    let chunk = requests.len().div_ceil(threads.max(1)).max(1);
    let started = std::time::Instant::now();
    let mut passes = 0usize;
    while passes == 0 || started.elapsed() < min_time {
        pool.install(|| requests.par_chunks(chunk).for_each(&work));
        passes += 1;
    }
    Ok((passes * requests.len()) as f64 / started.elapsed().as_secs_f64())
}

/// p50 and p99 of single-chain evaluation times (one pass, single thread).
fn latencies<T>(requests: &[T], mut one: impl FnMut(&T)) -> (f64, f64) {
    let mut times: Vec<u64> = requests
        .iter()
        .map(|r| {
            let t = std::time::Instant::now();
            one(r);
            t.elapsed().as_nanos() as u64
        })
        .collect();
    times.sort_unstable();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0) as f64
    };
    (at(0.50), at(0.99))
}

/// Peak resident set size from /proc/self/status (`VmHWM`), in bytes.
fn peak_memory() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

impl BenchReport {
    /// The report as JSON (`fastiam bench --json`).
    pub fn to_json(&self) -> serde_json::Value {
        let results: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "engine": r.engine,
                    "threads": r.threads,
                    "decisions_per_second": r.decisions_per_second,
                    "hops_per_second": r.hops_per_second,
                    "ns_per_hop": r.ns_per_hop,
                    "p50_ns_per_chain": r.p50_ns,
                    "p99_ns_per_chain": r.p99_ns,
                })
            })
            .collect();
        serde_json::json!({
            "workload": {"generator": "standard", "cases": self.cases, "seed": self.seed,
                         "hops_in_requests": self.hops_in_requests, "hops_evaluated": self.hops_evaluated},
            "decisions": {"Allow": self.allow, "ExplicitDeny": self.explicit_deny, "ImplicitDeny": self.implicit_deny},
            "results": results,
            "peak_memory_bytes": self.peak_memory_bytes,
        })
    }
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "standard workload: {} chains (seed {}), {} hops ({} evaluated: chains stop at a denied hop)",
            self.cases, self.seed, self.hops_in_requests, self.hops_evaluated
        )?;
        writeln!(
            f,
            "decisions (both engines, equal on every chain): Allow {}, ExplicitDeny {}, ImplicitDeny {}",
            self.allow, self.explicit_deny, self.implicit_deny
        )?;
        writeln!(
            f,
            "{:<22} {:>7} {:>14} {:>14} {:>10} {:>12} {:>12}",
            "engine", "threads", "decisions/s", "hops/s", "ns/hop", "p50 ns/chain", "p99 ns/chain"
        )?;
        for r in &self.results {
            writeln!(
                f,
                "{:<22} {:>7} {:>14.0} {:>14.0} {:>10.1} {:>12.0} {:>12.0}",
                r.engine,
                r.threads,
                r.decisions_per_second,
                r.hops_per_second,
                r.ns_per_hop,
                r.p50_ns,
                r.p99_ns
            )?;
        }
        let rate = |name: &str| {
            self.results
                .iter()
                .find(|r| r.engine == name && r.threads == 1)
                .map(|r| r.hops_per_second)
        };
        for engine in [
            "compiled",
            "compiled-packed",
            "compiled-compact",
            "compiled-compact-batch",
        ] {
            if let (Some(c), Some(r)) = (rate(engine), rate("reference")) {
                writeln!(f, "{engine} / reference, one thread: {:.1}x", c / r)?;
            }
        }
        write!(
            f,
            "peak memory: {:.1} MiB",
            self.peak_memory_bytes as f64 / 1048576.0
        )
    }
}
