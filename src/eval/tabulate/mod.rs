//! Tabulating candidates when an evaluator is built: for every action the index names
//! exactly, and for every service class, the statements a hop of it examines (read at run
//! time by `candidates`).
//!
//! An exact action's list is what `collect_dynamic` would build for it with every action
//! clause checked — its index hits, the hits of its service's name globs, the `NotAction`
//! statements it is not excluded from and the always-check statements whose action clause
//! passes, sorted — but built service by service, so that what is the same for the whole
//! service is done once:
//! - the service's glob patterns are grouped and classified once ([`NameGlob`]: `Describe*`
//!   is a prefix test, `*tags` a suffix test, `*loadbalancer*` a substring search, not a
//!   call of the glob matcher for each of the service's actions);
//! - each always-check statement's action clause is decided for the service once where
//!   the patterns allow (`*`, `s3:*` for `s3`, `ec2:*` for `s3`), and checked per action
//!   only otherwise;
//! - the lists are unioned rather than sorted ([`union`]): the index hits are a few
//!   sorted entries, the `NotAction` and always-check lists were sorted once, and the glob
//!   hits are gathered and sorted once for each run of actions matching the same globs
//!   ([`GlobHits`]: the hundreds of `ec2:Describe*` actions share one list).
//!
//! On the 1,645 AWS managed policies this took the tabulation from 51M instructions to
//! about 10M (BENCHMARKS.md, "The evaluator build (issue 17, ninth session)").
//!
//! For example, with `s3:GetObject` and `s3:Get*` in the program, `s3:getobject`'s entry
//! holds both statements (verified), found by one index lookup and one prefix test; the
//! `s3` class's entry holds the `s3:Get*` statement unverified, for the hop to match.

use crate::bytecode::*;

use super::candidates::{action_glob, MAX_TABULATED_CANDIDATES};
use super::Evaluator;

mod exact;
mod union;

/// Whether an action pattern matches every action of a class, none, or some.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Is {
    No,
    Maybe,
    Yes,
}

impl Is {
    /// Any of two patterns.
    fn or(self, other: Is) -> Is {
        self.max(other)
    }

    /// The answer of a `NotAction` clause whose patterns answer `self`.
    fn negated(self) -> Is {
        match self {
            Is::No => Is::Yes,
            Is::Maybe => Is::Maybe,
            Is::Yes => Is::No,
        }
    }
}

/// A statement's action patterns, read once, by class (see
/// [`Evaluator::service_verdicts`]).
struct ServiceVerdicts {
    /// What the patterns that concern every class answer (`*`, `*:Get*`, `s?s:*`).
    every: Is,
    /// What the literal services the index does not know answer for the unknown class.
    unknown: Is,
    /// Per service of the index named literally: what its patterns answer, by index.
    services: Vec<(u32, Is)>,
    not_action: bool,
}

impl ServiceVerdicts {
    /// The statement's verdict for the class of service `service`, or of the unknown
    /// services.
    fn of(&self, service: Option<u32>) -> ClassVerdict {
        let named = match service {
            Some(s) => {
                let from = self.services.partition_point(|(i, _)| *i < s);
                self.services[from..]
                    .iter()
                    .take_while(|(i, _)| *i == s)
                    .fold(Is::No, |v, (_, is)| v.or(*is))
            }
            None => self.unknown,
        };
        match (self.every.or(named), self.not_action) {
            (Is::Yes, false) | (Is::No, true) => ClassVerdict::Always,
            (Is::No, false) | (Is::Yes, true) => ClassVerdict::Never,
            (Is::Maybe, _) => ClassVerdict::PerAction,
        }
    }
}

/// What a statement's action clause answers for every action of a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClassVerdict {
    Always,
    Never,
    /// It depends on the action's name: checked per hop.
    PerAction,
}

/// One distinct name glob of a service (`describe*`), classified once, and its statements
/// (a range of `globs_by_pattern`, where the statements sharing a pattern are adjacent).
/// Answers as `primitives::wildcard_match` does: byte-wise, a pattern without `?` whose
/// only stars end it is a prefix test, start it a suffix test, start and end it a
/// substring search, one without stars an equality.
struct NameGlob<'p> {
    shape: GlobShape<'p>,
    first: usize,
    end: usize,
}

enum GlobShape<'p> {
    /// No wildcard: the name itself.
    Literal(&'p str),
    /// `head*` (or `head**`…): names starting with `head` (every name for `*`).
    Prefix(&'p str),
    /// `*tail` (or `**tail`…): names ending with `tail`.
    Suffix(&'p str),
    /// `*middle*` (or more stars at either end): names containing `middle`.
    Contains(&'p str),
    /// Anything else: the glob matcher.
    General(&'p str),
}

impl<'p> GlobShape<'p> {
    fn of(pattern: &'p str) -> Self {
        if pattern.contains('?') {
            return GlobShape::General(pattern);
        }
        let head = pattern.trim_end_matches('*');
        let tail = pattern.trim_start_matches('*');
        if !pattern.contains('*') {
            GlobShape::Literal(pattern)
        } else if !head.contains('*') {
            GlobShape::Prefix(head)
        } else if !tail.contains('*') {
            GlobShape::Suffix(tail)
        } else if !tail.trim_end_matches('*').contains('*') {
            GlobShape::Contains(tail.trim_end_matches('*'))
        } else {
            GlobShape::General(pattern)
        }
    }

    /// Prefixes and suffixes are compared byte by byte, inline: most tests fail at the
    /// first byte (`describe*` against `getobject`), where a `memcmp` call cost ≈ 70
    /// instructions a test (73,557 tests on the managed policies).
    #[inline]
    fn matches(&self, text: &str) -> bool {
        let (name, same) = (text.as_bytes(), |(a, b): (&u8, &u8)| a == b);
        match self {
            GlobShape::Literal(p) => p.as_bytes() == name,
            GlobShape::Prefix(head) => {
                head.len() <= name.len() && head.as_bytes().iter().zip(name).all(same)
            }
            GlobShape::Suffix(tail) => {
                let tail = tail.as_bytes();
                tail.len() <= name.len() && tail.iter().rev().zip(name.iter().rev()).all(same)
            }
            GlobShape::Contains(middle) => contains(text.as_bytes(), middle.as_bytes()),
            GlobShape::General(p) => crate::primitives::wildcard_match(p, text),
        }
    }
}

/// Whether `needle` occurs in `hay`: `memchr`'s scan for its first byte, each hit
/// compared. On action names (tens of bytes) this is about a third of `str::contains`,
/// whose searcher is set up for each call (7,432 calls, 1.86M instructions, in the managed
/// policies' build).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    memchr::memchr_iter(first, &hay[..=last]).any(|i| &hay[i + 1..i + needle.len()] == rest)
}

/// How the index's hits of a statement count (see `collect_dynamic`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hit {
    /// An `Action` statement: a candidate, verified.
    Candidate,
    /// A `NotAction` statement: excluded from the `NotAction` list for this action.
    Excludes,
    /// A resource policy's: examined through its own slot, never through the index.
    Ignored,
}

/// Whether an entry of the lists every action of a service shares (the `NotAction` and
/// always-check statements, [`Evaluator::shared_entries`]) is in an action's list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Yes,
    No,
    /// A `NotAction` statement: unless the action's index hits exclude it.
    UnlessExcluded,
    /// An always-check statement whose action clause depends on the name: checked.
    Check,
}

/// The buffers of one action's list, reused from action to action.
#[derive(Default)]
struct Lists {
    /// The action's index hits (sorted, each once).
    hits: Vec<u32>,
    /// A buffer for the union of the two shorter runs of an action's list.
    found: Vec<u32>,
    excluded: Vec<StatementId>,
    /// The shared entries kept for this action (or for every action of the service).
    shared: Vec<u32>,
    joined: String,
    globs: GlobHits,
}

impl Lists {
    fn hit(&mut self, kinds: &[Hit], id: StatementId) {
        match kinds[id as usize] {
            Hit::Candidate => self.hits.push(id << 1 | 1),
            Hit::Excludes => self.excluded.push(id),
            Hit::Ignored => {}
        }
    }
}

/// The hits of the name globs an action of a service matches, prepared once for each run
/// of actions matching the same globs: the actions are sorted by name, so the hundreds of
/// `ec2:Describe*` actions follow each other and share one sorted list of the hundreds of
/// statements naming `ec2:Describe*`, rather than each gathering and sorting it again.
#[derive(Default)]
struct GlobHits {
    /// The globs (indices of the service's [`NameGlob`]s) the action matches …
    matched: Vec<u32>,
    /// … and those the prepared hits are of, if prepared for this service.
    prepared: Option<Vec<u32>>,
    /// The `Action` statements of the prepared globs, sorted, each once (verified) …
    hits: Vec<u32>,
    /// … and the `NotAction` statements, which exclude themselves.
    excluded: Vec<StatementId>,
}

impl GlobHits {
    /// Forgets the prepared hits (a new service's globs).
    fn reset(&mut self) {
        self.prepared = None;
    }

    /// Prepares the hits of the globs of `globs` that `name` matches (kept as they are
    /// when the previous action matched the same).
    fn of(&mut self, globs: &[NameGlob<'_>], name: &str, records: &[GlobRec], kinds: &[Hit]) {
        self.matched.clear();
        for (at, g) in globs.iter().enumerate() {
            if g.shape.matches(name) {
                self.matched.push(at as u32);
            }
        }
        if self.prepared.as_ref() == Some(&self.matched) {
            return;
        }
        let prepared = self.prepared.get_or_insert_with(Vec::new);
        prepared.clone_from(&self.matched);
        self.hits.clear();
        self.excluded.clear();
        for &at in prepared.iter() {
            let g = &globs[at as usize];
            for r in &records[g.first..g.end] {
                match kinds[r.statement as usize] {
                    Hit::Candidate => self.hits.push(r.statement << 1 | 1),
                    Hit::Excludes => self.excluded.push(r.statement),
                    Hit::Ignored => {}
                }
            }
        }
        self.hits.sort_unstable();
        self.hits.dedup();
    }
}

/// Merges the repeats of a statement in `list[from..]` (sorted candidates, `id << 1 |
/// verified`: the index may find a statement twice, by its exact action and by a glob)
/// into one entry, verified if any was: a hop then examines each candidate once, with no
/// check for a repeat (the residual walk reads one key mask per candidate that reads keys).
///
/// Repeats are rare (about 250 of the managed policies' 325,495 entries): a read-only scan
/// finds the first, and the list is compacted from there only.
pub(super) fn dedup_candidates(list: &mut Vec<u32>, from: usize) {
    let Some(first) = list[from..].windows(2).position(|w| w[0] >> 1 == w[1] >> 1) else {
        return;
    };
    // Everything up to the first of the pair stays where it is.
    let start = from + first + 1;
    let mut kept = start;
    for i in start..list.len() {
        let c = list[i];
        if list[kept - 1] >> 1 == c >> 1 {
            list[kept - 1] |= c & 1;
        } else {
            list[kept] = c;
            kept += 1;
        }
    }
    list.truncate(kept);
}

impl<'p> Evaluator<'p> {
    /// The entries of `shared` (sorted `NotAction` and always-check statements, `true`
    /// for `NotAction`) that action `service:name` keeps, coded verified, into
    /// `lists.shared`: by `keeps`, the service's verdicts, with the `NotAction` statements
    /// in `lists.excluded` left out and the undecided action clauses checked.
    fn shared_entries(
        &self,
        lists: &mut Lists,
        shared: &[(StatementId, bool)],
        keeps: &[Keep],
        service: &str,
        name: &str,
    ) {
        lists.shared.clear();
        for (&(id, _), keep) in shared.iter().zip(keeps) {
            let kept = match keep {
                Keep::Yes => true,
                Keep::No => false,
                Keep::UnlessExcluded => !lists.excluded.contains(&id),
                Keep::Check => {
                    lists.joined.clear();
                    lists.joined.push_str(service);
                    lists.joined.push(':');
                    lists.joined.push_str(name);
                    self.action_clause(&self.v.statements[id as usize], &lists.joined)
                }
            };
            if kept {
                lists.shared.push(id << 1 | 1);
            }
        }
        lists.shared.dedup();
    }

    /// The distinct name globs of service `service_index`, classified, into `out`.
    fn service_name_globs(&self, service_index: usize, out: &mut Vec<NameGlob<'p>>) {
        out.clear();
        let Some(&(first, end)) = self.service_globs.get(service_index) else {
            return;
        };
        let (first, end) = (first as usize, end as usize);
        let mut at = first;
        while at < end {
            let pattern = self.globs_by_pattern[at].pattern;
            let mut group_end = at + 1;
            while group_end < end && self.globs_by_pattern[group_end].pattern == pattern {
                group_end += 1;
            }
            out.push(NameGlob {
                shape: GlobShape::of(self.s(pattern)),
                first: at,
                end: group_end,
            });
            at = group_end;
        }
    }

    /// What statement `st`'s action clause answers for every action of `service` (folded,
    /// without `:`), as `action_clause` would for each: `*`, and `service:*` when the
    /// service pattern matches, answer yes; a service pattern that does not match, no;
    /// anything else depends on the name.
    fn exact_verdict(&self, st: &StatementRec, service: &str) -> Is {
        let stars = |p: &str| !p.is_empty() && p.bytes().all(|b| b == b'*');
        let actions = self.statement_actions(st);
        let any = actions
            .iter()
            .fold(Is::No, |any, a| match ActionKind::from_code(a.kind) {
                Some(ActionKind::Any) => any.or(Is::Yes),
                Some(ActionKind::Aws) if action_glob(self.s(a.a), service) => {
                    any.or(if stars(self.s(a.b)) {
                        Is::Yes
                    } else {
                        Is::Maybe
                    })
                }
                Some(ActionKind::Aws) | Some(ActionKind::Never) | None => any,
                Some(ActionKind::Huawei) => any.or(Is::Maybe),
            });
        if st.flags & STMT_NOT_ACTION != 0 {
            any.negated()
        } else {
            any
        }
    }

    /// Tabulates the classes of the actions the index does not name exactly (see
    /// [`Evaluator::class_entry`]), in a table of their own ([`exact::Classes`], joined
    /// after the exact lists by [`Evaluator::tabulate`]): for each service of
    /// the index, then for the services it does not know, the statements that could match
    /// such an action — the service's glob statements, the `NotAction` ones and the
    /// always-check ones, what `collect_dynamic` matches from — with the action clause of
    /// each decided for the whole class where it can be ([`ClassVerdict`]): dropped when it
    /// never matches, verified when it always does, left to the hop otherwise. None are
    /// kept when they would exceed [`MAX_TABULATED_CANDIDATES`] (`peak`).
    ///
    /// Each statement's action patterns are read once ([`ServiceVerdicts`]), not once per
    /// service: the managed policies' `NotAction` and always-check statements, read again
    /// for each of their 448 services, took 390M instructions. The `NotAction` and
    /// always-check statements are in every class's list: their verdicts are kept in id
    /// order, so that each class's are a sorted run, unioned ([`union::union_into`]) with
    /// its sorted glob statements — not looked up by hash and sorted again for each class.
    fn tabulate_classes(&self) -> exact::Classes {
        let services = self.v.services.len();
        let mut out = exact::Classes {
            table: Vec::new(),
            ranges: Vec::with_capacity(services + 1),
            peak: 0,
        };
        let mut verdicts: rustc_hash::FxHashMap<StatementId, ServiceVerdicts> = Default::default();
        let mut memo = PatternMemo::default();
        let mut joined = String::new();
        // The `NotAction` and always-check statements, in every class's list: read once,
        // in id order, so that each class keeps a sorted run of them (no hash lookup and
        // no sort per class).
        let mut shared: Vec<StatementId> = (self.not_action.iter())
            .chain(self.always.iter())
            .copied()
            .collect();
        shared.sort_unstable();
        shared.dedup();
        let shared: Vec<(StatementId, ServiceVerdicts)> = (shared.into_iter())
            .map(|id| {
                let st = &self.v.statements[id as usize];
                (id, self.service_verdicts(st, &mut memo, &mut joined))
            })
            .collect();
        let (mut list, mut globbed, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        let push = |run: &mut Vec<u32>, id: StatementId, verdict| match verdict {
            ClassVerdict::Always => run.push(id << 1 | 1),
            ClassVerdict::PerAction => run.push(id << 1),
            ClassVerdict::Never => {}
        };
        for service in 0..=services {
            let class = (service < services).then_some(service as u32);
            let globs = match self.service_globs.get(service) {
                Some(&(first, end)) if service < services => {
                    &self.globs_by_pattern[first as usize..end as usize]
                }
                _ => &[],
            };
            // The service's glob statements (by pattern: sorted here), then the shared
            // ones; a statement in both has the same verdict, so the same entry.
            globbed.clear();
            for id in globs.iter().map(|g| g.statement) {
                let v = verdicts.entry(id).or_insert_with(|| {
                    self.service_verdicts(&self.v.statements[id as usize], &mut memo, &mut joined)
                });
                push(&mut globbed, id, v.of(class));
            }
            globbed.sort_unstable();
            dedup_candidates(&mut globbed, 0);
            kept.clear();
            for (id, v) in &shared {
                push(&mut kept, *id, v.of(class));
            }
            list.clear();
            union::union_into(&mut list, &globbed, &kept);
            // Each statement once: its entries in both runs are the same value.
            debug_assert!(list.windows(2).all(|w| w[0] >> 1 < w[1] >> 1));
            // Checked against the cut-off once joined after the exact lists.
            out.peak = out.peak.max(out.table.len() + list.len());
            if out.peak > MAX_TABULATED_CANDIDATES {
                return out;
            }
            let first = out.table.len() as u32;
            out.table.extend_from_slice(&list);
            out.ranges.push((first, out.table.len() as u32));
        }
        out
    }

    /// What statement `st`'s action clause answers for each class (see
    /// [`Evaluator::tabulate_classes`]): a service of the index, or any service it does not
    /// know; in both cases an action the index does not name exactly, with a `:`. A pattern
    /// with a literal service decides only that service's class (`iam:*`: always for `iam`;
    /// never for the others), and a literal name the index names exactly never matches
    /// (the hop's action is not that one); `*`, `*:*` decide every class; a pattern with a
    /// service glob, or a name glob, is left to the hop in the classes it could concern.
    /// Each pattern is decided once per program (`memo`, [`Evaluator::pattern_verdict`]).
    fn service_verdicts(
        &self,
        st: &StatementRec,
        memo: &mut PatternMemo,
        joined: &mut String,
    ) -> ServiceVerdicts {
        let actions = self.statement_actions(st);
        let mut v = ServiceVerdicts {
            every: Is::No,
            unknown: Is::No,
            // Sized once: grown entry by entry, it took 1,627 reallocations.
            services: Vec::with_capacity(actions.len()),
            not_action: st.flags & STMT_NOT_ACTION != 0,
        };
        for a in actions {
            match ActionKind::from_code(a.kind) {
                Some(ActionKind::Any) => v.every = v.every.or(Is::Yes),
                Some(ActionKind::Aws) => {
                    let verdict = *memo
                        .entry((a.a, a.b))
                        .or_insert_with(|| self.pattern_verdict(a, joined));
                    match verdict {
                        // `No` changes no class's answer (`of` takes the `or` of a
                        // service's entries): most patterns here are literal actions the
                        // index names exactly, which answer `No` for their class.
                        PatternVerdict::Service(_, Is::No) => {}
                        // A statement's patterns mostly come grouped by service: one entry
                        // for each group.
                        PatternVerdict::Service(i, name) => match v.services.last_mut() {
                            Some((last, is)) if *last == i => *is = is.or(name),
                            _ => v.services.push((i, name)),
                        },
                        PatternVerdict::Unknown(is) => v.unknown = v.unknown.or(is),
                        PatternVerdict::Every(is) => v.every = v.every.or(is),
                    }
                }
                Some(ActionKind::Huawei) => v.every = v.every.or(Is::Maybe),
                Some(ActionKind::Never) | None => {}
            }
        }
        v.services.sort_unstable_by_key(|(i, _)| *i);
        v
    }

    /// What one AWS action pattern `a` answers, by class (see
    /// [`Evaluator::service_verdicts`]); `joined` is a buffer for the `service:name`
    /// looked up.
    fn pattern_verdict(&self, a: &ActionRec, joined: &mut String) -> PatternVerdict {
        let literal = |p: &str| memchr::memchr2(b'*', b'?', p.as_bytes()).is_none();
        let stars = |p: &str| !p.is_empty() && p.bytes().all(|b| b == b'*');
        let (ps, pn) = (self.s(a.a), self.s(a.b));
        let literal_service = literal(ps);
        let service = literal_service.then(|| self.services.get(ps)).flatten();
        let name = if stars(pn) {
            Is::Yes
        } else if literal(pn) && literal_service && {
            joined.clear();
            joined.push_str(ps);
            joined.push(':');
            joined.push_str(pn);
            self.exact.get(joined).is_some()
        } {
            Is::No
        } else {
            Is::Maybe
        };
        match service {
            // A service of the index: its class only.
            Some(i) => PatternVerdict::Service(i, name),
            // A literal service the index does not know: only the unknown class.
            None if literal_service => PatternVerdict::Unknown(Is::Maybe.min(name)),
            None if stars(ps) => PatternVerdict::Every(name),
            // A service glob: any class it could match, per hop.
            None => PatternVerdict::Every(Is::Maybe.min(name)),
        }
    }
}

/// What one AWS action pattern answers for the classes (see
/// [`Evaluator::pattern_verdict`]).
#[derive(Clone, Copy)]
enum PatternVerdict {
    /// For the class of this service of the index only.
    Service(u32, Is),
    /// For the class of the services the index does not know only.
    Unknown(Is),
    /// For every class.
    Every(Is),
}

/// [`PatternVerdict`]s by the pattern's service and name strings: the managed policies'
/// glob statements repeat the same action patterns (`ec2:DescribeInstances` in hundreds of
/// them), each decided once instead of hashing its service and `service:name` again.
type PatternMemo = rustc_hash::FxHashMap<(StrId, StrId), PatternVerdict>;

/// The 1,645 AWS managed policies (the repository's `corpus/managed/policies.tsv.gz`)
/// compiled as one program: the largest program the data-driven tests build.
#[cfg(test)]
pub(super) fn managed_program() -> crate::table::Program<crate::table::AlignedBytes> {
    use std::io::Read;
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/managed/policies.tsv.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(corpus).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let options = crate::policy::ParseOptions::new(crate::policy::PolicyKind::Identity);
    let managed = crate::request::PolicySet {
        identity: text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(name, json)| crate::policy::parse_policy(json, name, &options).unwrap())
            .collect(),
        ..Default::default()
    };
    crate::compile::compile(&managed).unwrap()
}

/// The programs of the spec vectors' and conformance cases' policy sets (resource
/// policies, SCPs, Huawei actions), from the repository's `corpus/`: for data-driven tests
/// of the tables built per program.
#[cfg(test)]
pub(super) fn case_programs() -> Vec<crate::table::Program<crate::table::AlignedBytes>> {
    let mut programs = Vec::new();
    for file in [
        "spec/vectors.jsonl",
        "conformance/hand.jsonl",
        "conformance/fas.jsonl",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(file);
        let text = std::fs::read_to_string(path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case = crate::request::parse_case(line, file).unwrap();
            if let Ok(program) = crate::compile::compile(&case.chain.policies) {
                programs.push(program);
            }
        }
    }
    programs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classified name globs answer as `wildcard_match`.
    /// `contains` answers as `str::contains` on every needle of every text here (empty
    /// ones, longer than the text, at either end, repeated first bytes).
    #[test]
    fn contains_answers_as_str_contains() {
        let texts = [
            "",
            "a",
            "aab",
            "describeinstances",
            "listtagsforresource",
            "aaaab",
        ];
        for hay in texts {
            for needle in texts
                .iter()
                .chain(&["b", "ab", "aab", "tags", "for", "es", "x"])
            {
                let want = hay.contains(needle);
                assert_eq!(
                    super::contains(hay.as_bytes(), needle.as_bytes()),
                    want,
                    "{hay} {needle}"
                );
            }
        }
    }

    #[test]
    fn glob_shapes_answer_as_wildcard_match() {
        let patterns = [
            "*",
            "**",
            "",
            "get*",
            "get**",
            "*object",
            "g?t*",
            "get*object",
            "getobject",
            "é*",
            "a*b*",
            "?",
            "**object",
            "*a*",
            "*é",
        ];
        let names = [
            "",
            "get",
            "getobject",
            "getobjectacl",
            "got",
            "object",
            "é",
            "éa",
            "ab",
            "a",
            "x",
        ];
        for p in patterns {
            for n in names {
                assert_eq!(
                    GlobShape::of(p).matches(n),
                    crate::primitives::wildcard_match(p, n),
                    "{p:?} {n:?}"
                );
            }
        }
    }

    /// Every exact action's tabulated list is what `collect_dynamic` builds for it with
    /// every action clause checked (the list the tabulation replaces), on the AWS managed
    /// policies (blanket `NotAction` denies, always-check statements, name globs of every
    /// shape) and on the programs of the spec vectors and conformance cases (resource
    /// policies, SCPs, Huawei actions).
    #[test]
    fn tabulated_lists_are_the_lists_a_hop_would_build() {
        let mut programs = vec![managed_program()];
        programs.extend(case_programs());
        let (mut lists, mut entries) = (0, 0);
        let (mut list, mut excluded, mut joined) = (Vec::new(), Vec::new(), String::new());
        for program in &programs {
            let e = Evaluator::new(program);
            assert!(!e.exact_candidate_ranges.is_empty() || e.v.index_exact.is_empty());
            for svc in e.v.services {
                for i in svc.exact_first..svc.exact_first + svc.exact_len {
                    joined.clear();
                    joined.push_str(e.s(svc.name));
                    joined.push(':');
                    joined.push_str(e.s(e.v.index_exact[i as usize].name));
                    e.collect_dynamic(&mut list, &mut excluded, &joined, true);
                    let (first, end) = e.exact_candidate_ranges[i as usize];
                    let tabulated = &e.exact_candidates[first as usize..end as usize];
                    assert_eq!(tabulated, list.as_slice(), "{joined}");
                    lists += 1;
                    entries += list.len();
                }
            }
        }
        assert!(
            programs.len() > 100 && lists > 11_000 && entries > 300_000,
            "{lists} {entries}"
        );
    }

    /// A statement's class verdicts, with the `No` entries left out and each run of one
    /// service's entries merged ([`Evaluator::service_verdicts`]), answer as with an entry
    /// kept for every pattern of a service of the index (the form before), for every
    /// statement and every class of the managed policies and the case programs.
    #[test]
    fn merged_service_verdicts_answer_as_every_entry_kept() {
        // One service's patterns answering `Yes` then `Maybe`, `Maybe` then `Yes`, apart
        // and together, with exact names (`No`) among them, for `Action` and `NotAction`.
        let mixed = r#"{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "s3:Get*", "ec2:Describe*", "s3:GetObject"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:Get*", "s3:*", "iam:PassRole"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:GetObject", "ec2:Describe*", "s3:List*", "ec2:*"], "Resource": "*"},
            {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:*", "ec2:RunInstances"], "Resource": "*"}]}"#;
        let options = crate::policy::ParseOptions::new(crate::policy::PolicyKind::Identity);
        let mixed = crate::request::PolicySet {
            identity: vec![crate::policy::parse_policy(mixed, "mixed", &options).unwrap()],
            ..Default::default()
        };
        let mut programs = vec![crate::compile::compile(&mixed).unwrap(), managed_program()];
        programs.extend(case_programs());
        let (mut checked, mut merged) = (0, 0);
        for program in &programs {
            let e = Evaluator::new(program);
            let (mut memo, mut joined) = (PatternMemo::default(), String::new());
            let services = e.v.services.len() as u32;
            for st in e.v.statements.iter() {
                let got = e.service_verdicts(st, &mut memo, &mut joined);
                let mut services_of_every_entry = Vec::new();
                let aws = |a: &&ActionRec| ActionKind::from_code(a.kind) == Some(ActionKind::Aws);
                for a in e.statement_actions(st).iter().filter(aws) {
                    if let PatternVerdict::Service(i, name) = e.pattern_verdict(a, &mut joined) {
                        services_of_every_entry.push((i, name));
                    }
                }
                services_of_every_entry.sort_unstable_by_key(|(i, _)| *i);
                merged += services_of_every_entry.len() - got.services.len();
                let every_entry = ServiceVerdicts {
                    services: services_of_every_entry,
                    ..got
                };
                for class in (0..=services).map(|s| (s < services).then_some(s)) {
                    assert_eq!(got.of(class), every_entry.of(class), "{class:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_000_000 && merged > 10_000, "{checked} {merged}");
    }

    #[test]
    fn dedup_merges_repeats_keeping_the_verified_bit() {
        let mut list = vec![9, 2, 3, 4, 6, 7, 7, 8, 11];
        dedup_candidates(&mut list, 1);
        assert_eq!(list, [9, 3, 4, 7, 8, 11]);
        let mut empty = vec![5];
        dedup_candidates(&mut empty, 1);
        assert_eq!(empty, [5]);
        let mut first = vec![9, 2, 3, 3, 6];
        dedup_candidates(&mut first, 1);
        assert_eq!(first, [9, 3, 6]);
        let mut none = vec![1, 2, 4, 7];
        dedup_candidates(&mut none, 0);
        assert_eq!(none, [1, 2, 4, 7]);
    }
}
