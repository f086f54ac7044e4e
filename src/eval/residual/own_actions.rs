//! Resource policies' action clauses decided per service when the evaluator is built.
//!
//! The action index leaves resource policies out, so a hop that carries its own resource
//! policy checks each of its statements' action clauses itself. Most such clauses name
//! whole services (a key policy's `kms:*`, a bucket policy's `s3:*`) or services the hop's
//! is not: for those the answer depends on the hop's service alone, never on the action's
//! name. This table holds, per resource-policy statement and per service of the index, that
//! answer — matches, does not, or depends on the name — so that on a hop of an action the
//! index names exactly the check is one byte read; only a clause that depends on the name
//! (`s3:Get*`) is matched on the index's folded service and name, as before.
//!
//! ```text
//! key policy statement 0: Allow kms:*          services [iam, kms, s3]  →  [no, yes, no]
//! bucket statement 0:     Deny NotAction s3:Get*                       →  [yes, yes, name]
//! ```

use crate::bytecode::*;

use super::super::Evaluator;

/// Past this many cells (one byte each) the table is not built and every clause is matched
/// on the action, as without it: a program with very many resource policies and services.
const MAX_CELLS: usize = 1 << 20;

/// A clause's answer for one service.
const NO: u8 = 0;
const YES: u8 = 1;
const BY_NAME: u8 = 2;

/// Per resource-policy statement, per service of the index: [`NO`], [`YES`] or
/// [`BY_NAME`] (see the module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct OwnActions {
    /// Per resource-policy slot: the row of its first statement.
    rows: Vec<u32>,
    /// How many services a row has.
    width: usize,
    cells: Vec<u8>,
}

impl OwnActions {
    /// The table of `e`'s resource-policy statements (empty past [`MAX_CELLS`]).
    pub(super) fn build(e: &Evaluator<'_>) -> OwnActions {
        let v = &e.v;
        let width = v.services.len();
        let statements: usize = e
            .resource_policy_statements
            .iter()
            .map(|(first, end)| end.saturating_sub(*first) as usize)
            .sum();
        if width == 0 || statements == 0 || statements.saturating_mul(width) > MAX_CELLS {
            return OwnActions::default();
        }
        let mut table = OwnActions {
            rows: Vec::with_capacity(e.resource_policy_statements.len()),
            width,
            cells: Vec::with_capacity(statements * width),
        };
        for &(first, end) in &e.resource_policy_statements {
            table.rows.push((table.cells.len() / width) as u32);
            for id in first..end {
                let st = v.statements.get(id as usize);
                for svc in v.services {
                    table
                        .cells
                        .push(st.map_or(BY_NAME, |st| e.clause_for(st, e.s(svc.name))));
                }
            }
        }
        table
    }

    /// The bytes its tables hold on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        super::super::build::heap_bytes(&self.rows) + super::super::build::heap_bytes(&self.cells)
    }

    /// Statement `id`'s action clause on a hop of `service` whose own resource policy is
    /// slot `slot`, its statements starting at `first`: `None` when it depends on the
    /// action's name (or the table does not hold it).
    #[inline]
    pub(super) fn answer(&self, slot: u32, first: u32, id: u32, service: u32) -> Option<bool> {
        let service = service as usize;
        if service >= self.width {
            return None;
        }
        let row = *self.rows.get(slot as usize)? as usize + id.checked_sub(first)? as usize;
        match *self.cells.get(row * self.width + service)? {
            NO => Some(false),
            YES => Some(true),
            _ => None,
        }
    }
}

impl Evaluator<'_> {
    /// `st`'s action clause for every action of (folded) service `service`: [`YES`] or
    /// [`NO`] when no record's answer depends on the action's name, else [`BY_NAME`].
    fn clause_for(&self, st: &StatementRec, service: &str) -> u8 {
        let actions = self
            .v
            .actions
            .get(st.actions_first as usize..(st.actions_first + st.actions_len) as usize)
            .unwrap_or_default();
        let mut by_name = false;
        let mut any = false;
        for a in actions {
            match ActionKind::from_code(a.kind) {
                Some(ActionKind::Any) => any = true,
                Some(ActionKind::Aws) => {
                    if super::super::candidates::action_glob(self.s(a.a), service) {
                        if self.s(a.b) == "*" {
                            any = true;
                        } else {
                            by_name = true;
                        }
                    }
                }
                // Matched on the whole action: not decided here.
                Some(ActionKind::Huawei) => by_name = true,
                Some(ActionKind::Never) | None => {}
            }
        }
        if any {
            // A record matching every action of the service decides the clause.
            return if st.flags & STMT_NOT_ACTION != 0 {
                NO
            } else {
                YES
            };
        }
        if by_name {
            return BY_NAME;
        }
        if st.flags & STMT_NOT_ACTION != 0 {
            YES
        } else {
            NO
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::Evaluator;

    /// Every answer the table holds, for every resource-policy statement and every action
    /// the index names exactly, is the action clause's on that action; `kms:*`, `*` and
    /// services the clause does not name are decided, `s3:Get*` is left to the name.
    #[test]
    fn answers_are_the_action_clauses() {
        let clauses = super::super::typed_tests::CLAUSES;
        let statements: Vec<String> = clauses
            .iter()
            .map(|c| format!(r#"{{"Effect":"Allow","Principal":"*",{c},"Resource":"*"}}"#))
            .collect();
        let text = format!(
            r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
            "options":{{"mode":"lenient"}},
            "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt","s3:GetObject",
                "s3:PutObject","sqs:SendMessage","iam:PassRole"],"Resource":"*"}}]}}]}},
            "chain":[{{"action":"kms:Decrypt","resource":"*","resource_policy":
              {{"Version":"2012-10-17","Statement":[{}]}}}}]}}"#,
            statements.join(",")
        );
        let case = crate::request::parse_case(&text, "test").unwrap();
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let e = Evaluator::new(&program);
        let r = &e.residual;
        let (first, end) = e.resource_policy_statements[0];
        assert_eq!(end - first, clauses.len() as u32);
        let (mut decided, mut by_name) = (0, 0);
        for (entry, rec) in e.v.index_exact.iter().enumerate() {
            let service = r.entry_services[entry];
            let action = format!(
                "{}:{}",
                e.s(e.v.services[service as usize].name),
                e.s(rec.name)
            );
            for id in first..end {
                let st = &e.v.statements[id as usize];
                match r.own_actions.answer(0, first, id, service) {
                    Some(answer) => {
                        assert_eq!(answer, e.action_clause(st, &action), "{id} {action}");
                        decided += 1;
                    }
                    None => by_name += 1,
                }
            }
        }
        assert!(decided > 0 && by_name > 0, "{decided} {by_name}");
        // Outside the table: another slot, a statement before the slot's, a service past
        // the index's.
        assert_eq!(r.own_actions.answer(1, first, first, 0), None);
        assert_eq!(r.own_actions.answer(0, first + 1, first, 0), None);
        assert_eq!(r.own_actions.answer(0, first, first, u32::MAX), None);
    }
}
