//! Prepares the C example's benchmark and measures the Rust API on the same requests.
//!
//! ```sh
//! cargo run --release --example c_workload -- DIR [CASES] [SECONDS]
//! ```
//!
//! Writes `DIR/workload.fiam` (the standard workload's policies, compiled) and
//! `DIR/workload.requests` (its `CASES` requests, default 20,000, seed 42, with the Rust
//! API's answers; the format is `examples/c/requests.rs`), then times
//! the Rust API over those requests, single thread, for `SECONDS` (default 5) each, in
//! whole passes over all requests with one scratch, as `examples/c/bench.c` times
//! `fastiam_evaluate` over the same requests read from the file:
//! - `prebuilt`: `Evaluator::evaluate` on the `Request`s built once beforehand (the
//!   figure BENCHMARKS.md reports for the engine);
//! - `built per chain`: a `Request` built from the request's strings with the public API
//!   (`Principal::from_arn`, `Context::insert`, the hop defaults), then evaluated and
//!   dropped: the work a Rust service holding strings does per request, as a C caller's
//!   `fastiam_evaluate` does.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fastiam::eval::Evaluator;
use fastiam::request::{
    default_resource_account, default_resource_policy_required, CompactRequest, Context, Hop,
    Options, Principal, PrincipalKind, Request, RequestBuilder,
};
use fastiam::table::Program;

#[path = "c/build_compact.rs"]
mod build_compact;
#[path = "c/requests.rs"]
mod requests;
use build_compact::build_compact;
use requests::{Expected, RequestsWriter};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| {
        eprintln!("usage: c_workload DIR [CASES] [SECONDS]");
        std::process::exit(2)
    }));
    let cases: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seconds: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5.0);
    std::fs::create_dir_all(&dir).expect("create DIR");

    let prepared = fastiam::benchmark::standard(cases, 42).expect("the standard workload");
    let compiled = fastiam::compile::compile(&prepared.policies).expect("compile");
    let program_path = dir.join("workload.fiam");
    std::fs::write(&program_path, compiled.as_bytes()).expect("write the program");
    let program = Program::read(&program_path)
        .expect("read the program")
        .expect("load the program");
    let evaluator = Evaluator::new(&program);

    let file = File::create(dir.join("workload.requests")).expect("create the requests file");
    let mut writer = RequestsWriter::new(BufWriter::new(file)).expect("write");
    writer.program("workload.fiam").expect("write");
    let mut hops_evaluated = 0;
    for request in &prepared.requests {
        let expected = Expected::evaluate(&evaluator, request);
        hops_evaluated += expected.hops.len();
        writer.request(request, &expected).expect("write a request");
    }
    writer.finish().expect("flush");
    println!(
        "wrote {} and {} requests ({} hops evaluated per pass) to {}",
        program_path.display(),
        prepared.requests.len(),
        hops_evaluated,
        dir.display()
    );

    // The per-chain build must make exactly the prebuilt request, or its timing means
    // nothing.
    for (i, request) in prepared.requests.iter().enumerate() {
        assert_eq!(build(request), *request, "request {i}: rebuilt differently");
    }
    let mut scratch = evaluator.scratch();
    let report = |what: &str, elapsed: f64, passes: usize| {
        let chains = (passes * prepared.requests.len()) as f64;
        println!(
            "rust api   ({what:<34}): {:8.1} ns/chain {:10.0} hops/s ({passes} passes)",
            elapsed * 1e9 / chains,
            (passes * hops_evaluated) as f64 / elapsed
        );
    };
    let (elapsed, passes) = timed(seconds, || {
        for request in &prepared.requests {
            std::hint::black_box(evaluator.evaluate(request, &mut scratch).decision);
        }
    });
    report("prebuilt Request, decision only", elapsed, passes);
    let (elapsed, passes) = timed(seconds, || {
        for request in &prepared.requests {
            let built = build(request);
            std::hint::black_box(evaluator.evaluate(&built, &mut scratch).decision);
        }
    });
    report("Request built per chain, decision", elapsed, passes);

    // The compact request (issue 17): built through a reused RequestBuilder from the same
    // strings a C caller passes, per chain, as `fastiam_builder_build` +
    // `fastiam_evaluate_builder` do; and prebuilt.
    let mut builder = RequestBuilder::new();
    for (i, request) in prepared.requests.iter().enumerate() {
        let compact = build_compact(&mut builder, request, Some(&evaluator)).clone();
        let rebuilt = Expected::of(&evaluator.evaluate(&compact, &mut scratch));
        let expected = Expected::evaluate(&evaluator, request);
        assert_eq!(
            rebuilt, expected,
            "request {i}: the compact request answers differently"
        );
    }
    let (elapsed, passes) = timed(seconds, || {
        for request in &prepared.requests {
            let built = build_compact(&mut builder, request, Some(&evaluator));
            std::hint::black_box(evaluator.evaluate(built, &mut scratch).decision);
        }
    });
    report("RequestBuilder per chain, resolved", elapsed, passes);
    let (elapsed, passes) = timed(seconds, || {
        for request in &prepared.requests {
            let built = build_compact(&mut builder, request, None);
            std::hint::black_box(evaluator.evaluate(built, &mut scratch).decision);
        }
    });
    report("RequestBuilder per chain, lazy", elapsed, passes);
    let prebuilt: Vec<CompactRequest> = prepared
        .requests
        .iter()
        .map(|r| build_compact(&mut builder, r, Some(&evaluator)).clone())
        .collect();
    let (elapsed, passes) = timed(seconds, || {
        for request in &prebuilt {
            std::hint::black_box(evaluator.evaluate(request, &mut scratch).decision);
        }
    });
    report("prebuilt CompactRequest, decision", elapsed, passes);
}

/// Whole passes of `pass` until `seconds` have gone by: (elapsed seconds, passes).
fn timed(seconds: f64, mut pass: impl FnMut()) -> (f64, usize) {
    let started = Instant::now();
    let mut passes = 0usize;
    while passes == 0 || started.elapsed() < Duration::from_secs_f64(seconds) {
        pass();
        passes += 1;
    }
    (started.elapsed().as_secs_f64(), passes)
}

/// A `Request` made from `r`'s strings as a Rust caller holding them would make it: the
/// principal parsed, the keys inserted (canonicalised), the hop defaults derived.
fn build(r: &Request) -> Request {
    let context = |given: &Context| {
        let mut ctx = Context::new();
        for (key, value) in given.iter() {
            ctx.insert(key, value.clone()).expect("distinct keys");
        }
        ctx
    };
    let mut principal = Principal::from_arn(&r.principal.arn).expect("a principal");
    if !matches!(
        principal.kind,
        PrincipalKind::Anonymous | PrincipalKind::Service
    ) {
        principal.dialect = r.dialect;
    }
    let hops = r
        .hops
        .iter()
        .map(|h| Hop {
            via: h.via.clone(),
            action: h.action.clone(),
            resource: h.resource.clone(),
            resource_account: default_resource_account(&h.resource),
            resource_policy: h.resource_policy,
            resource_policy_required: default_resource_policy_required(
                r.dialect,
                &h.action,
                &h.resource,
            ),
            requires_no_permission: h.requires_no_permission,
            context: context(&h.context),
        })
        .collect();
    Request {
        dialect: r.dialect,
        principal,
        context: context(&r.context),
        hops,
        options: Options::default(),
        credentials: r.credentials,
    }
}
