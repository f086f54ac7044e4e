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
//! [`ChainDecision`] the reference evaluator returns, for comparison and output.
//!
//! How a hop is decided (the same procedure as [`crate::reference`], over tables):
//! 1. **context**: each key the program knows has a slot saying where its value is — in the
//!    case context, a hop's own context, the principal, a fixed text, a `via`, or the
//!    CalledVia list. Hop 0 looks each of the request's context keys up once in a key
//!    table; forwarded hops apply the shared FAS rules slot by slot (R-COMP-5);
//! 2. **candidates**: the request action is looked up in the action index (an ASCII action
//!    with its words lower-cased in registers, any other folded first); an action the index
//!    names exactly has its candidates tabulated, all verified, any other gets them from
//!    the index's service globs; only those statements (plus the short always-check list)
//!    are examined;
//! 3. **applicability**: policy participation, principal, resource, then the statement's
//!    referenced keys are checked for absence (R-SIM-4, R-COMP-3) and its conditions run
//!    (the common shapes as value tests resolved per evaluator, `value_test`);
//! 4. **decision**: explicit deny, gates, core grant and reason, as R-EVAL-2..7, R-SIM-2a;
//!    matched statements are statement ids, already in R-SIM-3 order.
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

mod residual;
mod resource_plan;
mod str_table;
mod value_test;

use std::net::IpAddr;

use smallvec::SmallVec;

use crate::bytecode::*;
use crate::decision::{AllowPath, ChainDecision, Decision, HopDecision, MatchedStatement, Reason};
use crate::policy::{BaseOperator, Dialect, PolicyKind as Kind};
use crate::primitives::{self, Comparison, Piece};
use crate::request::{
    called_via_keys, for_each_principal_default_of, forwarded_hop_sets, principal_arn_key_of,
    ForwardedValue, ListRef, PrincipalField, PrincipalKind as Who, RequestView, ValueRef,
    PRINCIPAL_DEFAULT_KEYS,
};
use crate::table::{Program, ProgramView};
use resource_plan::{ResourcePlan, Target};
use str_table::StrTable;
use value_test::{ordered, within, ParseMemo, ValueTest, ValueTests};

/// Where a key's value is for the hop being evaluated. Plain data: a scratch holds no
/// borrow of any request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Absent,
    /// Entry `entry` of context `ctx` (0: the case context; k + 1: hop k's own context).
    Given {
        ctx: u32,
        entry: u32,
    },
    Fixed(&'static str),
    Principal(PrincipalField),
    /// A one-element list holding a principal field.
    PrincipalList(PrincipalField),
    /// The `via` of hop k.
    Via(u32),
    CalledVia,
    CalledViaFirst,
    CalledViaLast,
}

/// Statement categories of a resource-policy principal match (R-PRIN-3), as bits.
const CAT_WILDCARD: u8 = 1;
const CAT_DIRECT: u8 = 2;
const CAT_ROLE: u8 = 4;
const CAT_PARENT_USER: u8 = 8;
const CAT_ACCOUNT: u8 = 16;

/// One applicable statement of the hop being evaluated.
#[derive(Clone, Copy, Debug)]
struct Applied {
    statement: StatementId,
    categories: u8,
    /// The statement's policy kind and level and whether it denies, copied here from the
    /// tables `examine` has already read: the decision scans the applied list once per
    /// policy kind, and would otherwise read two records per element per scan.
    kind: Kind,
    level: u32,
    deny: bool,
}

/// The result for one hop, with its lists in the scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopOutcome {
    pub decision: Decision,
    pub reason: Reason,
    matched: (u32, u32),
    missing: (u32, u32),
}

/// Reusable per-thread state. Not shared between threads; make one per worker.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    slots: Vec<Slot>,
    missing_bits: Vec<u64>,
    candidates: Vec<u32>,
    /// `NotAction` statements one of whose patterns matched the hop's action.
    excluded: Vec<StatementId>,
    applied: Vec<Applied>,
    action: String,
    fold: String,
    text: String,
    called_via_base: Option<(u32, u32)>,
    called_via_hops: Vec<u32>,
    hops: Vec<HopOutcome>,
    matched: Vec<StatementId>,
    missing: Vec<KeyId>,
    memo: ParseMemo,
}

/// The result of a chain, borrowed from the scratch.
#[derive(Clone, Copy, Debug)]
pub struct ChainOutcome<'s> {
    pub decision: Decision,
    pub denied_at: Option<usize>,
    pub hops: &'s [HopOutcome],
    matched: &'s [StatementId],
    missing: &'s [KeyId],
}

impl<'s> ChainOutcome<'s> {
    /// The statements that decided hop `h` (R-SIM-3 order).
    pub fn matched(&self, h: &HopOutcome) -> &'s [StatementId] {
        &self.matched[h.matched.0 as usize..h.matched.1 as usize]
    }

    /// The missing keys of hop `h`, sorted by name (R-SIM-4).
    pub fn missing(&self, h: &HopOutcome) -> &'s [KeyId] {
        &self.missing[h.missing.0 as usize..h.missing.1 as usize]
    }
}

/// Key ids the interpreter needs by name, resolved once per evaluator.
#[derive(Clone, Debug)]
struct Special {
    time: [Option<KeyId>; 2],
    called_via: [[Option<KeyId>; 3]; 2],
    sets: [Vec<(Option<KeyId>, ForwardedValue)>; 2],
    federated_provider: Option<KeyId>,
    /// Ids of [`PRINCIPAL_DEFAULT_KEYS`], by position.
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
/// 70M instructions for all 1,645 AWS managed policies, `fastiam inspect` times it): build
/// it once, not per request.
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
    /// for each shape of principal ([`principal_shape`]): a range of `principal_slots`.
    /// They depend on the principal's kind, dialect and which fields it has, never on the
    /// fields' text, so they are derived here once rather than per request.
    principal_shapes: Vec<(u32, u32)>,
    principal_slots: Vec<(KeyId, Slot)>,
    /// The candidate statements of every action the index names exactly, per entry of
    /// `index_exact`: a range of `exact_candidates`, each `id << 1 | verified`, sorted — what
    /// `collect_dynamic` would build for that action, built here once, with the action
    /// clause of every statement the index could not vouch for checked too (so every entry
    /// is verified). A hop whose action is in the index then reads its candidates instead
    /// of folding its action, matching its service's action globs, merging the `NotAction`
    /// and always-check lists and sorting. Empty when the
    /// table would exceed [`MAX_TABULATED_CANDIDATES`]: every hop then builds its list.
    exact_candidate_ranges: Vec<(u32, u32)>,
    exact_candidates: Vec<u32>,
    /// The program's `index_globs`, each service's range sorted by pattern id, so that the
    /// statements sharing a pattern are adjacent.
    globs_by_pattern: Vec<GlobRec>,
    /// Per matcher: for a pattern with variables whose first token is text starting with
    /// a literal (`home-bucket/` of `home-bucket/${aws:username}/*`), that literal; else
    /// empty.
    glob_heads: Vec<&'p str>,
    /// Per condition record: its comparison resolved for its operator family.
    value_tests: ValueTests<'p>,
    /// The tabulated actions' residual programs (none for [`Evaluator::general`]).
    residual: residual::Residual<'p>,
}

/// The most candidate entries [`Evaluator`] tabulates (16 MiB of them); a program whose
/// table would be larger builds each hop's candidates instead.
const MAX_TABULATED_CANDIDATES: usize = 1 << 22;

/// `index_globs` with each service's range sorted by pattern (see
/// [`Evaluator::globs_by_pattern`]). Ranges that do not fit the table are left as they are:
/// a verified program's fit.
fn globs_by_pattern(v: &ProgramView<'_>) -> Vec<GlobRec> {
    let mut globs = v.index_globs.to_vec();
    for svc in v.services {
        let range = svc.globs_first as usize..(svc.globs_first + svc.globs_len) as usize;
        if let Some(slice) = globs.get_mut(range) {
            slice.sort_by_key(|g| (g.pattern, g.statement));
        }
    }
    globs
}

/// Where a hop's candidates are.
enum Candidates {
    /// A range of `exact_candidates`, and the action's `index_exact` entry.
    Tabulated(u32, u32, u32),
    Built,
}

const PRINCIPAL_KINDS: [Who; 6] = [
    Who::User,
    Who::AssumedRole,
    Who::FederatedUser,
    Who::Root,
    Who::Service,
    Who::Anonymous,
];

/// The index of a principal's shape: dialect, kind, and whether it has an account and a
/// name (whether it has a role ARN changes no default: `aws:PrincipalArn` falls back to the
/// ARN).
fn principal_shape(dialect: Dialect, kind: Who, account: bool, name: bool) -> usize {
    let kind = match kind {
        Who::User => 0,
        Who::AssumedRole => 1,
        Who::FederatedUser => 2,
        Who::Root => 3,
        Who::Service => 4,
        Who::Anonymous => 5,
    };
    ((dialect_index(dialect) * PRINCIPAL_KINDS.len() + kind) * 2 + account as usize) * 2
        + name as usize
}

impl<'p> Evaluator<'p> {
    /// Borrows a program's tables.
    pub fn new<B: AsRef<[u8]>>(program: &'p Program<B>) -> Self {
        Evaluator::from_view(program.view())
    }

    /// Evaluates with already-borrowed tables.
    pub fn from_view(v: ProgramView<'p>) -> Self {
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
        let mut joined = Vec::new();
        for svc in v.services {
            let service = s(svc.name);
            for i in svc.exact_first..svc.exact_first + svc.exact_len {
                joined.push((
                    format!("{service}:{}", s(v.index_exact[i as usize].name)),
                    i,
                ));
            }
        }
        let exact = StrTable::new(joined.iter().map(|(name, i)| (name.as_str(), *i)));
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
        let glob_heads = v
            .matchers
            .iter()
            .map(|m| {
                let first = m.a as usize;
                let text_first = m.kind == MatcherKind::TokensGlob.code()
                    && m.b > 0
                    && v.tokens.get(first).map(|t| t.kind) == Some(TokenKind::Text.code());
                match token_pieces.get(first) {
                    Some(&(start, end)) if text_first => {
                        match text_pieces.get(start as usize..end as usize) {
                            Some([Piece::Lit(head), ..]) => *head,
                            _ => "",
                        }
                    }
                    _ => "",
                }
            })
            .collect();
        let resource_plans = v
            .resources
            .iter()
            .map(|r| ResourcePlan::new(r, v.matchers, &s))
            .collect();
        let mut e = Evaluator {
            v,
            meta,
            special: Special {
                time: [None; 2],
                called_via: [[None; 3]; 2],
                sets: [Vec::new(), Vec::new()],
                federated_provider: None,
                principal_defaults: Vec::new(),
            },
            key_ids,
            exact,
            services,
            resource_plans,
            token_pieces,
            text_pieces,
            principal_shapes: Vec::new(),
            principal_slots: Vec::new(),
            exact_candidate_ranges: Vec::new(),
            exact_candidates: Vec::new(),
            globs_by_pattern: globs_by_pattern(&v),
            value_tests: ValueTests::new(&v, s),
            glob_heads,
            residual: residual::Residual::default(),
        };
        for d in [Dialect::Aws, Dialect::Huawei] {
            let i = dialect_index(d);
            let cv = called_via_keys(d);
            e.special.called_via[i] = [e.key_id(cv.list), e.key_id(cv.first), e.key_id(cv.last)];
            e.special.sets[i] = forwarded_hop_sets(d)
                .iter()
                .map(|(k, v)| (e.key_id(k), *v))
                .collect();
        }
        e.special.time = [e.key_id("aws:currenttime"), e.key_id("g:currenttime")];
        e.special.federated_provider = e.key_id("aws:federatedprovider");
        e.special.principal_defaults = PRINCIPAL_DEFAULT_KEYS.iter().map(|k| e.key_id(k)).collect();
        e.tabulate_principal_defaults();
        e.tabulate_candidates(&joined);
        e.residual = residual::build(&e);
        e
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

    fn tabulate_principal_defaults(&mut self) {
        let mut shapes = vec![(0, 0); 2 * PRINCIPAL_KINDS.len() * 4];
        let mut slots = Vec::new();
        for dialect in [Dialect::Aws, Dialect::Huawei] {
            for kind in PRINCIPAL_KINDS {
                for (account, name) in [(false, false), (false, true), (true, false), (true, true)]
                {
                    let has = |field| match field {
                        PrincipalField::Arn | PrincipalField::Fixed(_) => true,
                        PrincipalField::PrincipalArn => {
                            principal_arn_key_of(kind, dialect, "", None).is_some()
                        }
                        PrincipalField::Account => account,
                        PrincipalField::Name => name,
                    };
                    let first = slots.len() as u32;
                    for_each_principal_default_of(kind, dialect, has, |d| {
                        if let Some(k) = self.special.principal_defaults[d.index] {
                            let slot = if d.list {
                                Slot::PrincipalList(d.field)
                            } else {
                                Slot::Principal(d.field)
                            };
                            slots.push((k, slot));
                        }
                    });
                    shapes[principal_shape(dialect, kind, account, name)] =
                        (first, slots.len() as u32);
                }
            }
        }
        self.principal_shapes = shapes;
        self.principal_slots = slots;
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

    /// A scratch sized for this program.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            slots: vec![Slot::Absent; self.v.keys.len()],
            missing_bits: vec![0; self.v.keys.len().div_ceil(64)],
            candidates: Vec::with_capacity(64),
            excluded: Vec::with_capacity(16),
            applied: Vec::with_capacity(64),
            action: String::with_capacity(128),
            fold: String::with_capacity(64),
            text: String::with_capacity(256),
            called_via_base: None,
            called_via_hops: Vec::with_capacity(8),
            hops: Vec::with_capacity(8),
            matched: Vec::with_capacity(64),
            missing: Vec::with_capacity(16),
            memo: ParseMemo::default(),
        }
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
        scratch.hops.clear();
        scratch.matched.clear();
        scratch.missing.clear();
        std::hint::black_box(req.touch());
        let denied_at = self.run(req, scratch);
        self.finish(denied_at, scratch)
    }

    fn finish<'s>(&self, denied_at: Option<usize>, scratch: &'s mut Scratch) -> ChainOutcome<'s> {
        let decision = match denied_at {
            Some(i) => scratch
                .hops
                .get(i)
                .map_or(Decision::InvalidCredentials, |h| h.decision),
            None => Decision::Allow,
        };
        ChainOutcome {
            decision,
            denied_at,
            hops: &scratch.hops,
            matched: &scratch.matched,
            missing: &scratch.missing,
        }
    }

    fn run<R: RequestView>(&self, req: &R, sc: &mut Scratch) -> Option<usize> {
        self.initial_slots(req, sc);
        if let Some(creds) = req.credentials() {
            // R-STS-5, as the reference: no parsable time means not valid.
            let key = self.special.time[dialect_index(req.dialect())];
            let now = key.and_then(|k| match self.value(req, sc, k) {
                Value::Single(t) => primitives::parse_date(t),
                _ => None,
            });
            if !now.is_some_and(|now| creds.valid_at(now)) {
                return Some(0);
            }
        }
        for k in 0..req.hop_count() {
            if k > 0 {
                self.forward_slots(req, sc, k);
            }
            let outcome = self.hop(req, sc, k);
            sc.hops.push(outcome);
            if outcome.decision != Decision::Allow {
                return Some(k);
            }
        }
        None
    }

    // ------------------------------------------------------------------------------------
    // Context slots

    fn initial_slots<R: RequestView>(&self, req: &R, sc: &mut Scratch) {
        sc.slots.iter_mut().for_each(|s| *s = Slot::Absent);
        sc.called_via_base = None;
        sc.called_via_hops.clear();
        // Each given key is looked up once; keys the program never reads are skipped.
        for (entry, name) in req.context_keys(0).enumerate() {
            if let Some(id) = self.key_id(name) {
                sc.slots[id as usize] = Slot::Given {
                    ctx: 0,
                    entry: entry as u32,
                };
            }
        }
        let shape = principal_shape(
            req.dialect(),
            req.principal_kind(),
            req.principal_account().is_some(),
            req.principal_name().is_some(),
        );
        let (first, end) = self.principal_shapes[shape];
        for (k, slot) in &self.principal_slots[first as usize..end as usize] {
            let at = &mut sc.slots[*k as usize];
            if *at == Slot::Absent {
                *at = *slot;
            }
        }
        if req.hop_count() > 0 {
            self.overlay(req, 0, sc);
        }
    }

    /// Lays hop `k`'s own context over the slots.
    fn overlay<R: RequestView>(&self, req: &R, k: usize, sc: &mut Scratch) {
        for (entry, name) in req.context_keys(k + 1).enumerate() {
            if let Some(id) = self.key_id(name) {
                sc.slots[id as usize] = Slot::Given {
                    ctx: k as u32 + 1,
                    entry: entry as u32,
                };
            }
        }
    }

    /// Applies the shared FAS rules (R-FAS-4, R-HW-13) to derive hop `k`'s slots in place.
    fn forward_slots<R: RequestView>(&self, req: &R, sc: &mut Scratch, k: usize) {
        let d = dialect_index(req.dialect());
        let [list, first, last] = self.special.called_via[d];
        // The parent's CalledVia list becomes the base of this hop's.
        if let Some(list) = list {
            match sc.slots[list as usize] {
                Slot::Given { ctx, entry } => {
                    sc.called_via_base = Some((ctx, entry));
                    sc.called_via_hops.clear();
                }
                Slot::CalledVia => {}
                _ => {
                    sc.called_via_base = None;
                    sc.called_via_hops.clear();
                }
            }
        }
        let carried = match req.dialect() {
            Dialect::Aws => KEY_CARRIED_AWS,
            Dialect::Huawei => KEY_CARRIED_HUAWEI,
        };
        let preserve_ip = req.preserve_source_ip();
        for (slot, key) in sc.slots.iter_mut().zip(self.v.keys) {
            let dropped_ip = key.flags & KEY_SOURCE_IP != 0 && !preserve_ip;
            if key.flags & carried == 0 || dropped_ip {
                *slot = Slot::Absent;
            }
        }
        let via = req.via(k).unwrap_or_default();
        if req.appends_to_called_via(via) {
            sc.called_via_hops.push(k as u32);
        }
        let non_empty = self.called_via_len(req, sc) > 0;
        for (id, present) in [
            (list, Slot::CalledVia),
            (first, Slot::CalledViaFirst),
            (last, Slot::CalledViaLast),
        ] {
            if let Some(id) = id {
                sc.slots[id as usize] = if non_empty { present } else { Slot::Absent };
            }
        }
        for (id, value) in &self.special.sets[d] {
            let Some(id) = id else { continue };
            let slot = &mut sc.slots[*id as usize];
            match value {
                ForwardedValue::Fixed(text) => *slot = Slot::Fixed(text),
                ForwardedValue::Via => *slot = Slot::Via(k as u32),
                ForwardedValue::DefaultFixed(text) => {
                    if *slot == Slot::Absent {
                        *slot = Slot::Fixed(text);
                    }
                }
            }
        }
        self.overlay(req, k, sc);
    }

    fn called_via_base<'r, R: RequestView>(&self, req: &'r R, sc: &Scratch) -> ListRef<'r> {
        match sc
            .called_via_base
            .and_then(|(c, e)| req.context_value(c as usize, e as usize))
        {
            Some(ValueRef::Multi(list)) => list,
            Some(ValueRef::Single(_)) | None => ListRef::EMPTY,
        }
    }

    fn called_via_len<R: RequestView>(&self, req: &R, sc: &Scratch) -> usize {
        self.called_via_base(req, sc).len() + sc.called_via_hops.len()
    }

    /// The `i`-th element of the CalledVia list.
    fn called_via_at<'r, R: RequestView>(
        &self,
        req: &'r R,
        sc: &Scratch,
        i: usize,
    ) -> Option<&'r str> {
        let base = self.called_via_base(req, sc);
        match base.get(i) {
            Some(s) => Some(s),
            None => {
                let hop = *sc.called_via_hops.get(i - base.len())?;
                req.via(hop as usize)
            }
        }
    }

    /// The value of key `k` in the current hop's context.
    fn value<'r, R: RequestView>(&self, req: &'r R, sc: &Scratch, k: KeyId) -> Value<'r> {
        match sc.slots[k as usize] {
            Slot::Absent => Value::Absent,
            Slot::Given { ctx, entry } => match req.context_value(ctx as usize, entry as usize) {
                Some(ValueRef::Single(v)) => Value::Single(v),
                Some(ValueRef::Multi(list)) => Value::Multi(Multi::List(list)),
                None => Value::Absent,
            },
            Slot::Fixed(t) => Value::Single(t),
            Slot::Principal(f) => req.principal_field(f).map_or(Value::Absent, Value::Single),
            Slot::PrincipalList(f) => req
                .principal_field(f)
                .map_or(Value::Absent, |t| Value::Multi(Multi::One(t))),
            Slot::Via(h) => req.via(h as usize).map_or(Value::Absent, Value::Single),
            Slot::CalledVia => Value::Multi(Multi::CalledVia),
            Slot::CalledViaFirst => self
                .called_via_at(req, sc, 0)
                .map_or(Value::Absent, Value::Single),
            Slot::CalledViaLast => {
                let n = self.called_via_len(req, sc);
                n.checked_sub(1)
                    .and_then(|i| self.called_via_at(req, sc, i))
                    .map_or(Value::Absent, Value::Single)
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // One hop

    fn hop<R: RequestView>(&self, req: &R, sc: &mut Scratch, k: usize) -> HopOutcome {
        let matched_start = sc.matched.len() as u32;
        let missing_start = sc.missing.len() as u32;
        let mut out = HopOutcome {
            decision: Decision::Allow,
            reason: Reason::NoPermissionRequired,
            matched: (matched_start, matched_start),
            missing: (missing_start, missing_start),
        };
        if req.requires_no_permission(k) {
            return out; // R-EVAL-7
        }
        let who = req.principal_kind();
        let part = Participation {
            scp: self.meta.scp_levels > 0
                && !matches!(who, Who::Service | Who::Anonymous)
                && !req.service_linked()
                && !req.management_account(),
            rcp: self.meta.rcp_levels > 0 && !req.service_linked(),
            vpce: k == 0 && self.meta.has_vpce != 0,
            resource: req
                .resource_policy(k)
                .filter(|r| *r < self.meta.resource_policies),
            identity: !matches!(who, Who::Service | Who::Anonymous),
            ceilings: !matches!(who, Who::Service | Who::Anonymous | Who::Root),
        };
        let mut built = std::mem::take(&mut sc.candidates);
        sc.applied.clear();
        let (candidates, program) = match self.collect_candidates(req.action(k), sc, &mut built) {
            Candidates::Tabulated(first, end, entry) => (
                &self.exact_candidates[first as usize..end as usize],
                self.residual.program(entry),
            ),
            Candidates::Built => (&built[..], None),
        };
        // The action's residual program if it has one (missing keys as a mask of its key
        // numbering), else the general examination (missing keys in `missing_bits`).
        let residual_missing = program.map(|p| (p, self.run_residual(p, req, sc, k, &part)));
        if residual_missing.is_none() {
            let target = Target::new(req.resource(k));
            sc.missing_bits.iter_mut().for_each(|w| *w = 0);
            let mut i = 0;
            while i < candidates.len() {
                let code = candidates[i];
                let id = code >> 1;
                let mut verified = code & 1 == 1;
                i += 1;
                while candidates.get(i).is_some_and(|c| c >> 1 == id) {
                    verified |= candidates[i] & 1 == 1;
                    i += 1;
                }
                self.examine(req, sc, &target, id, verified, &part);
            }
        }
        sc.candidates = built;
        let (decision, reason) = self.decide(req, sc, k, &part);
        out.decision = decision;
        out.reason = reason;
        let m = &mut sc.matched[matched_start as usize..];
        m.sort_unstable();
        out.matched.1 = sc.matched.len() as u32;
        if let Some((p, mut bits)) = residual_missing {
            while bits != 0 {
                sc.missing.push(self.residual.key(p, bits.trailing_zeros()));
                bits &= bits - 1;
            }
        } else {
            for (w, word) in sc.missing_bits.iter().enumerate() {
                let mut bits = *word;
                while bits != 0 {
                    let b = bits.trailing_zeros();
                    sc.missing.push((w * 64) as u32 + b);
                    bits &= bits - 1;
                }
            }
        }
        out.missing.1 = sc.missing.len() as u32;
        out
    }

    /// Finds a hop's candidate statements, as `id << 1 | verified` sorted by id: the
    /// tabulated list of an action the index names exactly (a range of `exact_candidates`,
    /// all verified), else a list built in `built` from the action folded into `sc.action`
    /// (which [`Evaluator::examine`] reads for the unverified ones).
    fn collect_candidates(
        &self,
        action: &str,
        sc: &mut Scratch,
        built: &mut Vec<u32>,
    ) -> Candidates {
        let fold = |folded: &mut String| {
            folded.clear();
            primitives::fold_into(action, folded);
        };
        // An ASCII action (nearly all) is looked up without folding it first: a tabulated
        // action's candidates are all verified, so its folded text is never read. Any
        // other is folded first; either way it is looked up once.
        let ascii = action.is_ascii();
        let entry = if ascii {
            self.exact.get_ascii_lowercase(action)
        } else {
            fold(&mut sc.action);
            self.exact.get(sc.action.as_str())
        };
        if let Some((e, &(first, end))) =
            entry.and_then(|e| Some((e, self.exact_candidate_ranges.get(e as usize)?)))
        {
            return Candidates::Tabulated(first, end, e);
        }
        if ascii {
            fold(&mut sc.action);
        }
        self.collect_dynamic(built, &mut sc.excluded, &sc.action, false);
        Candidates::Built
    }

    /// The candidates of a folded action: index hits (a match for an `Action` statement, an
    /// exclusion for a `NotAction` one), the `NotAction` statements not excluded, and the
    /// always-check list, sorted. With `check_always`, the always-check statements' action
    /// clauses are checked here: those that pass are kept as verified, the others dropped.
    fn collect_dynamic(
        &self,
        out: &mut Vec<u32>,
        excluded: &mut Vec<StatementId>,
        folded: &str,
        check_always: bool,
    ) {
        out.clear();
        excluded.clear();
        let not_action =
            |id: StatementId| self.v.statements[id as usize].flags & STMT_NOT_ACTION != 0;
        let mut hit = |id: StatementId| {
            if not_action(id) {
                excluded.push(id);
            } else {
                out.push(id << 1 | 1);
            }
        };
        if let Some(e) = self.exact.get(folded) {
            let e = self.v.index_exact[e as usize];
            let (first, end) = (e.statements_first, e.statements_first + e.statements_len);
            for id in &self.v.index_statements[first as usize..end as usize] {
                hit(*id);
            }
        }
        if let Some((service, name)) = folded.split_once(':') {
            if let Some(svc) = self.services.get(service) {
                let svc = self.v.services[svc as usize];
                let (first, end) = (svc.globs_first, svc.globs_first + svc.globs_len);
                // Many statements share a pattern (`ec2:Describe*` in hundreds of managed
                // policies): grouped by pattern, each is matched once.
                let mut last: Option<(StrId, bool)> = None;
                for g in &self.globs_by_pattern[first as usize..end as usize] {
                    let matched = match last {
                        Some((pattern, matched)) if pattern == g.pattern => matched,
                        _ => {
                            let matched = primitives::wildcard_match(self.s(g.pattern), name);
                            last = Some((g.pattern, matched));
                            matched
                        }
                    };
                    if matched {
                        hit(g.statement);
                    }
                }
            }
        }
        for id in self.v.index_not_action {
            if !excluded.contains(id) {
                out.push(id << 1 | 1);
            }
        }
        if check_always {
            out.extend(
                self.v
                    .index_always
                    .iter()
                    .filter(|id| self.action_clause(&self.v.statements[**id as usize], folded))
                    .map(|id| id << 1 | 1),
            );
        } else {
            out.extend(self.v.index_always.iter().map(|id| id << 1));
        }
        out.sort_unstable();
    }

    /// Tabulates the candidates of every action the index names exactly (see
    /// `exact_candidates`), unless the table would exceed [`MAX_TABULATED_CANDIDATES`].
    /// `names` are the folded `service:name` of each `index_exact` entry, with its index.
    fn tabulate_candidates(&mut self, names: &[(String, u32)]) {
        let (mut list, mut excluded) = (Vec::new(), Vec::new());
        let mut table = Vec::new();
        let mut ranges = vec![(0, 0); self.v.index_exact.len()];
        for (name, i) in names {
            // The action is known here, so the statements the index could not vouch for
            // (the always-check list) are checked now: kept as verified, or dropped.
            self.collect_dynamic(&mut list, &mut excluded, name, true);
            if table.len() + list.len() > MAX_TABULATED_CANDIDATES {
                return;
            }
            let first = table.len() as u32;
            table.extend_from_slice(&list);
            ranges[*i as usize] = (first, table.len() as u32);
        }
        self.exact_candidates = table;
        self.exact_candidate_ranges = ranges;
    }

    /// Checks statement `id` for applicability and records it (R-STMT-1, R-SIM-4).
    fn examine<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        target: &Target<'_>,
        id: StatementId,
        verified: bool,
        part: &Participation,
    ) {
        let st = self.v.statements[id as usize];
        let policy = self.v.policies[st.policy as usize];
        let Some(kind) = policy_kind_from_code(policy.kind) else {
            return;
        };
        let participates = match kind {
            Kind::Scp => part.scp,
            Kind::Rcp => part.rcp,
            Kind::VpcEndpoint => part.vpce,
            Kind::ResourceBased => part.resource == Some(policy.position),
            Kind::Identity => part.identity,
            Kind::PermissionsBoundary | Kind::Session => part.ceilings,
        };
        if !participates {
            return;
        }
        let categories = if st.flags & STMT_HAS_PRINCIPAL != 0 {
            let c = self.principal_categories(&st, req, sc, part);
            if c == 0 {
                return;
            }
            c
        } else {
            0
        };
        if !verified && !self.action_clause(&st, &sc.action) {
            return;
        }
        if !self.resource_clause(&st, target, req, sc) {
            return;
        }
        let keys =
            &self.v.statement_keys[st.keys_first as usize..(st.keys_first + st.keys_len) as usize];
        for key in keys {
            if sc.slots[*key as usize] == Slot::Absent {
                sc.missing_bits[*key as usize / 64] |= 1 << (key % 64);
            }
        }
        let conditions =
            st.conditions_first as usize..(st.conditions_first + st.conditions_len) as usize;
        if conditions.into_iter().all(|c| self.condition(c, req, sc)) {
            sc.applied.push(Applied {
                statement: id,
                categories,
                kind,
                level: policy.level,
                deny: st.flags & STMT_DENY != 0,
            });
        }
    }

    fn action_clause(&self, st: &StatementRec, folded: &str) -> bool {
        let actions = &self.v.actions
            [st.actions_first as usize..(st.actions_first + st.actions_len) as usize];
        let any = actions.iter().any(|a| match ActionKind::from_code(a.kind) {
            Some(ActionKind::Any) => true,
            Some(ActionKind::Aws) => folded.split_once(':').is_some_and(|(s, n)| {
                primitives::wildcard_match(self.s(a.a), s)
                    && primitives::wildcard_match(self.s(a.b), n)
            }),
            Some(ActionKind::Huawei) => primitives::wildcard_match(self.s(a.a), folded),
            Some(ActionKind::Never) | None => false,
        });
        any != (st.flags & STMT_NOT_ACTION != 0)
    }

    fn resource_clause<R: RequestView>(
        &self,
        st: &StatementRec,
        target: &Target<'_>,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        let plans = &self.resource_plans
            [st.resources_first as usize..(st.resources_first + st.resources_len) as usize];
        let any = plans
            .iter()
            .any(|plan| plan.matches(target, |m, text| self.matcher(m, text, req, sc)));
        any != (st.flags & STMT_NOT_RESOURCE != 0)
    }

    /// Whether matcher `m` accepts `text`; a pattern with an unresolvable variable accepts
    /// nothing (R-VAR-6).
    fn matcher<R: RequestView>(&self, m: u32, text: &str, req: &R, sc: &mut Scratch) -> bool {
        let index = m;
        let m = self.v.matchers[m as usize];
        match MatcherKind::from_code(m.kind) {
            Some(MatcherKind::Any) => true,
            Some(MatcherKind::Exact) => text == self.s(m.a),
            Some(MatcherKind::Prefix) => text.starts_with(self.s(m.a)),
            Some(MatcherKind::Suffix) => text.ends_with(self.s(m.a)),
            Some(MatcherKind::Glob) => primitives::wildcard_match(self.s(m.a), text),
            Some(MatcherKind::GlobFolded) => {
                sc.fold.clear();
                primitives::fold_into(text, &mut sc.fold);
                primitives::wildcard_match(self.s(m.a), &sc.fold)
            }
            Some(MatcherKind::TokensGlob) => {
                // A text its pattern's literal head cannot start is refused before the
                // variables are substituted: the whole match could only fail.
                if !text.starts_with(self.glob_heads[index as usize]) {
                    return false;
                }
                let mut pieces: SmallVec<[Piece<'_>; 24]> = SmallVec::new();
                self.pieces(m, req, sc, &mut pieces) && primitives::glob_match(&pieces, text)
            }
            Some(MatcherKind::TokensText) => self.text_of(m, req, sc) && sc.text == text,
            Some(MatcherKind::Never) | None => false,
        }
    }

    /// Glob pieces of a token matcher after substitution; false if unresolvable.
    fn pieces<'a, R: RequestView>(
        &'a self,
        m: MatcherRec,
        req: &'a R,
        sc: &Scratch,
        out: &mut SmallVec<[Piece<'a>; 24]>,
    ) -> bool {
        let range = m.a as usize..(m.a + m.b) as usize;
        for (t, &(first, end)) in self.v.tokens[range.clone()]
            .iter()
            .zip(&self.token_pieces[range])
        {
            match TokenKind::from_code(t.kind) {
                Some(TokenKind::Text) => {
                    out.extend_from_slice(&self.text_pieces[first as usize..end as usize])
                }
                Some(TokenKind::Literal) => out.push(Piece::Lit(self.s(t.a))),
                Some(TokenKind::Variable) => match self.variable(t, req, sc) {
                    Some(v) => out.push(Piece::Lit(v)),
                    None => return false,
                },
                Some(TokenKind::Unresolvable) | None => return false,
            }
        }
        true
    }

    /// A variable's value: a single value, else the default, else none (R-VAR-6).
    fn variable<'a, R: RequestView>(
        &'a self,
        t: &TokenRec,
        req: &'a R,
        sc: &Scratch,
    ) -> Option<&'a str> {
        match self.value(req, sc, t.a) {
            Value::Single(v) => Some(v),
            _ => (t.b != NONE).then(|| self.s(t.b)),
        }
    }

    /// The literal text of a matcher into `sc.text`; false if unresolvable.
    fn text_of<R: RequestView>(&self, m: MatcherRec, req: &R, sc: &mut Scratch) -> bool {
        let mut text = std::mem::take(&mut sc.text);
        text.clear();
        let ok = match MatcherKind::from_code(m.kind) {
            Some(MatcherKind::Exact) => {
                text.push_str(self.s(m.a));
                true
            }
            Some(MatcherKind::TokensText | MatcherKind::TokensGlob) => {
                let mut ok = true;
                for t in &self.v.tokens[m.a as usize..(m.a + m.b) as usize] {
                    match TokenKind::from_code(t.kind) {
                        Some(TokenKind::Text | TokenKind::Literal) => text.push_str(self.s(t.a)),
                        Some(TokenKind::Variable) => match self.variable(t, req, sc) {
                            Some(v) => text.push_str(v),
                            None => ok = false,
                        },
                        Some(TokenKind::Unresolvable) | None => ok = false,
                    }
                }
                ok
            }
            _ => false,
        };
        sc.text = text;
        ok
    }

    // ------------------------------------------------------------------------------------
    // Principals (R-PRIN-3..5)
    //
    // Written again here rather than shared with `reference::matching`: the two engines
    // share the AST and the primitives only, so that a mistake in one principal-matching
    // implementation shows up as a differential-test disagreement instead of in both.

    fn principal_categories<R: RequestView>(
        &self,
        st: &StatementRec,
        req: &R,
        sc: &Scratch,
        part: &Participation,
    ) -> u8 {
        let entries = &self.v.principals
            [st.principals_first as usize..(st.principals_first + st.principals_len) as usize];
        if st.flags & STMT_NOT_PRINCIPAL != 0 {
            let quirk = st.flags & STMT_DENY != 0 && self.meta.has_boundary != 0 && part.ceilings;
            return if quirk || !self.exempted(entries, st.flags & STMT_DENY != 0, req) {
                CAT_WILDCARD
            } else {
                0
            };
        }
        let mut cats = 0;
        for e in entries {
            cats |= match PrincipalKind::from_code(e.kind) {
                Some(PrincipalKind::Wildcard) => CAT_WILDCARD,
                Some(PrincipalKind::Service) => {
                    let v = self.s(e.value);
                    if req.principal_kind() == Who::Service
                        && (v == "*" || v == req.principal_arn())
                    {
                        CAT_DIRECT
                    } else {
                        0
                    }
                }
                Some(PrincipalKind::Federated) => {
                    let provider = self
                        .special
                        .federated_provider
                        .map(|k| self.value(req, sc, k));
                    match provider {
                        Some(Value::Single(v)) if v == self.s(e.value) => CAT_DIRECT,
                        _ => 0,
                    }
                }
                Some(PrincipalKind::Account | PrincipalKind::ObsId) => {
                    account_category(self.s(e.value), req)
                }
                Some(PrincipalKind::CanonicalUser | PrincipalKind::Never) | None => 0,
            };
        }
        cats
    }

    /// R-PRIN-4: whether the list exempts the requester. A `Deny` exempts it iff **every**
    /// element of its identity set is listed; an `Allow` (lenient, R-PRIN-6) excludes it
    /// from the grant iff **any** element is listed.
    fn exempted<R: RequestView>(&self, entries: &[PrincipalRec], every: bool, p: &R) -> bool {
        let listed = |s: &str| {
            entries.iter().any(|e| {
                matches!(
                    PrincipalKind::from_code(e.kind),
                    Some(PrincipalKind::Account | PrincipalKind::Service | PrincipalKind::ObsId)
                ) && self.s(e.value) == s
            })
        };
        if entries
            .iter()
            .any(|e| e.kind == PrincipalKind::Wildcard.code())
        {
            return true;
        }
        let account_listed = || {
            p.principal_account().is_some_and(|a| {
                entries.iter().any(|e| {
                    matches!(
                        PrincipalKind::from_code(e.kind),
                        Some(PrincipalKind::Account | PrincipalKind::ObsId)
                    ) && is_account_reference(self.s(e.value), a)
                })
            })
        };
        let role_listed = || p.principal_role_arn().is_some_and(listed);
        match p.principal_kind() {
            Who::Anonymous => false,
            Who::Service => listed(p.principal_arn()),
            Who::Root => account_listed(),
            Who::User | Who::FederatedUser if every => {
                listed(p.principal_arn()) && account_listed()
            }
            Who::User | Who::FederatedUser => listed(p.principal_arn()) || account_listed(),
            Who::AssumedRole if every => {
                listed(p.principal_arn()) && role_listed() && account_listed()
            }
            Who::AssumedRole => listed(p.principal_arn()) || role_listed() || account_listed(),
        }
    }

    // ------------------------------------------------------------------------------------
    // Conditions (§7)

    /// Condition record `i` (R-COND-*).
    fn condition<R: RequestView>(&self, i: usize, req: &R, sc: &mut Scratch) -> bool {
        let c = &self.v.conditions[i];
        let test = self.value_tests.get(i);
        let base = BaseOperator::ALL[c.base as usize];
        let values =
            &self.v.values[c.values_first as usize..(c.values_first + c.values_len) as usize];
        let value = self.value(req, sc, c.key);
        if base == BaseOperator::Null {
            let present = !matches!(value, Value::Absent);
            return values
                .iter()
                .any(|v| v.kind == ValueKind::Null.code() && (v.a == 1) != present);
        }
        let if_exists = c.if_exists == 1;
        let for_all = c.qualifier == 1;
        match (c.qualifier, value) {
            (_, Value::Absent) if c.qualifier == 0 => if_exists || base.is_negated(),
            (_, Value::Absent) => for_all || if_exists,
            // R-COND-8: an unqualified operator on a multi-valued key is false.
            (0, Value::Multi(_)) => false,
            (_, Value::Single(v)) => self.test_value(test, base, values, v, req, sc),
            (_, Value::Multi(m)) => {
                for i in 0..self.multi_len(m, req, sc) {
                    let Some(s) = self.multi_at(m, i, req, sc) else {
                        continue;
                    };
                    let hit = self.test_value(test, base, values, s, req, sc);
                    if hit != for_all {
                        return hit;
                    }
                }
                for_all
            }
        }
    }

    fn multi_len<R: RequestView>(&self, m: Multi<'_>, req: &R, sc: &Scratch) -> usize {
        match m {
            Multi::List(list) => list.len(),
            Multi::One(_) => 1,
            Multi::CalledVia => self.called_via_len(req, sc),
        }
    }

    fn multi_at<'r, R: RequestView>(
        &self,
        m: Multi<'r>,
        i: usize,
        req: &'r R,
        sc: &Scratch,
    ) -> Option<&'r str> {
        match m {
            Multi::List(list) => list.get(i),
            Multi::One(s) => Some(s),
            Multi::CalledVia => self.called_via_at(req, sc, i),
        }
    }

    /// One context value against a condition's policy values: by its resolved test, or
    /// by the general comparison.
    #[inline]
    fn test_value<R: RequestView>(
        &self,
        test: ValueTest,
        base: BaseOperator,
        values: &[ValueRec],
        v: &str,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        match test {
            ValueTest::General => self.value_matches(base, values, v, req, sc),
            test => self.value_tests.passes(test, v, &mut sc.memo),
        }
    }

    /// R-COND-7: OR for positive operators, NOR for negated ones (an `Error` makes a negated
    /// operator false, R-OP-ERR-1).
    fn value_matches<R: RequestView>(
        &self,
        base: BaseOperator,
        values: &[ValueRec],
        v: &str,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        let positive = base.positive();
        // The context value is parsed once for all the policy values it is compared with.
        let parsed = Parsed::new(base, v, &mut sc.memo);
        if base.is_negated() {
            values
                .iter()
                .all(|p| self.compare(positive, p, v, &parsed, req, sc) == Comparison::NoMatch)
        } else {
            values
                .iter()
                .any(|p| self.compare(positive, p, v, &parsed, req, sc) == Comparison::Match)
        }
    }

    fn compare<R: RequestView>(
        &self,
        op: BaseOperator,
        p: &ValueRec,
        v: &str,
        parsed: &Parsed<'_>,
        req: &R,
        sc: &mut Scratch,
    ) -> Comparison {
        match ValueKind::from_code(p.kind) {
            Some(ValueKind::Matcher) => {
                if op == BaseOperator::StringLike {
                    return self.matcher(p.a, v, req, sc).into();
                }
                let m = self.v.matchers[p.a as usize];
                // A policy value without variables is compared in place; one with variables
                // is substituted into the scratch text first.
                let t = if m.kind == MatcherKind::Exact.code() {
                    self.s(m.a)
                } else if self.text_of(m, req, sc) {
                    sc.text.as_str()
                } else {
                    return Comparison::NoMatch;
                };
                match op {
                    BaseOperator::StringEquals => (v == t).into(),
                    BaseOperator::StringEqualsIgnoreCase => primitives::fold_eq(v, t).into(),
                    BaseOperator::StringStartWith => v.starts_with(t).into(),
                    BaseOperator::StringEndWith => v.ends_with(t).into(),
                    _ => Comparison::Error,
                }
            }
            Some(ValueKind::Bool) => match parsed.boolean() {
                Some(b) => (b == (p.a == 1)).into(),
                None => Comparison::Error,
            },
            Some(ValueKind::BoolMatcher) => {
                let m = self.v.matchers[p.a as usize];
                if !self.text_of(m, req, sc) {
                    return Comparison::NoMatch;
                }
                match (parsed.boolean(), primitives::parse_bool(&sc.text)) {
                    (None, _) => Comparison::Error,
                    (Some(_), None) => Comparison::NoMatch,
                    (Some(a), Some(b)) => (a == b).into(),
                }
            }
            Some(ValueKind::Number) => {
                match (parsed.number(), primitives::parse_decimal(self.s(p.a))) {
                    (Some(a), Some(b)) => ordered(op, a.cmp(&b)),
                    _ => Comparison::Error,
                }
            }
            Some(ValueKind::Date) => match parsed.date() {
                Some(a) => {
                    let b = primitives::Instant {
                        secs: (p.a as u64 | (p.b as u64) << 32) as i64,
                        nanos: p.c,
                    };
                    ordered(op, a.cmp(&b))
                }
                None => Comparison::Error,
            },
            Some(ValueKind::IpTable) => {
                let Some(ip) = parsed.ip() else {
                    return Comparison::Error;
                };
                let (v4, v6) = self.v.ip_ranges[p.a as usize..(p.a + p.b + p.c) as usize]
                    .split_at(p.b as usize);
                let (table, x) = match ip {
                    IpAddr::V4(a) => (v4, u32::from(a) as u128),
                    IpAddr::V6(a) => (v6, u128::from(a)),
                };
                match (within(table, IpRangeRec::bounds, x), p.d == 1) {
                    (true, _) => Comparison::Match,
                    // An invalid CIDR among the values is an `Error` (R-OP-ERR-1).
                    (false, true) => Comparison::Error,
                    (false, false) => Comparison::NoMatch,
                }
            }
            Some(ValueKind::Base64) => {
                if parsed.base64_valid() {
                    (v == self.s(p.a)).into()
                } else {
                    Comparison::Error
                }
            }
            Some(ValueKind::Arn) => match primitives::split_arn(v) {
                Some(parts) => {
                    let mut all = true;
                    for (i, part) in parts.iter().enumerate() {
                        let m = self.v.matchers[p.a as usize + i];
                        if m.kind == MatcherKind::TokensGlob.code() {
                            let mut pieces: SmallVec<[Piece<'_>; 24]> = SmallVec::new();
                            if !self.pieces(m, req, sc, &mut pieces) {
                                return Comparison::NoMatch;
                            }
                            all &= primitives::glob_match(&pieces, part);
                        } else {
                            all &= self.matcher(p.a + i as u32, part, req, sc);
                        }
                    }
                    all.into()
                }
                None => Comparison::Error,
            },
            Some(ValueKind::Error) => Comparison::Error,
            Some(ValueKind::Null | ValueKind::Never) | None => Comparison::NoMatch,
        }
    }

    // ------------------------------------------------------------------------------------
    // The decision (R-EVAL-2..7, R-SIM-2a, R-SIM-3)

    fn decide<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        hop: usize,
        part: &Participation,
    ) -> (Decision, Reason) {
        let applied = std::mem::take(&mut sc.applied);
        let result = self.decide_applied(req, sc, hop, part, &applied);
        sc.applied = applied;
        result
    }

    fn decide_applied<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        hop: usize,
        part: &Participation,
        applied: &[Applied],
    ) -> (Decision, Reason) {
        // R-EVAL-2: explicit deny; statement ids are in kind order, so the first is the kind.
        if let Some(first) = applied.iter().find(|a| a.deny) {
            let kind = first.kind;
            sc.matched
                .extend(applied.iter().filter(|a| a.deny).map(|a| a.statement));
            return (Decision::ExplicitDeny, Reason::ExplicitDeny(kind));
        }
        let allows = |kind: Kind| applied.iter().filter(move |a| a.kind == kind);
        let levels_allow =
            |kind: Kind, levels: u32| (0..levels).all(|l| allows(kind).any(|a| a.level == l));
        if part.rcp && !levels_allow(Kind::Rcp, self.meta.rcp_levels) {
            return (Decision::ImplicitDeny, Reason::RcpNoAllow);
        }
        if part.scp && !levels_allow(Kind::Scp, self.meta.scp_levels) {
            return (Decision::ImplicitDeny, Reason::ScpNoAllow);
        }
        if part.vpce && allows(Kind::VpcEndpoint).next().is_none() {
            return (Decision::ImplicitDeny, Reason::VpceNoAllow);
        }
        let who = req.principal_kind();
        let resource_account = req.resource_account(hop).or(req.principal_account());
        let authenticated = !matches!(who, Who::Anonymous | Who::Service);
        let same_account = authenticated && req.principal_account() == resource_account;
        let rb = |cats: u8| allows(Kind::ResourceBased).any(|a| a.categories & cats != 0);
        let id_allow_statement = allows(Kind::Identity).next().is_some();
        let id_allow = id_allow_statement || (who == Who::Root && same_account);
        let pb_ok = self.meta.has_boundary == 0
            || !part.ceilings
            || allows(Kind::PermissionsBoundary).next().is_some();
        let sp_ok =
            self.meta.has_session == 0 || !part.ceilings || allows(Kind::Session).next().is_some();
        let rb_direct = rb(CAT_DIRECT | CAT_WILDCARD);
        let rb_role = rb(CAT_ROLE | CAT_PARENT_USER);
        let rb_account = rb(CAT_ACCOUNT);
        let rb_any = allows(Kind::ResourceBased).next().is_some();
        let id_path = id_allow && pb_ok && sp_ok;
        let role_path = rb_role && pb_ok && sp_ok;
        let required = req.resource_policy_required(hop);
        let allowed = match who {
            Who::Service => rb_direct,
            Who::Anonymous => rb(CAT_WILDCARD),
            _ if same_account && required => rb_direct || role_path || (rb_account && id_path),
            _ if same_account => rb_direct || role_path || id_path,
            _ => (rb_direct || rb_role || rb_account) && id_path,
        };
        if !allowed {
            let reason = if required && !rb_any {
                Reason::ResourcePolicyRequired
            } else if !authenticated {
                Reason::NoAllow
            } else if !same_account {
                if !rb_any {
                    Reason::CrossAccountNoResourceGrant
                } else if !id_allow {
                    Reason::CrossAccountNoIdentityGrant
                } else if !pb_ok {
                    Reason::BoundaryNoAllow
                } else {
                    Reason::SessionPolicyNoAllow
                }
            } else if (id_allow || rb_role) && !pb_ok {
                Reason::BoundaryNoAllow
            } else if (id_allow || rb_role) && !sp_ok {
                Reason::SessionPolicyNoAllow
            } else {
                Reason::NoAllow
            };
            return (Decision::ImplicitDeny, reason);
        }
        // Gate allows that were required, then the winning path's statements (R-SIM-3).
        for kind in [Kind::Scp, Kind::Rcp, Kind::VpcEndpoint] {
            sc.matched.extend(allows(kind).map(|a| a.statement));
        }
        let resources =
            |cats: u8| allows(Kind::ResourceBased).filter(move |a| a.categories & cats != 0);
        let ceilings = || allows(Kind::PermissionsBoundary).chain(allows(Kind::Session));
        let resource_and_identity = !same_account || (required && !rb_direct && !role_path);
        let path = if who == Who::Service {
            sc.matched
                .extend(resources(CAT_DIRECT | CAT_WILDCARD).map(|a| a.statement));
            AllowPath::ServicePrincipal
        } else if who == Who::Anonymous {
            sc.matched
                .extend(resources(CAT_WILDCARD).map(|a| a.statement));
            AllowPath::ResourceDirect
        } else if resource_and_identity {
            sc.matched
                .extend(allows(Kind::ResourceBased).map(|a| a.statement));
            sc.matched
                .extend(allows(Kind::Identity).map(|a| a.statement));
            sc.matched.extend(ceilings().map(|a| a.statement));
            if id_allow_statement {
                AllowPath::Identity
            } else {
                AllowPath::Root
            }
        } else if rb_direct {
            sc.matched
                .extend(resources(CAT_DIRECT | CAT_WILDCARD).map(|a| a.statement));
            AllowPath::ResourceDirect
        } else if role_path {
            sc.matched
                .extend(resources(CAT_ROLE | CAT_PARENT_USER).map(|a| a.statement));
            sc.matched.extend(ceilings().map(|a| a.statement));
            AllowPath::ResourceRole
        } else if id_allow_statement {
            sc.matched
                .extend(allows(Kind::Identity).map(|a| a.statement));
            sc.matched.extend(ceilings().map(|a| a.statement));
            AllowPath::Identity
        } else {
            sc.matched.extend(ceilings().map(|a| a.statement));
            AllowPath::Root
        };
        (Decision::Allow, Reason::Allowed(path))
    }

    // ------------------------------------------------------------------------------------
    // Owned results

    /// The owned decision of an outcome (allocates: for output and comparison).
    pub fn decision(&self, outcome: &ChainOutcome<'_>) -> ChainDecision {
        let hops = outcome
            .hops
            .iter()
            .enumerate()
            .map(|(k, h)| HopDecision {
                decision: h.decision,
                reason: h.reason,
                matched: outcome
                    .matched(h)
                    .iter()
                    .map(|id| self.matched_statement(*id, k))
                    .collect(),
                missing: outcome
                    .missing(h)
                    .iter()
                    .map(|key| self.key_name(*key).to_string())
                    .collect(),
            })
            .collect();
        ChainDecision {
            decision: outcome.decision,
            denied_at: outcome.denied_at,
            hops,
        }
    }

    fn matched_statement(&self, id: StatementId, hop: usize) -> MatchedStatement {
        let st = self.v.statements[id as usize];
        let policy = self.v.policies[st.policy as usize];
        let kind = policy_kind_from_code(policy.kind).unwrap_or(Kind::Identity);
        MatchedStatement {
            kind,
            level: (policy.level != NONE).then_some(policy.level as usize),
            position: if kind == Kind::ResourceBased {
                hop
            } else {
                policy.position as usize
            },
            statement: st.index as usize,
            policy: self.s(policy.id).to_string(),
            sid: (st.sid != NONE).then(|| self.s(st.sid).to_string()),
        }
    }
}

/// Reads the first byte of each of the request's strings, in one pass, before evaluating.
///
/// A request is some 30 small heap strings. When it is not in cache (a service evaluating a
/// request built a while ago, a replay, the benchmark's 20,000 prebuilt requests), each is a
/// cache miss, and evaluation meets them one after another: the key lookups of one context
/// entry wait for its string before the next starts. These loads depend on nothing but the
/// entry pointers, so the processor issues them together and the misses overlap. Measured:
/// 15-20% less time per hop over 20,000 prebuilt requests (BENCHMARKS.md); for a request in
/// cache it is a few dozen instructions.
struct Participation {
    scp: bool,
    rcp: bool,
    vpce: bool,
    resource: Option<u32>,
    /// Identity policies (not for service principals and anonymous callers, R-FAS-9).
    identity: bool,
    /// Boundary and session policies (not for those, nor for the root user, R-EVAL-6).
    ceilings: bool,
}

/// A context value parsed for its operator's family, once per condition.
/// A context value parsed for the operator family it is compared under (the other
/// families' readings are `None`/`false`, as if parsing had failed: they are never asked).
enum Parsed<'v> {
    Nothing,
    Boolean(Option<bool>),
    Number(Option<primitives::Decimal<'v>>),
    Date(Option<primitives::Instant>),
    Ip(Option<IpAddr>),
    Base64(bool),
}

impl<'v> Parsed<'v> {
    #[inline]
    fn new(base: BaseOperator, v: &'v str, memo: &mut ParseMemo) -> Self {
        use crate::policy::OperatorFamily as F;
        match base.family() {
            F::Bool => Parsed::Boolean(primitives::parse_bool(v)),
            F::Numeric => Parsed::Number(primitives::parse_decimal(v)),
            F::Date => Parsed::Date(memo.date.parse(v, primitives::parse_date)),
            F::Ip => Parsed::Ip(memo.ip.parse(v, primitives::parse_ip)),
            F::Binary => Parsed::Base64(primitives::is_valid_base64(v)),
            F::String | F::Arn | F::Null => Parsed::Nothing,
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self {
            Parsed::Boolean(b) => *b,
            _ => None,
        }
    }

    fn number(&self) -> Option<primitives::Decimal<'v>> {
        match self {
            Parsed::Number(n) => *n,
            _ => None,
        }
    }

    fn date(&self) -> Option<primitives::Instant> {
        match self {
            Parsed::Date(d) => *d,
            _ => None,
        }
    }

    fn ip(&self) -> Option<IpAddr> {
        match self {
            Parsed::Ip(ip) => *ip,
            _ => None,
        }
    }

    fn base64_valid(&self) -> bool {
        matches!(self, Parsed::Base64(true))
    }
}

/// Whether `id` (an account id or `arn:…:iam::<acct>:root`) names account `account`.
fn is_account_reference(id: &str, account: &str) -> bool {
    id == account
        || matches!(primitives::split_arn(id), Some([_, _, "iam", "", a, "root"]) if a == account)
}

/// The category under which an `AWS`/`IAM`/`ID` value names the requester (R-PRIN-3).
fn account_category<R: RequestView>(id: &str, p: &R) -> u8 {
    let root_of = match primitives::split_arn(id) {
        Some([_, _, "iam", "", a, "root"]) => Some(a),
        _ => None,
    };
    account_category_of(id, root_of, p)
}

/// [`account_category`] with the account of `id` when it is a root ARN (`root_of`)
/// already found.
fn account_category_of<R: RequestView>(id: &str, root_of: Option<&str>, p: &R) -> u8 {
    let who = p.principal_kind();
    if matches!(who, Who::Anonymous | Who::Service) {
        return 0;
    }
    if p.principal_account()
        .is_some_and(|a| id == a || root_of == Some(a))
    {
        return CAT_ACCOUNT;
    }
    if who == Who::AssumedRole && p.principal_role_arn() == Some(id) {
        return CAT_ROLE;
    }
    if id == p.principal_arn() {
        return CAT_DIRECT;
    }
    if who == Who::FederatedUser && p.principal_parent_user_arn() == Some(id) {
        return CAT_PARENT_USER;
    }
    0
}

/// A context value as the interpreter sees it.
#[derive(Clone, Copy, Debug)]
enum Value<'r> {
    Absent,
    Single(&'r str),
    Multi(Multi<'r>),
}

/// The values of a multi-valued key, wherever they live.
#[derive(Clone, Copy, Debug)]
enum Multi<'r> {
    List(ListRef<'r>),
    One(&'r str),
    /// The CalledVia list: the base list, then the `via` of the hops that appended (read
    /// by index from the scratch).
    CalledVia,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every condition resolved into a [`ValueTest`] answers as the general comparison, for
    /// each shape (positive and negated, one and several values, IPv4 and IPv6 tables, a
    /// table with invalid CIDRs in lenient mode) on context values of every type, valid and
    /// not, given in an order that makes the parse memo both hit and miss.
    #[test]
    fn value_tests_answer_as_the_general_comparison() {
        let conditions = [
            r#""StringEquals": {"aws:username": ["alice", "Bob"]}"#,
            r#""StringNotEquals": {"aws:username": "alice"}"#,
            r#""StringNotEqualsIfExists": {"aws:username": ["alice", "bob"]}"#,
            r#""Bool": {"aws:username": "true"}"#,
            r#""Bool": {"aws:username": ["false", "true"]}"#,
            r#""BoolIfExists": {"aws:username": "false"}"#,
            r#""DateGreaterThan": {"aws:username": "2030-01-01T00:00:00Z"}"#,
            r#""DateNotEquals": {"aws:username": ["2026-05-01T12:00:00Z", "1700000000"]}"#,
            r#""DateLessThanEquals": {"aws:username": "2026-05-01"}"#,
            r#""NumericGreaterThan": {"aws:username": "3600"}"#,
            r#""NumericNotEquals": {"aws:username": ["60", "-1.50"]}"#,
            r#""NumericLessThanEquals": {"aws:username": "0.5"}"#,
            r#""IpAddress": {"aws:username": ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]}"#,
            r#""NotIpAddress": {"aws:username": ["10.0.0.0/8", "192.0.2.7"]}"#,
            r#""NotIpAddress": {"aws:username": ["10.0.0.0/8", "not an ip"]}"#,
            r#""IpAddress": {"aws:username": ["::/0", "10.1.0.0/16", "bad"]}"#,
        ];
        let statements: Vec<String> = conditions
            .iter()
            .map(|c| {
                format!(r#"{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{{c}}}}}"#)
            })
            .collect();
        let case = crate::request::parse_case(
            &format!(
                r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
                "options":{{"mode":"lenient"}},
                "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{}]}}]}},
                "chain":[{{"action":"s3:GetObject","resource":"*"}}]}}"#,
                statements.join(",")
            ),
            "test",
        )
        .unwrap();
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        let mut sc = evaluator.scratch();
        let values = [
            "alice",
            "Alice",
            "bob",
            "Bob",
            "",
            "true",
            "TRUE",
            "false",
            "False",
            "yes",
            "2030-01-01T00:00:01Z",
            "2030-01-01T00:00:00Z",
            "2026-05-01T12:00:00Z",
            "2026-05-01",
            "1700000000",
            "2026-13-01T00:00:00Z",
            "3600",
            "3600.0",
            "3601",
            "60",
            "-1.5",
            "-1.50",
            "0.5",
            "00.50",
            "1e3",
            "10.1.2.3",
            "10.1.2.3",
            "192.0.2.7",
            "192.0.2.8",
            "198.51.100.7",
            "11.0.0.0",
            "2001:db8::1",
            "::1",
            "2001:db9::",
            "010.1.2.3",
            "10.1.2",
            "not an ip",
        ];
        let mut resolved = 0;
        for i in 0..program.view().conditions.len() {
            let test = evaluator.value_tests.get(i);
            if test == ValueTest::General {
                continue;
            }
            resolved += 1;
            let c = program.view().conditions[i];
            let base = BaseOperator::ALL[c.base as usize];
            let first = c.values_first as usize;
            let records = &program.view().values[first..first + c.values_len as usize];
            for v in values {
                let general =
                    evaluator.value_matches(base, records, v, &case.chain.request, &mut sc);
                let resolved = evaluator.value_tests.passes(test, v, &mut sc.memo);
                assert_eq!(resolved, general, "{base:?} {test:?} on {v:?}");
            }
        }
        // Every condition above has a resolved shape.
        assert_eq!(resolved, conditions.len());
    }

    /// A remembered parse answers as the parse itself, whatever the order of texts: repeats,
    /// texts that differ in one byte or in length, the empty text and texts too long to keep.
    #[test]
    fn parse_memo_answers_as_the_parse() {
        let long = format!("{}Z", "2".repeat(60));
        let texts = [
            "2026-05-01T12:00:00Z",
            "2026-05-01T12:00:00Z",
            "2026-05-01T12:00:01Z",
            "",
            "2026-05-01T12:00:01Z",
            "10.0.0.1",
            "10.0.0.1",
            "10.0.0.10",
            "2001:db8::1",
            "1700000000",
            &long,
            &long,
            "2026-05-01",
            "not a date",
            "not a date",
        ];
        let mut memo = ParseMemo::default();
        for t in texts {
            assert_eq!(
                memo.date.parse(t, primitives::parse_date),
                primitives::parse_date(t),
                "{t:?}"
            );
            assert_eq!(
                memo.ip.parse(t, primitives::parse_ip),
                primitives::parse_ip(t),
                "{t:?}"
            );
        }
    }
}
