//! Same decisions, before any timing: a fast wrong answer is not a result.
//!
//! Every chain: fastiam's compiled engine on the parsed `Request`, the same engine on the
//! `CompactRequest` built against it, and the reference evaluator give the same result
//! (decision, reason, statements, missing keys). Every hop — also the hops after a chain's
//! first denial — gets the same decision from fastiam (both request forms) and Cedar. The
//! first difference stops the program. For example, a chain denied at hop 1 of 3 is checked
//! three times on fastiam's side: the chain itself, then hop 1 and hop 2 reached by marking
//! the hops before them as needing no permission (R-EVAL-7).

use cedar_policy::Request as CedarRequest;
use fastiam::benchmark::Prepared;
use fastiam::decision::Decision;
use fastiam::eval::{Evaluator, Scratch};
use fastiam::request::compact::RequestBuilder;
use fastiam::request::Request;

use crate::cedar::Cedar;

/// What the check counted (equal on every side, or it would have stopped).
#[derive(Default)]
pub struct Checked {
    /// Hops a chain evaluator evaluates (up to the first denied hop), over all chains.
    pub hops_evaluated: usize,
    /// Per chain: the hops it evaluates (what the timing counts for that chain).
    pub hops_per_chain: Vec<usize>,
    /// Per-hop decisions over every hop: Allow, ExplicitDeny, ImplicitDeny.
    pub hops: [usize; 3],
    /// Chain decisions: Allow, ExplicitDeny, ImplicitDeny.
    pub chains: [usize; 3],
}

fn slot(d: Decision) -> usize {
    match d {
        Decision::Allow => 0,
        Decision::ExplicitDeny => 1,
        _ => 2,
    }
}

/// fastiam's decision for hop `k` of `request` whatever the hops before it decided: the
/// hops before it are marked as needing no permission (R-EVAL-7), which leaves every
/// context as it was but lets evaluation reach hop `k`. Evaluated on the parsed request and
/// on the compact one built from it; they must agree.
fn hop_decision(
    evaluator: &Evaluator,
    scratch: &mut Scratch,
    builder: &mut RequestBuilder,
    request: &Request,
    k: usize,
) -> Result<Decision, String> {
    let last = |hops: Option<Decision>| hops.unwrap_or(Decision::ImplicitDeny);
    let mut reach = request.clone();
    reach.hops.truncate(k + 1);
    for hop in &mut reach.hops[..k] {
        hop.requires_no_permission = true;
    }
    let parsed = last(
        evaluator
            .evaluate(&reach, scratch)
            .hops
            .last()
            .map(|h| h.decision),
    );
    let compact = builder
        .fill_from(&reach)
        .finish_for(evaluator)
        .map_err(|e| e.to_string())?;
    let compact = last(
        evaluator
            .evaluate(compact, scratch)
            .hops
            .last()
            .map(|h| h.decision),
    );
    if parsed != compact {
        return Err(format!(
            "hop {k} reached alone: Request {parsed:?}, CompactRequest {compact:?}"
        ));
    }
    Ok(parsed)
}

/// Checks every chain and every hop (module docs); returns the counts.
pub fn check(
    prepared: &Prepared,
    evaluator: &Evaluator,
    cedar: &Cedar,
    chains: &[Vec<CedarRequest>],
) -> Result<Checked, String> {
    let mut scratch = evaluator.scratch();
    let mut builder = RequestBuilder::new();
    let mut checked = Checked::default();
    for (i, (request, cedar_hops)) in prepared.requests.iter().zip(chains).enumerate() {
        let outcome = evaluator.evaluate(request, &mut scratch);
        let compiled = evaluator.decision(&outcome);
        let oracle = fastiam::reference::evaluate(request, &prepared.policies);
        if compiled != oracle {
            return Err(format!(
                "chain {i}: compiled {compiled:?}, reference {oracle:?}"
            ));
        }
        let built = builder
            .fill_from(request)
            .finish_for(evaluator)
            .map_err(|e| format!("chain {i}: building its CompactRequest: {e}"))?;
        let compact = evaluator.decision(&evaluator.evaluate(built, &mut scratch));
        if compact != compiled {
            return Err(format!(
                "chain {i}: CompactRequest {compact:?}, Request {compiled:?}"
            ));
        }
        checked.hops_evaluated += compiled.hops.len();
        checked.hops_per_chain.push(compiled.hops.len());
        checked.chains[slot(compiled.decision)] += 1;
        let mut cedar_chain = Decision::Allow;
        for (k, cedar_request) in cedar_hops.iter().enumerate() {
            let ours = match compiled.hops.get(k) {
                Some(h) => h.decision,
                None => hop_decision(evaluator, &mut scratch, &mut builder, request, k)
                    .map_err(|e| format!("chain {i}: {e}"))?,
            };
            let theirs = cedar.decide(cedar_request)?;
            if ours != theirs {
                return Err(format!(
                    "chain {i} hop {k} ({}): fastiam {ours:?}, cedar {theirs:?}",
                    request.hops[k].action
                ));
            }
            checked.hops[slot(ours)] += 1;
            if cedar_chain == Decision::Allow {
                cedar_chain = theirs;
            }
        }
        if cedar_chain != compiled.decision {
            return Err(format!(
                "chain {i}: fastiam {:?}, cedar {cedar_chain:?}",
                compiled.decision
            ));
        }
    }
    Ok(checked)
}
