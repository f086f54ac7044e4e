//! The values to try for each unknown of a record: one per class of the conditions' (or
//! `Resource` clauses') outcomes, for every operator family.
//!
//! [`super`] runs the evaluator once per combination of these values; it is exact only if
//! every class that some value realises has its witness here. Strings get theirs from the
//! product automaton of all the patterns ([`super::super::witness`]); numbers and dates from
//! the constants and the points between and around them; IP addresses from the boundaries of
//! every network and their outer neighbours; multi-valued keys from every set of element
//! classes. Each candidate is then kept only if its truth vector is new, so a key read by
//! `StringEquals "a"` alone tries absent, `"a"` and one other value:
//!
//! ```text
//! aws:SourceVpc: absent | "vpc-1" | "fastiam-other-value"
//! ```

use crate::policy::{
    BaseOperator, Condition, ConditionValues, OperatorFamily, ResourcePattern, Statement,
};
use crate::primitives::{self, Piece};
use crate::reference::{condition_holds, resolve_pieces, resource_clause_matches};
use crate::request::{
    default_resource_policy_required, is_multi_valued, Context, ContextValue, Request,
};

use super::super::policies::Prepared;
use super::super::witness::{witnesses, Sym};
use super::{MAX_SET_CLASSES, MAX_STATES};

/// Witness values and examples of one class each.
pub(super) type Classes = (Vec<Option<ContextValue>>, Vec<Vec<Option<ContextValue>>>);

/// The witness values of one unknown key read by `conditions`, one per truth vector, with a
/// few members of each class.
pub(super) fn key_values(
    key: &str,
    conditions: &[&Condition],
    probe: &Context,
) -> Result<Classes, String> {
    let mut singles: Vec<String> = Vec::new();
    let mut automata: Vec<Vec<Sym>> = Vec::new();
    for c in conditions {
        let op = c.operator.base;
        match &c.values {
            ConditionValues::Patterns(patterns) if op.family() == OperatorFamily::Bool => {
                let _ = patterns;
                singles.extend(["true", "false", "fastiam-not-a-bool"].map(String::from));
            }
            ConditionValues::Patterns(patterns) => {
                let positive = op.positive();
                let wildcards = positive == BaseOperator::StringLike;
                for p in patterns {
                    let Some(pieces) = resolve_pieces(p, probe, wildcards) else {
                        continue; // never matches (R-VAR-6): no class of its own
                    };
                    let fold = positive == BaseOperator::StringEqualsIgnoreCase;
                    let mut syms = Vec::new();
                    if positive == BaseOperator::StringEndWith {
                        syms.push(Sym::Star { colon: true });
                    }
                    push_pieces(&mut syms, &pieces, fold, true);
                    if positive == BaseOperator::StringStartWith {
                        syms.push(Sym::Star { colon: true });
                    }
                    automata.push(syms);
                }
            }
            ConditionValues::Arns(arns) => {
                singles.push("fastiam-not-an-arn".to_string());
                for parts in arns.iter().flatten() {
                    let mut syms = Vec::new();
                    for (i, part) in parts.iter().enumerate() {
                        let Some(pieces) = resolve_pieces(part, probe, true) else {
                            syms.clear();
                            break;
                        };
                        if i == 0 && pieces != [Piece::Lit("arn")] {
                            return Err(format!(
                                "an ARN pattern of `{}` does not start with `arn`",
                                c.key_written
                            ));
                        }
                        if i > 0 {
                            syms.push(Sym::Lit(':'));
                        }
                        push_pieces(&mut syms, &pieces, false, i == 5);
                    }
                    if !syms.is_empty() {
                        automata.push(syms);
                    }
                }
            }
            ConditionValues::Typed(texts) => singles.extend(typed_values(op, texts, c)?),
            ConditionValues::Null(_) => {}
        }
    }
    if !automata.is_empty() {
        let found = witnesses(&automata, MAX_STATES).ok_or_else(|| {
            format!("the patterns compared with `{key}` are too many or too long to enumerate")
        })?;
        singles.extend(found.into_iter().map(|(_, w)| w));
    }
    // Values that are no literal of any policy go last, so that a class is shown by a
    // value a reader recognises where it has one.
    singles.push("fastiam-other-value".to_string());
    singles.sort_by_key(|s| s.starts_with("fastiam-"));
    // One value per truth vector.
    let mut probe = probe.clone();
    let mut seen: Vec<Vec<bool>> = Vec::new();
    let vector = |probe: &mut Context, v: &Option<ContextValue>| -> Vec<bool> {
        match v {
            None => {
                probe.remove(key);
            }
            Some(v) => probe.set(key.to_string(), v.clone()),
        }
        conditions
            .iter()
            .map(|c| condition_holds(c, probe))
            .collect()
    };
    let mut out = Vec::new();
    let mut candidates: Vec<Option<ContextValue>> = vec![None];
    if is_multi_valued(key) || conditions.iter().any(|c| c.operator.qualifier.is_some()) {
        // Element classes first: the sets are built from one element of each.
        let mut classes: Vec<String> = Vec::new();
        let mut class_vectors: Vec<Vec<bool>> = Vec::new();
        for s in &singles {
            let v = vector(&mut probe, &Some(ContextValue::Single(s.clone())));
            if !class_vectors.contains(&v) {
                class_vectors.push(v);
                classes.push(s.clone());
            }
        }
        if classes.len() > MAX_SET_CLASSES {
            return Err(format!(
                "`{key}` is multi-valued and its values fall into {} classes",
                classes.len()
            ));
        }
        candidates.extend(
            classes
                .iter()
                .cloned()
                .map(|s| Some(ContextValue::Single(s))),
        );
        for subset in 1u32..(1 << classes.len()) {
            let set: Vec<String> = (0..classes.len())
                .filter(|i| subset & (1 << i) != 0)
                .map(|i| classes[i].clone())
                .collect();
            candidates.push(Some(ContextValue::Multi(set)));
        }
    } else {
        candidates.extend(singles.into_iter().map(|s| Some(ContextValue::Single(s))));
    }
    let mut examples: Vec<Vec<Option<ContextValue>>> = Vec::new();
    for c in candidates {
        let v = vector(&mut probe, &c);
        match seen.iter().position(|s| *s == v) {
            Some(i) if examples[i].len() < 3 => examples[i].push(c),
            Some(_) => {}
            None => {
                seen.push(v);
                out.push(c.clone());
                examples.push(vec![c]);
            }
        }
    }
    Ok((out, examples))
}

fn push_pieces(out: &mut Vec<Sym>, pieces: &[Piece<'_>], fold: bool, colon: bool) {
    for piece in pieces {
        match piece {
            Piece::Lit(text) => out.extend(text.chars().map(|c| match fold {
                true => Sym::Fold(c),
                false => Sym::Lit(c),
            })),
            Piece::Star => out.push(Sym::Star { colon }),
            Piece::One => out.push(Sym::One { colon }),
        }
    }
}

/// Witnesses of numeric, date, IP and binary comparisons.
fn typed_values(op: BaseOperator, texts: &[String], c: &Condition) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    match op.family() {
        OperatorFamily::Numeric => {
            let mut points: Vec<f64> = texts
                .iter()
                .filter(|t| primitives::parse_decimal(t).is_some())
                .filter_map(|t| t.parse::<f64>().ok())
                .collect();
            points.sort_by(f64::total_cmp);
            points.dedup();
            out.extend(texts.iter().cloned());
            for w in points.windows(2) {
                out.push(format!("{}", (w[0] + w[1]) / 2.0));
            }
            if let (Some(lo), Some(hi)) = (points.first(), points.last()) {
                out.push(format!("{}", lo - 1.0));
                out.push(format!("{}", hi + 1.0));
            }
            out.push("fastiam-not-a-number".to_string());
        }
        OperatorFamily::Date => {
            let mut points = Vec::new();
            for t in texts {
                let Some(at) = primitives::parse_date(t) else {
                    continue;
                };
                if at.nanos != 0 {
                    return Err(format!(
                        "a date compared with `{}` has fractions of a second",
                        c.key_written
                    ));
                }
                points.push(at.secs);
            }
            points.sort_unstable();
            points.dedup();
            if points.windows(2).any(|w| w[1] - w[0] < 2) {
                return Err(format!(
                    "dates compared with `{}` are less than two seconds apart",
                    c.key_written
                ));
            }
            for p in points {
                out.extend([p - 1, p, p + 1].map(|s| s.to_string()));
            }
            out.push("fastiam-not-a-date".to_string());
        }
        OperatorFamily::Ip => {
            for t in texts {
                let Ok(net) = t
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                else {
                    continue;
                };
                for a in [net.network(), net.broadcast()] {
                    out.push(a.to_string());
                    out.extend(neighbours(a).map(|n| n.to_string()));
                }
            }
            out.extend(
                [
                    "0.0.0.0",
                    "255.255.255.255",
                    "::",
                    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                ]
                .map(String::from),
            );
            out.push("fastiam-not-an-ip".to_string());
        }
        OperatorFamily::Binary => {
            out.extend(texts.iter().cloned());
            out.push("ZmFzdGlhbQ==".to_string());
            out.push("fastiam-not-base64!".to_string());
        }
        _ => {}
    }
    Ok(out)
}

fn neighbours(a: std::net::IpAddr) -> impl Iterator<Item = std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let (below, above) = match a {
        IpAddr::V4(v) => {
            let n = u32::from(v);
            (
                n.checked_sub(1).map(|n| IpAddr::V4(Ipv4Addr::from(n))),
                n.checked_add(1).map(|n| IpAddr::V4(Ipv4Addr::from(n))),
            )
        }
        IpAddr::V6(v) => {
            let n = u128::from(v);
            (
                n.checked_sub(1).map(|n| IpAddr::V6(Ipv6Addr::from(n))),
                n.checked_add(1).map(|n| IpAddr::V6(Ipv6Addr::from(n))),
            )
        }
    };
    below.into_iter().chain(above)
}

/// Witness resources for an unknown resource: one per combination of the `Resource`
/// clauses matched and the resource policy selected.
pub(super) fn resource_values(
    statements: &[&Statement],
    prepared: &Prepared,
    probe: &Context,
    request: &Request,
    hop: usize,
) -> Result<Vec<String>, String> {
    let mut automata = Vec::new();
    for s in statements {
        for p in &s.resource.patterns {
            let mut syms = Vec::new();
            match p {
                ResourcePattern::Any | ResourcePattern::Never => continue,
                ResourcePattern::Plain(p) => {
                    let Some(pieces) = resolve_pieces(p, probe, true) else {
                        continue;
                    };
                    push_pieces(&mut syms, &pieces, false, true);
                }
                ResourcePattern::Arn { segments, resource } => {
                    if segments[0] != "arn" {
                        return Err("a Resource ARN pattern does not start with `arn`".into());
                    }
                    for (i, seg) in segments.iter().enumerate() {
                        if i > 0 {
                            syms.push(Sym::Lit(':'));
                        }
                        let pieces: Vec<Piece<'_>> = primitives::parse_wildcards(seg).collect();
                        push_pieces(&mut syms, &pieces, false, false);
                    }
                    syms.push(Sym::Lit(':'));
                    let Some(pieces) = resolve_pieces(resource, probe, true) else {
                        continue;
                    };
                    push_pieces(&mut syms, &pieces, false, true);
                }
                ResourcePattern::Urn { segments, path } => {
                    for (i, seg) in segments.iter().enumerate() {
                        if i > 0 {
                            syms.push(Sym::Lit(':'));
                        }
                        let pieces: Vec<Piece<'_>> = primitives::parse_wildcards(seg).collect();
                        push_pieces(&mut syms, &pieces, i == 0, false);
                    }
                    syms.push(Sym::Lit(':'));
                    let Some(pieces) = resolve_pieces(path, probe, true) else {
                        continue;
                    };
                    push_pieces(&mut syms, &pieces, false, true);
                }
            }
            automata.push(syms);
        }
    }
    let mut candidates: Vec<String> = vec![String::new(), "*".to_string()];
    for (arn, _) in &prepared.resource_index {
        candidates.push(arn.clone());
        candidates.push(format!("{arn}/fastiam-object"));
    }
    if !automata.is_empty() {
        let found = witnesses(&automata, MAX_STATES)
            .ok_or("the Resource patterns are too many or too long to enumerate")?;
        candidates.extend(found.into_iter().map(|(_, w)| w));
    }
    let action = &request.hops[hop].action;
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for r in candidates {
        let vector: (Vec<bool>, Option<usize>, bool) = (
            statements
                .iter()
                .map(|s| resource_clause_matches(&s.resource, &r, probe))
                .collect(),
            prepared.resource_policy(&r),
            default_resource_policy_required(request.dialect, action, &r),
        );
        if !seen.contains(&vector) {
            seen.push(vector);
            out.push(r);
        }
    }
    Ok(out)
}
