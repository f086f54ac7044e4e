//! The answers of a simulation, for a reader (a table) and for a script (JSON lines).
//!
//! The JSON line of a cell is `fastiam eval`'s decision line (docs/cases.md) with the
//! cell's `action` and `resource`, the simulator's `notes`, and, in each matched statement
//! read from a policy file, its `file` and `line`: a consumer of `eval` lines reads it
//! unchanged. The table gives, per cell and per hop, the decision, the reason, the deciding
//! statements (kind, policy, Sid, file:line) and the context keys the policies looked for
//! but the request did not carry.
//!
//! ```text
//! s3:GetObject on arn:aws:s3:::data/q1.csv: Allow
//!   hop 0  s3:GetObject  arn:aws:s3:::data/q1.csv
//!          Allow  Allowed:Identity
//!          Identity  reader  ReadData  reader.json:4
//! ```

use std::fmt::Write;

use serde_json::{json, Value};

use crate::decision::{kind_name, Decision, MatchedStatement};
use crate::request::Hop;

use super::sources::Sources;
use super::Answer;

/// The id of a cell in its JSON line: `ACTION RESOURCE`.
pub fn cell_id(answer: &Answer) -> String {
    format!("{} {}", answer.cell.action, answer.cell.resource)
}

/// The JSON line of one answer.
pub fn to_json(answer: &Answer, sources: Option<&Sources>) -> Value {
    let mut line = answer.decision.to_json(&cell_id(answer));
    line["action"] = json!(answer.cell.action);
    line["resource"] = json!(answer.cell.resource);
    line["notes"] = json!(answer.cell.notes);
    let hops = &answer.cell.request.hops;
    if let (Some(sources), Some(list)) = (sources, line["hops"].as_array_mut()) {
        for (hop, decision) in list.iter_mut().zip(&answer.decision.hops) {
            let Some(matched) = hop["matched"].as_array_mut() else {
                continue;
            };
            for (entry, m) in matched.iter_mut().zip(&decision.matched) {
                if let Some((file, line)) = sources.locate(m, hops) {
                    entry["file"] = json!(file);
                    entry["line"] = json!(line);
                }
            }
        }
    }
    line
}

/// The readable report: a summary line per cell when there are several, then each cell's
/// hops.
pub fn table(answers: &[Answer], sources: Option<&Sources>) -> String {
    let mut out = String::new();
    if answers.len() > 1 {
        summary(&mut out, answers);
    }
    for answer in answers {
        cell(&mut out, answer, sources);
    }
    out
}

fn summary(out: &mut String, answers: &[Answer]) {
    let action_width = width(answers.iter().map(|a| a.cell.action.as_str()), "action");
    let resource_width = width(answers.iter().map(|a| a.cell.resource.as_str()), "resource");
    let _ = writeln!(
        out,
        "{:<18} {:<action_width$}  {:<resource_width$}  denied at",
        "decision", "action", "resource"
    );
    for a in answers {
        let at = a
            .decision
            .denied_at
            .map_or(String::new(), |i| format!("hop {i}"));
        let _ = writeln!(
            out,
            "{:<18} {:<action_width$}  {:<resource_width$}  {at}",
            a.decision.decision.name(),
            a.cell.action,
            a.cell.resource
        );
    }
    out.push('\n');
}

fn width<'a>(items: impl Iterator<Item = &'a str>, header: &str) -> usize {
    items.map(str::len).chain([header.len()]).max().unwrap_or(0)
}

fn cell(out: &mut String, answer: &Answer, sources: Option<&Sources>) {
    let d = &answer.decision;
    let _ = writeln!(
        out,
        "{} on {}: {}",
        answer.cell.action,
        answer.cell.resource,
        d.decision.name()
    );
    let hops = &answer.cell.request.hops;
    if d.decision == Decision::InvalidCredentials {
        let _ = writeln!(out, "  the credentials were not valid at the request time");
    }
    for (i, hop) in hops.iter().enumerate() {
        let _ = writeln!(out, "  hop {i}  {}", describe_hop(hop));
        let Some(h) = d.hops.get(i) else {
            let _ = writeln!(
                out,
                "         not evaluated (the chain stopped at an earlier hop)"
            );
            continue;
        };
        let _ = writeln!(out, "         {}  {}", h.decision.name(), h.reason);
        for m in &h.matched {
            let _ = writeln!(out, "         {}", statement(m, hops, sources));
        }
        if !h.missing.is_empty() {
            let _ = writeln!(
                out,
                "         missing context keys: {}",
                h.missing.join(", ")
            );
        }
    }
    for note in &answer.cell.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out.push('\n');
}

fn describe_hop(hop: &Hop) -> String {
    match &hop.via {
        Some(via) => format!("{}  {}  (forwarded by {via})", hop.action, hop.resource),
        None => format!("{}  {}", hop.action, hop.resource),
    }
}

/// `Identity  reader  Sid ReadData  reader.json:4` (the Sid, or the statement's index).
fn statement(m: &MatchedStatement, hops: &[Hop], sources: Option<&Sources>) -> String {
    let mut text = kind_name(m.kind).to_string();
    if let Some(level) = m.level {
        let _ = write!(text, "[level {level}]");
    }
    let _ = write!(text, "  {}  ", m.policy);
    match &m.sid {
        Some(sid) => {
            let _ = write!(text, "Sid {sid}");
        }
        None => {
            let _ = write!(text, "statement {}", m.statement);
        }
    }
    if let Some((file, line)) = sources.and_then(|s| s.locate(m, hops)) {
        let _ = write!(text, "  {file}:{line}");
    }
    text
}
