//! The zero-allocation interpreter: evaluates a whole chain against a loaded program.
//!
//! An [`Evaluator`] borrows a program's tables and adds its own (built once per program);
//! it reads a request through [`RequestView`], so a [`Request`](crate::request::Request) and a
//! [`PackedRequest`](crate::request::PackedRequest) are both evaluated in place. A
//! [`Scratch`] (one per thread, made by
//! [`Evaluator::scratch`]) holds everything a request needs that can grow: per-key context
//! slots, candidate statements, applied statements, the outputs. After a scratch has seen
//! a request of a given shape, evaluating requests of that shape allocates nothing
//! (proven by the counting-allocator test). Results stay in the scratch
//! ([`ChainOutcome`]); [`Evaluator::decision`] turns one into the owned
//! [`ChainDecision`](crate::decision::ChainDecision) the reference evaluator returns, for
//! comparison and output.
//!
//! How a hop is decided (the same procedure as [`crate::reference`], over tables), one
//! module per phase:
//! 1. **context** (`slots`): each key the program knows has a slot saying where its value is — in the
//!    case context, a hop's own context, the principal, a fixed text, a `via`, or the
//!    CalledVia list. Hop 0 looks each of the request's context keys up once in a key
//!    table; forwarded hops apply the shared FAS rules slot by slot (R-COMP-5);
//! 2. **candidates** (`candidates`): the request action is looked up in the action index (an ASCII action
//!    with its words lower-cased in registers, any other folded first); an action the index
//!    names exactly has its candidates tabulated, all verified, any other gets them from
//!    the index's service globs; only those statements (plus the short always-check list)
//!    are examined;
//! 3. **applicability** (`statement`, `principal`, `matcher`, `compare`): policy participation, principal, resource, then the statement's
//!    referenced keys are checked for absence (R-SIM-4, R-COMP-3) and its conditions run
//!    (the common shapes as value tests resolved per evaluator, `value_test`);
//! 4. **decision** (`decide`): explicit deny, gates, core grant and reason, as R-EVAL-2..7, R-SIM-2a;
//!    matched statements are statement ids, already in R-SIM-3 order.
//!
//! The other modules: `chain` walks the hops in order; `build` makes an evaluator's tables
//! once per program; `outcome` holds the results and the [`Scratch`]; `resource_plan`,
//! `value_test` and `str_table` are the tables `build` resolves (resource patterns, condition
//! value tests, the string hash tables); `residual` lays out, per action the index names
//! exactly, its candidates as typed steps that a hop of that action runs instead of
//! phase 3's general code (`Evaluator::general` builds without them, for comparison).
//!
//! ```
//! use fastiam::request::parse_case;
//! use fastiam::eval::Evaluator;
//! let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//!  "policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!  "Action":"s3:Get*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}]},
//!  "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/a/x"}]}"#, "doc").unwrap();
//! let program = fastiam::compile::compile(&case.chain.policies).unwrap();
//! let evaluator = Evaluator::new(&program);
//! let mut scratch = evaluator.scratch();
//! let outcome = evaluator.evaluate(&case.chain.request, &mut scratch);
//! assert_eq!(outcome.decision, fastiam::decision::Decision::Allow);
//! ```

mod build;
mod candidates;
mod chain;
mod class_clauses;
mod compare;
mod decide;
mod glob_heads;
mod matcher;
mod outcome;
mod principal;
mod residual;
mod resolved;
mod resource_plan;
mod saved;
mod slots;
mod statement;
mod str_table;
mod tabulate;
mod value_test;

use crate::bytecode::*;
use crate::primitives::Piece;
use crate::request::RequestView;
use crate::table::{Program, ProgramView};
use resource_plan::ResourcePlan;
use slots::Slot;
use str_table::StrTable;
use value_test::ValueTests;

pub use build::PARALLEL_BUILD_STATEMENTS;
pub use outcome::{ChainOutcome, HopOutcome, Scratch};
pub use saved::SavedOutcome;

/// Key ids the interpreter needs by name, resolved once per evaluator.
#[derive(Clone, Debug)]
struct Special {
    time: [Option<KeyId>; 2],
    called_via: [[Option<KeyId>; 3]; 2],
    sets: [Vec<(Option<KeyId>, slots::SetValue)>; 2],
    /// Per dialect, then per "source IP preserved": the keys a forwarded hop drops.
    dropped: [[Vec<KeyId>; 2]; 2],
    federated_provider: Option<KeyId>,
    /// Ids of [`crate::request::PRINCIPAL_DEFAULT_KEYS`], by position.
    principal_defaults: Vec<Option<KeyId>>,
}

fn dialect_index(d: Dialect) -> usize {
    match d {
        Dialect::Aws => 0,
        Dialect::Huawei => 1,
    }
}

/// Evaluates requests against one program.
///
/// Built once per program, and shared by every thread: it hashes the key names and the
/// action index (a request's strings are then resolved with one lookup each), and builds
/// tables that take work off every request — each indexed action's candidate statements,
/// the slots each shape of principal derives, the resource patterns resolved
/// (`ResourcePlan`). That makes building one cost time proportional to the program (about
/// 62M instructions and 8.6 MB of tables for all 1,645 AWS managed policies; `fastiam
/// inspect` times it): build it once, not per request.
#[derive(Clone, Debug)]
pub struct Evaluator<'p> {
    v: ProgramView<'p>,
    meta: MetaRec,
    special: Special,
    /// Key name → id.
    key_ids: StrTable<KeyId>,
    /// Folded `service:name` → index into `index_exact` (the file stores service and name
    /// apart; joined once here, a request needs one lookup).
    exact: StrTable<u32>,
    /// Folded service → index into `services`.
    services: StrTable<u32>,
    /// Per resource record: the pattern resolved for matching ([`ResourcePlan`]).
    resource_plans: Vec<ResourcePlan<'p>>,
    /// Per token: the range of `text_pieces` holding a `Text` token's wildcard pieces, parsed
    /// once here rather than on every match of a pattern with policy variables.
    token_pieces: Vec<(u32, u32)>,
    text_pieces: Vec<Piece<'p>>,
    /// The slots hop 0 takes from the principal (R-FAS-4 hop-0 column, R-CTX-6, R-HW-12),
    /// for each shape of principal ([`RequestView::principal_shape`]): a range of `principal_slots`.
    /// They depend on the principal's kind, dialect and which fields it has, never on the
    /// fields' text, so they are derived here once rather than per request.
    principal_shapes: Vec<(u32, u32)>,
    principal_slots: Vec<(KeyId, Slot)>,
    /// Per shape of principal, hop 0's whole slot array before its given keys: every slot
    /// absent but those the principal derives (`keys` slots per shape, shape after shape).
    /// A chain starts with one copy of its shape's instead of clearing every slot and then
    /// writing the derived ones. Empty when it would exceed [`slots::MAX_TEMPLATE_SLOTS`]
    /// (a program with very many keys): chains then clear and write.
    slot_templates: Vec<Slot>,
    /// The fixed texts slots point at ([`Slot::Fixed`]): principal defaults such as
    /// `"User"` and the texts forwarded hops set.
    fixed_texts: Vec<&'static str>,
    /// The candidate statements of every action the index names exactly, per entry of
    /// `index_exact`: a range of `exact_candidates`, each `id << 1 | verified`, sorted — what
    /// `collect_dynamic` would build for that action, built here once, with the action
    /// clause of every statement the index could not vouch for checked too (so every entry
    /// is verified). A hop whose action is in the index then reads its candidates instead
    /// of folding its action, matching its service's action globs, merging the `NotAction`
    /// and always-check lists and sorting. After the `index_exact` entries come the
    /// service *classes* (`Evaluator::class_entry`: one per service of the index, then the
    /// services it does not know), whose entries may leave an action clause open for the
    /// hop to check on its folded action (the `verified` bit clear). Empty when the
    /// table would exceed [`candidates::MAX_TABULATED_CANDIDATES`]: every hop then builds its list.
    exact_candidate_ranges: Vec<(u32, u32)>,
    exact_candidates: Vec<u32>,
    /// The program's `index_globs` without resource policies' statements (see
    /// `resource_policy_statements`), each service's range (`service_globs`) sorted by
    /// pattern id, so that the statements sharing a pattern are adjacent.
    globs_by_pattern: Vec<GlobRec>,
    service_globs: Vec<(u32, u32)>,
    /// The program's `index_not_action` and `index_always`, without resource policies'
    /// statements.
    not_action: Vec<StatementId>,
    always: Vec<StatementId>,
    /// Per resource-policy slot: its statements, `first..end`. A hop examines the
    /// statements of its own resource policy from here, never through the action index,
    /// which leaves resource policies out: a chain whose every hop carries a resource
    /// policy would otherwise walk them all at every hop (issue 17: quadratic chains).
    resource_policy_statements: Vec<(u32, u32)>,
    /// Per matcher: for a pattern with variables whose first token is text starting with
    /// a literal (`home-bucket/` of `home-bucket/${aws:username}/*`), that literal; else
    /// empty.
    glob_heads: glob_heads::GlobHeads<'p>,
    /// Per condition record: its comparison resolved for its operator family.
    value_tests: ValueTests<'p>,
    /// This evaluator's token (`resolved`: compact requests built against it).
    token: u64,
    /// The tabulated actions' residual programs (none for [`Evaluator::general`]).
    residual: residual::Residual<'p>,
    /// Per service class, the action patterns each open statement is checked against.
    class_clauses: class_clauses::ClassClauses,
}

impl<'p> Evaluator<'p> {
    /// Borrows a program's tables.
    pub fn new<B: AsRef<[u8]>>(program: &'p Program<B>) -> Self {
        Evaluator::from_view(program.view())
    }

    /// An evaluator without residual programs: every hop takes the general path. For
    /// comparing the two (the differential tests) and measuring what the programs save.
    pub fn general<B: AsRef<[u8]>>(program: &'p Program<B>) -> Self {
        let mut e = Evaluator::new(program);
        e.residual = residual::Residual::default();
        e
    }

    /// How many actions have a residual program (0 for [`Evaluator::general`]).
    pub fn residual_programs(&self) -> usize {
        self.residual.programs()
    }

    /// How many candidate entries the evaluator tabulated for the actions its program names
    /// exactly (0 when the table would have exceeded its cap and hops build their lists).
    pub fn tabulated_candidates(&self) -> usize {
        self.exact_candidates.len()
    }

    /// The tables.
    pub fn view(&self) -> &ProgramView<'p> {
        &self.v
    }

    #[inline]
    fn s(&self, id: StrId) -> &'p str {
        let r = self.v.string_index[id as usize];
        &self.v.strings[r.start as usize..(r.start + r.len) as usize]
    }

    /// The canonical name of a key id (from [`ChainOutcome::missing`]).
    pub fn key_name(&self, k: KeyId) -> &'p str {
        self.s(self.v.keys[k as usize].name)
    }

    /// The id of a canonical key, if the program knows it.
    #[inline]
    pub fn key_id(&self, name: &str) -> Option<KeyId> {
        self.key_ids.get(name)
    }

    /// Evaluates a chain; the result lives in `scratch` until its next use.
    ///
    /// `req` is a [`Request`](crate::request::Request) or a
    /// [`PackedRequest`](crate::request::PackedRequest) (any [`RequestView`]): a caller that
    /// keeps requests in memory to evaluate them, or many of them in a row, evaluates them
    /// faster packed.
    // Never inlined: one call per chain, and profilers can then find it by name.
    #[inline(never)]
    pub fn evaluate<'s, R: RequestView>(
        &self,
        req: &R,
        scratch: &'s mut Scratch,
    ) -> ChainOutcome<'s> {
        if scratch.slots.len() != self.v.keys.len() {
            *scratch = self.scratch();
        }
        let denied_at = self.run_on(req, scratch, true);
        self.finish(denied_at, scratch)
    }

    /// Runs a chain on the view `req` gives, in a scratch made for this evaluator; `touch`:
    /// ask for its lines first.
    #[inline(always)]
    fn run_on<R: RequestView>(&self, req: &R, scratch: &mut Scratch, touch: bool) -> Option<usize> {
        scratch.hops.clear();
        scratch.matched.clear();
        scratch.missing.clear();
        req.read_with(Run {
            evaluator: self,
            scratch,
            touch,
        })
    }

    /// Evaluates every request of `requests` in order, handing each outcome to `each`
    /// with its index: as [`evaluate`](Evaluator::evaluate) one by one, but asking for
    /// request `i + 1`'s cache lines ([`RequestView::touch_all`]) before evaluating request
    /// `i`, so that a batch out of cache waits for memory once, at its start, instead of
    /// once a request.
    pub fn evaluate_each<R: RequestView>(
        &self,
        requests: &[R],
        scratch: &mut Scratch,
        mut each: impl FnMut(usize, ChainOutcome<'_>),
    ) {
        if scratch.slots.len() != self.v.keys.len() {
            *scratch = self.scratch();
        }
        if let Some(first) = requests.first() {
            std::hint::black_box(first.touch_all());
        }
        for (i, req) in requests.iter().enumerate() {
            if let Some(next) = requests.get(i + 1) {
                std::hint::black_box(next.touch_all());
            }
            let denied_at = self.run_on(req, scratch, false);
            each(i, self.finish(denied_at, scratch));
        }
    }
}

/// An evaluation's run on the view its request gives ([`RequestView::read_with`]).
struct Run<'e, 'p, 's> {
    evaluator: &'e Evaluator<'p>,
    scratch: &'s mut Scratch,
    /// Whether to ask for the request's lines first (not when a batch already has).
    touch: bool,
}

impl crate::request::ReadWith for Run<'_, '_, '_> {
    type Out = Option<usize>;

    #[inline(always)]
    fn read<V: RequestView>(self, view: &V) -> Option<usize> {
        if self.touch {
            std::hint::black_box(view.touch());
        }
        self.evaluator.run(view, self.scratch)
    }
}

/// Programs and evaluators are shared between threads; scratches are per thread
/// (`Send`, not shared). Checked at compile time.
#[allow(dead_code)]
fn _thread_safety() {
    fn shared<T: Send + Sync>() {}
    fn sendable<T: Send>() {}
    shared::<Program<crate::table::AlignedBytes>>();
    shared::<Program<memmap2::Mmap>>();
    shared::<Evaluator<'static>>();
    sendable::<Scratch>();
}

/// A lenient one-hop case (a user's `s3:GetObject` on `*`) whose one identity policy holds
/// `statements` (JSON objects), for the phases' unit tests.
#[cfg(test)]
fn test_case(statements: &[String]) -> crate::request::Case {
    let text = format!(
        r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
        "options":{{"mode":"lenient"}},
        "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{}]}}]}},
        "chain":[{{"action":"s3:GetObject","resource":"*"}}]}}"#,
        statements.join(",")
    );
    crate::request::parse_case(&text, "test").unwrap()
}

#[cfg(test)]
mod batch_tests {
    use super::*;
    use crate::request::{CompactRequest, RequestBuilder};

    /// `evaluate_each` gives every request the outcome `evaluate` gives it alone (decision,
    /// hops, matched statements, missing keys), in order, on compact, packed and parsed
    /// requests, for batches of every small length and the standard workload's mix.
    #[test]
    fn a_batch_decides_as_one_at_a_time() {
        let prepared = crate::benchmark::standard(300, 11).unwrap();
        let program = crate::compile::compile(&prepared.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        let mut builder = RequestBuilder::new();
        let compact: Vec<CompactRequest> = prepared
            .requests
            .iter()
            .map(|r| builder.fill_from(r).finish_for(&evaluator).unwrap().clone())
            .collect();
        let mut scratch = evaluator.scratch();
        let alone: Vec<String> = compact
            .iter()
            .map(|r| format!("{:?}", evaluator.evaluate(r, &mut scratch)))
            .collect();
        for len in [0, 1, 2, 3, 17, compact.len()] {
            let mut seen = Vec::new();
            evaluator.evaluate_each(&compact[..len], &mut scratch, |i, o| {
                seen.push((i, format!("{o:?}")))
            });
            let want: Vec<(usize, String)> = alone[..len].iter().cloned().enumerate().collect();
            assert_eq!(seen, want, "compact batch of {len}");
        }
        let mut seen = Vec::new();
        evaluator.evaluate_each(&prepared.requests, &mut scratch, |_, o| {
            seen.push(format!("{o:?}"))
        });
        assert_eq!(seen, alone, "parsed requests");
        // A scratch made for another evaluator is replaced, as `evaluate` does.
        let mut other = Scratch::default();
        let mut seen = Vec::new();
        evaluator.evaluate_each(&compact[..5], &mut other, |_, o| {
            seen.push(format!("{o:?}"))
        });
        assert_eq!(seen, alone[..5]);
    }
}
