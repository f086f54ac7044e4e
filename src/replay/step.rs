//! One record → one answer: the step every replay runs, whoever drives it.
//!
//! The CLI's `fastiam replay`, the Python package's `Replayer` and the Spark job all turn a
//! CloudTrail record into a decision the same way, so the step is one public API: a
//! [`Replayer`] holds what is shared (the policies, one compiled evaluator per policy set,
//! the event → action table, the mapping options) and is `Sync`; each worker thread takes a
//! [`RecordStep`] from it (its own record mapper and evaluation scratches) and feeds it
//! records one at a time.
//!
//! ```
//! use fastiam::replay::{ActionMap, Guardrails, MapOptions, Position, Replayer, ReplayPolicies, StepOutcome};
//! let policies = ReplayPolicies::what_if(&Guardrails::default()).unwrap();
//! let replayer = Replayer::new(&policies, ActionMap::shared(), MapOptions::default(), false);
//! let mut step = replayer.step();
//! let record = sonic_rs::json!({
//!     "eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
//!     "eventType": "AwsApiCall", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
//!     "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
//!                      "accountId": "111122223333", "userName": "alice"}});
//! let at = Position { file: "example".into(), place: "Records[0]".into() };
//! match step.replay(record, &at) {
//!     StepOutcome::Evaluated(r) => assert_eq!(r.verdict.name(), "allowed"),
//!     StepOutcome::Unmappable(u) => panic!("{}: {}", u.class, u.reason),
//! }
//! ```

use super::json::Record;

use crate::decision::{Decision, HopDecision};
use crate::eval::{ChainOutcome, Evaluator, Scratch};

use super::actions::ActionMap;
use super::certainty::{self, Certainty, PlanCache, Settled};
use super::policies::ReplayPolicies;
use super::record::{LogOutcome, MapOptions, MappedRecord, RecordMapper, Unmappable};
use super::report::{RecordResult, Verdict};
use super::source::Position;

/// What every worker of a replay shares: the policies and their compiled evaluators.
pub struct Replayer<'p> {
    policies: &'p ReplayPolicies,
    evaluators: Vec<Evaluator<'p>>,
    actions: &'p ActionMap,
    map: MapOptions,
    explain_all: bool,
}

/// One worker's state: the record mapper, whose request is rebuilt in place for every
/// record, and a scratch per program, made on first use.
pub struct RecordStep<'r, 'p> {
    replayer: &'r Replayer<'p>,
    mapper: RecordMapper,
    scratches: Vec<Option<Scratch>>,
    plans: PlanCache,
}

/// What one record came to.
#[derive(Debug)]
pub enum StepOutcome<'a> {
    /// Mapped and evaluated.
    Evaluated(RecordResult<'a>),
    /// Not a question fastiam can ask (not an API call, unknown action, principal not in
    /// the account data, …), with the class and reason.
    Unmappable(Unmappable),
}

impl<'p> Replayer<'p> {
    /// `explain_all`: fill the deciding statements and missing keys of every record (for
    /// per-record output), not only of denials.
    pub fn new(
        policies: &'p ReplayPolicies,
        actions: &'p ActionMap,
        map: MapOptions,
        explain_all: bool,
    ) -> Replayer<'p> {
        let evaluators = policies
            .sets()
            .iter()
            .map(|p| Evaluator::new(&p.program))
            .collect();
        Replayer {
            policies,
            evaluators,
            actions,
            map,
            explain_all,
        }
    }

    /// A worker's step. Cheap: the scratches are made on first use.
    pub fn step(&self) -> RecordStep<'_, 'p> {
        let evaluators = &self.evaluators;
        RecordStep {
            replayer: self,
            // Context keys no program reads are not set (they cannot decide).
            mapper: RecordMapper::reading(|key| evaluators.iter().any(|e| e.key_id(key).is_some())),
            scratches: (0..evaluators.len()).map(|_| None).collect(),
            plans: PlanCache::default(),
        }
    }

    pub fn policies(&self) -> &'p ReplayPolicies {
        self.policies
    }

    pub fn map_options(&self) -> &MapOptions {
        &self.map
    }
}

impl<'p> RecordStep<'_, 'p> {
    /// Maps and evaluates one record. The record is consumed: it is freed as soon as it is
    /// mapped (the mapped request owns what it needs), while it is still in the cache.
    pub fn replay(&mut self, record: Record, position: &Position) -> StepOutcome<'_> {
        let r = self.replayer;
        let mapped = self.mapper.map(&record, position, r.actions, &r.map);
        // Freeing the record now, while parsing and mapping have left it in the cache, is
        // cheaper than after evaluation has pushed it out (callgrind: a tenth of the
        // replay's L1 data misses were frees).
        drop(record);
        match mapped {
            Ok(m) => match evaluate(m, r, &mut self.scratches, &mut self.plans) {
                Ok(result) => StepOutcome::Evaluated(result),
                Err(u) => StepOutcome::Unmappable(u),
            },
            Err(u) => StepOutcome::Unmappable(u),
        }
    }
}

/// Evaluates one mapped record with the compiled engine, and decides whether the answer
/// is certain ([`certainty`]).
fn evaluate<'a>(
    mapped: &'a mut MappedRecord,
    r: &'a Replayer<'_>,
    scratches: &mut [Option<Scratch>],
    plans: &mut PlanCache,
) -> Result<RecordResult<'a>, Unmappable> {
    let policies = r.policies;
    let index = policies
        .index_for(mapped.identity_arn.as_deref())
        .ok_or_else(|| Unmappable {
            class: "principal-not-in-account-data",
            reason: format!(
                "the account data has no user or role `{}`",
                mapped.identity_arn.as_deref().unwrap_or("?")
            ),
        })?;
    let prepared = &policies.sets()[index];
    for (key, value) in &prepared.tags {
        mapped.request.context.set_default(key, value);
    }
    mapped.principal_tags_known = prepared.tags_known;
    let evaluator = &r.evaluators[index];
    let scratch = scratches[index].get_or_insert_with(|| evaluator.scratch());
    let hop = mapped.hop;
    certainty::select_resource_policy(&mut mapped.request, hop, prepared);
    // One evaluation answers every record: it is the decision, and it proves most answers
    // certain (`certainty::settle`). Only an open record runs the walk over its unknowns,
    // which leaves other outcomes in the scratch: what the report needs of this one is
    // taken first.
    let outcome = evaluator.evaluate(&mapped.request, scratch);
    let settled = certainty::settle(mapped, prepared, evaluator, &outcome, &r.map)?;
    let Some(h) = outcome.hops.get(hop) else {
        unreachable!("certainty::settle checked that hop {hop} was evaluated");
    };
    let (decision, reason) = (h.decision, h.reason);
    // The owned explanation (statement names, missing keys) costs allocations: only for
    // records written one by one, for denials, which the report groups by deciding
    // statement, and for records the log denied that the replay allows (the report shows
    // which statements allow them). A depends-on record is reported by its `depends_on`
    // keys and what decides it. Whether the answer is certain is not known yet: the
    // explanation is taken whenever the decision could need it (for a certain record,
    // exactly when it does).
    let against_log = mapped.log_outcome == LogOutcome::Denied && !policies.what_if;
    let may_explain = r.explain_all || decision != Decision::Allow || against_log;
    let explanation = may_explain.then(|| hop_decision_of(evaluator, &outcome, hop));
    let certainty = match settled {
        Settled::Certain => Certainty::Certain,
        Settled::Open { missing } => certainty::decide_open(
            mapped, index, prepared, evaluator, scratch, &r.map, plans, &missing,
        ),
    };
    let (verdict, depends_on, decided_by) = match certainty {
        Certainty::Certain => {
            let verdict = if decision == Decision::Allow {
                Verdict::Allowed
            } else {
                Verdict::Denied
            };
            (verdict, Vec::new(), None)
        }
        Certainty::Depends { keys, description } => (Verdict::DependsOn, keys, Some(description)),
    };
    let allowed_against_log = verdict == Verdict::Allowed && against_log;
    let explained = r.explain_all || verdict == Verdict::Denied || allowed_against_log;
    let hop_decision = match (explained, explanation) {
        (false, _) => HopDecision {
            decision,
            reason,
            matched: Vec::new(),
            missing: Vec::new(),
        },
        (true, Some(explanation)) => explanation,
        // Not reached (`may_explain` covers every explained verdict); evaluating again
        // gives the same answer.
        (true, None) => {
            let outcome = evaluator.evaluate(&mapped.request, scratch);
            hop_decision_of(evaluator, &outcome, hop)
        }
    };
    Ok(RecordResult {
        mapped,
        decision: hop_decision,
        verdict,
        depends_on,
        decided_by,
    })
}

/// The owned decision of hop `hop` of an outcome.
fn hop_decision_of(
    evaluator: &Evaluator<'_>,
    outcome: &ChainOutcome<'_>,
    hop: usize,
) -> HopDecision {
    let owned = evaluator.decision(outcome);
    let Some(hop_decision) = owned.hops.into_iter().nth(hop) else {
        unreachable!("the outcome has hop {hop}");
    };
    hop_decision
}
