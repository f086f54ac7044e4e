//! A small, strict RFC 8259 JSON parser that keeps what policy tooling needs.
//!
//! Policy documents and test cases are JSON, and `serde_json` does not give us:
//!
//! 1. **The raw source text of numbers.** `10.0` stays `"10.0"` (it does not
//!    become `10`), so numeric condition values can be compared exactly as
//!    written.
//! 2. **Every object member in source order, including duplicate keys.**
//!    Duplicates are kept so the caller can report them as an error instead of
//!    one silently winning.
//! 3. **Byte spans for every value and key**, so errors can point at
//!    `line:column` (see [`line_col`]) and a JSON pointer (see [`Pointer`]).
//! 4. **A nesting-depth limit** ([`MAX_DEPTH`]): hostile input gets a
//!    [`SyntaxError`], never a stack overflow.
//! 5. **No panics on any input.**
//!
//! Only strict JSON is accepted: no comments, trailing commas, `NaN`,
//! leading zeros (`01`), single quotes, unescaped control characters
//! (U+0000..U+001F) in strings, or lone surrogate escapes (`\ud800`).
//! A byte order mark at the very start is skipped, and whitespace around the
//! top-level value is allowed; anything else after the value is an error.
//!
//! Spans are byte offsets into the text given to [`parse`] (a skipped BOM
//! still counts its 3 bytes). The span of a string value or an object key
//! includes its quotes.
//!
//! ```
//! use fastiam::json::{self, Pointer};
//!
//! let text = r#"{"Version": "2012-10-17", "Max": 10.0, "a": 1, "a": 2}"#;
//! let doc = json::parse(text).unwrap();
//!
//! // Numbers keep their exact source text.
//! assert_eq!(doc.get("Max").unwrap().value, json::Value::Number("10.0"));
//!
//! // Duplicate keys are kept, in order; `get` returns the first.
//! let keys: Vec<&str> = doc.as_object().unwrap().iter().map(|m| &*m.key).collect();
//! assert_eq!(keys, ["Version", "Max", "a", "a"]);
//!
//! // Spans map back into the source text.
//! let version = doc.get("Version").unwrap();
//! assert_eq!(&text[version.span.range()], r#""2012-10-17""#);
//!
//! // Errors carry an offset, a 1-based line and column, and a message.
//! let err = json::parse("{\n  \"a\": 1,\n}").unwrap_err();
//! assert_eq!((err.line, err.column), (3, 1));
//! assert_eq!(
//!     err.to_string(),
//!     "line 3, column 1: expected string key after `,` in object, found `}` \
//!      (trailing commas are not allowed)"
//! );
//!
//! // Pointers for error messages.
//! let p = Pointer::root().key("Statement").index(0).key("a/b");
//! assert_eq!(p.as_str(), "/Statement/0/a~1b");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// Byte offsets into the parsed text, `start..end`.
///
/// Texts longer than `u32::MAX` bytes are rejected by [`parse`], so every
/// offset fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The span as a `usize` range, ready to slice the parsed text with.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }
}

/// A parsed JSON value (without its span; see [`Node`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The number's exact source text, e.g. "10.0", "-3e5".
    Number(&'a str),
    /// Borrowed when the string had no escapes.
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in source order, duplicates kept.
    Object(Vec<Member<'a>>),
}

/// A value together with the byte span it was parsed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    pub span: Span,
    pub value: Value<'a>,
}

/// One object member. `key_span` covers the key including its quotes.
#[derive(Clone, Debug, PartialEq)]
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    pub key_span: Span,
    pub value: Node<'a>,
}

/// Maximum nesting of arrays/objects; deeper input is a SyntaxError, not a stack overflow.
pub const MAX_DEPTH: usize = 128;

/// Why a text is not valid JSON, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem (at most the text length).
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in chars (Unicode scalar values) from the line start.
    pub column: u32,
    /// Lowercase phrase: what was expected, naming what was found, e.g.
    /// "expected `,` or `}` after object member, found `]`".
    pub expected: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.expected
        )
    }
}

impl std::error::Error for SyntaxError {}

/// Parses one JSON document (strict RFC 8259; a leading BOM is skipped).
pub fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    parse_inner(text, None)
}

/// As [`parse`], except that when a member of the top-level object has its value at
/// exactly `skip`, that value is not read: it becomes an empty object with the span
/// `skip`. For a value known to be valid JSON already (the same text was parsed before),
/// so the tree of the rest costs what the rest costs; [`parse_value_at`] reads it when
/// needed. The value is a top-level member's value only, never one nested deeper.
///
/// ```
/// use fastiam::json::{self, Span};
/// let text = r#"{"big": {"a": [1, 2, 3]}, "small": 1}"#;
/// let skip = json::top_level_member(text, "big").unwrap();
/// let doc = json::parse_skipping(text, skip).unwrap();
/// assert_eq!(doc.get("big").unwrap().as_object().unwrap().len(), 0);
/// assert_eq!(doc.get("big").unwrap().span, skip);
/// let big = json::parse_value_at(text, skip).unwrap();
/// assert_eq!(big.get("a").unwrap().as_array().unwrap().len(), 3);
/// ```
pub fn parse_skipping(text: &str, skip: Span) -> Result<Node<'_>, SyntaxError> {
    parse_inner(text, Some(skip))
}

/// Parses the one value that starts at `span.start` of `text`, as a member of a
/// top-level object (so nesting depth counts from 1): spans and error positions are
/// those of `text`. For a value [`parse_skipping`] skipped.
pub fn parse_value_at(text: &str, span: Span) -> Result<Node<'_>, SyntaxError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: span.start as usize,
        skip_at: usize::MAX,
        skip_end: 0,
    };
    p.value(1)
}

/// The span of the value of the first member named `key` (compared as written, escapes
/// not decoded) of the top-level object of `text`, found by a quick scan that matches
/// brackets and strings without checking the rest of the grammar; `None` when the text
/// does not look like an object or has no such member. The span says where to look, not
/// that the text is valid: [`parse`] still decides that.
///
/// ```
/// let line = r#"{"id": "a", "policies": {"identity": [{"x": "}"}]}, "chain": []}"#;
/// let span = fastiam::json::top_level_member(line, "policies").unwrap();
/// assert_eq!(&line[span.range()], r#"{"identity": [{"x": "}"}]}"#);
/// assert_eq!(fastiam::json::top_level_member(line, "identity"), None);
/// ```
pub fn top_level_member(text: &str, key: &str) -> Option<Span> {
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let b = text.as_bytes();
    let mut i = if text.starts_with('\u{feff}') { 3 } else { 0 };
    i = skip_ws_at(b, i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws_at(b, i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = skip_string_at(b, i)?;
        let raw_key = b.get(i + 1..key_end - 1)?;
        i = skip_ws_at(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws_at(b, i + 1);
        let value_end = skip_value_at(b, i)?;
        if raw_key == key.as_bytes() {
            return Some(span(i, value_end));
        }
        i = skip_ws_at(b, value_end);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

fn skip_ws_at(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// The index after the string that opens at `b[i]` (a `"`). Control characters are
/// let through: the scan only finds where things are.
fn skip_string_at(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        match b[j] {
            b'"' => return Some(j + 1),
            _ => j += 2,
        }
    }
}

/// The index after the value that starts at `b[i]`: strings and brackets matched,
/// scalars up to the next delimiter.
fn skip_value_at(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string_at(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string_at(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let end = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .map_or(b.len(), |n| i + n);
            (end > i).then_some(end)
        }
    }
}

fn parse_inner(text: &str, skip: Option<Span>) -> Result<Node<'_>, SyntaxError> {
    if u32::try_from(text.len()).is_err() {
        return Err(SyntaxError {
            offset: 0,
            line: 1,
            column: 1,
            expected: "input larger than 4 GiB is not supported".to_string(),
        });
    }
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        skip_at: skip.map_or(usize::MAX, |s| s.start as usize),
        skip_end: skip.map_or(0, |s| s.end as usize),
    };
    if text.starts_with('\u{feff}') {
        p.pos = '\u{feff}'.len_utf8();
    }
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.err(
            p.pos,
            format!(
                "expected end of input after value, found {}",
                p.found(p.pos)
            ),
        ));
    }
    Ok(node)
}

/// 1-based (line, column-in-chars) of a byte offset (clamped to text length;
/// an offset inside a UTF-8 sequence counts as that char).
///
/// Lines are separated by `\n` (so `\r\n` works too). A byte order mark at the
/// start of the text is not counted as a column.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.as_bytes().get(..offset).unwrap_or(&[]);
    let (line, line_start) = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => (before.iter().filter(|&&b| b == b'\n').count() + 1, nl + 1),
        None => (1, 0),
    };
    let mut column = text
        .get(line_start..offset)
        .map_or(0, |s| s.chars().count())
        + 1;
    if line_start == 0 && column > 1 && text.starts_with('\u{feff}') {
        column -= 1;
    }
    (saturate_u32(line), saturate_u32(column))
}

fn saturate_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a> Node<'a> {
    /// "null", "boolean", "number", "string", "array" or "object".
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// The string's contents, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number's exact source text, if this is a number.
    pub fn as_number(&self) -> Option<&'a str> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The boolean, if this is `true` or `false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Node<'a>]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members in source order (duplicates kept), if this is an object.
    pub fn as_object(&self) -> Option<&[Member<'a>]> {
        match &self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The value of the first member with that key; `None` for non-objects.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// Looks up an RFC 6901 JSON pointer such as `/Statement/0/Effect`
    /// (`""` is the node itself). For duplicate keys the first member wins.
    pub fn pointer(&self, pointer: &str) -> Option<&Node<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut node = self;
        for token in rest.split('/') {
            node = match &node.value {
                Value::Object(members) => {
                    let key = unescape_pointer_token(token)?;
                    &members.iter().find(|m| m.key == key)?.value
                }
                Value::Array(items) => items.get(parse_pointer_index(token)?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Renders the value back to compact JSON text (numbers verbatim, strings
    /// escaped per RFC 8259).
    ///
    /// Recursive: meant for trees produced by [`parse`] (depth at most
    /// [`MAX_DEPTH`]). A hand-built `Value::Number` is written verbatim, valid
    /// or not.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.span.len().max(16));
        write_node(self, &mut out);
        out
    }
}

impl Value<'_> {
    /// "null", "boolean", "number", "string", "array" or "object".
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

fn unescape_pointer_token(token: &str) -> Option<Cow<'_, str>> {
    if !token.contains('~') {
        return Some(Cow::Borrowed(token));
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(Cow::Owned(out))
}

fn parse_pointer_index(token: &str) -> Option<usize> {
    let valid = match token.as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if valid {
        token.parse().ok()
    } else {
        None
    }
}

fn write_node(node: &Node<'_>, out: &mut String) {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, member) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(&member.key, out);
                out.push(':');
                write_node(&member.value, out);
            }
            out.push('}');
        }
    }
}

/// Appends `s` to `out` as a quoted JSON string literal: `"` and `\` are
/// backslash-escaped, control characters use `\n`-style or `\u00XX` escapes,
/// everything else is copied as is.
pub fn write_json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run_start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII, so `run_start..i` lies on char boundaries.
        out.push_str(s.get(run_start..i).unwrap_or(""));
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(s.get(run_start..).unwrap_or(""));
    out.push('"');
}

/// A JSON pointer (RFC 6901) built up while walking a document, e.g. `/Statement/0/Condition`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// The empty pointer, which refers to the whole document.
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// This pointer extended by an object key (`~` is escaped as `~0`, `/` as `~1`).
    pub fn key(&self, k: &str) -> Pointer {
        let mut s = String::with_capacity(self.0.len() + k.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        for c in k.chars() {
            match c {
                '~' => s.push_str("~0"),
                '/' => s.push_str("~1"),
                c => s.push(c),
            }
        }
        Pointer(s)
    }

    /// This pointer extended by an array index.
    pub fn index(&self, i: usize) -> Pointer {
        Pointer(format!("{}/{}", self.0, i))
    }

    /// The pointer text; `""` for the root.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    /// The pointer text, except that the root shows as `(root)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(root)")
        } else {
            f.write_str(&self.0)
        }
    }
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Where a top-level member's value is not read ([`parse_skipping`]); `usize::MAX`
    /// for none.
    skip_at: usize,
    skip_end: usize,
}

/// Builds a span; `parse` has checked that the text length fits in `u32`.
#[inline]
fn span(start: usize, end: usize) -> Span {
    Span {
        start: saturate_u32(start),
        end: saturate_u32(end),
    }
}

#[inline]
fn is_digit(b: Option<&u8>) -> bool {
    matches!(b, Some(b'0'..=b'9'))
}

/// Index of the first byte at or after `i` that is `"`, `\` or a control
/// character (< 0x20), or `bytes.len()` if there is none.
#[inline]
fn scan_plain(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    const SPACES: u64 = u64::from_ne_bytes([0x20; 8]);
    // Eight bytes at a time: the classic "has zero byte" / "has byte less
    // than n" bit tricks say exactly whether *some* byte is special.
    while let Some(chunk) = bytes.get(i..i.saturating_add(8)) {
        let Ok(arr) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let v = u64::from_ne_bytes(arr);
        let q = v ^ QUOTES;
        let bs = v ^ BACKSLASHES;
        let special = (q.wrapping_sub(ONES) & !q)
            | (bs.wrapping_sub(ONES) & !bs)
            | (v.wrapping_sub(SPACES) & !v);
        if special & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Describes what is at `at` for an error message: "end of input", "`x`",
/// a short word such as "`NaN`", or a named control character.
fn describe(text: &str, at: usize) -> String {
    let mut at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    let rest = text.get(at..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return "end of input".to_string();
    };
    match c {
        c if c.is_ascii_alphanumeric() => {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(24)
                .collect();
            format!("`{word}`")
        }
        '\n' => "a newline".to_string(),
        '\r' => "a carriage return".to_string(),
        '\t' => "a tab".to_string(),
        '`' => "a backtick".to_string(),
        c if c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{feff}' => {
            format!("character U+{:04X}", u32::from(c))
        }
        c => format!("`{c}`"),
    }
}

impl<'a> Parser<'a> {
    #[cold]
    fn err(&self, offset: usize, expected: impl Into<String>) -> SyntaxError {
        let offset = offset.min(self.bytes.len());
        let (line, column) = line_col(self.text, offset);
        SyntaxError {
            offset,
            line,
            column,
            expected: expected.into(),
        }
    }

    #[cold]
    fn found(&self, at: usize) -> String {
        describe(self.text, at)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// `text[start..end]`; both ends are known to be char boundaries.
    fn slice(&self, start: usize, end: usize) -> Result<&'a str, SyntaxError> {
        let text: &'a str = self.text;
        text.get(start..end)
            .ok_or_else(|| self.err(start, "internal error: span not on a char boundary"))
    }

    /// Parses the value starting at `self.pos`, which is not whitespace.
    /// `depth` is the number of arrays/objects enclosing it.
    fn value(&mut self, depth: usize) -> Result<Node<'a>, SyntaxError> {
        let start = self.pos;
        let value = match self.peek() {
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b't') => {
                self.literal("true")?;
                Value::Bool(true)
            }
            Some(b'f') => {
                self.literal("false")?;
                Value::Bool(false)
            }
            Some(b'n') => {
                self.literal("null")?;
                Value::Null
            }
            _ => {
                return Err(self.err(
                    start,
                    format!("expected a value, found {}", self.found(start)),
                ))
            }
        };
        Ok(Node {
            span: span(start, self.pos),
            value,
        })
    }

    fn literal(&mut self, word: &'static str) -> Result<(), SyntaxError> {
        let end = self.pos.saturating_add(word.len());
        if self.bytes.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.err(
                self.pos,
                format!("expected `{word}`, found {}", self.found(self.pos)),
            ))
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), SyntaxError> {
        if depth >= MAX_DEPTH {
            Err(self.err(self.pos, format!("nesting deeper than {MAX_DEPTH} levels")))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, SyntaxError> {
        self.check_depth(depth)?;
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        return Err(self.err(
                            self.pos,
                            "expected a value after `,` in array, found `]` \
                             (trailing commas are not allowed)",
                        ));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => {
                    return Err(self.err(
                        self.pos,
                        format!(
                            "expected `,` or `]` after array element, found {}",
                            self.found(self.pos)
                        ),
                    ))
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, SyntaxError> {
        self.check_depth(depth)?;
        self.pos += 1; // `{`
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                let found = self.found(self.pos);
                let msg = if members.is_empty() {
                    format!("expected string key or `}}` in object, found {found}")
                } else if self.peek() == Some(b'}') {
                    format!(
                        "expected string key after `,` in object, found {found} \
                         (trailing commas are not allowed)"
                    )
                } else {
                    format!("expected string key after `,` in object, found {found}")
                };
                return Err(self.err(self.pos, msg));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = span(key_start, self.pos);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err(
                    self.pos,
                    format!(
                        "expected `:` after object key, found {}",
                        self.found(self.pos)
                    ),
                ));
            }
            self.pos += 1;
            self.skip_ws();
            let value = if depth == 0 && self.pos == self.skip_at {
                let start = self.pos;
                self.pos = self.skip_end;
                Node {
                    span: span(start, self.pos),
                    value: Value::Object(Vec::new()),
                }
            } else {
                self.value(depth + 1)?
            };
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => {
                    return Err(self.err(
                        self.pos,
                        format!(
                            "expected `,` or `}}` after object member, found {}",
                            self.found(self.pos)
                        ),
                    ))
                }
            }
        }
    }

    /// Parses a number at `self.pos` (which is `-` or a digit) and returns its text.
    fn number(&mut self) -> Result<&'a str, SyntaxError> {
        let b = self.bytes;
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if is_digit(b.get(i)) {
                    return Err(self.err(i - 1, "leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => {
                i += 1;
                while is_digit(b.get(i)) {
                    i += 1;
                }
            }
            _ => {
                return Err(self.err(
                    i,
                    format!("expected digit after `-`, found {}", self.found(i)),
                ))
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !is_digit(b.get(i)) {
                return Err(self.err(
                    i,
                    format!(
                        "expected digit after decimal point, found {}",
                        self.found(i)
                    ),
                ));
            }
            while is_digit(b.get(i)) {
                i += 1;
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if !is_digit(b.get(i)) {
                return Err(self.err(
                    i,
                    format!("expected digit in exponent, found {}", self.found(i)),
                ));
            }
            while is_digit(b.get(i)) {
                i += 1;
            }
        }
        self.pos = i;
        self.slice(start, i)
    }

    /// Parses a string literal at `self.pos` (which is `"`).
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        let start = self.pos + 1;
        let mut i = scan_plain(self.bytes, start);
        match self.bytes.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(self.slice(start, i)?));
            }
            Some(b'\\') => {}
            _ => return Err(self.string_stop_error(i)),
        }
        // Slow path: at least one escape.
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.slice(start, i)?);
        loop {
            i = self.escape(i, &mut out)?;
            let run_end = scan_plain(self.bytes, i);
            out.push_str(self.slice(i, run_end)?);
            i = run_end;
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {}
                _ => return Err(self.string_stop_error(i)),
            }
        }
    }

    /// The error for a string scan that stopped on a control character or
    /// at the end of the input.
    #[cold]
    fn string_stop_error(&self, i: usize) -> SyntaxError {
        match self.bytes.get(i) {
            None => self.err(i, "unexpected end of input inside string"),
            Some(&b) => self.err(
                i,
                format!(
                    "control character U+{b:04X} must be escaped in string (found {})",
                    self.found(i)
                ),
            ),
        }
    }

    /// Decodes the escape whose backslash is at `at`, appends it to `out`,
    /// and returns the offset just after it.
    fn escape(&self, at: usize, out: &mut String) -> Result<usize, SyntaxError> {
        let decoded = match self.bytes.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(at, out),
            None => return Err(self.err(at + 1, "unexpected end of input inside string")),
            Some(_) => {
                return Err(self.err(
                    at,
                    format!(
                    "invalid escape in string: expected one of `\"\\/bfnrtu` after `\\`, found {}",
                    self.found(at + 1)
                ),
                ))
            }
        };
        out.push(decoded);
        Ok(at + 2)
    }

    /// Decodes `\uXXXX` (and a following `\uXXXX` low surrogate when the first
    /// is a high surrogate) starting at the backslash at `at`.
    fn unicode_escape(&self, at: usize, out: &mut String) -> Result<usize, SyntaxError> {
        let first = self.hex4(at + 2)?;
        let (code, end) = match first {
            0xD800..=0xDBFF => {
                let second = if self.bytes.get(at + 6) == Some(&b'\\')
                    && self.bytes.get(at + 7) == Some(&b'u')
                {
                    Some(self.hex4(at + 8)?)
                } else {
                    None
                };
                match second {
                    Some(low @ 0xDC00..=0xDFFF) => {
                        (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), at + 12)
                    }
                    _ => {
                        return Err(self.err(
                            at,
                            format!(
                                "lone surrogate `\\u{first:04x}` in string: a high surrogate \
                                 must be followed by a `\\udc00`..`\\udfff` escape"
                            ),
                        ))
                    }
                }
            }
            0xDC00..=0xDFFF => {
                return Err(self.err(
                    at,
                    format!(
                        "lone surrogate `\\u{first:04x}` in string: a low surrogate \
                         must follow a `\\ud800`..`\\udbff` escape"
                    ),
                ))
            }
            _ => (first, at + 6),
        };
        match char::from_u32(code) {
            Some(c) => {
                out.push(c);
                Ok(end)
            }
            None => Err(self.err(at, "invalid unicode escape in string")),
        }
    }

    /// Reads four hex digits starting at `at`.
    fn hex4(&self, at: usize) -> Result<u32, SyntaxError> {
        let mut code = 0u32;
        for i in at..at + 4 {
            let digit = match self.bytes.get(i) {
                None => return Err(self.err(i, "unexpected end of input inside string")),
                Some(&b) => char::from(b).to_digit(16),
            };
            match digit {
                Some(d) => code = code << 4 | d,
                None => {
                    return Err(self.err(
                        i,
                        format!(
                            "expected 4 hex digits after `\\u` in string, found {}",
                            self.found(i)
                        ),
                    ))
                }
            }
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // -- helpers ------------------------------------------------------------

    fn ok(text: &str) -> Node<'_> {
        match parse(text) {
            Ok(node) => node,
            Err(e) => panic!("{text:?} should parse, got: {e}"),
        }
    }

    fn fail(text: &str) -> SyntaxError {
        match parse(text) {
            Ok(node) => panic!("{text:?} should fail, got: {node:?}"),
            Err(e) => e,
        }
    }

    /// Structural equality: like `==` but ignoring spans.
    fn same(a: &Node<'_>, b: &Node<'_>) -> bool {
        match (&a.value, &b.value) {
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(p, q)| p.key == q.key && same(&p.value, &q.value))
            }
            (x, y) => x == y,
        }
    }

    /// Checks that every span lies on char boundaries inside `text`, and
    /// that re-parsing each value's span yields the same value.
    fn check_spans(text: &str, node: &Node<'_>) {
        let r = node.span.range();
        let slice = text
            .get(r.clone())
            .unwrap_or_else(|| panic!("span {r:?} not sliceable in {text:?}"));
        let reparsed = ok(slice);
        assert!(same(node, &reparsed), "span {r:?} of {text:?}");
        match &node.value {
            Value::Array(items) => items.iter().for_each(|n| check_spans(text, n)),
            Value::Object(members) => {
                for m in members {
                    let key_text = text.get(m.key_span.range()).expect("key span");
                    assert_eq!(ok(key_text).as_str(), Some(&*m.key));
                    assert!(m.key_span.end <= m.value.span.start);
                    check_spans(text, &m.value);
                }
            }
            _ => {}
        }
    }

    fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
    }

    // -- valid documents ----------------------------------------------------

    #[test]
    fn valid_documents_of_every_kind() {
        // (input, kind, compact rendering)
        let cases: &[(&str, &str, &str)] = &[
            ("null", "null", "null"),
            ("true", "boolean", "true"),
            ("false", "boolean", "false"),
            ("0", "number", "0"),
            ("-12.5e+3", "number", "-12.5e+3"),
            (r#""""#, "string", r#""""#),
            (r#""hello""#, "string", r#""hello""#),
            (r#""é😀""#, "string", r#""é😀""#),
            ("[]", "array", "[]"),
            ("[ ]", "array", "[]"),
            ("[1, \"a\", null, true, [false], {}]", "array", r#"[1,"a",null,true,[false],{}]"#),
            ("{}", "object", "{}"),
            ("{ \t\r\n}", "object", "{}"),
            (r#"{"a":1}"#, "object", r#"{"a":1}"#),
            (
                "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\": [{\"Effect\":\"Allow\", \"Action\": [\"s3:*\"]}]\n}",
                "object",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"]}]}"#,
            ),
            (" \t\r\n 42 \t\r\n ", "number", "42"),
            ("\u{feff}[1]", "array", "[1]"),
            ("\u{feff} {\"a\":[]} ", "object", r#"{"a":[]}"#),
            (r#"{"":""}"#, "object", r#"{"":""}"#),
            ("\"\u{7f}\"", "string", "\"\u{7f}\""),
        ];
        for &(text, kind, json) in cases {
            let node = ok(text);
            assert_eq!(node.kind(), kind, "{text:?}");
            assert_eq!(node.to_json(), json, "{text:?}");
            check_spans(text, &node);
        }
    }

    #[test]
    fn accessors() {
        let doc = ok(r#"{"s":"x","n":1.50,"b":true,"z":null,"a":[1,2],"o":{"k":"v"}}"#);
        assert_eq!(doc.kind(), "object");
        assert_eq!(doc.get("s").and_then(Node::as_str), Some("x"));
        assert_eq!(doc.get("n").and_then(Node::as_number), Some("1.50"));
        assert_eq!(doc.get("b").and_then(Node::as_bool), Some(true));
        assert!(doc.get("z").is_some_and(Node::is_null));
        assert_eq!(
            doc.get("a").and_then(Node::as_array).map(<[_]>::len),
            Some(2)
        );
        let o = doc.get("o").expect("o");
        assert_eq!(o.as_object().map(<[_]>::len), Some(1));
        assert_eq!(o.get("k").and_then(Node::as_str), Some("v"));
        assert!(doc.get("missing").is_none());
        // Wrong kinds give None.
        let n = doc.get("n").expect("n");
        assert!(n.as_str().is_none() && n.as_array().is_none() && n.as_object().is_none());
        assert!(n.get("x").is_none() && n.as_bool().is_none() && !n.is_null());
        assert!(doc.as_number().is_none());
        assert_eq!(doc.get("a").map(Node::kind), Some("array"));
    }

    #[test]
    fn numbers_keep_source_text() {
        let cases = [
            "0",
            "-0",
            "10",
            "10.0",
            "-10.50",
            "1e5",
            "1E+5",
            "1e-5",
            "-0.0e0",
            "0.000001",
            "123456789012345678901234567890",
            "1.7976931348623157e309",
        ];
        for text in cases {
            assert_eq!(ok(text).value, Value::Number(text));
            let wrapped = format!("[ {text} ]");
            let doc = ok(&wrapped);
            let item = &doc.as_array().expect("array")[0];
            assert_eq!(item.as_number(), Some(text));
            assert_eq!(
                item.span,
                Span {
                    start: 2,
                    end: 2 + text.len() as u32
                }
            );
        }
    }

    #[test]
    fn invalid_numbers() {
        // (input, error offset, start of the message)
        let cases: &[(&str, usize, &str)] = &[
            ("01", 0, "leading zeros are not allowed"),
            ("-01", 1, "leading zeros are not allowed"),
            ("00", 0, "leading zeros are not allowed"),
            ("[0123]", 1, "leading zeros are not allowed"),
            (
                "1.",
                2,
                "expected digit after decimal point, found end of input",
            ),
            ("1.e5", 2, "expected digit after decimal point, found `e5`"),
            ("[1.]", 3, "expected digit after decimal point, found `]`"),
            (".5", 0, "expected a value, found `.`"),
            ("+1", 0, "expected a value, found `+`"),
            ("-", 1, "expected digit after `-`, found end of input"),
            ("- 1", 1, "expected digit after `-`, found `"),
            ("-a", 1, "expected digit after `-`, found `a`"),
            ("1e", 2, "expected digit in exponent, found end of input"),
            ("1e+", 3, "expected digit in exponent, found end of input"),
            ("1E-x", 3, "expected digit in exponent, found `x`"),
            ("0x10", 1, "expected end of input after value, found `x10`"),
            ("1.5.3", 3, "expected end of input after value, found `.`"),
            ("NaN", 0, "expected a value, found `NaN`"),
            ("Infinity", 0, "expected a value, found `Infinity`"),
            ("-Infinity", 1, "expected digit after `-`, found `Infinity`"),
            ("1 2", 2, "expected end of input after value, found `2`"),
        ];
        for &(text, offset, msg) in cases {
            let e = fail(text);
            assert_eq!(e.offset, offset, "{text:?}: {e}");
            assert!(e.expected.starts_with(msg), "{text:?}: {e}");
        }
    }

    // -- strings ------------------------------------------------------------

    #[test]
    fn string_escapes() {
        let cases: &[(&str, &str)] = &[
            (r#""\u00e9""#, "é"),
            (r#""\u00E9""#, "é"),
            (r#""\ud83d\ude00""#, "😀"),
            (r#""\uD83D\uDE00""#, "😀"),
            (r#""a\ud83d\ude00b""#, "a😀b"),
            (r#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
            (r#""\u0000""#, "\0"),
            (r#""\u001f\u0020""#, "\u{1f} "),
            (r#""\uffff""#, "\u{ffff}"),
            (r#""\udbff\udfff""#, "\u{10ffff}"),
            (r#""é\u00e9é""#, "ééé"),
            (r#""x\\""#, "x\\"),
            (r#""\\\\\\\\\\\\\\\\\\""#, "\\\\\\\\\\\\\\\\\\"),
            (
                r#""long prefix without escapes\nthen more text after the escape""#,
                "long prefix without escapes\nthen more text after the escape",
            ),
        ];
        for &(text, expected) in cases {
            let node = ok(text);
            assert_eq!(node.as_str(), Some(expected), "{text:?}");
            assert!(
                matches!(node.value, Value::String(Cow::Owned(_))),
                "{text:?}"
            );
            // Round trip through to_json.
            let again = node.to_json();
            assert_eq!(ok(&again).as_str(), Some(expected), "{text:?} -> {again:?}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        for text in [
            r#""""#,
            r#""abc""#,
            r#""é😀 ok""#,
            "\"0123456789abcdefghijklmnop\"",
        ] {
            let node = ok(text);
            assert!(
                matches!(node.value, Value::String(Cow::Borrowed(_))),
                "{text:?}"
            );
        }
        let doc = ok(r#"{"plain": 1, "esc\naped": 2}"#);
        let members = doc.as_object().expect("object");
        assert!(matches!(members[0].key, Cow::Borrowed("plain")));
        assert!(matches!(&members[1].key, Cow::Owned(k) if k == "esc\naped"));
    }

    #[test]
    fn lone_surrogates_rejected() {
        // (input, error offset)
        let cases: &[(&str, usize)] = &[
            (r#""\ud800""#, 1),
            (r#""\ud800x""#, 1),
            (r#""ab\ud83d""#, 3),
            (r#""\ud800\u0041""#, 1),
            (r#""\ud800\ud800""#, 1),
            (r#""\ud800\n""#, 1),
            (r#""\udc00""#, 1),
            (r#""\ude00\ud83d""#, 1),
            (r#""\uDFFF""#, 1),
        ];
        for &(text, offset) in cases {
            let e = fail(text);
            assert_eq!(e.offset, offset, "{text:?}: {e}");
            assert!(e.expected.starts_with("lone surrogate"), "{text:?}: {e}");
        }
        // A broken escape after a high surrogate reports the broken escape.
        let e = fail(r#""\ud800\u12x4""#);
        assert_eq!(e.offset, 11);
        assert!(e.expected.starts_with("expected 4 hex digits"), "{e}");
    }

    #[test]
    fn invalid_escapes_and_unterminated_strings() {
        let cases: &[(&str, usize, &str)] = &[
            (
                r#""\x""#,
                1,
                "invalid escape in string: expected one of `\"\\/bfnrtu` after `\\`, found `x`",
            ),
            (r#""\'""#, 1, "invalid escape in string"),
            (r#""\U00e9""#, 1, "invalid escape in string"),
            (
                "\"\\\u{e9}\"",
                1,
                "invalid escape in string: expected one of `\"\\/bfnrtu` after `\\`, found `é`",
            ),
            (
                r#""\u12""#,
                5,
                "expected 4 hex digits after `\\u` in string, found `\"`",
            ),
            (
                r#""\u12G4""#,
                5,
                "expected 4 hex digits after `\\u` in string, found `G4`",
            ),
            (r#""\u"#, 3, "unexpected end of input inside string"),
            (r#""\u00"#, 5, "unexpected end of input inside string"),
            (r#""\"#, 2, "unexpected end of input inside string"),
            (r#"""#, 1, "unexpected end of input inside string"),
            (r#""abc"#, 4, "unexpected end of input inside string"),
            (r#""ab\ncd"#, 7, "unexpected end of input inside string"),
            (r#"["abc]"#, 6, "unexpected end of input inside string"),
            (r#"{"abc: 1}"#, 9, "unexpected end of input inside string"),
            ("'abc'", 0, "expected a value, found `'`"),
        ];
        for &(text, offset, msg) in cases {
            let e = fail(text);
            assert_eq!(e.offset, offset, "{text:?}: {e}");
            assert!(e.expected.starts_with(msg), "{text:?}: {e}");
        }
    }

    #[test]
    fn control_characters_in_strings_rejected() {
        for c in 0u8..0x20 {
            let c = char::from(c);
            for text in [
                format!("\"a{c}b\""),
                format!("\"a\\n{c}b\""),
                format!("{{\"k{c}\": 1}}"),
            ] {
                let e = fail(&text);
                let at = text.find(c).expect("control char present");
                assert_eq!(e.offset, at, "{text:?}: {e}");
                let prefix = format!("control character U+{:04X} must be escaped", u32::from(c));
                assert!(e.expected.starts_with(&prefix), "{text:?}: {e}");
            }
        }
        // DEL and non-ASCII are fine unescaped.
        assert_eq!(
            ok("\"\u{7f}\u{80}\u{2028}\"").as_str(),
            Some("\u{7f}\u{80}\u{2028}")
        );
        // Long strings exercise the 8-bytes-at-a-time scanner at every alignment.
        for pad in 0..20 {
            let body = "x".repeat(pad);
            assert_eq!(ok(&format!("\"{body}\"")).as_str(), Some(body.as_str()));
            let e = fail(&format!("\"{body}\u{1}yyyyyyyyyyyyyyy\""));
            assert_eq!(e.offset, 1 + pad);
            let s = format!("\"{body}\\\\{body}\"");
            assert_eq!(ok(&s).as_str(), Some(format!("{body}\\{body}").as_str()));
        }
    }

    // -- objects, spans ------------------------------------------------------

    #[test]
    fn duplicate_keys_preserved_in_order() {
        let doc = ok(r#"{"a": 1, "b": 2, "a": 3, "a": "x", "\u0061": null}"#);
        let members = doc.as_object().expect("object");
        let seen: Vec<(&str, String)> = members
            .iter()
            .map(|m| (&*m.key, m.value.to_json()))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", "1".to_string()),
                ("b", "2".to_string()),
                ("a", "3".to_string()),
                ("a", "\"x\"".to_string()),
                ("a", "null".to_string()),
            ]
        );
        assert_eq!(doc.get("a").and_then(Node::as_number), Some("1"));
        assert_eq!(doc.to_json(), r#"{"a":1,"b":2,"a":3,"a":"x","a":null}"#);
    }

    #[test]
    fn spans_of_values_and_keys() {
        let text = "{\"a\" : [1, \"x\\n\", true],\n \"é\": {\"k\":null} }";
        let doc = ok(text);
        let slice = |s: Span| &text[s.range()];
        assert_eq!(
            doc.span,
            Span {
                start: 0,
                end: text.len() as u32
            }
        );
        let m = doc.as_object().expect("object");
        assert_eq!(slice(m[0].key_span), "\"a\"");
        assert_eq!(m[0].key_span, Span { start: 1, end: 4 });
        assert_eq!(slice(m[0].value.span), "[1, \"x\\n\", true]");
        let items = m[0].value.as_array().expect("array");
        let item_texts: Vec<&str> = items.iter().map(|n| slice(n.span)).collect();
        assert_eq!(item_texts, ["1", "\"x\\n\"", "true"]);
        assert_eq!(slice(m[1].key_span), "\"é\"");
        assert_eq!(slice(m[1].value.span), "{\"k\":null}");
        let inner = &m[1].value.as_object().expect("object")[0];
        assert_eq!(slice(inner.key_span), "\"k\"");
        assert_eq!(slice(inner.value.span), "null");
        check_spans(text, &doc);

        // With a BOM, spans still index the original text.
        let text = "\u{feff} [7]";
        let doc = ok(text);
        assert_eq!(doc.span, Span { start: 4, end: 7 });
        assert_eq!(
            doc.as_array().expect("array")[0].span,
            Span { start: 5, end: 6 }
        );
        assert_eq!(doc.span.len(), 3);
        assert!(!doc.span.is_empty() && Span::default().is_empty());
    }

    // -- errors: positions and messages --------------------------------------

    #[test]
    fn error_messages() {
        let cases: &[(&str, &str)] = &[
            ("", "expected a value, found end of input"),
            ("   \n ", "expected a value, found end of input"),
            ("\u{feff}", "expected a value, found end of input"),
            (r#"{"a": 1]"#, "expected `,` or `}` after object member, found `]`"),
            (r#"{"a": 1"#, "expected `,` or `}` after object member, found end of input"),
            ("[1}", "expected `,` or `]` after array element, found `}`"),
            ("[1 2]", "expected `,` or `]` after array element, found `2`"),
            ("[1,]", "expected a value after `,` in array, found `]` (trailing commas are not allowed)"),
            (r#"{"a":1,}"#, "expected string key after `,` in object, found `}` (trailing commas are not allowed)"),
            (r#"{"a":1,2}"#, "expected string key after `,` in object, found `2`"),
            ("{a:1}", "expected string key or `}` in object, found `a`"),
            ("{'a':1}", "expected string key or `}` in object, found `'`"),
            ("{,}", "expected string key or `}` in object, found `,`"),
            (r#"{"a" 1}"#, "expected `:` after object key, found `1`"),
            (r#"{"a"}"#, "expected `:` after object key, found `}`"),
            (r#"{"a":}"#, "expected a value, found `}`"),
            ("[,]", "expected a value, found `,`"),
            ("[1,,2]", "expected a value, found `,`"),
            ("[", "expected a value, found end of input"),
            ("tru", "expected `true`, found `tru`"),
            ("True", "expected a value, found `True`"),
            ("nul", "expected `null`, found `nul`"),
            ("fals", "expected `false`, found `fals`"),
            ("nullx", "expected end of input after value, found `x`"),
            ("[]]", "expected end of input after value, found `]`"),
            ("{} x", "expected end of input after value, found `x`"),
            (r#""a""b""#, "expected end of input after value, found `\"`"),
            ("1,", "expected end of input after value, found `,`"),
            ("// c\n1", "expected a value, found `/`"),
            ("1 /* c */", "expected end of input after value, found `/`"),
            ("[1]\u{0}", "expected end of input after value, found character U+0000"),
            ("\u{a0}1", "expected a value, found character U+00A0"),
            (" \u{feff}1", "expected a value, found character U+FEFF"),
            ("\u{feff}\u{feff}1", "expected a value, found character U+FEFF"),
            ("\u{b}1", "expected a value, found character U+000B"),
            ("`", "expected a value, found a backtick"),
            ("[1\n", "expected `,` or `]` after array element, found end of input"),
            ("[\"a\"\n\"b\"]", "expected `,` or `]` after array element, found `\"`"),
        ];
        for &(text, msg) in cases {
            assert_eq!(fail(text).expected, msg, "{text:?}");
        }
    }

    #[test]
    fn error_line_and_column() {
        // (input, offset, line, column)
        let cases: &[(&str, usize, u32, u32)] = &[
            ("", 0, 1, 1),
            ("[1,]", 3, 1, 4),
            ("{\n  \"a\": 1,\n}", 12, 3, 1),
            ("{\n  \"é😀\": tru\n}", 14, 2, 9),
            ("[\n\"ééé\" x]", 11, 2, 7),
            ("[1,\r\n 2,\r\n x]", 11, 3, 2),
            ("\u{feff}x", 3, 1, 1),
            ("\u{feff} \"é\" x", 9, 1, 6),
            ("[\"😀😀\u{1}\"]", 10, 1, 5),
            ("\n\n\n", 3, 4, 1),
        ];
        for &(text, offset, line, column) in cases {
            let e = fail(text);
            assert_eq!(
                (e.offset, e.line, e.column),
                (offset, line, column),
                "{text:?}: {e}"
            );
            assert_eq!(line_col(text, e.offset), (line, column));
        }
        let e = fail("{\n  \"a\": [1,\n  2 3]}");
        assert_eq!(
            e.to_string(),
            "line 3, column 5: expected `,` or `]` after array element, found `3`"
        );
    }

    #[test]
    fn line_col_edge_cases() {
        let text = "ab\né😀\nx";
        // (offset, line, column)
        let cases: &[(usize, u32, u32)] = &[
            (0, 1, 1),
            (1, 1, 2),
            (2, 1, 3), // the newline itself
            (3, 2, 1), // é
            (4, 2, 1), // inside é
            (5, 2, 2), // 😀
            (6, 2, 2), // inside 😀
            (8, 2, 2), // inside 😀
            (9, 2, 3), // the second newline
            (10, 3, 1),
            (11, 3, 2), // end of text
            (12, 3, 2), // clamped
            (usize::MAX, 3, 2),
        ];
        for &(offset, line, column) in cases {
            assert_eq!(line_col(text, offset), (line, column), "offset {offset}");
        }
        assert_eq!(line_col("", 5), (1, 1));
        // A leading BOM is not a column; CRLF counts as one line break.
        assert_eq!(line_col("\u{feff}ab", 0), (1, 1));
        assert_eq!(line_col("\u{feff}ab", 1), (1, 1));
        assert_eq!(line_col("\u{feff}ab", 4), (1, 2));
        assert_eq!(line_col("\u{feff}a\nb", 5), (2, 1));
        assert_eq!(line_col("a\r\nb", 3), (2, 1));
        assert_eq!(line_col("a\r\nb", 1), (1, 2));
    }

    // -- depth ---------------------------------------------------------------

    #[test]
    fn depth_limit() {
        assert!(parse(&nested("[", "", "]", MAX_DEPTH)).is_ok());
        assert!(parse(&nested("{\"a\":", "1", "}", MAX_DEPTH)).is_ok());
        let mixed = format!(
            "{}1{}",
            "[{\"k\":".repeat(MAX_DEPTH / 2),
            "}]".repeat(MAX_DEPTH / 2)
        );
        assert!(parse(&mixed).is_ok());

        let expected = format!("nesting deeper than {MAX_DEPTH} levels");
        let e = fail(&nested("[", "", "]", MAX_DEPTH + 1));
        assert_eq!(
            (e.offset, e.expected.as_str()),
            (MAX_DEPTH, expected.as_str())
        );
        let e = fail(&nested("{\"a\":", "1", "}", MAX_DEPTH + 1));
        assert_eq!(
            (e.offset, e.expected.as_str()),
            (5 * MAX_DEPTH, expected.as_str())
        );

        // Hostile input: an error, not a stack overflow.
        let e = fail(&"[".repeat(100_000));
        assert_eq!(
            (e.offset, e.expected.as_str()),
            (MAX_DEPTH, expected.as_str())
        );
        let e = fail(&"{\"a\":".repeat(100_000));
        assert_eq!(e.expected, expected);
        let e = fail(&nested("[", "", "]", 100_000));
        assert_eq!(e.expected, expected);
        // Width is not depth.
        let wide = format!("[{}]", vec!["[]"; 100_000].join(","));
        assert_eq!(ok(&wide).as_array().map(<[_]>::len), Some(100_000));
    }

    // -- BOM, empty input, trailing garbage ----------------------------------

    #[test]
    fn bom_empty_and_trailing() {
        assert_eq!(ok("\u{feff}{}").span, Span { start: 3, end: 5 });
        assert_eq!(ok("\u{feff}\"x\"").as_str(), Some("x"));
        for text in ["", " ", "\n\t\r ", "\u{feff}", "\u{feff} "] {
            assert_eq!(
                fail(text).expected,
                "expected a value, found end of input",
                "{text:?}"
            );
        }
        for text in [
            "1 1",
            "{}{}",
            "[] []",
            "null null",
            "\"a\" x",
            "0 \u{feff}",
            "{}\u{feff}",
        ] {
            let e = fail(text);
            assert!(
                e.expected.starts_with("expected end of input after value"),
                "{text:?}: {e}"
            );
        }
        // A BOM is only skipped at the very start; inside strings it is content.
        assert_eq!(ok("\"\u{feff}\"").as_str(), Some("\u{feff}"));
    }

    // -- pointers ------------------------------------------------------------

    #[test]
    fn pointer_building_and_escaping() {
        let root = Pointer::root();
        assert_eq!(root.as_str(), "");
        assert_eq!(root.to_string(), "(root)");
        assert_eq!(root, Pointer::default());
        // (key, escaped segment)
        let cases: &[(&str, &str)] = &[
            ("Statement", "/Statement"),
            ("", "/"),
            ("a/b", "/a~1b"),
            ("m~n", "/m~0n"),
            ("~1", "/~01"),
            ("/~/", "/~1~0~1"),
            ("é 😀", "/é 😀"),
        ];
        for &(key, escaped) in cases {
            let p = root.key(key);
            assert_eq!(p.as_str(), escaped);
            assert_eq!(p.to_string(), escaped);
        }
        let p = root.key("Statement").index(0).key("Condition").index(12);
        assert_eq!(p.as_str(), "/Statement/0/Condition/12");
        assert_eq!(format!("{p}"), "/Statement/0/Condition/12");
    }

    #[test]
    fn node_pointer_lookup() {
        let text = r#"{"Statement":[{"a/b":1,"m~n":2,"":3,"x":4,"x":5}], "0": "zero"}"#;
        let doc = ok(text);
        let cases: &[(&str, Option<&str>)] = &[
            ("/Statement/0/a~1b", Some("1")),
            ("/Statement/0/m~0n", Some("2")),
            ("/Statement/0/", Some("3")),
            ("/Statement/0/x", Some("4")),
            ("/0", Some("\"zero\"")),
            ("/Statement/00", None),
            ("/Statement/1", None),
            ("/Statement/-", None),
            ("/Statement/0/a~2b", None),
            ("/Statement/0/x/y", None),
            ("Statement", None),
        ];
        for &(ptr, expected) in cases {
            let found = doc.pointer(ptr).map(|n| text[n.span.range()].to_string());
            assert_eq!(found.as_deref(), expected, "{ptr:?}");
        }
        assert!(doc.pointer("").is_some_and(|n| n.span == doc.span));
        // Built pointers resolve to what they were built from.
        let stmt = &doc
            .get("Statement")
            .and_then(Node::as_array)
            .expect("array")[0];
        for m in stmt.as_object().expect("object") {
            let p = Pointer::root().key("Statement").index(0).key(&m.key);
            assert_eq!(
                doc.pointer(p.as_str()).map(|n| n.span),
                stmt.get(&m.key).map(|n| n.span)
            );
        }
    }

    // -- rendering -----------------------------------------------------------

    #[test]
    fn to_json_escaping() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain é😀", "\"plain é😀\""),
            ("\"\\", r#""\"\\""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            ("\u{0}\u{1}\u{1f}\u{7f}", "\"\\u0000\\u0001\\u001f\u{7f}\""),
            ("/", r#""/""#),
            ("a\u{2028}b", "\"a\u{2028}b\""),
        ];
        for &(s, json) in cases {
            let mut out = String::new();
            write_json_string(s, &mut out);
            assert_eq!(out, json, "{s:?}");
            assert_eq!(ok(&out).as_str(), Some(s));
        }
    }

    #[test]
    fn to_json_round_trips() {
        let docs = [
            "null",
            "[true,false,null]",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"1","Effect":"Allow","Action":["s3:GetObject","s3:Put*"],"Resource":"arn:aws:s3:::b/*","Condition":{"NumericLessThan":{"s3:max-keys":"10"},"Bool":{"aws:SecureTransport":true}}}]}"#,
            "{ \"a\" : [ 1 , 2.50 , -0 , 1E+5 ] , \"a\" : { } , \"\\u00e9\\ud83d\\ude00\\n\" : \"\\\"q\\\"\" }",
            "[[[[[[]]]]],{\"\":{\"\":[]}}]",
        ];
        for text in docs {
            let doc = ok(text);
            let json = doc.to_json();
            let again = ok(&json);
            assert!(same(&doc, &again), "{text:?} -> {json:?}");
            assert_eq!(again.to_json(), json, "rendering is a fixed point");
            check_spans(&json, &again);
        }
    }

    #[test]
    fn syntax_error_display_and_error_trait() {
        let e = fail("[1,\n  x]");
        assert_eq!(
            e.to_string(),
            "line 2, column 3: expected a value, found `x`"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.to_string());
    }

    // -- property-style fuzzing ---------------------------------------------

    use crate::test_rng::XorShift as Rng;

    /// An independent, deliberately simple recognizer for strict JSON
    /// (char-based, no spans, no values) used as an oracle for `parse`.
    mod oracle {
        use super::MAX_DEPTH;
        use std::iter::Peekable;
        use std::str::Chars;

        type It<'a> = Peekable<Chars<'a>>;

        pub fn valid(text: &str) -> bool {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let mut it = text.chars().peekable();
            ws(&mut it);
            value(&mut it, 0) && {
                ws(&mut it);
                it.next().is_none()
            }
        }

        fn ws(it: &mut It<'_>) {
            while matches!(it.peek(), Some(' ' | '\t' | '\n' | '\r')) {
                it.next();
            }
        }

        fn eat(it: &mut It<'_>, c: char) -> bool {
            if it.peek() == Some(&c) {
                it.next();
                true
            } else {
                false
            }
        }

        fn digits(it: &mut It<'_>) -> usize {
            let mut n = 0;
            while it.peek().is_some_and(char::is_ascii_digit) {
                it.next();
                n += 1;
            }
            n
        }

        fn value(it: &mut It<'_>, depth: usize) -> bool {
            match it.peek().copied() {
                Some('{') => {
                    if depth == MAX_DEPTH {
                        return false;
                    }
                    it.next();
                    ws(it);
                    if eat(it, '}') {
                        return true;
                    }
                    loop {
                        if !string(it) {
                            return false;
                        }
                        ws(it);
                        if !eat(it, ':') {
                            return false;
                        }
                        ws(it);
                        if !value(it, depth + 1) {
                            return false;
                        }
                        ws(it);
                        if eat(it, '}') {
                            return true;
                        }
                        if !eat(it, ',') {
                            return false;
                        }
                        ws(it);
                    }
                }
                Some('[') => {
                    if depth == MAX_DEPTH {
                        return false;
                    }
                    it.next();
                    ws(it);
                    if eat(it, ']') {
                        return true;
                    }
                    loop {
                        if !value(it, depth + 1) {
                            return false;
                        }
                        ws(it);
                        if eat(it, ']') {
                            return true;
                        }
                        if !eat(it, ',') {
                            return false;
                        }
                        ws(it);
                    }
                }
                Some('"') => string(it),
                Some('t') => word(it, "true"),
                Some('f') => word(it, "false"),
                Some('n') => word(it, "null"),
                Some('-' | '0'..='9') => number(it),
                _ => false,
            }
        }

        fn word(it: &mut It<'_>, w: &str) -> bool {
            w.chars().all(|c| it.next() == Some(c))
        }

        fn number(it: &mut It<'_>) -> bool {
            eat(it, '-');
            if eat(it, '0') {
                if it.peek().is_some_and(char::is_ascii_digit) {
                    return false;
                }
            } else if digits(it) == 0 {
                return false;
            }
            if eat(it, '.') && digits(it) == 0 {
                return false;
            }
            if eat(it, 'e') || eat(it, 'E') {
                if !eat(it, '+') {
                    eat(it, '-');
                }
                if digits(it) == 0 {
                    return false;
                }
            }
            true
        }

        fn hex4(it: &mut It<'_>) -> Option<u32> {
            let mut v = 0;
            for _ in 0..4 {
                v = v * 16 + it.next()?.to_digit(16)?;
            }
            Some(v)
        }

        fn string(it: &mut It<'_>) -> bool {
            if !eat(it, '"') {
                return false;
            }
            loop {
                match it.next() {
                    None => return false,
                    Some('"') => return true,
                    Some(c) if (c as u32) < 0x20 => return false,
                    Some('\\') => match it.next() {
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => {}
                        Some('u') => match hex4(it) {
                            None => return false,
                            Some(0xdc00..=0xdfff) => return false,
                            Some(0xd800..=0xdbff) => {
                                if !(eat(it, '\\') && eat(it, 'u')) {
                                    return false;
                                }
                                if !matches!(hex4(it), Some(0xdc00..=0xdfff)) {
                                    return false;
                                }
                            }
                            Some(_) => {}
                        },
                        _ => return false,
                    },
                    Some(_) => {}
                }
            }
        }
    }

    const SEEDS: &[&str] = &[
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowRead","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["s3:GetObject","s3:List*"],"Resource":"arn:aws:s3:::bucket/*","Condition":{"NumericLessThanEquals":{"s3:max-keys":10.0},"Bool":{"aws:SecureTransport":true},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}]}"#,
        "[1, -0.5e+10, 0, true, false, null, \"\\u00e9\\ud83d\\ude00\\n\\\"\", {\"a\": {\"b\": [[], {}]}}]",
        "{\n  \"é😀\": \"multi\\tbyte ünïcödé 日本語\",\n  \"dup\": 1,\n  \"dup\": 2\n}\n",
        "\u{feff} \"just a string with \\/ escapes and a long plain tail ..........\" ",
        "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
        "-12345678901234567890.000001E-0099",
    ];

    /// Bytes that are likely to change the meaning of JSON text.
    const INTERESTING: &[u8] =
        b"{}[]\",:\\u0123456789abcdefABCDEF.eE+-tfnlrsu \t\r\n\x00\x01\x1f\x7f/'";

    fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
        for _ in 0..=rng.below(4) {
            let len = bytes.len();
            let byte = if rng.below(3) == 0 {
                (rng.next() & 0xff) as u8
            } else {
                INTERESTING[rng.below(INTERESTING.len())]
            };
            match rng.below(7) {
                0 | 1 => bytes.insert(rng.below(len + 1), byte),
                2 if len > 0 => {
                    bytes.remove(rng.below(len));
                }
                3 if len > 0 => bytes[rng.below(len)] = byte,
                4 => bytes.truncate(rng.below(len + 1)),
                5 if len > 0 => {
                    // Duplicate a random slice somewhere else.
                    let a = rng.below(len);
                    let b = (a + rng.below(16)).min(len);
                    let chunk = bytes[a..b].to_vec();
                    let at = rng.below(len + 1);
                    bytes.splice(at..at, chunk);
                }
                _ => {
                    // Insert a multibyte char.
                    let c = ['é', '😀', '\u{feff}', '\u{2028}', '日'][rng.below(5)];
                    let mut buf = [0u8; 4];
                    let at = rng.below(len + 1);
                    bytes.splice(at..at, c.encode_utf8(&mut buf).bytes());
                }
            }
        }
        bytes
    }

    #[test]
    fn fuzz_mutated_documents_never_panic_and_match_oracle() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut oks, mut errs) = (0, 0);
        for round in 0..30_000 {
            let seed = SEEDS[round % SEEDS.len()];
            let bytes = mutate(&mut rng, seed.as_bytes().to_vec());
            let text = String::from_utf8_lossy(&bytes);
            let result = parse(&text);
            assert_eq!(result.is_ok(), oracle::valid(&text), "{text:?}: {result:?}");
            match result {
                Ok(node) => {
                    oks += 1;
                    let json = node.to_json();
                    let again = parse(&json).unwrap_or_else(|e| panic!("{json:?}: {e}"));
                    assert!(same(&node, &again), "{text:?}");
                    if round % 10 == 0 {
                        check_spans(&text, &node);
                    }
                }
                Err(e) => {
                    errs += 1;
                    assert!(e.offset <= text.len(), "{text:?}: {e:?}");
                    assert!(text.is_char_boundary(e.offset), "{text:?}: {e:?}");
                    assert_eq!((e.line, e.column), line_col(&text, e.offset), "{text:?}");
                    assert!(e.line >= 1 && e.column >= 1);
                    assert!(!e.expected.is_empty());
                }
            }
        }
        // The mutations should exercise both outcomes substantially.
        assert!(oks > 1_000 && errs > 1_000, "oks={oks} errs={errs}");
    }

    #[test]
    fn fuzz_random_bytes_and_truncations() {
        let mut rng = Rng(42);
        for _ in 0..20_000 {
            let len = rng.below(24);
            let bytes: Vec<u8> = (0..len)
                .map(|_| INTERESTING[rng.below(INTERESTING.len())])
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let result = parse(&text);
            assert_eq!(result.is_ok(), oracle::valid(&text), "{text:?}: {result:?}");
            if let Err(e) = result {
                assert!(e.offset <= text.len());
            }
        }
        // Every prefix of every seed.
        for seed in SEEDS {
            for end in (0..=seed.len()).filter(|&i| seed.is_char_boundary(i)) {
                let text = &seed[..end];
                let result = parse(text);
                assert_eq!(result.is_ok(), oracle::valid(text), "{text:?}: {result:?}");
                if let Err(e) = result {
                    assert!(e.offset <= text.len());
                }
            }
        }
    }

    /// The quick scan finds a member's value where the parser puts it, through strings
    /// holding brackets, quotes and escapes; it gives up on what is not an object.
    #[test]
    fn top_level_member_finds_what_the_parser_finds() {
        let texts = [
            r#"{"a": 1, "p": {"x": "}]\"{", "y": [1, {"z": null}]}, "b": true}"#,
            "\u{feff} { \"p\" :\t[\"a\\\\\", {\"q\": 2}] }",
            r#"{"pp": 1, "p\u0070": 2, "p": "last"}"#,
            r#"{"p": -1.5e3}"#,
            r#"{"a": {"p": 1}, "p": {}}"#,
        ];
        for text in texts {
            let node = parse(text).unwrap();
            let expected = node
                .as_object()
                .unwrap()
                .iter()
                .find(|m| m.key == "p")
                .map(|m| m.value.span);
            assert_eq!(top_level_member(text, "p"), expected, "{text}");
        }
        for text in [
            r#"[{"p": 1}]"#,
            r#"{"a" 1, "p": 2}"#,
            r#"{"a": "open"#,
            "",
            r#"{"a": 1}"#,
        ] {
            assert_eq!(top_level_member(text, "p"), None, "{text}");
        }
    }

    /// A skipped member leaves the rest of the tree, and its errors, as they were.
    #[test]
    fn parse_skipping_keeps_the_rest() {
        let text = r#"{"p": {"deep": [1, 2]}, "q": [1, 2,]}"#;
        let skip = top_level_member(text, "p").unwrap();
        assert_eq!(parse_skipping(text, skip), parse(text));
        let text = r#"{"p": {"deep": [1, 2]}, "q": [1, 2]}"#;
        let skipped = parse_skipping(text, skip).unwrap();
        let full = parse(text).unwrap();
        assert_eq!(skipped.get("q"), full.get("q"));
        assert_eq!(skipped.get("p").unwrap().span, full.get("p").unwrap().span);
        assert_eq!(
            parse_value_at(text, skip).as_ref(),
            Ok(full.get("p").unwrap())
        );
    }
}
