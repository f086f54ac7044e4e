//! What evaluation produces: per-hop and per-chain outcomes borrowed from a [`Scratch`], and
//! the owned [`ChainDecision`] made from them.
//!
//! Evaluating allocates nothing once a scratch has seen a request of the same shape, so the
//! results cannot be owned: a [`ChainOutcome`] borrows the scratch's lists (matched statements
//! by id, missing keys by id) and each [`HopOutcome`] holds ranges into them. Only
//! [`Evaluator::decision`] allocates, turning an outcome into the [`ChainDecision`] the
//! reference evaluator returns, for comparison and output.
//!
//! ```
//! # use fastiam::request::parse_case;
//! # use fastiam::eval::Evaluator;
//! # let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//! #  "policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Sid":"read","Effect":"Allow",
//! #  "Action":"s3:Get*","Resource":"*"}]}]},
//! #  "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/x"}]}"#, "doc").unwrap();
//! # let program = fastiam::compile::compile(&case.chain.policies).unwrap();
//! let evaluator = Evaluator::new(&program);
//! let mut scratch = evaluator.scratch();
//! let outcome = evaluator.evaluate(&case.chain.request, &mut scratch);
//! assert_eq!(outcome.matched(&outcome.hops[0]).len(), 1); // borrowed, by statement id
//! let owned = evaluator.decision(&outcome); // allocates
//! assert_eq!(owned.hops[0].matched[0].sid.as_deref(), Some("read"));
//! ```

use crate::bytecode::PolicyKind as Kind;
use crate::bytecode::*;
use crate::decision::{ChainDecision, Decision, HopDecision, MatchedStatement, Reason};

use super::slots::Slot;
use super::value_test::ParseMemo;
use super::Evaluator;

/// One applicable statement of the hop being evaluated.
#[derive(Clone, Copy, Debug)]
pub(super) struct Applied {
    pub(super) statement: StatementId,
    pub(super) categories: u8,
    /// The statement's policy kind and level and whether it denies, copied here from the
    /// tables `examine` has already read: the decision scans the applied list once per
    /// policy kind, and would otherwise read two records per element per scan.
    pub(super) kind: Kind,
    pub(super) level: u32,
    pub(super) deny: bool,
}

/// The result for one hop, with its lists in the scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopOutcome {
    pub decision: Decision,
    pub reason: Reason,
    pub(super) matched: (u32, u32),
    pub(super) missing: (u32, u32),
}

/// Reusable per-thread state. Not shared between threads; make one per worker.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    pub(super) slots: Vec<Slot>,
    pub(super) missing_bits: Vec<u64>,
    pub(super) candidates: Vec<u32>,
    /// `NotAction` statements one of whose patterns matched the hop's action.
    pub(super) excluded: Vec<StatementId>,
    pub(super) applied: Vec<Applied>,
    /// The hop's action folded (for the action clauses its candidates leave open) …
    pub(super) action: String,
    /// … once `action_folded` says so: the residual walk folds it on first need.
    pub(super) action_folded: bool,
    pub(super) fold: String,
    pub(super) text: String,
    /// The slot of the CalledVia list a forwarded hop extends (a given value's).
    pub(super) called_via_base: Option<Slot>,
    pub(super) called_via_hops: Vec<u32>,
    pub(super) hops: Vec<HopOutcome>,
    pub(super) matched: Vec<StatementId>,
    pub(super) missing: Vec<KeyId>,
    pub(super) memo: ParseMemo,
}

/// The result of a chain, borrowed from the scratch.
#[derive(Clone, Copy, Debug)]
pub struct ChainOutcome<'s> {
    pub decision: Decision,
    pub denied_at: Option<usize>,
    pub hops: &'s [HopOutcome],
    pub(super) matched: &'s [StatementId],
    pub(super) missing: &'s [KeyId],
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

impl<'p> Evaluator<'p> {
    /// A scratch sized for this program.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            slots: vec![Slot::Absent; self.v.keys.len()],
            missing_bits: vec![0; self.v.keys.len().div_ceil(64)],
            candidates: Vec::with_capacity(64),
            excluded: Vec::with_capacity(16),
            applied: Vec::with_capacity(64),
            action: String::with_capacity(128),
            action_folded: false,
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

    pub(super) fn matched_statement(&self, id: StatementId, hop: usize) -> MatchedStatement {
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
