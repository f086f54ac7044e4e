//! The hot path allocates nothing: after one warm-up pass over a set of requests, a second
//! pass through [`Evaluator::evaluate`] performs zero heap allocations, for a request as
//! parsed and for the same request packed into a reused [`PackedRequest`] (packing
//! included). Counted with a
//! global allocator that counts per thread, so tests running in parallel do not disturb
//! the count. Inputs: the conformance corpus, the spec vectors and the standard workload.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use fastiam::compile::compile;
use fastiam::eval::Evaluator;
use fastiam::request::{parse_case, Chain};
use fastiam::request::{CompactRequest, PackedRequest, RequestBuilder};
use fastiam::table::{AlignedBytes, Program};

use crate::util::read_corpus;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the thread-local
// counter is const-initialised, so touching it never allocates or re-enters.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

pub(crate) fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Groups chains by policy set, compiles each set once, warms a scratch per program with
/// every request, then counts allocations over a second pass. Returns (requests, hops,
/// hops whose action has a residual program, i.e. takes the specialised path).
fn count_hot_path(chains: &[Chain]) -> (usize, usize, usize) {
    let mut programs: HashMap<String, (Program<AlignedBytes>, Vec<&Chain>)> = HashMap::new();
    for chain in chains {
        let key = format!("{:?}", chain.policies);
        programs
            .entry(key)
            .or_insert_with(|| (compile(&chain.policies).unwrap(), Vec::new()))
            .1
            .push(chain);
    }
    let (mut requests, mut hops, mut residual) = (0, 0, 0);
    for (program, group) in programs.values() {
        let evaluator = Evaluator::new(program);
        let mut scratch = evaluator.scratch();
        let mut packed = PackedRequest::default();
        let mut builder = RequestBuilder::new();
        let mut build_and_evaluate = |chain: &Chain, scratch: &mut _| {
            // Through the builder: from the parsed request, and the principal again from
            // its string (the parse path), resolved against the evaluator.
            builder.fill_from(&chain.request);
            let compact = builder.finish_for(&evaluator).unwrap();
            let decision = evaluator.evaluate(compact, scratch).decision;
            builder.clear();
            builder.principal(&chain.request.principal.arn).unwrap();
            builder.hop("s3:GetObject", "*");
            builder.finish().unwrap();
            decision
        };
        for chain in group {
            evaluator.evaluate(&chain.request, &mut scratch);
            packed.pack(&chain.request);
            evaluator.evaluate(&packed, &mut scratch);
            build_and_evaluate(chain, &mut scratch);
            residual += chain
                .request
                .hops
                .iter()
                .filter(|h| evaluator.takes_residual_path(&h.action))
                .count();
        }
        // The batch path: the same requests prebuilt, evaluated by `evaluate_each` (warmed
        // once, then counted with the rest).
        let mut prebuilder = RequestBuilder::new();
        let prebuilt: Vec<CompactRequest> = group
            .iter()
            .map(|c| {
                prebuilder
                    .fill_from(&c.request)
                    .finish_for(&evaluator)
                    .unwrap()
                    .clone()
            })
            .collect();
        let expected: Vec<_> = prebuilt
            .iter()
            .map(|r| evaluator.evaluate(r, &mut scratch).decision)
            .collect();
        let mut batch_decisions = vec![None; prebuilt.len()];
        evaluator.evaluate_each(&prebuilt, &mut scratch, |i, o| {
            batch_decisions[i] = Some(o.decision)
        });
        let before = allocations();
        evaluator.evaluate_each(&prebuilt, &mut scratch, |i, o| {
            batch_decisions[i] = Some(o.decision)
        });
        for chain in group {
            let outcome = evaluator.evaluate(&chain.request, &mut scratch);
            let decision = outcome.decision;
            hops += outcome.hops.len();
            requests += 1;
            // The same request packed, into buffers reused from the previous one.
            packed.pack(&chain.request);
            let again = evaluator.evaluate(&packed, &mut scratch);
            assert!(again.hops.len() <= chain.request.hops.len());
            assert_eq!(build_and_evaluate(chain, &mut scratch), decision);
        }
        let during = allocations() - before;
        let batch: Vec<_> = batch_decisions.into_iter().map(Option::unwrap).collect();
        assert_eq!(batch, expected, "the batch decides as one at a time");
        assert_eq!(
            during,
            0,
            "{during} allocations while evaluating {} warmed requests",
            group.len()
        );
    }
    (requests, hops, residual)
}

fn corpus_chains(file: &str) -> Vec<Chain> {
    read_corpus(file)
        .lines()
        .map(|l| parse_case(l, file).unwrap().chain)
        .collect()
}

#[test]
fn conformance_and_vectors_evaluate_without_allocating() {
    let mut chains = corpus_chains("conformance/hand.jsonl");
    chains.extend(corpus_chains("conformance/fas.jsonl"));
    chains.extend(corpus_chains("spec/vectors.jsonl"));
    let (requests, hops, residual) = count_hot_path(&chains);
    assert!(residual > 0, "no hop took a residual program");
    assert_eq!(requests, 44 + 129 + 175);
    assert_eq!(
        hops, 486,
        "hops evaluated (chains stop at the first denied hop)"
    );
}

#[test]
fn standard_workload_evaluates_without_allocating() {
    let workload = fastiam::workload::generate(2_000, 42, true);
    let chains: Vec<Chain> = workload
        .cases
        .iter()
        .map(|l| parse_case(l, "workload").unwrap().chain)
        .collect();
    let (requests, hops, residual) = count_hot_path(&chains);
    assert!(
        residual * 2 > hops,
        "{residual} of {hops} hops took a residual program"
    );
    assert_eq!(requests, 2_000);
    assert_eq!(
        hops,
        workload.shapes.hops() - uncounted_after_denial(&chains)
    );
}

/// Hops after a denied hop are not evaluated (R-FAS-2); the reference tells how many.
fn uncounted_after_denial(chains: &[Chain]) -> usize {
    chains
        .iter()
        .map(|c| c.request.hops.len() - fastiam::reference::evaluate_chain(c).hops.len())
        .sum()
}

/// The counter sees allocations (so a zero above means something), and evaluating with a
/// fresh scratch, or converting an outcome to owned decisions, does allocate.
#[test]
fn the_counter_counts() {
    let before = allocations();
    let v: Vec<u8> = Vec::with_capacity(16);
    drop(v);
    assert_eq!(allocations() - before, 1);

    let chain = &corpus_chains("conformance/hand.jsonl")[0];
    let program = compile(&chain.policies).unwrap();
    let evaluator = Evaluator::new(&program);
    let before = allocations();
    let mut scratch = evaluator.scratch();
    let outcome = evaluator.evaluate(&chain.request, &mut scratch);
    let owned = evaluator.decision(&outcome);
    assert!(
        allocations() - before > 3,
        "scratch and owned decision allocate"
    );
    assert_eq!(owned, fastiam::reference::evaluate_chain(chain));
}
