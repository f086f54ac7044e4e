//! Resource patterns resolved once per evaluator, and a hop's resource cut at its colons.
//!
//! A program stores an ARN pattern as six matcher records, one per segment (R-RES-4). Read
//! as they are, each segment costs a record load, a kind decode and a string-table lookup
//! for every candidate statement of every hop. [`ResourcePlan`] decodes them once, when the
//! [`Evaluator`](super::Evaluator) is built: the leading literal segments joined into one
//! head, compared with the hop's ARN in one `starts_with` (a literal segment holds no `:`,
//! so equal heads mean equal segments, R-RES-5 case-sensitively); the other segments as
//! [`Seg`]s holding their text. Only a segment with policy variables or case folding keeps
//! its matcher record and goes through the interpreter's general matcher.
//!
//! `arn:aws:dynamodb:*:111122223333:table/app-*` becomes the head `arn:aws:dynamodb:`, then
//! `Any`, `Exact("111122223333")` and `Prefix("table/app-")` for segments 3 to 5.

use std::sync::Arc;

use crate::bytecode::*;
use crate::primitives;

use super::residual::bytes;

/// One segment's test, its text borrowed from the program.
#[derive(Clone, Copy, Debug)]
pub(super) enum Seg<'p> {
    Any,
    Exact(&'p str),
    Prefix(&'p str),
    Suffix(&'p str),
    Glob(&'p str),
    /// Any other matcher kind (policy variables, folding): the matcher record's index.
    General(u32),
    Never,
}

impl<'p> Seg<'p> {
    /// The test of matcher record `index`.
    pub(super) fn of(index: u32, m: &MatcherRec, s: &impl Fn(StrId) -> &'p str) -> Seg<'p> {
        match MatcherKind::from_code(m.kind) {
            Some(MatcherKind::Any) => Seg::Any,
            Some(MatcherKind::Exact) => Seg::Exact(s(m.a)),
            Some(MatcherKind::Prefix) => Seg::Prefix(s(m.a)),
            Some(MatcherKind::Suffix) => Seg::Suffix(s(m.a)),
            Some(MatcherKind::Glob) => Seg::Glob(s(m.a)),
            Some(MatcherKind::Never) | None => Seg::Never,
            Some(_) => Seg::General(index),
        }
    }

    /// Whether this test reads nothing but the text (no matcher record to run).
    pub(super) fn is_literal(&self) -> bool {
        !matches!(self, Seg::General(_))
    }

    /// Whether `text` passes; `general` runs a `General` matcher.
    #[inline]
    pub(super) fn matches(self, text: &str, general: &mut impl FnMut(u32, &str) -> bool) -> bool {
        match self {
            Seg::Any => true,
            Seg::Exact(s) => bytes::same(text.as_bytes(), s.as_bytes()),
            Seg::Prefix(s) => bytes::starts_with(text, s),
            Seg::Suffix(s) => bytes::ends_with(text, s),
            Seg::Glob(s) => primitives::wildcard_match(s, text),
            Seg::General(m) => general(m, text),
            Seg::Never => false,
        }
    }
}

/// A resource record, resolved (see the module docs).
#[derive(Clone, Debug)]
pub(super) enum ResourcePlan<'p> {
    Any,
    /// An ARN pattern: segments `..literal` are `head` (`:` after each), the rest are tests.
    Arn {
        /// Shared by the plans with the same head ([`Heads`]).
        head: Arc<str>,
        literal: usize,
        segs: [Seg<'p>; 6],
    },
    Urn([Seg<'p>; 5]),
    /// Not an ARN or URN pattern: one test of the whole resource.
    Plain(Seg<'p>),
    Never,
}

impl<'p> ResourcePlan<'p> {
    /// The bytes this plan holds on the heap besides itself (an ARN pattern's joined head,
    /// counted in full by every plan that shares it).
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            ResourcePlan::Arn { head, .. } => head.len(),
            _ => 0,
        }
    }

    /// Resolves resource record `r` of a verified program (`s` reads its strings); an ARN
    /// pattern's head is taken from `heads` when another plan built it.
    pub(super) fn new(
        r: &ResourceRec,
        matchers: &[MatcherRec],
        s: &impl Fn(StrId) -> &'p str,
        heads: &mut Heads,
    ) -> ResourcePlan<'p> {
        let seg = |i: u32| {
            matchers
                .get((r.a + i) as usize)
                .map_or(Seg::Never, |m| Seg::of(r.a + i, m, s))
        };
        match ResourceKind::from_code(r.kind) {
            Some(ResourceKind::Any) => ResourcePlan::Any,
            Some(ResourceKind::Arn) => {
                ResourcePlan::arn_in(std::array::from_fn(|i| seg(i as u32)), heads)
            }
            Some(ResourceKind::Urn) => ResourcePlan::Urn(std::array::from_fn(|i| seg(i as u32))),
            Some(ResourceKind::Plain) => ResourcePlan::Plain(seg(0)),
            Some(ResourceKind::Never) | None => ResourcePlan::Never,
        }
    }

    /// The ARN pattern of the six segment tests `segs` (an `ArnLike` condition value's:
    /// `value_test`).
    pub(super) fn arn(segs: [Seg<'p>; 6]) -> ResourcePlan<'p> {
        ResourcePlan::arn_in(segs, &mut Heads::default())
    }

    /// [`ResourcePlan::arn`], its head shared with the plans of `heads`.
    fn arn_in(segs: [Seg<'p>; 6], heads: &mut Heads) -> ResourcePlan<'p> {
        // The last segment runs to the end of the ARN: never part of the head.
        let literal = segs[..5]
            .iter()
            .take_while(|g| matches!(g, Seg::Exact(_)))
            .count();
        let head = &mut heads.joined;
        head.clear();
        for g in &segs[..literal] {
            if let Seg::Exact(text) = g {
                head.push_str(text);
                head.push(':');
            }
        }
        let head = match heads.seen.get(head.as_str()) {
            Some(seen) => seen.clone(),
            None => {
                let new: Arc<str> = Arc::from(head.as_str());
                heads.seen.insert(new.clone());
                new
            }
        };
        ResourcePlan::Arn {
            head,
            literal,
            segs,
        }
    }

    /// Whether every segment test reads nothing but the text (no matcher record to run).
    pub(super) fn is_literal(&self) -> bool {
        match self {
            ResourcePlan::Arn { segs, .. } => segs.iter().all(Seg::is_literal),
            ResourcePlan::Urn(segs) => segs.iter().all(Seg::is_literal),
            ResourcePlan::Plain(seg) => seg.is_literal(),
            ResourcePlan::Any | ResourcePlan::Never => true,
        }
    }

    /// Whether the hop's resource matches; `general` runs a matcher record by index.
    #[inline]
    pub(super) fn matches(
        &self,
        target: &Target<'_>,
        mut general: impl FnMut(u32, &str) -> bool,
    ) -> bool {
        match self {
            ResourcePlan::Any => true,
            ResourcePlan::Arn {
                head,
                literal,
                segs,
            } => {
                target.shape == Shape::Arn
                    && (*literal == 0
                        || (target.colons[*literal - 1] + 1 == head.len()
                            && target.text.starts_with(&**head)))
                    && (*literal..6).all(|i| segs[i].matches(target.part(i), &mut general))
            }
            ResourcePlan::Urn(segs) => {
                target.shape == Shape::Urn
                    && (0..5).all(|i| segs[i].matches(target.part(i), &mut general))
            }
            ResourcePlan::Plain(seg) => seg.matches(target.text, &mut general),
            ResourcePlan::Never => false,
        }
    }
}

/// The ARN heads built so far, each once: most of a program's ARN patterns share a few
/// heads (`arn:aws:s3:::`, `arn:aws:iam::111122223333:`), and a shared one costs a hash
/// lookup where a box of its own cost an allocation (a third of the plans' build).
#[derive(Default)]
pub(super) struct Heads {
    seen: rustc_hash::FxHashSet<Arc<str>>,
    /// The head being joined.
    joined: String,
}

/// A hop's resource with the places of its first five colons, found once per hop; the
/// segments a pattern compares are cut out only when asked for.
pub(super) struct Target<'r> {
    pub(super) text: &'r str,
    colons: [usize; 5],
    shape: Shape,
}

/// Which of R-RES-2's (an ARN: `arn:` and five colons at least) or R-HW-6's (a URN: four
/// colons at least, when not an ARN) splits a resource has, as `split_arn` and `split_urn`
/// decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Arn,
    Urn,
    Neither,
}

impl<'r> Target<'r> {
    pub(super) fn new(text: &'r str) -> Self {
        let mut colons = [0; 5];
        let found = primitives::find_colons(text, &mut colons);
        Target::with_colons(text, colons, found)
    }

    /// A target whose colons were found beforehand (`find_colons` on `text`: `found` of
    /// them, at `colons`). Places that are not would cut wrong segments, never panic.
    pub(super) fn with_colons(text: &'r str, colons: [usize; 5], found: usize) -> Self {
        let shape = if found == 5 && text.starts_with("arn:") {
            Shape::Arn
        } else if found >= 4 {
            Shape::Urn
        } else {
            Shape::Neither
        };
        Target {
            text,
            colons,
            shape,
        }
    }

    /// Whether the resource splits as an ARN (R-RES-2).
    #[inline]
    pub(super) fn is_arn(&self) -> bool {
        self.shape == Shape::Arn
    }

    /// Segment `i` of the split: up to the `i`-th colon; the last segment (5 of an ARN, 4
    /// of a URN) runs to the end.
    #[inline]
    pub(super) fn part(&self, i: usize) -> &'r str {
        let last = if self.shape == Shape::Arn { 5 } else { 4 };
        let start = if i == 0 { 0 } else { self.colons[i - 1] + 1 };
        let end = if i >= last {
            self.text.len()
        } else {
            self.colons[i]
        };
        self.text.get(start..end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cut segments are `split_arn`'s and `split_urn`'s, and the shape is theirs.
    #[test]
    fn target_segments_are_the_splits() {
        let texts = [
            "arn:aws:s3:::b/k",
            "arn:aws:lambda:us-east-1:111122223333:function:f:1",
            "arn:aws:iam::111122223333:role/a:b",
            "arn:aws:s3::",
            "iam::111122223333:user:alice",
            "obs:cn-north-4:0123:object:b/k",
            "*",
            "ARN:aws:s3:::b",
            "arn:x:y:z",
            "",
        ];
        for text in texts {
            let t = Target::new(text);
            match (primitives::split_arn(text), primitives::split_urn(text)) {
                (Some(parts), _) => {
                    assert_eq!(t.shape, Shape::Arn, "{text}");
                    for (i, part) in parts.iter().enumerate() {
                        assert_eq!(t.part(i), *part, "{text} {i}");
                    }
                }
                (None, Some(parts)) => {
                    assert_eq!(t.shape, Shape::Urn, "{text}");
                    for (i, part) in parts.iter().enumerate() {
                        assert_eq!(t.part(i), *part, "{text} {i}");
                    }
                }
                (None, None) => assert_eq!(t.shape, Shape::Neither, "{text}"),
            }
        }
    }
}
