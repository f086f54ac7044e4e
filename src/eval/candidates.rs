//! Candidate statements: which statements a hop's action can concern (R-ACT-*).
//!
//! Only the statements a hop's action could match are examined. An action the program's
//! index names exactly has its candidates tabulated when the evaluator is built (every
//! entry verified, so the hop never matches an action pattern); any other action with a `:`
//! reads its service's *class* (tabulated after the exact actions: one per service of the
//! index, one for the services it does not know), whose statements are that service's glob
//! statements, the `NotAction` and the always-check ones, each action clause decided for
//! the whole class when the patterns allow (`iam:*` for `iam`: verified; `s3:*` for `iam`:
//! left out) and otherwise left unverified, for the hop to check on its folded action. An
//! action without a `:` gets its list built from the `NotAction` and always-check lists.
//!
//! For example, with `s3:GetObject` and `s3:Get*` in the program, a hop on `S3:GetObject`
//! reads its tabulated list (looked up with the action lower-cased on the fly), while a hop
//! on `s3:GetObjectTagging` folds its action and reads the `s3` class, where the `s3:Get*`
//! statement is unverified and matched by the hop.
//! Candidates are coded `id << 1 | verified`, sorted by id (the R-SIM-3 order), each
//! statement once (a repeat found by the index merged into one entry, verified if any was).

use crate::bytecode::*;
use crate::primitives;
use crate::table::ProgramView;

use super::{Evaluator, Scratch};

/// The most candidate entries [`Evaluator`] tabulates (16 MiB of them); a program whose
/// table would be larger builds each hop's candidates instead.
pub(super) const MAX_TABULATED_CANDIDATES: usize = 1 << 22;

/// Whether statement `id` is in a resource policy. The index's lists leave those out: a
/// hop examines its own resource policy's statements directly (see
/// [`Evaluator::resource_policy_statements`]), never the other hops'.
pub(super) fn in_resource_policy(v: &ProgramView<'_>, id: StatementId) -> bool {
    v.statements
        .get(id as usize)
        .and_then(|st| v.policies.get(st.policy as usize))
        .is_some_and(|p| policy_kind_from_code(p.kind) == Some(PolicyKind::ResourceBased))
}

/// `index_globs` without resource policies' statements, each service's range sorted by
/// pattern, with the ranges (see [`Evaluator::globs_by_pattern`]). Ranges that do not fit
/// the table are empty: a verified program's fit.
pub(super) fn globs_by_pattern(v: &ProgramView<'_>) -> (Vec<GlobRec>, Vec<(u32, u32)>) {
    let mut globs: Vec<GlobRec> = Vec::with_capacity(v.index_globs.len());
    let mut ranges = Vec::with_capacity(v.services.len());
    for svc in v.services {
        let range = svc.globs_first as usize..(svc.globs_first + svc.globs_len) as usize;
        let first = globs.len();
        globs.extend(
            v.index_globs
                .get(range)
                .unwrap_or_default()
                .iter()
                .filter(|g| !in_resource_policy(v, g.statement)),
        );
        globs[first..].sort_by_key(|g: &GlobRec| (g.pattern, g.statement));
        ranges.push((first as u32, globs.len() as u32));
    }
    (globs, ranges)
}

/// Per resource-policy slot, the range of its statements (see
/// [`Evaluator::resource_policy_statements`]).
pub(super) fn resource_policy_statements(v: &ProgramView<'_>) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for p in v.policies {
        if policy_kind_from_code(p.kind) == Some(PolicyKind::ResourceBased) {
            let slot = p.position as usize;
            if out.len() <= slot {
                out.resize(slot + 1, (0, 0));
            }
            out[slot] = (p.statements_first, p.statements_first + p.statements_len);
        }
    }
    out
}

/// Where a hop's candidates are.
pub(super) enum Candidates {
    /// A range of `exact_candidates`, and the action's `index_exact` entry.
    Tabulated(u32, u32, u32),
    Built,
}

impl<'p> Evaluator<'p> {
    /// Finds a hop's candidate statements, as `id << 1 | verified` sorted by id: the
    /// tabulated list of an action the index names exactly (a range of `exact_candidates`,
    /// all verified), else a list built in `built` from the action folded into `sc.action`
    /// (which [`Evaluator::examine`] reads for the unverified ones).
    pub(super) fn collect_candidates(
        &self,
        action: &str,
        resolved: Option<u32>,
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
        // A compact request built against this evaluator has its entry already.
        let entry = if let Some(resolved) = resolved {
            (resolved != crate::request::compact::NO_ID).then_some(resolved)
        } else if ascii {
            self.exact.get_ascii_lowercase(action)
        } else {
            fold(&mut sc.action);
            self.exact.get(sc.action.as_str())
        };
        if let Some((e, (first, end))) = entry.and_then(|e| Some((e, self.tabulated_range(e)?))) {
            return Candidates::Tabulated(first, end, e);
        }
        if ascii || resolved.is_some() {
            fold(&mut sc.action);
        }
        // Not named exactly: its service's class, tabulated like an exact action, with the
        // action clauses the class leaves open checked per hop on the folded action.
        if let Some((e, (first, end))) = self
            .class_entry(&sc.action)
            .and_then(|e| Some((e, self.tabulated_range(e)?)))
        {
            return Candidates::Tabulated(first, end, e);
        }
        self.collect_dynamic(built, &mut sc.excluded, &sc.action, false);
        Candidates::Built
    }

    /// The range of `exact_candidates` tabulated for entry `e` (of `index_exact`, or a
    /// class), if the evaluator tabulated candidates.
    #[inline]
    pub(super) fn tabulated_range(&self, e: u32) -> Option<(u32, u32)> {
        self.exact_candidate_ranges.get(e as usize).copied()
    }

    /// Whether entry `e` is a service class, whose statements' action clauses may be left
    /// open for the hop to check on its folded action (`sc.action`), not an action the
    /// index names exactly.
    #[inline]
    pub(super) fn is_class_entry(&self, e: u32) -> bool {
        e as usize >= self.v.index_exact.len()
    }

    /// The entry of `exact_candidate_ranges` for a folded action the index does not name
    /// exactly: its service's class (after the `index_exact` entries, one per service of
    /// the index in its order), or the class of the services the index does not know (the
    /// last); `None` without a `:` (no service: only the `NotAction` and always-check
    /// statements can match, and the general path builds that list).
    pub(super) fn class_entry(&self, folded: &str) -> Option<u32> {
        let (service, _) = folded.split_once(':')?;
        let first = self.v.index_exact.len() as u32;
        Some(match self.services.get(service) {
            Some(i) => first + i,
            None => first + self.v.services.len() as u32,
        })
    }

    /// The candidates of a folded action: index hits (a match for an `Action` statement, an
    /// exclusion for a `NotAction` one), the `NotAction` statements not excluded, and the
    /// always-check list, sorted. With `check_always`, the always-check statements' action
    /// clauses are checked here: those that pass are kept as verified, the others dropped.
    pub(super) fn collect_dynamic(
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
            if in_resource_policy(&self.v, id) {
                return;
            }
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
                let (first, end) = self.service_globs[svc as usize];
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
        for id in &self.not_action {
            if !excluded.contains(id) {
                out.push(id << 1 | 1);
            }
        }
        if check_always {
            out.extend(
                self.always
                    .iter()
                    .filter(|id| self.action_clause(&self.v.statements[**id as usize], folded))
                    .map(|id| id << 1 | 1),
            );
        } else {
            out.extend(self.always.iter().map(|id| id << 1));
        }
        out.sort_unstable();
        super::tabulate::dedup_candidates(out, 0);
    }

    /// Statement `st`'s action patterns: its range of the program's action records.
    #[inline]
    pub(super) fn statement_actions(&self, st: &StatementRec) -> &[ActionRec] {
        &self.v.actions[st.actions_first as usize..(st.actions_first + st.actions_len) as usize]
    }

    pub(super) fn action_clause(&self, st: &StatementRec, folded: &str) -> bool {
        let actions = self.statement_actions(st);
        self.action_clause_over(st, actions, folded)
    }

    /// Statement `st`'s action clause on a folded action, answered over `actions`: its
    /// whole list, or the part that concerns the action's class (`class_clauses`).
    #[inline]
    pub(super) fn action_clause_over(
        &self,
        st: &StatementRec,
        actions: &[ActionRec],
        folded: &str,
    ) -> bool {
        // The service is the text before the first colon (`split_once`), found once.
        let split = folded
            .bytes()
            .position(|b| b == b':')
            .map(|at| (&folded[..at], &folded[at + 1..]));
        self.patterns_clause(st, actions, split, Some(folded))
            .unwrap_or_default()
    }

    /// [`Evaluator::action_clause`] on a folded action already split at its first colon
    /// (`split`); `whole`, the folded action itself, is read only by Huawei patterns:
    /// `None` when it is not at hand, and then the answer is `None` if one needs it.
    pub(super) fn action_clause_split(
        &self,
        st: &StatementRec,
        split: Option<(&str, &str)>,
        whole: Option<&str>,
    ) -> Option<bool> {
        let actions = self.statement_actions(st);
        self.patterns_clause(st, actions, split, whole)
    }

    /// Statement `st`'s action clause, answered over `actions` (its whole list, or the part
    /// of it that concerns the hop's class, `class_clauses`), as
    /// [`Evaluator::action_clause_split`] answers.
    #[inline]
    pub(super) fn patterns_clause(
        &self,
        st: &StatementRec,
        actions: &[ActionRec],
        split: Option<(&str, &str)>,
        whole: Option<&str>,
    ) -> Option<bool> {
        let mut any = false;
        for a in actions {
            any = match ActionKind::from_code(a.kind) {
                Some(ActionKind::Any) => true,
                Some(ActionKind::Aws) => split.is_some_and(|(s, n)| {
                    action_glob(self.s(a.a), s) && action_glob(self.s(a.b), n)
                }),
                Some(ActionKind::Huawei) => action_glob(self.s(a.a), whole?),
                Some(ActionKind::Never) | None => false,
            };
            if any {
                break;
            }
        }
        Some(any != (st.flags & STMT_NOT_ACTION != 0))
    }
}

/// `wildcard_match`, with the two most common action patterns answered first: `*` (any
/// name, `kms:*`) and a pattern equal to the text, compared in words (`residual::bytes`);
/// a short pattern without wildcards that is not equal fails without the glob matcher.
#[inline]
pub(super) fn action_glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    if p.len() == 1 && p[0] == b'*' {
        return true;
    }
    // A pattern equal to the text matches it (a `*` or `?` matches itself): no scan for
    // wildcards on a match.
    if super::residual::bytes::same(p, text.as_bytes()) {
        return true;
    }
    if p.len() <= 16 && !p.iter().any(|&b| b == b'*' || b == b'?') {
        return false;
    }
    primitives::wildcard_match(pattern, text)
}

#[cfg(test)]
mod tests {
    /// The fast paths of `action_glob` answer as `wildcard_match`.
    #[test]
    fn action_glob_answers_as_wildcard_match() {
        let patterns = [
            "*",
            "kms",
            "s3",
            "getobject",
            "get*",
            "*object",
            "g?t",
            "",
            "**",
            "é",
            "a:b",
            "describeinstancesandvolumesmore",
        ];
        let texts = [
            "",
            "kms",
            "km",
            "kmss",
            "s3",
            "getobject",
            "getobjectx",
            "get",
            "got",
            "é",
            "a:b",
            "describeinstancesandvolumesmore",
            // Texts equal to patterns with wildcards (answered by the equality first).
            "get*",
            "g?t",
            "**",
            "*object",
            "*",
        ];
        for p in patterns {
            for t in texts {
                assert_eq!(
                    super::action_glob(p, t),
                    crate::primitives::wildcard_match(p, t),
                    "{p:?} {t:?}"
                );
            }
        }
    }
}
