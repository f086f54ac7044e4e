//! Exact three-valued answers: is a replayed decision certain, whatever the log lacks?
//!
//! A CloudTrail record does not carry every key a policy may read: the VPC behind an
//! endpoint, organisation ids, tags, the origin of a forwarded call — and sometimes not even
//! the resource. A decision is *certain* when every assignment of those unknowns (each key
//! present with any value, or absent; the resource any string) gives the same decision, and
//! *depends* on them otherwise. Calling a decision uncertain because some unknown key was
//! read is not good enough: a Deny that matches on known keys is certain whatever the others
//! hold, and a security engineer acts on "certain".
//!
//! **How.** The decision depends on an unknown key only through the truth of the condition
//! entries that read it (R-COND-*), and on the resource only through which `Resource`
//! clauses match it and which resource policy it selects. So it is enough to evaluate one
//! witness per *realisable combination* of those truths — and to be exact, every realisable
//! combination must have its witness. Per key, the witnesses are:
//! - strings (`String*`, `ArnLike`/`ArnEquals`, resource ARNs and URNs): one per class of the
//!   product automaton of all the patterns ([`super::witness`]), which finds combinations
//!   no single pattern suggests;
//! - numbers and dates: each constant, a point in every gap between consecutive constants,
//!   one below and one above, and a non-number;
//! - IP addresses: the first and last address of every network and their outer neighbours
//!   (membership is constant between consecutive boundaries), and a non-address;
//! - `Bool`: true, false, neither; `Null`: present or absent; `Binary`: the constants and
//!   another value;
//! - every key: absent; a multi-valued key: every non-empty set of the element classes.
//!
//! Keys read by different condition entries are independent, so the combinations of the
//! whole request are the product of the keys' (and the resource's) witness classes, each
//! deduplicated by the truth vector it produces. The compiled evaluator runs once per
//! combination (a few to a few hundred runs for an uncertain record; none extra for the
//! common record whose decision read no unknown key). Running the real evaluator, rather
//! than a second, three-valued one, keeps one implementation of the semantics: Kleene
//! evaluation over unknown entries would call `StringEquals a` ∧ `StringEquals b` on the
//! same key unknown, where it is certainly false.
//!
//! **Where exactness stops, it says so.** A condition comparing two unknown keys
//! (`"aws:SourceOrgID": "${aws:ResourceOrgID}"` with both unknown), a pattern too large for
//! the automaton walk, or more than [`MAX_COMBINATIONS`] combinations: the record is then
//! reported as depending on its unknown keys, with the reason it could not be proved — never
//! as certain. A Deny that matched and reads no unknown key is certain at once (explicit deny
//! wins, R-EVAL-1), without the walk.
//!
//! The `tests` module checks the answer against brute force over every assignment of a small
//! value universe on generated policies.

use std::fmt::Write as _;
use std::sync::Arc;

use std::hash::{Hash as _, Hasher as _};

use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;

use crate::decision::Decision;
use crate::eval::{ChainOutcome, Evaluator, Scratch};
use crate::policy::{Condition, Effect, Pattern, PolicyKind, ResourcePattern, Statement};
use crate::reference::{action_clause_matches, referenced_keys};
use crate::request::{
    chain_contexts, default_resource_policy_required, Context, ContextValue, PolicySet, Request,
};

use super::policies::Prepared;
use super::record::{MapOptions, MappedRecord, Unmappable};

mod values;

use values::{key_values, resource_values};

/// The most evaluator runs spent on one record before it is reported as not proved.
pub const MAX_COMBINATIONS: usize = 4096;
/// The most product states the string-witness walk visits for one key.
const MAX_STATES: usize = 20_000;
/// Above this many element classes, the sets of a multi-valued key are not enumerated.
const MAX_SET_CLASSES: usize = 10;

/// Whether a record's decision is certain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certainty {
    Certain,
    /// Some assignment of these unknowns (keys as the policies spell them, or `resource`)
    /// gives another decision; `description` says which decision each gives.
    Depends {
        keys: Vec<String>,
        description: String,
    },
}

/// Decides whether the record's decision is certain. Leaves the request as it found it (the
/// unknown keys absent, the resource as mapped) and its resource policy selected.
///
/// The replay's own step runs [`settle`] on the outcome it evaluated anyway, and
/// [`decide_open`] only for the records that leaves open; this is the two in one.
pub fn decide(
    mapped: &mut MappedRecord,
    set_index: usize,
    prepared: &Prepared,
    evaluator: &Evaluator<'_>,
    scratch: &mut Scratch,
    map: &MapOptions,
    plans: &mut PlanCache,
) -> Result<Certainty, Unmappable> {
    select_resource_policy(&mut mapped.request, mapped.hop, prepared);
    let outcome = evaluator.evaluate(&mapped.request, scratch);
    match settle(mapped, prepared, evaluator, &outcome, map)? {
        Settled::Certain => Ok(Certainty::Certain),
        Settled::Open { missing } => Ok(decide_open(
            mapped, set_index, prepared, evaluator, scratch, map, plans, &missing,
        )),
    }
}

/// What the request's own evaluation settles about its certainty.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled<'p> {
    /// Certain: the decision read no unknown key and the resource is known, or a Deny
    /// matched on known keys alone.
    Certain,
    /// Only the walk over the unknowns' values ([`decide_open`]) can tell; `missing` are the
    /// unknown keys the evaluation read while absent.
    Open { missing: SmallVec<[&'p str; 4]> },
}

/// The cheap part of [`decide`]: what the outcome of the request as mapped (its resource
/// policy selected with [`select_resource_policy`]) already proves. Most records end here,
/// and their outcome is the answer: no second evaluation.
pub fn settle<'p>(
    mapped: &MappedRecord,
    prepared: &Prepared,
    evaluator: &Evaluator<'p>,
    outcome: &ChainOutcome<'_>,
    map: &MapOptions,
) -> Result<Settled<'p>, Unmappable> {
    let hop = mapped.hop;
    let unknown = |key: &str| !mapped.knows(key) && !map.assumes_absent(key);
    let Some(h) = outcome.hops.get(hop) else {
        // Hop 0 of a forwarded record needs no permission, so it cannot stop the chain
        // unless the credentials are invalid, which a replay never sets.
        return Err(Unmappable {
            class: "not-evaluated",
            reason: format!("the chain stopped before hop {hop}: {:?}", outcome.decision),
        });
    };
    let baseline = h.decision;
    let resource_unknown = mapped.resource_unknown.is_some();
    let mut missing_keys = outcome
        .missing(h)
        .iter()
        .map(|k| evaluator.key_name(*k))
        .filter(|k| unknown(k))
        .peekable();
    if missing_keys.peek().is_none() && !resource_unknown {
        return Ok(Settled::Certain);
    }
    let missing: SmallVec<[&str; 4]> = missing_keys.collect();
    if baseline == Decision::ExplicitDeny && !resource_unknown {
        // A matched Deny that reads no unknown key matches under every assignment.
        let owned = evaluator.decision(outcome);
        let certain = owned.hops.get(hop).is_some_and(|d| {
            d.matched.iter().any(|m| {
                statement_of(&prepared.set, &mapped.request, m).is_some_and(|s| {
                    s.effect == Effect::Deny
                        && referenced_keys(&s.conditions).iter().all(|k| !unknown(k))
                })
            })
        });
        if certain {
            return Ok(Settled::Certain);
        }
    }
    Ok(Settled::Open { missing })
}

/// The walk of [`decide`] for a record [`settle`] left open: the evaluator run once per
/// combination of the unknowns' witness values. Leaves the request as it found it; the
/// scratch then holds the last combination's outcome, not the request's.
#[allow(clippy::too_many_arguments)]
pub fn decide_open(
    mapped: &mut MappedRecord,
    set_index: usize,
    prepared: &Prepared,
    evaluator: &Evaluator<'_>,
    scratch: &mut Scratch,
    map: &MapOptions,
    plans: &mut PlanCache,
    missing: &[&str],
) -> Certainty {
    let hop = mapped.hop;
    let resource_unknown = mapped.resource_unknown.is_some();
    let unknown = |key: &str| !mapped.knows(key) && !map.assumes_absent(key);
    let plan = {
        let mut known: SmallVec<[&str; 16]> =
            mapped.known_keys.iter().map(|k| k.as_ref()).collect();
        known.sort_unstable();
        let key = PlanKeyView {
            set: set_index,
            dialect: mapped.request.dialect,
            action: &mapped.request.hops[hop].action,
            missing,
            resource_unknown,
            known: &known,
            principal_tags_known: mapped.principal_tags_known,
        };
        match plans.get(&key) {
            Some(plan) => plan,
            None => {
                let plan = Arc::new(Plan::new(mapped, prepared, hop, &unknown, missing));
                if plan.cacheable {
                    plans.insert(&key, Arc::clone(&plan));
                }
                plan
            }
        }
    };
    let original_resource = plan
        .resource_unknown
        .then(|| mapped.request.hops[hop].resource.clone());
    let answer = plan.run(mapped, prepared, evaluator, scratch);
    // Back to the request as mapped.
    let own = &mut mapped.request.hops[hop].context;
    for dim in &plan.keys {
        own.remove(&dim.key);
    }
    if let Some(original) = original_resource {
        mapped.request.hops[hop].resource = original;
    }
    select_resource_policy(&mut mapped.request, hop, prepared);
    answer
}

/// The most plans a worker keeps (then it starts afresh).
const PLAN_CACHE_ENTRIES: usize = 4096;

/// Plans already made, by what they depend on: one per worker. A plan — the unknowns and
/// their witness values — depends only on the policy set, the action, which keys are
/// unknown and read, and whether the resource is known, unless a policy variable makes it
/// read the request's other values (then it is made for each record and not kept).
///
/// Looked up by a borrowed `PlanKeyView` of the record, hashed in place: a record whose
/// plan is cached copies none of its strings (a third of the records of a perimeter-SCP
/// replay come here, where building an owned key cost some ten allocations each).
#[derive(Default)]
pub struct PlanCache {
    /// By the hash of the key; the keys of one hash, compared in full.
    plans: FxHashMap<u64, Vec<(PlanKey, Arc<Plan>)>>,
    len: usize,
}

impl PlanCache {
    fn get(&self, key: &PlanKeyView<'_>) -> Option<Arc<Plan>> {
        self.plans
            .get(&key.hash())?
            .iter()
            .find(|(k, _)| k.is(key))
            .map(|(_, plan)| Arc::clone(plan))
    }

    fn insert(&mut self, key: &PlanKeyView<'_>, plan: Arc<Plan>) {
        if self.len >= PLAN_CACHE_ENTRIES {
            self.plans.clear();
            self.len = 0;
        }
        let owned = PlanKey {
            set: key.set,
            dialect: key.dialect,
            action: key.action.to_string(),
            missing: key.missing.iter().map(|k| k.to_string()).collect(),
            resource_unknown: key.resource_unknown,
            known: key.known.iter().map(|k| k.to_string()).collect(),
            principal_tags_known: key.principal_tags_known,
        };
        self.plans
            .entry(key.hash())
            .or_default()
            .push((owned, plan));
        self.len += 1;
    }
}

/// What a plan depends on, owned (kept in the cache).
struct PlanKey {
    set: usize,
    dialect: crate::policy::Dialect,
    action: String,
    missing: Vec<String>,
    resource_unknown: bool,
    /// Sorted.
    known: Vec<String>,
    principal_tags_known: bool,
}

impl PlanKey {
    fn is(&self, v: &PlanKeyView<'_>) -> bool {
        self.set == v.set
            && self.dialect == v.dialect
            && self.action == v.action
            && self
                .missing
                .iter()
                .map(String::as_str)
                .eq(v.missing.iter().copied())
            && self.resource_unknown == v.resource_unknown
            && self
                .known
                .iter()
                .map(String::as_str)
                .eq(v.known.iter().copied())
            && self.principal_tags_known == v.principal_tags_known
    }
}

/// What a plan depends on, borrowed from the record.
struct PlanKeyView<'a> {
    set: usize,
    dialect: crate::policy::Dialect,
    action: &'a str,
    missing: &'a [&'a str],
    resource_unknown: bool,
    /// Sorted.
    known: &'a [&'a str],
    principal_tags_known: bool,
}

impl PlanKeyView<'_> {
    fn hash(&self) -> u64 {
        let mut h = FxHasher::default();
        (self.set, self.dialect, self.action).hash(&mut h);
        (self.missing, self.resource_unknown, self.known).hash(&mut h);
        self.principal_tags_known.hash(&mut h);
        h.finish()
    }
}

/// Selects the resource policy given for the hop's resource, if any.
pub fn select_resource_policy(request: &mut Request, hop: usize, prepared: &Prepared) {
    let dialect = request.dialect;
    let target = &mut request.hops[hop];
    target.resource_policy = prepared.resource_policy(&target.resource);
    if target.resource_policy.is_some() {
        // A key policy given for a KMS key must grant (R-EVAL-5); the what-if allow-all
        // resource policy grants anyway.
        target.resource_policy_required =
            default_resource_policy_required(dialect, &target.action, &target.resource);
    }
}

/// The statement a matched-statement record names.
fn statement_of<'s>(
    set: &'s PolicySet,
    request: &Request,
    m: &crate::decision::MatchedStatement,
) -> Option<&'s Statement> {
    let policy = match m.kind {
        PolicyKind::Identity => set.identity.get(m.position),
        PolicyKind::PermissionsBoundary => set.boundary.as_ref(),
        PolicyKind::Session => set.session.as_ref()?.get(m.position),
        PolicyKind::Scp => set.scp.get(m.level?)?.get(m.position),
        PolicyKind::Rcp => set.rcp.get(m.level?)?.get(m.position),
        PolicyKind::VpcEndpoint => set.vpce.as_ref(),
        PolicyKind::ResourceBased => set
            .resource
            .get(request.hops.get(m.position)?.resource_policy?),
    }?;
    policy
        .statements
        .iter()
        .find(|s| s.index == m.statement && s.sid == m.sid)
}

/// One unknown key and its witness values (`None`: absent), one per class.
struct KeyDim {
    key: String,
    /// The key as the first policy that reads it spells it.
    written: String,
    values: Vec<Option<ContextValue>>,
    /// Up to three members of each class, to describe it (the witness first).
    examples: Vec<Vec<Option<ContextValue>>>,
}

/// The unknowns of a record and the values to try for each.
struct Plan {
    keys: Vec<KeyDim>,
    resource_unknown: bool,
    /// Witness resources when the resource is unknown.
    resources: Vec<String>,
    /// Why the answer cannot be proved exact, if it cannot.
    not_proved: Option<String>,
    /// Whether the plan depends on nothing but its [`PlanKey`] (no policy variable read
    /// another value of the request).
    cacheable: bool,
}

impl Plan {
    fn new(
        mapped: &MappedRecord,
        prepared: &Prepared,
        hop: usize,
        unknown: &dyn Fn(&str) -> bool,
        missing: &[&str],
    ) -> Plan {
        let request = &mapped.request;
        let action = request.hops[hop].action.as_str();
        let statements: Vec<&Statement> = all_statements(&prepared.set)
            .filter(|s| action_clause_matches(&s.action, action))
            .collect();
        let resource_unknown = mapped.resource_unknown.is_some();
        // The request's own values matter only to resolve policy variables.
        let has_variables = statements.iter().any(|s| {
            s.conditions
                .iter()
                .any(|c| !c.values.variables().is_empty())
                || (resource_unknown
                    && s.resource
                        .patterns
                        .iter()
                        .any(|p| pattern_of(p).is_some_and(Pattern::has_variables)))
        });
        let probe = if has_variables {
            chain_contexts(request).swap_remove(hop)
        } else {
            Context::new()
        };
        let mut search = Plan {
            keys: Vec::new(),
            resource_unknown,
            resources: Vec::new(),
            not_proved: None,
            cacheable: !has_variables,
        };
        // The keys that can matter: those the evaluation read while absent; with an unknown
        // resource, every unknown key of a statement for this action.
        let mut atoms: Vec<(String, Vec<&Condition>)> = Vec::new();
        for s in &statements {
            for c in &s.conditions {
                let keys: Vec<&str> = std::iter::once(c.key.as_str())
                    .chain(c.values.variables().into_iter().map(|v| v.key.as_str()))
                    .filter(|k| unknown(k))
                    .collect();
                let Some(first) = keys.first() else { continue };
                if !resource_unknown && !missing.iter().any(|m| m == first) {
                    continue;
                }
                if keys.len() > 1 || *first != c.key {
                    search.not_proved.get_or_insert_with(|| {
                        format!(
                            "a condition compares `{}` with a value the log does not carry",
                            c.key_written
                        )
                    });
                }
                match atoms.iter_mut().find(|(k, _)| k == first) {
                    Some((_, list)) => list.push(c),
                    None => atoms.push((first.to_string(), vec![c])),
                }
            }
            if resource_unknown {
                for p in &s.resource.patterns {
                    if let Some(v) = pattern_of(p).and_then(|p| {
                        p.variables()
                            .find(|v| unknown(&v.key))
                            .map(|v| v.key.clone())
                    }) {
                        search.not_proved.get_or_insert_with(|| {
                            format!("a Resource pattern reads `{v}`, which the log does not carry")
                        });
                    }
                }
            }
        }
        // Keys read while absent by statements whose conditions we did not see (e.g. a
        // principal clause) cannot be enumerated: keep them, not proved.
        for k in missing {
            if !atoms.iter().any(|(a, _)| a == k) {
                search
                    .not_proved
                    .get_or_insert_with(|| format!("`{k}` is read where it cannot be enumerated"));
            }
        }
        for (key, conditions) in atoms {
            let (values, examples) = match key_values(&key, &conditions, &probe) {
                Ok(classes) => classes,
                Err(why) => {
                    search.not_proved.get_or_insert(why);
                    (vec![None], vec![vec![None]])
                }
            };
            search.keys.push(KeyDim {
                written: conditions[0].key_written.clone(),
                key,
                values,
                examples,
            });
        }
        if resource_unknown {
            match resource_values(&statements, prepared, &probe, request, hop) {
                Ok(values) => search.resources = values,
                Err(why) => {
                    search.not_proved.get_or_insert(why);
                }
            }
        }
        search
    }

    fn run(
        &self,
        mapped: &mut MappedRecord,
        prepared: &Prepared,
        evaluator: &Evaluator<'_>,
        scratch: &mut Scratch,
    ) -> Certainty {
        let hop = mapped.hop;
        let mut sizes: Vec<usize> = self.keys.iter().map(|k| k.values.len()).collect();
        let with_resource = !self.resources.is_empty();
        if with_resource {
            sizes.insert(0, self.resources.len());
        }
        let total = sizes
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .filter(|&n| n <= MAX_COMBINATIONS);
        if let Some(why) = &self.not_proved {
            return self.not_proved_answer(why.clone());
        }
        let Some(total) = total else {
            return self.not_proved_answer(format!(
                "more than {MAX_COMBINATIONS} combinations of unknown values"
            ));
        };
        let mut decisions: Vec<Option<Decision>> = Vec::with_capacity(total);
        let mut index = vec![0usize; sizes.len()];
        for _ in 0..total {
            let mut dims = index.iter();
            if with_resource {
                let r = &self.resources[*dims.next().unwrap_or(&0)];
                mapped.request.hops[hop].resource.clone_from(r);
                select_resource_policy(&mut mapped.request, hop, prepared);
            }
            let own = &mut mapped.request.hops[hop].context;
            for (dim, &i) in self.keys.iter().zip(dims) {
                match &dim.values[i] {
                    None => {
                        own.remove(&dim.key);
                    }
                    Some(v) => own.set(dim.key.clone(), v.clone()),
                }
            }
            let outcome = evaluator.evaluate(&mapped.request, scratch);
            decisions.push(outcome.hops.get(hop).map(|h| h.decision));
            // The next combination, the last dimension fastest.
            for (i, n) in index.iter_mut().zip(&sizes).rev() {
                *i += 1;
                if *i < *n {
                    break;
                }
                *i = 0;
            }
        }
        if decisions.windows(2).all(|w| w[0] == w[1]) {
            return Certainty::Certain;
        }
        self.describe(&sizes, with_resource, &decisions)
    }

    fn not_proved_answer(&self, why: String) -> Certainty {
        let mut keys: Vec<String> = self.keys.iter().map(|k| k.written.clone()).collect();
        if self.resource_unknown {
            keys.insert(0, "resource".to_string());
        }
        Certainty::Depends {
            keys,
            description: format!("not proved certain: {why}"),
        }
    }

    /// Which unknowns matter, and which decision each combination of them gives.
    fn describe(
        &self,
        sizes: &[usize],
        with_resource: bool,
        decisions: &[Option<Decision>],
    ) -> Certainty {
        let dims = sizes.len();
        let stride = |d: usize| sizes[d + 1..].iter().product::<usize>();
        let digit = |c: usize, d: usize| (c / stride(d)) % sizes[d];
        // A dimension matters when changing it alone changes the decision.
        let matters: Vec<bool> = (0..dims)
            .map(|d| {
                (0..decisions.len()).any(|c| {
                    let base = c - digit(c, d) * stride(d);
                    (0..sizes[d]).any(|v| decisions[base + v * stride(d)] != decisions[c])
                })
            })
            .collect();
        let label = |d: usize, v: usize| -> String {
            if with_resource && d == 0 {
                return format!("resource = {:?}", self.resources[v]);
            }
            let k = &self.keys[d - usize::from(with_resource)];
            let mut shown: Vec<String> = Vec::new();
            for e in &k.examples[v] {
                let text = match e {
                    None => format!("{} absent", k.written),
                    // Values of the walk's own making stand for every other value.
                    Some(ContextValue::Single(s)) if s.is_empty() || s.starts_with("fastiam-") => {
                        format!("{} another value", k.written)
                    }
                    Some(ContextValue::Single(s)) => format!("{} = {s:?}", k.written),
                    Some(ContextValue::Multi(list)) => format!("{} = {list:?}", k.written),
                };
                if !shown.contains(&text) {
                    shown.push(text);
                }
            }
            shown.join(" or ")
        };
        let mut keys = Vec::new();
        for d in (0..dims).filter(|&d| matters[d]) {
            keys.push(if with_resource && d == 0 {
                "resource".to_string()
            } else {
                self.keys[d - usize::from(with_resource)].written.clone()
            });
        }
        // Group the combinations, projected on the dimensions that matter, by decision.
        let mut groups: Vec<(Option<Decision>, Vec<String>)> = Vec::new();
        for (c, decision) in decisions.iter().enumerate() {
            let when: Vec<String> = (0..dims)
                .filter(|&d| matters[d])
                .map(|d| label(d, digit(c, d)))
                .collect();
            let when = when.join(" and ");
            let group = match groups.iter_mut().find(|(d, _)| d == decision) {
                Some(g) => g,
                None => {
                    groups.push((*decision, Vec::new()));
                    groups.last_mut().expect("just pushed")
                }
            };
            if !group.1.contains(&when) {
                group.1.push(when);
            }
        }
        let mut description = String::new();
        for (decision, whens) in &groups {
            if !description.is_empty() {
                description.push_str("; ");
            }
            let name = decision.map_or("not evaluated", Decision::name);
            let _ = write!(description, "{name} if ");
            let shown = whens.len().min(4);
            description.push_str(&whens[..shown].join(" or "));
            if whens.len() > shown {
                let _ = write!(description, " … and {} more", whens.len() - shown);
            }
        }
        Certainty::Depends { keys, description }
    }
}

fn all_statements(set: &PolicySet) -> impl Iterator<Item = &Statement> {
    set.identity
        .iter()
        .chain(&set.boundary)
        .chain(set.session.iter().flatten())
        .chain(set.scp.iter().flatten())
        .chain(set.rcp.iter().flatten())
        .chain(&set.vpce)
        .chain(&set.resource)
        .flat_map(|p| &p.statements)
}

fn pattern_of(p: &ResourcePattern) -> Option<&Pattern> {
    match p {
        ResourcePattern::Arn { resource, .. } => Some(resource),
        ResourcePattern::Urn { path, .. } => Some(path),
        ResourcePattern::Plain(p) => Some(p),
        ResourcePattern::Any | ResourcePattern::Never => None,
    }
}

#[cfg(test)]
mod tests;
