//! The literal head of each glob pattern with variables, for refusing a text before
//! substituting the variables (`matcher`).
//!
//! `home-bucket/${aws:username}/*` can only match a text starting with `home-bucket/`: the
//! matcher checks that first, and substitutes the variables only when it passes. Only
//! `TokensGlob` matchers whose first token is text starting with a literal have a head —
//! 139 of the managed policies' 52,961 matchers — so the heads are stored once each and
//! every matcher keeps a 4-byte index to its own (0: the empty head), rather than a
//! 16-byte `&str` per matcher, nearly all empty (0.85 MB of the 10.6 MB of tables; 0.21
//! MB now).
//!
//! ```text
//! heads[matcher] == "home-bucket/"   // for arn:aws:s3:::home-bucket/${aws:username}/*'s last segment
//! heads[other]   == ""               // every text starts with it
//! ```

use crate::bytecode::*;
use crate::primitives::Piece;
use crate::table::ProgramView;

/// Per matcher, its literal head (see the module docs); indexed as a slice of `&str`.
#[derive(Clone, Debug, Default)]
pub(super) struct GlobHeads<'p> {
    /// Per matcher: its head's index in `heads`.
    at: Vec<u32>,
    /// The distinct heads by first use, `""` first.
    heads: Vec<&'p str>,
}

impl<'p> GlobHeads<'p> {
    /// The heads of `v`'s matchers; `token_pieces` and `text_pieces` are the text tokens'
    /// parsed wildcard pieces (per token, a range of `text_pieces`).
    pub(super) fn new(
        v: &ProgramView<'p>,
        token_pieces: &[(u32, u32)],
        text_pieces: &[Piece<'p>],
    ) -> Self {
        let mut heads = vec![""];
        let at = v
            .matchers
            .iter()
            .map(|m| {
                let first = m.a as usize;
                let text_first = m.kind == MatcherKind::TokensGlob.code()
                    && m.b > 0
                    && v.tokens.get(first).map(|t| t.kind) == Some(TokenKind::Text.code());
                let head = match token_pieces.get(first) {
                    Some(&(start, end)) if text_first => {
                        match text_pieces.get(start as usize..end as usize) {
                            Some([Piece::Lit(head), ..]) => *head,
                            _ => "",
                        }
                    }
                    _ => "",
                };
                if head.is_empty() {
                    0
                } else {
                    heads.push(head);
                    (heads.len() - 1) as u32
                }
            })
            .collect();
        heads.shrink_to_fit();
        GlobHeads { at, heads }
    }

    /// The bytes these heads hold on the heap (the texts are the program's).
    pub(super) fn heap_bytes(&self) -> usize {
        super::build::heap_bytes(&self.at) + super::build::heap_bytes(&self.heads)
    }
}

impl<'p> std::ops::Index<usize> for GlobHeads<'p> {
    type Output = &'p str;

    /// The head of matcher `matcher` (`""` when it has none).
    #[inline]
    fn index(&self, matcher: usize) -> &&'p str {
        &self.heads[self.at[matcher] as usize]
    }
}

#[cfg(test)]
mod tests {
    /// A pattern with a variable after a literal has that literal as its head; every
    /// other matcher has the empty head.
    #[test]
    fn only_patterns_with_variables_have_heads() {
        let case = crate::eval::test_case(&[
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::home-bucket/${aws:username}/*","arn:aws:s3:::other/*"]}"#.to_string(),
        ]);
        let program = crate::compile::compile(&case.chain.policies).unwrap();
        let e = crate::eval::Evaluator::new(&program);
        let heads: Vec<&str> = (0..e.v.matchers.len())
            .map(|m| e.glob_heads[m])
            .filter(|h| !h.is_empty())
            .collect();
        assert_eq!(heads, ["home-bucket/"]);
        assert!(e.v.matchers.len() > 1);
    }
}
