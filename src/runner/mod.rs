//! Running a file of cases through an engine: one decision per case, in input order.
//!
//! A line that cannot be read becomes an `Error` decision naming the file, the line, the
//! JSON pointer and what was expected, and the lines after it are still evaluated: nothing
//! of the file is lost. Blank lines hold no case and are skipped.
//!
//! ```
//! use fastiam::runner::{run_cases, Reference};
//! let input = "{\"id\":\"a\",\"principal\":\"anonymous\",\"chain\":[{\"action\":\"s3:GetObject\",\"resource\":\"*\"}]}\nnot json\n";
//! let mut lines = Vec::new();
//! let summary = run_cases(input.as_bytes(), "cases.jsonl", &Reference, |o| lines.push(o.to_json())).unwrap();
//! assert_eq!(summary.cases, 2);
//! assert_eq!(summary.errors, 1);
//! assert_eq!(lines[1]["decision"], "Error");
//! ```

use std::io::{self, BufRead};

use serde_json::Value;

use crate::decision::{error_json, ChainDecision, Decision};
use crate::eval::Evaluator;
use crate::policy::Mode;
use crate::request::{
    parse_case_sharing, parse_case_with, Chain, Expectation, PolicySet, PolicySetCache, SharedCase,
};
use crate::table::Program;

mod compiled;

pub use compiled::Compiled;

/// An evaluator of chains. Every engine implements it, so that tests and the command line
/// can compare them (R-GEN-4).
pub trait Engine {
    /// A short name (`reference`, `compiled`).
    fn name(&self) -> &'static str;
    /// Evaluates one chain.
    fn evaluate(&self, chain: &Chain) -> ChainDecision;

    /// Whether this engine can evaluate the chain at all; the message becomes the case's
    /// `Error` decision.
    fn check(&self, _chain: &Chain) -> Result<(), String> {
        Ok(())
    }

    /// Whether the engine decides with each case's own `policies`; `false` for one that
    /// decides with policies compiled beforehand, which then refuses every case that
    /// carries a `policies` member, an empty one included (it would be silently ignored).
    fn uses_case_policies(&self) -> bool {
        true
    }

    /// Whether the engine takes cases whose policy set is shared between the lines with
    /// the same `policies` text ([`parse_case_sharing`]): the runner then parses each
    /// distinct set once, and calls [`Engine::evaluate_shared`].
    fn shares_policy_sets(&self) -> bool {
        false
    }

    /// Evaluates a case read with its policy set shared; `text` is its line. By default,
    /// the chain with its set put back, through [`Engine::evaluate`].
    fn evaluate_shared(&self, case: &SharedCase, _text: &str) -> ChainDecision {
        let mut chain = case.case.chain.clone();
        chain.policies = PolicySet {
            resource: std::mem::take(&mut chain.policies.resource),
            ..case.policies.set.clone()
        };
        self.evaluate(&chain)
    }
}

/// A program compiled ahead of time (`fastiam compile`), evaluating the requests of cases
/// that carry no policies of their own; hops name its resource policies by
/// `resource_policy_slot`.
pub struct OnProgram<'p> {
    evaluator: Evaluator<'p>,
    scratch: std::cell::RefCell<crate::eval::Scratch>,
    resource_slots: usize,
}

impl<'p> OnProgram<'p> {
    pub fn new<B: AsRef<[u8]>>(program: &'p Program<B>) -> Self {
        let evaluator = Evaluator::new(program);
        let scratch = std::cell::RefCell::new(evaluator.scratch());
        let resource_slots = evaluator
            .view()
            .meta
            .first()
            .map_or(0, |m| m.resource_policies as usize);
        OnProgram {
            evaluator,
            scratch,
            resource_slots,
        }
    }
}

impl Engine for OnProgram<'_> {
    fn name(&self) -> &'static str {
        "program"
    }

    fn uses_case_policies(&self) -> bool {
        false
    }

    fn check(&self, chain: &Chain) -> Result<(), String> {
        if chain.policies != crate::request::PolicySet::default() {
            return Err("the case carries policies, but --program evaluates against the compiled program: remove `policies` and inline `resource_policy` (use `resource_policy_slot`)".into());
        }
        match chain
            .request
            .hops
            .iter()
            .position(|h| h.resource_policy.is_some_and(|s| s >= self.resource_slots))
        {
            Some(i) => Err(format!(
                "hop {i}: `resource_policy_slot` is beyond the program's {} resource policies",
                self.resource_slots
            )),
            None => Ok(()),
        }
    }

    fn evaluate(&self, chain: &Chain) -> ChainDecision {
        let mut scratch = self.scratch.borrow_mut();
        let outcome = self.evaluator.evaluate(&chain.request, &mut scratch);
        self.evaluator.decision(&outcome)
    }
}

/// The reference evaluator as an [`Engine`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

impl Engine for Reference {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn evaluate(&self, chain: &Chain) -> ChainDecision {
        crate::reference::evaluate_chain(chain)
    }
}

/// The result of one line.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// 1-based line number in the input.
    pub line: usize,
    /// The case id, when the line got far enough to have one.
    pub id: Option<String>,
    /// The decision, or the message of why the case could not be evaluated.
    pub result: Result<ChainDecision, String>,
    pub expect: Option<Expectation>,
}

impl Outcome {
    /// The CASES.md decision line.
    pub fn to_json(&self) -> Value {
        match &self.result {
            Ok(d) => d.to_json(self.id.as_deref().unwrap_or_default()),
            Err(msg) => error_json(self.id.as_deref(), msg),
        }
    }

    /// Whether the decision agrees with the case's `expect` (decision, `denied_at`, and each
    /// given hop decision); `None` without an expectation.
    pub fn agrees(&self) -> Option<bool> {
        let expect = self.expect.as_ref()?;
        let Ok(d) = &self.result else {
            return Some(expect.decision == "Error");
        };
        let hops_agree = expect
            .hops
            .iter()
            .enumerate()
            .all(|(i, h)| d.hops.get(i).is_some_and(|got| got.decision.name() == h));
        Some(d.decision.name() == expect.decision && d.denied_at == expect.denied_at && hops_agree)
    }
}

/// Counts over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub cases: usize,
    pub allow: usize,
    pub explicit_deny: usize,
    pub implicit_deny: usize,
    pub invalid_credentials: usize,
    /// Lines that could not be evaluated.
    pub errors: usize,
    pub hops: usize,
    /// Cases with an `expect` that agreed / disagreed.
    pub expect_agree: usize,
    /// Ids (or `line N`) of the cases whose decision differs from their `expect`.
    pub expect_disagree: Vec<String>,
}

impl Summary {
    fn add(&mut self, o: &Outcome) {
        self.cases += 1;
        match &o.result {
            Ok(d) => {
                self.hops += d.hops.len();
                match d.decision {
                    Decision::Allow => self.allow += 1,
                    Decision::ExplicitDeny => self.explicit_deny += 1,
                    Decision::ImplicitDeny => self.implicit_deny += 1,
                    Decision::InvalidCredentials => self.invalid_credentials += 1,
                }
            }
            Err(_) => self.errors += 1,
        }
        match o.agrees() {
            Some(true) => self.expect_agree += 1,
            Some(false) => self
                .expect_disagree
                .push(o.id.clone().unwrap_or_else(|| format!("line {}", o.line))),
            None => {}
        }
    }

    /// Adds another run's counts.
    pub fn merge(&mut self, other: Summary) {
        self.cases += other.cases;
        self.allow += other.allow;
        self.explicit_deny += other.explicit_deny;
        self.implicit_deny += other.implicit_deny;
        self.invalid_credentials += other.invalid_credentials;
        self.errors += other.errors;
        self.hops += other.hops;
        self.expect_agree += other.expect_agree;
        self.expect_disagree.extend(other.expect_disagree);
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "cases               {:>8}", self.cases)?;
        writeln!(f, "  Allow             {:>8}", self.allow)?;
        writeln!(f, "  ExplicitDeny      {:>8}", self.explicit_deny)?;
        writeln!(f, "  ImplicitDeny      {:>8}", self.implicit_deny)?;
        writeln!(f, "  InvalidCredentials{:>8}", self.invalid_credentials)?;
        writeln!(f, "  Error             {:>8}", self.errors)?;
        writeln!(f, "hops evaluated      {:>8}", self.hops)?;
        let with_expect = self.expect_agree + self.expect_disagree.len();
        if with_expect > 0 {
            writeln!(
                f,
                "expectations        {:>8} agree of {with_expect}",
                self.expect_agree
            )?;
            for id in self.expect_disagree.iter().take(20) {
                writeln!(f, "  differs: {id}")?;
            }
            if self.expect_disagree.len() > 20 {
                writeln!(f, "  ... and {} more", self.expect_disagree.len() - 20)?;
            }
        }
        Ok(())
    }
}

/// Reads one case per line from `input`, evaluates it with `engine`, and hands each
/// outcome to `emit` in input order. `source` names the input in error messages.
pub fn run_cases<R: BufRead>(
    input: R,
    source: &str,
    engine: &dyn Engine,
    emit: impl FnMut(&Outcome),
) -> io::Result<Summary> {
    run_cases_with(input, source, engine, None, emit)
}

/// As [`run_cases`], with a loading mode overriding each case's own (R-GEN-6).
pub fn run_cases_with<R: BufRead>(
    input: R,
    source: &str,
    engine: &dyn Engine,
    mode: Option<Mode>,
    mut emit: impl FnMut(&Outcome),
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut sets =
        (engine.shares_policy_sets() && engine.uses_case_policies()).then(PolicySetCache::new);
    let mut input = input;
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let outcome = match std::str::from_utf8(&buf) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => {
                let place = format!("{source}:{line_no}");
                match sets.as_mut() {
                    Some(sets) => evaluate_line_sharing(text, &place, line_no, engine, mode, sets),
                    None => evaluate_line(text, &place, line_no, engine, mode),
                }
            }
            // Invalid UTF-8 is one bad line, not the end of the file.
            Err(e) => Outcome {
                line: line_no,
                id: None,
                result: Err(format!(
                    "{source}:{line_no}: the line is not valid UTF-8 (byte {})",
                    e.valid_up_to() + 1
                )),
                expect: None,
            },
        };
        summary.add(&outcome);
        emit(&outcome);
    }
    Ok(summary)
}

/// Reads and evaluates one case line.
pub fn evaluate_line(
    text: &str,
    source: &str,
    line: usize,
    engine: &dyn Engine,
    mode: Option<Mode>,
) -> Outcome {
    match parse_case_with(text, source, mode) {
        Ok(case) => Outcome {
            line,
            result: match &case.policies_at {
                Some(at) if !engine.uses_case_policies() => Err(format!(
                    "{at}: the case carries `policies`, but --program evaluates against the compiled program: remove the member (even an empty one) and name resource policies by `resource_policy_slot`"
                )),
                _ => engine
                    .check(&case.chain)
                    .map(|()| engine.evaluate(&case.chain))
                    .map_err(|msg| format!("{source}: {msg}")),
            },
            id: Some(case.id),
            expect: case.expect,
        },
        Err(e) => Outcome {
            line,
            id: e.id.clone(),
            result: Err(e.to_string()),
            expect: None,
        },
    }
}

/// As [`evaluate_line`], for an engine that [shares policy sets](Engine::shares_policy_sets):
/// a `policies` text seen before is not parsed again. Decisions and error messages are
/// those of [`evaluate_line`].
pub fn evaluate_line_sharing(
    text: &str,
    source: &str,
    line: usize,
    engine: &dyn Engine,
    mode: Option<Mode>,
    sets: &mut PolicySetCache,
) -> Outcome {
    match parse_case_sharing(text, source, mode, sets) {
        Ok(shared) => Outcome {
            line,
            result: engine
                .check(&shared.case.chain)
                .map(|()| engine.evaluate_shared(&shared, text))
                .map_err(|msg| format!("{source}: {msg}")),
            id: Some(shared.case.id),
            expect: shared.case.expect,
        },
        Err(e) => Outcome {
            line,
            id: e.id.clone(),
            result: Err(e.to_string()),
            expect: None,
        },
    }
}
