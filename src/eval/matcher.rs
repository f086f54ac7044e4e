//! Pattern matchers with policy variables substituted (R-VAR-*, R-RES-*).
//!
//! A compiled pattern is a matcher record: a literal compared in place (exact, prefix,
//! suffix, glob), or a token list whose variables are read from the hop's slots. A pattern
//! with a variable that has no single value and no default matches nothing (R-VAR-6). Glob
//! pieces of text tokens are parsed once per evaluator; variables are substituted into a
//! stack buffer (globs) or the scratch's text (literals), so matching allocates nothing.
//!
//! For example, `arn:aws:s3:::home/${aws:username}/*` with `aws:username` = `alice` is
//! matched as the pieces `home/`, `alice`, `/`, `*`, after a check that the text starts with
//! the literal head `home/`.

use smallvec::SmallVec;

use crate::bytecode::*;
use crate::primitives::{self, Piece};
use crate::request::RequestView;

use super::slots::Value;
use super::{Evaluator, Scratch};

impl<'p> Evaluator<'p> {
    /// Whether matcher `m` accepts `text`; a pattern with an unresolvable variable accepts
    /// nothing (R-VAR-6).
    pub(super) fn matcher<R: RequestView>(
        &self,
        m: u32,
        text: &str,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        let index = m;
        let m = self.v.matchers[m as usize];
        match MatcherKind::from_code(m.kind) {
            Some(MatcherKind::Any) => true,
            Some(MatcherKind::Exact) => text == self.s(m.a),
            Some(MatcherKind::Prefix) => text.starts_with(self.s(m.a)),
            Some(MatcherKind::Suffix) => text.ends_with(self.s(m.a)),
            Some(MatcherKind::Glob) => primitives::wildcard_match(self.s(m.a), text),
            Some(MatcherKind::GlobFolded) => {
                sc.fold.clear();
                primitives::fold_into(text, &mut sc.fold);
                primitives::wildcard_match(self.s(m.a), &sc.fold)
            }
            Some(MatcherKind::TokensGlob) => {
                // A text its pattern's literal head cannot start is refused before the
                // variables are substituted: the whole match could only fail.
                if !text.starts_with(self.glob_heads[index as usize]) {
                    return false;
                }
                let mut pieces: SmallVec<[Piece<'_>; 24]> = SmallVec::new();
                self.pieces(m, req, sc, &mut pieces) && primitives::glob_match(&pieces, text)
            }
            Some(MatcherKind::TokensText) => self.text_of(m, req, sc) && sc.text == text,
            Some(MatcherKind::Never) | None => false,
        }
    }

    /// Glob pieces of a token matcher after substitution; false if unresolvable.
    pub(super) fn pieces<'a, R: RequestView>(
        &'a self,
        m: MatcherRec,
        req: &'a R,
        sc: &Scratch,
        out: &mut SmallVec<[Piece<'a>; 24]>,
    ) -> bool {
        let range = m.a as usize..(m.a + m.b) as usize;
        for (t, &(first, end)) in self.v.tokens[range.clone()]
            .iter()
            .zip(&self.token_pieces[range])
        {
            match TokenKind::from_code(t.kind) {
                Some(TokenKind::Text) => {
                    out.extend_from_slice(&self.text_pieces[first as usize..end as usize])
                }
                Some(TokenKind::Literal) => out.push(Piece::Lit(self.s(t.a))),
                Some(TokenKind::Variable) => match self.variable(t, req, sc) {
                    Some(v) => out.push(Piece::Lit(v)),
                    None => return false,
                },
                Some(TokenKind::Unresolvable) | None => return false,
            }
        }
        true
    }

    /// A variable's value: a single value, else the default, else none (R-VAR-6).
    pub(super) fn variable<'a, R: RequestView>(
        &'a self,
        t: &TokenRec,
        req: &'a R,
        sc: &Scratch,
    ) -> Option<&'a str> {
        match self.value(req, sc, t.a) {
            Value::Single(v) => Some(v),
            _ => (t.b != NONE).then(|| self.s(t.b)),
        }
    }

    /// The literal text of a matcher into `sc.text`; false if unresolvable.
    pub(super) fn text_of<R: RequestView>(&self, m: MatcherRec, req: &R, sc: &mut Scratch) -> bool {
        let mut text = std::mem::take(&mut sc.text);
        text.clear();
        let ok = match MatcherKind::from_code(m.kind) {
            Some(MatcherKind::Exact) => {
                text.push_str(self.s(m.a));
                true
            }
            Some(MatcherKind::TokensText | MatcherKind::TokensGlob) => {
                let mut ok = true;
                for t in &self.v.tokens[m.a as usize..(m.a + m.b) as usize] {
                    match TokenKind::from_code(t.kind) {
                        Some(TokenKind::Text | TokenKind::Literal) => text.push_str(self.s(t.a)),
                        Some(TokenKind::Variable) => match self.variable(t, req, sc) {
                            Some(v) => text.push_str(v),
                            None => ok = false,
                        },
                        Some(TokenKind::Unresolvable) | None => ok = false,
                    }
                }
                ok
            }
            _ => false,
        };
        sc.text = text;
        ok
    }
}
