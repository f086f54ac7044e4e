//! Building an [`Evaluator`]: the tables it adds to a program's, once per program.
//!
//! It hashes the key names and the action index, resolves the resource patterns, parses the
//! glob pieces of text tokens, resolves condition value tests, derives the slots each shape
//! of principal takes (`slots`), tabulates the candidates of every action the index names
//! (`tabulate`) and lays out their residual programs (`residual`). This costs time
//! proportional to the program — about 62M instructions and 8.6 MB of tables for all 1,645
//! AWS managed policies, a third of it laying out and verifying residual programs and a
//! quarter tabulating candidates (BENCHMARKS.md, "The evaluator build, `build`", and "The
//! evaluator build, second round") — and takes work off every request.

use super::slots::{fixed_id, SetValue};
use crate::bytecode::*;
use crate::primitives;
use crate::request::{called_via_keys, forwarded_hop_sets, ForwardedValue, PRINCIPAL_DEFAULT_KEYS};
use crate::table::ProgramView;

use super::candidates::{globs_by_pattern, in_resource_policy, resource_policy_statements};
use super::glob_heads::GlobHeads;
use super::resource_plan::{Heads, ResourcePlan};
use super::str_table::StrTable;
use super::value_test::ValueTests;
use super::{dialect_index, Evaluator, Special};

/// The statements from which [`Evaluator::from_view`] builds on two threads (see
/// [`Evaluator::from_view_parallel`]): none, by default. On this project's 2-core machine,
/// busy with other work, the parallel build of the 1,645 managed policies measured no
/// faster than the sequential one (its medians 1–4 ms slower in most sets, BENCHMARKS.md,
/// "`buildpar`"): there was no idle core for the second thread, and it costs 0.8% more
/// instructions. A caller with idle cores asks for it with `from_view_parallel`.
pub const PARALLEL_BUILD_STATEMENTS: usize = usize::MAX;

/// `a` and `b`, on two threads when `parallel`: `a` on this thread, `b` handed to the
/// current rayon pool. This thread keeps working rather than waiting for the pool (a
/// `rayon::join` called from outside the pool hands both to it and sleeps: measured
/// 1.3 ms slower than the sequential build on the loaded 2-core machine); called from
/// inside a pool, it takes other tasks while it waits for `b`, so a build inside a pool's
/// task cannot deadlock.
pub(super) fn join_if<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    let mut b_out = None;
    let a_out = rayon::in_place_scope(|scope| {
        scope.spawn(|_| b_out = Some(b()));
        a()
    });
    (a_out, b_out.expect("the scope waits for its tasks"))
}

impl<'p> Evaluator<'p> {
    /// Evaluates with already-borrowed tables (on two threads for a program of
    /// [`PARALLEL_BUILD_STATEMENTS`] statements or more). Inlined: a profile's
    /// `--toggle-collect='*Evaluator*from_view*'` then names one function.
    #[inline]
    pub fn from_view(v: ProgramView<'p>) -> Self {
        Evaluator::from_view_parallel(v, PARALLEL_BUILD_STATEMENTS)
    }

    /// [`Evaluator::from_view`], built on this thread and one of the current rayon pool's
    /// (the global one, or the one this is called in: `rayon::ThreadPool::install`) when
    /// the program has at least `min_statements` statements and the pool more than one
    /// thread; otherwise on this thread alone (`usize::MAX`, or `RAYON_NUM_THREADS=1`).
    /// Either way the tables are the same: this thread builds the exact actions' lists and
    /// then the first half of the action programs, the pool the resource plans and the
    /// statements' blocks, the service classes with their class clauses, and the second
    /// half of the programs; the parts are joined in a fixed order. Called from inside a
    /// pool's task, this thread takes other tasks while it waits (no deadlock).
    ///
    /// ```
    /// let program = fastiam::compile::compile(&Default::default()).unwrap();
    /// let sequential = fastiam::eval::Evaluator::from_view_parallel(program.view(), usize::MAX);
    /// let parallel = fastiam::eval::Evaluator::from_view_parallel(program.view(), 0);
    /// assert_eq!(sequential.table_bytes(), parallel.table_bytes());
    /// ```
    pub fn from_view_parallel(v: ProgramView<'p>, min_statements: usize) -> Self {
        let parallel = v.statements.len() >= min_statements && rayon::current_num_threads() > 1;
        let meta = v.meta.first().copied().unwrap_or_default();
        let s = |id: StrId| {
            let r = v.string_index[id as usize];
            &v.strings[r.start as usize..(r.start + r.len) as usize]
        };
        let key_ids = StrTable::new(
            v.keys
                .iter()
                .enumerate()
                .map(|(i, k)| (s(k.name), i as KeyId)),
        );
        let services = StrTable::new(
            v.services
                .iter()
                .enumerate()
                .map(|(i, svc)| (s(svc.name), i as u32)),
        );
        // Joined into one buffer: `format!` took 16% of the build (12M instructions on the
        // managed policies' 11,657 actions), a `String` each 4%.
        let mut joined = String::new();
        let mut ends = Vec::with_capacity(v.index_exact.len());
        for svc in v.services {
            let service = s(svc.name);
            for i in svc.exact_first..svc.exact_first + svc.exact_len {
                joined.push_str(service);
                joined.push(':');
                joined.push_str(s(v.index_exact[i as usize].name));
                ends.push((joined.len(), i));
            }
        }
        let starts = std::iter::once(0).chain(ends.iter().map(|(end, _)| *end));
        let exact = StrTable::new(
            starts
                .zip(&ends)
                .map(|(start, &(end, i))| (&joined[start..end], i)),
        );
        let mut text_pieces = Vec::new();
        let token_pieces: Vec<(u32, u32)> = v
            .tokens
            .iter()
            .map(|t| {
                let first = text_pieces.len() as u32;
                if TokenKind::from_code(t.kind) == Some(TokenKind::Text) {
                    text_pieces.extend(primitives::parse_wildcards(s(t.a)));
                }
                (first, text_pieces.len() as u32)
            })
            .collect();
        let glob_heads = GlobHeads::new(&v, &token_pieces, &text_pieces);
        let (globs_by_pattern, service_globs) = globs_by_pattern(&v);
        let indexed = |ids: &[StatementId]| -> Vec<StatementId> {
            ids.iter()
                .copied()
                .filter(|id| !in_resource_policy(&v, *id))
                .collect()
        };
        let mut e = Evaluator {
            v,
            meta,
            special: Special {
                time: [None; 2],
                called_via: [[None; 3]; 2],
                sets: [Vec::new(), Vec::new()],
                dropped: Default::default(),
                federated_provider: None,
                principal_defaults: Vec::new(),
            },
            key_ids,
            exact,
            services,
            resource_plans: Vec::new(),
            token_pieces,
            text_pieces,
            principal_shapes: Vec::new(),
            principal_slots: Vec::new(),
            slot_templates: Vec::new(),
            fixed_texts: Vec::new(),
            exact_candidate_ranges: Vec::new(),
            exact_candidates: Vec::new(),
            globs_by_pattern,
            service_globs,
            not_action: indexed(v.index_not_action),
            always: indexed(v.index_always),
            resource_policy_statements: resource_policy_statements(&v),
            value_tests: ValueTests::new(&v, s),
            glob_heads,
            token: super::resolved::next_token(),
            residual: super::residual::Residual::default(),
            class_clauses: Default::default(),
        };
        for d in [Dialect::Aws, Dialect::Huawei] {
            let i = dialect_index(d);
            let cv = called_via_keys(d);
            e.special.called_via[i] = [e.key_id(cv.list), e.key_id(cv.first), e.key_id(cv.last)];
            let mut sets = Vec::new();
            for (k, v) in forwarded_hop_sets(d) {
                let value = match v {
                    ForwardedValue::Fixed(t) => SetValue::Fixed(fixed_id(&mut e.fixed_texts, t)),
                    ForwardedValue::Via => SetValue::Via,
                    ForwardedValue::DefaultFixed(t) => {
                        SetValue::DefaultFixed(fixed_id(&mut e.fixed_texts, t))
                    }
                };
                sets.push((e.key_id(k), value));
            }
            e.special.sets[i] = sets;
        }
        e.special.time = [e.key_id("aws:currenttime"), e.key_id("g:currenttime")];
        e.special.federated_provider = e.key_id("aws:federatedprovider");
        e.special.principal_defaults = PRINCIPAL_DEFAULT_KEYS.iter().map(|k| e.key_id(k)).collect();
        e.tabulate_principal_defaults();
        e.tabulate_dropped_keys();
        // The resource plans and the statements' blocks read none of the candidates: built
        // meanwhile, on one thread (about a quarter of the work).
        let plans_and_blocks = || {
            let mut heads = Heads::default();
            let plans: Vec<_> = (v.resources.iter())
                .map(|r| ResourcePlan::new(r, v.matchers, &s, &mut heads))
                .collect();
            let blocks = super::residual::blocks(&e, &plans);
            (plans, blocks)
        };
        let (tabulated, (plans, blocks)) =
            join_if(parallel, || e.tabulate(parallel), plans_and_blocks);
        e.resource_plans = plans;
        if let Some(t) = tabulated {
            e.exact_candidates = t.table;
            e.exact_candidate_ranges = t.ranges;
            e.class_clauses = t.class_clauses;
        }
        e.residual = super::residual::build(&e, blocks, parallel);
        e
    }

    /// The bytes of the tables this evaluator adds to its program's (the program's own
    /// tables are borrowed, not counted): its hash tables, resolved resource patterns and
    /// value tests, parsed glob pieces, principal slots and tabulated candidates, as
    /// allocated. An evaluator is built once per program; this is what it keeps.
    pub fn table_bytes(&self) -> usize {
        self.table_parts().iter().map(|(_, bytes)| bytes).sum()
    }

    /// [`Evaluator::table_bytes`] table by table, as `(name, bytes)` in a fixed order (for
    /// `fastiam inspect`, to see which tables a program makes large).
    pub fn table_parts(&self) -> Vec<(&'static str, usize)> {
        let special = &self.special;
        vec![
            ("key table", self.key_ids.heap_bytes()),
            ("exact-action table", self.exact.heap_bytes()),
            ("service table", self.services.heap_bytes()),
            (
                "resource plans",
                heap_bytes(&self.resource_plans)
                    + self
                        .resource_plans
                        .iter()
                        .map(ResourcePlan::heap_bytes)
                        .sum::<usize>(),
            ),
            (
                "text-token pieces",
                heap_bytes(&self.token_pieces) + heap_bytes(&self.text_pieces),
            ),
            (
                "principal slots and templates",
                heap_bytes(&self.principal_shapes)
                    + heap_bytes(&self.principal_slots)
                    + heap_bytes(&self.slot_templates)
                    + heap_bytes(&self.fixed_texts),
            ),
            (
                "tabulated candidates",
                heap_bytes(&self.exact_candidate_ranges) + heap_bytes(&self.exact_candidates),
            ),
            (
                "globs, not-action and always lists",
                heap_bytes(&self.globs_by_pattern)
                    + heap_bytes(&self.service_globs)
                    + heap_bytes(&self.not_action)
                    + heap_bytes(&self.always)
                    + heap_bytes(&self.resource_policy_statements),
            ),
            ("glob heads", self.glob_heads.heap_bytes()),
            ("value tests", self.value_tests.heap_bytes()),
            (
                "forwarded-hop keys",
                special.sets.iter().map(heap_bytes).sum::<usize>()
                    + special
                        .dropped
                        .iter()
                        .flatten()
                        .map(heap_bytes)
                        .sum::<usize>()
                    + heap_bytes(&special.principal_defaults),
            ),
            ("residual programs", self.residual.heap_bytes()),
            ("class clause patterns", self.class_clauses.heap_bytes()),
        ]
    }
}

/// The bytes a vector holds on the heap: its capacity, not its length.
pub(super) fn heap_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluator_bytes(statements: usize) -> (usize, usize) {
        let statements: Vec<String> = (0..statements)
            .map(|i| {
                format!(
                    r#"{{"Effect":"Allow","Action":"s3:GetObject{i}","Resource":"arn:aws:s3:::b{i}/*"}}"#
                )
            })
            .collect();
        let case = crate::eval::test_case(&statements);
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        (evaluator.table_bytes(), evaluator.tabulated_candidates())
    }

    /// Everything an evaluator's build adds that a run reads, as text: the parallel and the
    /// sequential build must agree on every entry of it.
    fn tables(e: &Evaluator<'_>) -> Vec<String> {
        vec![
            format!("{:?}", (&e.exact_candidates, &e.exact_candidate_ranges)),
            format!("{:?}", e.class_clauses),
            format!("{:?}", e.residual),
            format!("{:?}", e.resource_plans),
            format!("{:?}", (&e.key_ids, &e.exact, &e.services, &e.value_tests)),
            format!(
                "{:?}",
                (&e.token_pieces, &e.text_pieces, &e.principal_slots)
            ),
            format!("{:?}", e.table_parts()),
        ]
    }

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// The managed policies and the case programs built on 2 and 3 threads (in runs of
    /// services and of actions, every part above the threshold) give the sequential
    /// build's tables, entry for entry; and on one thread, asked to be parallel, too.
    #[test]
    fn parallel_build_is_the_sequential_build() {
        let mut programs = vec![crate::eval::tabulate::managed_program()];
        programs.extend(crate::eval::tabulate::case_programs());
        for program in &programs {
            let sequential = Evaluator::from_view_parallel(program.view(), usize::MAX);
            let expected = tables(&sequential);
            for threads in [1, 2, 3] {
                let built =
                    pool(threads).install(|| Evaluator::from_view_parallel(program.view(), 0));
                for (part, (want, got)) in expected.iter().zip(tables(&built)).enumerate() {
                    assert!(
                        *want == got,
                        "{threads} threads: part {part} differs{}",
                        if part == 6 {
                            format!(": {want} {got}")
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
    }

    /// Evaluators built at once from inside a rayon pool's tasks (a Spark-like caller
    /// that builds one per task), and from plain threads, finish (no deadlock) with the
    /// same tables.
    #[test]
    fn builds_inside_a_pool_and_from_many_threads() {
        use rayon::prelude::*;
        let program = crate::eval::tabulate::managed_program();
        let expected = tables(&Evaluator::from_view_parallel(program.view(), usize::MAX));
        let inside: Vec<Vec<String>> = pool(2).install(|| {
            (0..4)
                .into_par_iter()
                .map(|_| tables(&Evaluator::from_view_parallel(program.view(), 0)))
                .collect()
        });
        assert!(inside.iter().all(|t| *t == expected));
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..3)
                .map(|_| scope.spawn(|| tables(&Evaluator::from_view_parallel(program.view(), 0))))
                .collect();
            for t in threads {
                assert!(t.join().unwrap() == expected);
            }
        });
    }

    /// The tables counted include the tabulated candidates and the resolved resource
    /// patterns, and grow with the program.
    #[test]
    fn table_bytes_count_what_the_evaluator_keeps() {
        let (small, small_candidates) = evaluator_bytes(1);
        let (large, large_candidates) = evaluator_bytes(200);
        assert_eq!((small_candidates, large_candidates), (1, 200));
        let per_statement = std::mem::size_of::<ResourcePlan>() + 4;
        assert!(large >= small + 199 * per_statement, "{small} then {large}");
    }
}
