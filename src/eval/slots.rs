//! Context slots: where each key's value is for the hop being evaluated (R-CTX-*, R-FAS-4,
//! R-HW-13, R-COMP-5).
//!
//! A request's context is never copied. Each key the program knows has a [`Slot`] in the
//! scratch saying where its value lives — the case context, a hop's own context, the
//! principal, a fixed text, a hop's `via`, or the CalledVia list — so a forwarded hop is
//! derived from its parent by rewriting slots in place (the shared FAS rules, slot by slot)
//! rather than by building a new context, and reading a value is one `match`. A compact
//! request built against the evaluator says where each given value is when it is built
//! ([`GivenKey`]), so its slots hold the value's span itself ([`Slot::Text`]) and the typed
//! condition ops read one with a tag test and a slice ([`Evaluator::single`]), inline.
//!
//! For example, a chain whose hop 0 is `s3:GetObject` called by a user and whose hop 1 is
//! KMS called by S3 on its behalf: hop 0's `aws:username` slot is `Principal(Name)` (from the
//! principal's shape, tabulated once per evaluator); for hop 1, `aws:username` is carried
//! (its key flags say so), `aws:SourceIp` is dropped unless the source IP is preserved,
//! `aws:CalledVia` becomes `CalledVia` (the parent's list plus hop 1's `via`), and
//! `aws:ViaAWSService` becomes `Fixed` (pointing at the text `"true"`).
//!
//! Setting up hop 0 is one copy: per shape of principal the evaluator keeps a template of
//! the whole slot array (every slot absent but the principal's defaults), which a chain
//! copies before writing its given keys over it. A slot is 12 bytes (fixed texts are
//! indexes into the evaluator's `fixed_texts`), so that copy is a few hundred bytes for a
//! program of a few dozen keys. A forwarded hop clears only the keys its dialect drops, from
//! a list made per evaluator. (Generation-stamped slots, which would skip even the copy,
//! would change how the steps test absence; the copy costs about 65 instructions a chain on
//! the standard workload, BENCHMARKS.md "The chain frame".)

use crate::bytecode::*;
use crate::request::compact::GivenKey;
use crate::request::view::{principal_shape, PRINCIPAL_SHAPES};
use crate::request::{
    for_each_principal_default_of, principal_arn_key_of, ListRef, PrincipalField,
    PrincipalKind as Who, RequestView, ValueRef,
};

use super::{dialect_index, Evaluator, Scratch};

/// Where a key's value is for the hop being evaluated. Plain data, 12 bytes: a scratch
/// holds no borrow of any request, and a chain starts by copying a template of these
/// (`Evaluator::slot_templates`), so fixed texts are indexes into
/// `Evaluator::fixed_texts` rather than string slices (which made a slot 32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Absent,
    /// A given value of a compact request built against this evaluator, as its
    /// [`GivenKey`](crate::request::compact::GivenKey) says: a single value's bytes
    /// `start..start + len` of its text ([`RequestView::span_text`]), read with one slice;
    /// or, when `start` is [`GivenKey::LIST`](crate::request::compact::GivenKey::LIST), the
    /// list of its entry `len` ([`RequestView::entry_value`]). One variant for both, so
    /// that pointing a slot at a given value is a copy with no test.
    Text {
        start: u32,
        len: u32,
    },
    /// Entry `entry` of context `ctx` (0: the case context; k + 1: hop k's own context).
    Given {
        ctx: u32,
        entry: u32,
    },
    /// `Evaluator::fixed_texts[i]`.
    Fixed(u32),
    /// A one-element list holding `Evaluator::fixed_texts[i]`.
    FixedList(u32),
    Principal(Field),
    /// A one-element list holding a principal field.
    PrincipalList(Field),
    /// The `via` of hop k.
    Via(u32),
    CalledVia,
    CalledViaFirst,
    CalledViaLast,
}

// A slot stays small: a chain copies a template of them (see the module docs).
const _: () = assert!(std::mem::size_of::<Slot>() == 12);

/// A principal field a slot reads: [`PrincipalField`] without its fixed texts (those are
/// [`Slot::Fixed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Arn,
    PrincipalArn,
    Account,
    Name,
}

impl Field {
    #[inline]
    fn principal_field(self) -> PrincipalField {
        match self {
            Field::Arn => PrincipalField::Arn,
            Field::PrincipalArn => PrincipalField::PrincipalArn,
            Field::Account => PrincipalField::Account,
            Field::Name => PrincipalField::Name,
        }
    }
}

/// What a forwarded hop sets a key to ([`ForwardedValue`](crate::request::ForwardedValue) with its texts as indexes into
/// `Evaluator::fixed_texts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SetValue {
    Fixed(u32),
    Via,
    DefaultFixed(u32),
}

/// The most slots [`Evaluator`] tabulates as per-shape templates of hop 0's slots (48
/// shapes × the program's keys; 2 MiB of slots): past that, a chain clears its slots and
/// writes the principal's instead of copying a template.
pub(super) const MAX_TEMPLATE_SLOTS: usize = 1 << 16;

/// The index of `text` in `fixed` (the evaluator's fixed texts), added if new.
pub(super) fn fixed_id(fixed: &mut Vec<&'static str>, text: &'static str) -> u32 {
    match fixed.iter().position(|t| *t == text) {
        Some(i) => i as u32,
        None => {
            fixed.push(text);
            fixed.len() as u32 - 1
        }
    }
}

pub(super) const PRINCIPAL_KINDS: [Who; 6] = [
    Who::User,
    Who::AssumedRole,
    Who::FederatedUser,
    Who::Root,
    Who::Service,
    Who::Anonymous,
];

/// A context value as the interpreter sees it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Value<'r> {
    Absent,
    Single(&'r str),
    Multi(Multi<'r>),
}

/// Why a key has no single text ([`Evaluator::single`]): it is absent, or a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NotSingle {
    Absent,
    Multi,
}

// `Result<&str, NotSingle>` is two words, returned in registers from the out-of-line path.
const _: () = assert!(std::mem::size_of::<Result<&str, NotSingle>>() == 16);

/// The values of a multi-valued key, wherever they live.
#[derive(Clone, Copy, Debug)]
pub(super) enum Multi<'r> {
    List(ListRef<'r>),
    One(&'r str),
    /// The CalledVia list: the base list, then the `via` of the hops that appended (read
    /// by index from the scratch).
    CalledVia,
}

impl<'p> Evaluator<'p> {
    /// Per dialect and whether the source IP is preserved: the keys a forwarded hop drops
    /// (not carried by the dialect's FAS rules, R-FAS-4, R-HW-13; or a source-IP key not
    /// preserved).
    pub(super) fn tabulate_dropped_keys(&mut self) {
        for (d, carried) in [(0, KEY_CARRIED_AWS), (1, KEY_CARRIED_HUAWEI)] {
            for preserve_ip in [false, true] {
                self.special.dropped[d][preserve_ip as usize] = (0..self.v.keys.len() as KeyId)
                    .filter(|k| {
                        let flags = self.v.keys[*k as usize].flags;
                        let dropped_ip = flags & KEY_SOURCE_IP != 0 && !preserve_ip;
                        flags & carried == 0 || dropped_ip
                    })
                    .collect();
            }
        }
    }

    pub(super) fn tabulate_principal_defaults(&mut self) {
        let mut shapes = vec![(0, 0); PRINCIPAL_SHAPES];
        let mut slots = Vec::new();
        let fixed = &mut self.fixed_texts;
        for dialect in [Dialect::Aws, Dialect::Huawei] {
            for kind in PRINCIPAL_KINDS {
                for (account, name) in [(false, false), (false, true), (true, false), (true, true)]
                {
                    let has = |field| match field {
                        PrincipalField::Arn | PrincipalField::Fixed(_) => true,
                        PrincipalField::PrincipalArn => {
                            principal_arn_key_of(kind, dialect, "", None).is_some()
                        }
                        PrincipalField::Account => account,
                        PrincipalField::Name => name,
                    };
                    let first = slots.len() as u32;
                    for_each_principal_default_of(kind, dialect, has, |d| {
                        if let Some(k) = self.special.principal_defaults[d.index] {
                            let field = match d.field {
                                PrincipalField::Arn => Ok(Field::Arn),
                                PrincipalField::PrincipalArn => Ok(Field::PrincipalArn),
                                PrincipalField::Account => Ok(Field::Account),
                                PrincipalField::Name => Ok(Field::Name),
                                PrincipalField::Fixed(text) => Err(fixed_id(fixed, text)),
                            };
                            let slot = match (field, d.list) {
                                (Ok(f), false) => Slot::Principal(f),
                                (Ok(f), true) => Slot::PrincipalList(f),
                                (Err(i), false) => Slot::Fixed(i),
                                (Err(i), true) => Slot::FixedList(i),
                            };
                            slots.push((k, slot));
                        }
                    });
                    shapes[principal_shape(dialect, kind, account, name)] =
                        (first, slots.len() as u32);
                }
            }
        }
        let keys = self.v.keys.len();
        self.slot_templates = Vec::new();
        if shapes.len() * keys <= MAX_TEMPLATE_SLOTS {
            self.slot_templates = vec![Slot::Absent; shapes.len() * keys];
            for (shape, (first, end)) in shapes.iter().enumerate() {
                let template = &mut self.slot_templates[shape * keys..(shape + 1) * keys];
                for (k, slot) in &slots[*first as usize..*end as usize] {
                    if let Some(at) = template.get_mut(*k as usize) {
                        *at = *slot;
                    }
                }
            }
        }
        self.principal_shapes = shapes;
        self.principal_slots = slots;
    }

    pub(super) fn initial_slots<R: RequestView>(&self, req: &R, sc: &mut Scratch) {
        sc.called_via_base = None;
        sc.called_via_hops.clear();
        let shape = req.principal_shape();
        let keys = sc.slots.len();
        match self.slot_templates.get(shape * keys..(shape + 1) * keys) {
            // The principal's slots with every other absent, in one copy; a given key then
            // overrides the principal's default, as in the path below.
            Some(template) if keys > 0 => {
                sc.slots.copy_from_slice(template);
                self.given_slots(req, 0, sc);
            }
            _ => {
                sc.slots.iter_mut().for_each(|s| *s = Slot::Absent);
                // Each given key is looked up once (or was, when the request was built);
                // keys the program never reads are skipped.
                self.given_slots(req, 0, sc);
                let (first, end) = self.principal_shapes[shape];
                for (k, slot) in &self.principal_slots[first as usize..end as usize] {
                    let at = &mut sc.slots[*k as usize];
                    if *at == Slot::Absent {
                        *at = *slot;
                    }
                }
            }
        }
        if req.hop_count() > 0 {
            self.overlay(req, 0, sc);
        }
    }

    /// Lays hop `k`'s own context over the slots.
    pub(super) fn overlay<R: RequestView>(&self, req: &R, k: usize, sc: &mut Scratch) {
        self.given_slots(req, k + 1, sc);
    }

    /// Applies the shared FAS rules (R-FAS-4, R-HW-13) to derive hop `k`'s slots in place.
    // Out of line: inlined into the chain walk, its loop-invariant loads were hoisted into
    // every chain's start, forwarded hops or not (about 40 instructions a chain).
    #[inline(never)]
    pub(super) fn forward_slots<R: RequestView>(&self, req: &R, sc: &mut Scratch, k: usize) {
        let d = dialect_index(req.dialect());
        let [list, first, last] = self.special.called_via[d];
        // The parent's CalledVia list becomes the base of this hop's.
        if let Some(list) = list {
            match sc.slots[list as usize] {
                given @ (Slot::Given { .. } | Slot::Text { .. }) => {
                    sc.called_via_base = Some(given);
                    sc.called_via_hops.clear();
                }
                Slot::CalledVia => {}
                _ => {
                    sc.called_via_base = None;
                    sc.called_via_hops.clear();
                }
            }
        }
        if req.hop_appends_to_called_via(k) {
            sc.called_via_hops.push(k as u32);
        }
        let non_empty = self.called_via_len(req, sc) > 0;
        // The slots borrowed once for the writes below: through `sc`, each write reloaded
        // their pointer and length (forward_slots 85,054 -> 81,888 instructions over the
        // standard workload's 274 forwarded hops).
        let slots = &mut sc.slots[..];
        // The keys a forwarded hop does not carry, listed once per evaluator.
        for id in &self.special.dropped[d][req.preserve_source_ip() as usize] {
            if let Some(slot) = slots.get_mut(*id as usize) {
                *slot = Slot::Absent;
            }
        }
        for (id, present) in [
            (list, Slot::CalledVia),
            (first, Slot::CalledViaFirst),
            (last, Slot::CalledViaLast),
        ] {
            if let Some(id) = id {
                slots[id as usize] = if non_empty { present } else { Slot::Absent };
            }
        }
        for (id, value) in &self.special.sets[d] {
            let Some(id) = id else { continue };
            let slot = &mut slots[*id as usize];
            match value {
                SetValue::Fixed(text) => *slot = Slot::Fixed(*text),
                SetValue::Via => *slot = Slot::Via(k as u32),
                SetValue::DefaultFixed(text) => {
                    if *slot == Slot::Absent {
                        *slot = Slot::Fixed(*text);
                    }
                }
            }
        }
        self.overlay(req, k, sc);
    }

    pub(super) fn called_via_base<'r, R: RequestView>(
        &self,
        req: &'r R,
        sc: &Scratch,
    ) -> ListRef<'r> {
        match sc.called_via_base.and_then(|slot| given_value(req, slot)) {
            Some(ValueRef::Multi(list)) => list,
            Some(ValueRef::Single(_)) | None => ListRef::EMPTY,
        }
    }

    pub(super) fn called_via_len<R: RequestView>(&self, req: &R, sc: &Scratch) -> usize {
        self.called_via_base(req, sc).len() + sc.called_via_hops.len()
    }

    /// The `i`-th element of the CalledVia list.
    pub(super) fn called_via_at<'r, R: RequestView>(
        &self,
        req: &'r R,
        sc: &Scratch,
        i: usize,
    ) -> Option<&'r str> {
        let base = self.called_via_base(req, sc);
        match base.get(i) {
            Some(s) => Some(s),
            None => {
                let hop = *sc.called_via_hops.get(i - base.len())?;
                req.via(hop as usize)
            }
        }
    }

    /// Key `k`'s value in the current hop's context if it is one text; else whether it is
    /// absent or a list. The common slots — a compact request's given text, an absent key —
    /// are read inline (a load and a slice), the others through [`Evaluator::value`], out
    /// of line.
    #[inline(always)]
    pub(super) fn single<'r, R: RequestView>(
        &self,
        req: &'r R,
        sc: &Scratch,
        k: KeyId,
    ) -> Result<&'r str, NotSingle> {
        match sc.slots.get(k as usize) {
            Some(Slot::Text { start, len }) if *start != GivenKey::LIST => {
                Ok(req.span_text(*start, *len))
            }
            Some(Slot::Absent) | None => Err(NotSingle::Absent),
            Some(_) => self.single_of_value(req, sc, k),
        }
    }

    /// [`Evaluator::single`] of the other slots.
    #[inline(never)]
    fn single_of_value<'r, R: RequestView>(
        &self,
        req: &'r R,
        sc: &Scratch,
        k: KeyId,
    ) -> Result<&'r str, NotSingle> {
        match self.value_of(req, sc, k) {
            Value::Single(v) => Ok(v),
            Value::Absent => Err(NotSingle::Absent),
            Value::Multi(_) => Err(NotSingle::Multi),
        }
    }

    /// The value of key `k` in the current hop's context.
    pub(super) fn value<'r, R: RequestView>(
        &self,
        req: &'r R,
        sc: &Scratch,
        k: KeyId,
    ) -> Value<'r> {
        self.value_of(req, sc, k)
    }

    /// [`Evaluator::value`], inlined into it and into [`Evaluator::single`]'s out-of-line
    /// path (which returns two words instead of a `Value`).
    #[inline(always)]
    fn value_of<'r, R: RequestView>(&self, req: &'r R, sc: &Scratch, k: KeyId) -> Value<'r> {
        match sc.slots[k as usize] {
            Slot::Absent => Value::Absent,
            slot @ (Slot::Given { .. } | Slot::Text { .. }) => match given_value(req, slot) {
                Some(ValueRef::Single(v)) => Value::Single(v),
                Some(ValueRef::Multi(list)) => Value::Multi(Multi::List(list)),
                None => Value::Absent,
            },
            Slot::Fixed(i) => Value::Single(self.fixed_texts[i as usize]),
            Slot::FixedList(i) => Value::Multi(Multi::One(self.fixed_texts[i as usize])),
            Slot::Principal(f) => req
                .principal_field(f.principal_field())
                .map_or(Value::Absent, Value::Single),
            Slot::PrincipalList(f) => req
                .principal_field(f.principal_field())
                .map_or(Value::Absent, |t| Value::Multi(Multi::One(t))),
            Slot::Via(h) => req.via(h as usize).map_or(Value::Absent, Value::Single),
            Slot::CalledVia => Value::Multi(Multi::CalledVia),
            Slot::CalledViaFirst => self
                .called_via_at(req, sc, 0)
                .map_or(Value::Absent, Value::Single),
            Slot::CalledViaLast => {
                let n = self.called_via_len(req, sc);
                n.checked_sub(1)
                    .and_then(|i| self.called_via_at(req, sc, i))
                    .map_or(Value::Absent, Value::Single)
            }
        }
    }
}

/// The value a slot pointing at a given value names (`Text`, `Given`); `None` for the
/// other slots.
#[inline]
fn given_value<R: RequestView>(req: &R, slot: Slot) -> Option<ValueRef<'_>> {
    match slot {
        Slot::Text {
            start: GivenKey::LIST,
            len: entry,
        } => req.entry_value(entry),
        Slot::Text { start, len } => Some(ValueRef::Single(req.span_text(start, len))),
        Slot::Given { ctx, entry } => req.context_value(ctx as usize, entry as usize),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::Evaluator;
    use crate::request::RequestBuilder;

    /// A forwarded hop's slots follow the FAS rules as the reference applies them: keys
    /// dropped (VPC keys; `aws:SourceIp` unless preserved), keys carried, keys set to a
    /// fixed text (over a given value), set only when not carried (`DefaultFixed`), set
    /// to the hop's `via`, and the CalledVia trio — for hop 1 and hop 2, each key tested
    /// present, absent and by value, on parsed and compact requests, against the
    /// reference. (`forward_slots` writes these in one pass over the slots; a lost or
    /// misordered write changes a decision here.)
    #[test]
    fn forwarded_hops_decide_as_the_reference() {
        let keys = [
            ("aws:SourceVpc", "vpc-1"),
            ("aws:SourceIp", "10.0.0.1"),
            ("aws:username", "a"),
            ("aws:PrincipalTag/team", "x"),
            ("aws:ViaAWSService", "true"),
            ("aws:PrincipalIsAWSService", "false"),
            ("aws:SecureTransport", "true"),
            ("aws:MultiFactorAuthPresent", "true"),
            ("aws:MultiFactorAuthPresent", "false"),
            ("aws:UserAgent", "s3.amazonaws.com"),
            ("aws:CalledViaFirst", "athena.amazonaws.com"),
            ("aws:CalledViaFirst", "s3.amazonaws.com"),
            ("aws:CalledViaLast", "s3.amazonaws.com"),
            ("aws:CalledViaLast", "dynamodb.amazonaws.com"),
        ];
        let contexts = [
            r#"{"aws:SourceVpc":"vpc-1","aws:SourceIp":"10.0.0.1","aws:SecureTransport":"false",
            "aws:MultiFactorAuthPresent":"true","aws:UserAgent":"cli",
            "aws:CalledVia":["athena.amazonaws.com"]}"#,
            r#"{"aws:SourceIp":"10.0.0.1","aws:ViaAWSService":"false"}"#,
            "{}",
        ];
        let (mut checked, mut decided) = (0, std::collections::HashSet::new());
        for (key, value) in keys {
            for condition in [
                format!(r#"{{"Null":{{"{key}":"true"}}}}"#),
                format!(r#"{{"Null":{{"{key}":"false"}}}}"#),
                format!(r#"{{"StringEquals":{{"{key}":"{value}"}}}}"#),
            ] {
                for context in contexts {
                    for preserve in [true, false] {
                        let text = format!(
                            r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
                            "options":{{"preserve_source_ip":{preserve}}},
                            "context":{context},
                            "policies":{{"identity":[{{"Statement":[
                            {{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}},
                            {{"Effect":"Allow","Action":["dynamodb:GetItem","sqs:SendMessage"],
                            "Resource":"*","Condition":{condition}}}]}}]}},
                            "chain":[{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}},
                            {{"via":"s3.amazonaws.com","action":"dynamodb:GetItem",
                            "resource":"arn:aws:dynamodb:us-east-1:111122223333:table/t"}},
                            {{"via":"dynamodb.amazonaws.com","action":"sqs:SendMessage",
                            "resource":"arn:aws:sqs:us-east-1:111122223333:q"}}]}}"#
                        );
                        let case = crate::request::parse_case(&text, "test").unwrap();
                        let want = crate::reference::evaluate_chain(&case.chain);
                        let program = crate::compile::compile(&case.chain.policies).unwrap();
                        for evaluator in [Evaluator::new(&program), Evaluator::general(&program)] {
                            let mut sc = evaluator.scratch();
                            let request = &case.chain.request;
                            let parsed = evaluator.evaluate(request, &mut sc);
                            assert_eq!(evaluator.decision(&parsed), want, "{text}");
                            let mut b = RequestBuilder::new();
                            b.fill_from(request);
                            let compact = b.finish_for(&evaluator).unwrap();
                            let outcome = evaluator.evaluate(compact, &mut sc);
                            assert_eq!(evaluator.decision(&outcome), want, "{text}");
                        }
                        checked += 1;
                        decided.extend(want.hops.iter().skip(1).map(|h| h.decision));
                    }
                }
            }
        }
        assert_eq!(checked, keys.len() * 3 * contexts.len() * 2);
        // Not vacuous: the forwarded hops' conditions allow some and deny others.
        assert!(decided.contains(&crate::decision::Decision::Allow));
        assert!(decided.contains(&crate::decision::Decision::ImplicitDeny));
    }

    /// Starting a chain from its shape's template decides every chain of the standard
    /// workload (forwarded hops included) as clearing the slots and writing the principal's
    /// defaults does — the path a program with too many keys for templates takes — for
    /// parsed requests and for compact ones built against the evaluator.
    #[test]
    fn template_start_agrees_with_clearing() {
        let prepared = crate::benchmark::standard(400, 7).unwrap();
        let program = crate::compile::compile(&prepared.policies).unwrap();
        let templated = Evaluator::new(&program);
        assert!(!templated.slot_templates.is_empty());
        let mut cleared = Evaluator::new(&program);
        cleared.slot_templates = Vec::new();
        let (mut a, mut b) = (templated.scratch(), cleared.scratch());
        let mut builder = RequestBuilder::new();
        let mut forwarded = 0;
        for request in &prepared.requests {
            let left = templated.evaluate(request, &mut a);
            let right = cleared.evaluate(request, &mut b);
            assert_eq!(templated.decision(&left), cleared.decision(&right));
            forwarded += left.hops.len().saturating_sub(1);
            builder.fill_from(request);
            let compact = builder.finish_for(&templated).unwrap();
            let left = templated.evaluate(compact, &mut a);
            assert_eq!(templated.decision(&left), cleared.decision(&right));
        }
        assert!(forwarded > 0, "the sample has forwarded hops");
    }
}
