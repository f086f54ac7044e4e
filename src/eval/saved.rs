//! An outcome kept after its scratch moves on to the next chain.
//!
//! A [`ChainOutcome`] borrows the scratch that made it; a caller that hands results to
//! someone who reads them later (the Python package's lazy `Evaluation`) copies the
//! outcome's ids — no strings — and turns it into a [`ChainDecision`](crate::decision::ChainDecision)
//! only when the per-hop detail is asked for.
//!
//! ```
//! # use fastiam::eval::{Evaluator, SavedOutcome};
//! # use fastiam::request::parse_case;
//! let case = parse_case(r#"{"id": "c", "principal": "arn:aws:iam::111122223333:user/a",
//!   "policies": {"identity": [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]},
//!   "chain": [{"action": "s3:GetObject", "resource": "*"}]}"#, "doc").unwrap();
//! let program = fastiam::compile::compile(&case.chain.policies).unwrap();
//! let evaluator = Evaluator::new(&program);
//! let mut scratch = evaluator.scratch();
//! let saved = SavedOutcome::from(&evaluator.evaluate(&case.chain.request, &mut scratch));
//! evaluator.evaluate(&case.chain.request, &mut scratch); // the scratch is reused
//! assert_eq!(evaluator.decision(&saved.outcome()).hops[0].matched.len(), 1);
//! ```

use smallvec::SmallVec;

use super::{ChainOutcome, HopOutcome};
use crate::bytecode::{KeyId, StatementId};
use crate::decision::Decision;

/// An owned copy of a [`ChainOutcome`] (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedOutcome {
    pub decision: Decision,
    pub denied_at: Option<usize>,
    // Inline for the common chain (one or two hops, a few deciding statements): saving an
    // outcome then allocates nothing.
    hops: SmallVec<[HopOutcome; 2]>,
    matched: SmallVec<[StatementId; 4]>,
    missing: SmallVec<[KeyId; 2]>,
}

impl From<&ChainOutcome<'_>> for SavedOutcome {
    fn from(o: &ChainOutcome<'_>) -> Self {
        SavedOutcome {
            decision: o.decision,
            denied_at: o.denied_at,
            hops: SmallVec::from_slice(o.hops),
            matched: SmallVec::from_slice(o.matched),
            missing: SmallVec::from_slice(o.missing),
        }
    }
}

impl SavedOutcome {
    /// The outcome again, borrowed from this copy: what [`Evaluator::decision`](super::Evaluator::decision) reads.
    pub fn outcome(&self) -> ChainOutcome<'_> {
        ChainOutcome {
            decision: self.decision,
            denied_at: self.denied_at,
            hops: &self.hops,
            matched: &self.matched,
            missing: &self.missing,
        }
    }

    /// The hops' outcomes, up to and including the first denied one.
    pub fn hops(&self) -> &[HopOutcome] {
        &self.hops
    }
}
