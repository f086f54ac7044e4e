//! The shared glob matcher (R-OPS-3, R-OPS-4, R-ACT-3, R-RES-4, R-RES-7, R-VAR-2).
//!
//! `StringLike`/`StringMatch`, `ArnLike`, action patterns, `Resource` segments and Huawei URN
//! parts all use this one matcher, so the naive and compiled evaluators cannot disagree
//! (R-COMP-4). `*` matches any sequence of characters (including none, crossing `/` and `:`),
//! `?` exactly one Unicode scalar value; matching is anchored at both ends and case-sensitive
//! (callers fold both sides first for case-insensitive uses, R-ACT-2). There are no other
//! specials: no regex semantics leak in (R-OPS-4).
//!
//! A compiled pattern is a slice of [`Piece`]s. Literal text inside a [`Piece::Lit`] is matched
//! verbatim even when it contains `*` or `?`; this is how substituted policy variables and the
//! `${*}`/`${?}` escapes stay literal (R-VAR-2, R-COMP-2).
//!
//! ```
//! use fastiam::primitives::glob::{glob_match, wildcard_match, Piece};
//! assert!(wildcard_match("iam:*AccessKey*", "iam:ListAccessKeys"));
//! // `AROAEXAMPLE:${aws:username}` with username `a*b`: the `*` is literal (T-VAR-4).
//! let pattern = [Piece::Lit("AROAEXAMPLE:"), Piece::Lit("a*b")];
//! assert!(glob_match(&pattern, "AROAEXAMPLE:a*b"));
//! assert!(!glob_match(&pattern, "AROAEXAMPLE:axxb"));
//! ```

/// One piece of a compiled glob pattern (R-OPS-4, R-VAR-2, R-COMP-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text; `*` and `?` inside it are ordinary characters. Adjacent `Lit`s concatenate.
    Lit(&'a str),
    /// Any sequence of characters, including the empty one.
    Star,
    /// Exactly one Unicode scalar value (not one byte, R-OPS-3).
    One,
}

/// Whether `pieces` matches the whole of `text` (R-OPS-3, R-OPS-4, R-RES-4).
///
/// Two-pointer backtracking over `char`s: no recursion, no allocation, worst case
/// O(|pattern| · |text|). Pieces without `One` (nearly all patterns) take `match_stars`.
pub fn glob_match(pieces: &[Piece<'_>], text: &str) -> bool {
    if pieces.contains(&Piece::One) {
        return match_tokens(PieceTokens(pieces), text);
    }
    match_stars(pieces, text.as_bytes())
}

/// [`glob_match`] for pieces that are literals and stars only, segment by segment rather
/// than character by character: the literals before the first star must begin the text,
/// those after the last star must end it, and each run of literals between two stars is
/// found at its leftmost place after the previous one. Leftmost is enough: a later place
/// leaves less text for what follows and gains nothing, since stars absorb anything.
///
/// Working on bytes is exact: a literal is valid UTF-8, so its first byte is never a
/// continuation byte and a literal can only be found at a character boundary.
fn match_stars<'a>(pieces: &[Piece<'a>], text: &[u8]) -> bool {
    fn lit<'a>(p: &Piece<'a>) -> &'a [u8] {
        match p {
            Piece::Lit(l) => l.as_bytes(),
            Piece::Star | Piece::One => &[],
        }
    }
    let Some(first_star) = pieces.iter().position(|p| *p == Piece::Star) else {
        return run_at(pieces, text, 0) == Some(text.len());
    };
    let last_star = pieces
        .iter()
        .rposition(|p| *p == Piece::Star)
        .unwrap_or(first_star);
    let Some(mut at) = run_at(&pieces[..first_star], text, 0) else {
        return false;
    };
    let tail = &pieces[last_star + 1..];
    let tail_len: usize = tail.iter().map(|p| lit(p).len()).sum();
    let Some(end) = text.len().checked_sub(tail_len).filter(|end| *end >= at) else {
        return false;
    };
    if run_at(tail, text, end).is_none() {
        return false;
    }
    let middle = pieces.get(first_star + 1..last_star).unwrap_or_default();
    for run in middle.split(|p| *p == Piece::Star) {
        let len: usize = run.iter().map(|p| lit(p).len()).sum();
        let Some(first) = run.iter().map(lit).find(|l| !l.is_empty()) else {
            continue;
        };
        let mut found = None;
        let mut from = at;
        while from + len <= end {
            let Some(i) = text[from..end - len + 1]
                .iter()
                .position(|b| *b == first[0])
            else {
                break;
            };
            // `first` is the run's first non-empty literal: the run starts `i` bytes on.
            let start = from + i;
            if run_at(run, &text[..end], start).is_some() {
                found = Some(start + len);
                break;
            }
            from = start + 1;
        }
        match found {
            Some(after) => at = after,
            None => return false,
        }
    }
    true
}

/// [`wildcard_match`] for a pattern without `?`, as [`match_stars`] does for pieces: the
/// text before the first `*` begins the text, the text after the last ends it, and each
/// piece between two stars is found leftmost.
fn match_star_pattern(p: &[u8], t: &[u8]) -> bool {
    let Some(first) = p.iter().position(|b| *b == b'*') else {
        return p == t;
    };
    let last = p.iter().rposition(|b| *b == b'*').unwrap_or(first);
    let (head, tail) = (&p[..first], &p[last + 1..]);
    if t.len() < head.len() + tail.len() || !t.starts_with(head) || !t.ends_with(tail) {
        return false;
    }
    let mut at = head.len();
    let end = t.len() - tail.len();
    for piece in p
        .get(first + 1..last)
        .unwrap_or_default()
        .split(|b| *b == b'*')
    {
        if piece.is_empty() {
            continue;
        }
        match find(&t[at..end], piece) {
            Some(i) => at += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// The first place of `needle` (not empty) in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let i = hay[from..=hay.len() - needle.len()]
            .iter()
            .position(|b| *b == needle[0])?;
        let start = from + i;
        if hay[start..start + needle.len()] == *needle {
            return Some(start);
        }
        from = start + 1;
    }
    None
}

/// Whether the literals `run` (no star among them) appear in `text` from `at`, one after
/// the other; the end of the last, if so.
#[inline]
fn run_at(run: &[Piece<'_>], text: &[u8], mut at: usize) -> Option<usize> {
    for p in run {
        if let Piece::Lit(l) = p {
            let l = l.as_bytes();
            if text.get(at..at + l.len())? != l {
                return None;
            }
            at += l.len();
        }
    }
    Some(at)
}

/// Whether the wildcard string `pattern` matches the whole of `text`; every `*` and `?` in
/// `pattern` is a wildcard (R-OPS-1 `StringLike`, R-ACT-3, R-RES-4).
///
/// Equivalent to `glob_match` over [`parse_wildcards`]`(pattern)`, without building pieces.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    // Byte-wise, exact for UTF-8: a literal byte of a valid pattern can only match at the
    // same position of an equal character, and `?` takes one whole character and only at
    // a character boundary, so a `*` in effect stops only at boundaries. Same answers as
    // the char-wise `match_tokens`, which the differential tests below compare.
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    if !p.contains(&b'?') {
        return match_star_pattern(p, t);
    }
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&pc) = p.get(pi) {
            match pc {
                b'*' => {
                    star = Some((pi + 1, ti));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    if let Some(&tc) = t.get(ti) {
                        if is_char_boundary_byte(tc) {
                            ti += utf8_width(tc);
                            pi += 1;
                            continue;
                        }
                    }
                }
                _ => {
                    if t.get(ti) == Some(&pc) {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if ti == t.len() {
            return true;
        }
        match star {
            Some((after, from)) if from < t.len() => {
                star = Some((after, from + 1));
                pi = after;
                ti = from + 1;
            }
            _ => return false,
        }
    }
}

/// Whether a byte starts a UTF-8 character (is not a continuation byte).
#[inline]
fn is_char_boundary_byte(b: u8) -> bool {
    (b as i8) >= -0x40
}

/// The length of the UTF-8 character whose first byte is `b`.
#[inline]
fn utf8_width(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Whether `pattern` contains a wildcard character `*` or `?` (R-ACT-4, R-RES-6 checks).
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Splits a wildcard string into pieces: each `*` becomes [`Piece::Star`], each `?` a
/// [`Piece::One`], each maximal run of other text one [`Piece::Lit`] (R-OPS-4).
///
/// `"a*?b"` → `Lit("a"), Star, One, Lit("b")`; the empty string yields no pieces.
pub fn parse_wildcards(pattern: &str) -> WildcardPieces<'_> {
    WildcardPieces { rest: pattern }
}

/// Iterator returned by [`parse_wildcards`].
#[derive(Clone, Debug)]
pub struct WildcardPieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for WildcardPieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let piece = match self.rest.as_bytes().first()? {
            b'*' => Piece::Star,
            b'?' => Piece::One,
            _ => {
                let end = self.rest.find(['*', '?']).unwrap_or(self.rest.len());
                let (lit, rest) = self.rest.split_at_checked(end)?;
                self.rest = rest;
                return Some(Piece::Lit(lit));
            }
        };
        // The wildcard is one ASCII byte, so index 1 is a char boundary.
        self.rest = self.rest.get(1..).unwrap_or_default();
        Some(piece)
    }
}

/// One pattern element as seen by the matcher.
#[derive(Clone, Copy)]
enum Token {
    Char(char),
    Star,
    One,
}

/// A pattern the matcher can walk with a copyable cursor.
trait Tokens: Copy {
    type Pos: Copy;
    fn start(self) -> Self::Pos;
    /// The token at `pos` and the position after it; `None` at the end of the pattern.
    fn next(self, pos: Self::Pos) -> Option<(Token, Self::Pos)>;
}

/// A slice of pieces; the cursor is (piece index, byte offset inside a `Lit`).
#[derive(Clone, Copy)]
struct PieceTokens<'p, 'a>(&'p [Piece<'a>]);

impl Tokens for PieceTokens<'_, '_> {
    type Pos = (usize, usize);

    fn start(self) -> (usize, usize) {
        (0, 0)
    }

    fn next(self, (mut index, mut offset): (usize, usize)) -> Option<(Token, (usize, usize))> {
        loop {
            match self.0.get(index)? {
                Piece::Star => return Some((Token::Star, (index + 1, 0))),
                Piece::One => return Some((Token::One, (index + 1, 0))),
                Piece::Lit(lit) => {
                    if let Some(c) = char_at(lit, offset) {
                        return Some((Token::Char(c), (index, offset + c.len_utf8())));
                    }
                    index += 1;
                    offset = 0;
                }
            }
        }
    }
}

/// The char starting at byte `pos` of `s`, if any (never panics).
fn char_at(s: &str, pos: usize) -> Option<char> {
    s.get(pos..)?.chars().next()
}

/// The anchored two-pointer matcher shared by [`glob_match`] and [`wildcard_match`].
///
/// On a mismatch the most recent `*` absorbs one more text character and matching resumes
/// after it; with single-character tokens, retrying only the latest star is complete.
fn match_tokens<T: Tokens>(pattern: T, text: &str) -> bool {
    let mut p = pattern.start();
    let mut t = 0;
    // (pattern position after the latest star, text position where its retry resumes)
    let mut retry: Option<(T::Pos, usize)> = None;
    loop {
        let tc = char_at(text, t);
        match (pattern.next(p), tc) {
            (Some((Token::Star, after)), _) => {
                retry = Some((after, t));
                p = after;
                continue;
            }
            (Some((Token::One, after)), Some(c)) => {
                p = after;
                t += c.len_utf8();
                continue;
            }
            (Some((Token::Char(pc), after)), Some(c)) if pc == c => {
                p = after;
                t += c.len_utf8();
                continue;
            }
            (None, None) => return true,
            _ => {}
        }
        let Some((star_after, star_t)) = retry else {
            return false;
        };
        let Some(absorbed) = char_at(text, star_t) else {
            return false;
        };
        let resume = star_t + absorbed.len_utf8();
        retry = Some((star_after, resume));
        p = star_after;
        t = resume;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_table() {
        let cases: &[(&str, &str, bool)] = &[
            // R-RES-7 (resource part of arn:aws:s3:::B/*/test/*)
            ("B/*/test/*", "B/1/test/object.jpg", true),
            ("B/*/test/*", "B/1/2/test/3/object.jpg", true),
            ("B/*/test/*", "B/1///test///object.jpg", true),
            ("B/*/test/*", "B//test/object.jpg", true),
            ("B/*/test/*", "B/1/test/", true),
            ("B/*/test/*", "B/1-test/object.jpg", false),
            ("B/*/test/*", "B/test/object.jpg", false),
            ("B/*/test/*", "B/1/2/test.jpg", false),
            // T-ACT-3, R-ACT-3, T-ACT-1
            ("ec2:describe?nstances", "ec2:describeinstances", true),
            ("ec2:describe?nstances", "ec2:describeinstancestatus", false),
            ("iam:*AccessKey*", "iam:CreateAccessKey", true),
            ("iam:*AccessKey*", "iam:ListAccessKeys", true),
            ("iam:*AccessKey*", "iam:UpdateAccessKey", true),
            ("iam:*AccessKey*", "iam:ListUsers", false),
            ("s3:get*", "s3:getobject", true),
            ("s3:get*", "s3:putobject", false),
            // T-RES-1 resource part
            (
                "user/division_abc*",
                "user/division_abc/subdivision_xyz/JaneDoe",
                true,
            ),
            ("user/division_abc*", "user/JaneDoe", false),
            // empty pattern / text, lone stars
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("*", "", true),
            ("*", "anything/at:all", true),
            ("**", "", true),
            ("**", "abc", true),
            ("?", "", false),
            ("*?", "", false),
            ("*?", "x", true),
            ("?*?", "x", false),
            // `?` is one Unicode scalar value, not one byte
            ("?", "\u{00E9}", true),
            ("??", "\u{00E9}", false),
            ("caf?", "caf\u{00E9}", true),
            ("\u{00E9}*\u{00E9}", "\u{00E9}\u{00E9}", true),
            ("?", "\u{1F600}", true),
            // anchoring and case sensitivity
            ("abc", "abcd", false),
            ("bc", "abc", false),
            ("*bc", "abc", true),
            ("ab*", "abc", true),
            ("Bucket/*", "bucket/a", false),
            // backtracking
            ("*a*b", "aaab", true),
            ("*a*b", "aaaba", false),
            ("a*b*c", "abbbbcbc", true),
            ("*aab", "aaaab", true),
            (
                "a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            // no regex specials
            (".*", "abc", false),
            ("[ab]", "a", false),
            ("[ab]", "[ab]", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(
                wildcard_match(pattern, text),
                *want,
                "{pattern:?} vs {text:?}"
            );
            let pieces: Vec<Piece<'_>> = parse_wildcards(pattern).collect();
            assert_eq!(glob_match(&pieces, text), *want, "{pieces:?} vs {text:?}");
        }
    }

    #[test]
    fn pieces_table() {
        use Piece::{Lit, One, Star};
        let cases: &[(&[Piece<'_>], &str, bool)] = &[
            (&[], "", true),
            (&[], "x", false),
            (&[Lit("")], "", true),
            (&[Lit(""), Lit("")], "x", false),
            (&[Lit("*")], "*", true),
            (&[Lit("*")], "abc", false),
            (&[Lit("?")], "a", false),
            (&[Lit("?")], "?", true),
            (&[Lit("b/"), Lit("*"), Lit("/x")], "b/*/x", true),
            (&[Lit("b/"), Lit("*"), Lit("/x")], "b/y/x", false),
            (&[Lit("ab"), Lit("cd")], "abcd", true),
            (&[Lit("a"), Star, Lit(""), Star, Lit("b")], "axxb", true),
            (
                &[Lit("home/"), Lit("martha_rivera"), Lit("/")],
                "home/martha_rivera/",
                true,
            ),
            (&[One, Lit("\u{00E9}"), Star], "\u{00E9}\u{00E9}", true),
            (&[Star, Lit("?"), One], "x?y", true),
            (&[Star, Lit("?"), One], "xay", false),
        ];
        for (pieces, text, want) in cases {
            assert_eq!(glob_match(pieces, text), *want, "{pieces:?} vs {text:?}");
        }
    }

    #[test]
    fn parse_wildcards_table() {
        use Piece::{Lit, One, Star};
        let cases: &[(&str, &[Piece<'_>])] = &[
            ("", &[]),
            ("abc", &[Lit("abc")]),
            ("*", &[Star]),
            ("**", &[Star, Star]),
            ("a*?b", &[Lit("a"), Star, One, Lit("b")]),
            ("?\u{00E9}*", &[One, Lit("\u{00E9}"), Star]),
            ("s3:Get*", &[Lit("s3:Get"), Star]),
        ];
        for (pattern, want) in cases {
            let got: Vec<Piece<'_>> = parse_wildcards(pattern).collect();
            assert_eq!(got, *want, "parse_wildcards({pattern:?})");
        }
    }

    #[test]
    fn has_wildcard_table() {
        let cases: &[(&str, bool)] = &[("", false), ("s3", false), ("s3*", true), ("a?", true)];
        for (pattern, want) in cases {
            assert_eq!(has_wildcard(pattern), *want, "{pattern:?}");
        }
    }

    /// Reference token for the naive matcher.
    #[derive(Clone, Copy, Debug)]
    enum Tok {
        Ch(char),
        Star,
        One,
    }

    /// Exponential but obviously correct recursive matcher.
    fn naive(pattern: &[Tok], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((Tok::Star, rest)) => (0..=text.len()).any(|i| naive(rest, &text[i..])),
            Some((Tok::One, rest)) => !text.is_empty() && naive(rest, &text[1..]),
            Some((Tok::Ch(c), rest)) => text.first() == Some(c) && naive(rest, &text[1..]),
        }
    }

    fn naive_tokens(pieces: &[Piece<'_>]) -> Vec<Tok> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Lit(s) => out.extend(s.chars().map(Tok::Ch)),
                Piece::Star => out.push(Tok::Star),
                Piece::One => out.push(Tok::One),
            }
        }
        out
    }

    use crate::test_rng::XorShift;

    const ALPHABET: [char; 7] = ['a', 'b', '*', '?', '\u{00E9}', '\u{20AC}', '\u{1F600}'];

    fn random_text(rng: &mut XorShift, max: usize) -> String {
        let len = rng.below(max + 1);
        (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect()
    }

    #[test]
    fn wildcard_match_agrees_with_naive() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let mut matches = 0;
        for _ in 0..50_000 {
            let pattern = random_text(&mut rng, 7);
            let text = random_text(&mut rng, 8);
            let pieces: Vec<Piece<'_>> = parse_wildcards(&pattern).collect();
            let chars: Vec<char> = text.chars().collect();
            let want = naive(&naive_tokens(&pieces), &chars);
            matches += usize::from(want);
            assert_eq!(
                wildcard_match(&pattern, &text),
                want,
                "{pattern:?} vs {text:?}"
            );
            assert_eq!(glob_match(&pieces, &text), want, "{pieces:?} vs {text:?}");
        }
        assert!(
            matches > 1000,
            "generator should produce many matches ({matches})"
        );
    }

    #[test]
    fn glob_match_with_literal_wildcards_agrees_with_naive() {
        let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
        let mut texts: Vec<String> = Vec::new();
        for _ in 0..20_000 {
            let count = rng.below(5);
            texts.clear();
            for _ in 0..count {
                texts.push(random_text(&mut rng, 3));
            }
            let pieces: Vec<Piece<'_>> = texts
                .iter()
                .map(|lit| match lit.as_str() {
                    "*" => Piece::Star,
                    "?" => Piece::One,
                    other => Piece::Lit(other),
                })
                .collect();
            let text = random_text(&mut rng, 8);
            let chars: Vec<char> = text.chars().collect();
            let want = naive(&naive_tokens(&pieces), &chars);
            assert_eq!(glob_match(&pieces, &text), want, "{pieces:?} vs {text:?}");
        }
    }
}
