//! Cutting a byte stream into records without parsing it: the elements of a JSON array, and
//! lines.
//!
//! Why a byte scanner and not serde_json's streaming deserializer (a visitor over the
//! `Records` sequence): serde_json stops at the first error of the stream and cannot resume,
//! so one invalid UTF-8 byte or one damaged record would lose every record after it; and an
//! element is parsed before its size is known, so one 2 GB record would still be read into
//! memory. The scanner tracks only what decides where an element ends — whether it is inside
//! a string, after a backslash, and how deep in brackets — so it needs no memory but the
//! current record's bytes, skips a record past the cap while still finding its end, and
//! hands every record to the parser on its own: an error costs that record only. Bytes of
//! multi-byte UTF-8 characters (valid or not) are all ≥ 0x80 and never taken for `"`, `\`,
//! a bracket or a comma. Inside strings it jumps with `memchr2` to the next `"` or `\`.
//!
//! A record that lies inside one buffer of the reader is handed on in place; only a record
//! that straddles two buffers is copied (into a buffer reused for the next one).
//!
//! ```text
//! [ {"a": "x]\"y"} , [1, {"b": 2}] , 3 ]     →  `{"a": "x]\"y"}`, `[1, {"b": 2}]`, `3`
//! ```

use std::io::{self, BufRead};

use memchr::{memchr, memchr2};

/// One record as found, or what stands in for it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece<'a> {
    /// The record's bytes (with the whitespace around it).
    Bytes(&'a [u8]),
    /// Longer than the cap (`n` bytes): not kept.
    TooLong(u64),
    /// Nothing between two commas, or between a comma and `]`.
    Missing,
}

/// Why an array could not be read to its end.
#[derive(Debug)]
pub(super) enum Broken {
    Io(io::Error),
    /// The input ended inside the array.
    Eof,
    /// A `}` where the array's next comma or `]` should be.
    Unexpected(u8),
}

/// How reading an array ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// At its `]`, which is consumed.
    Closed,
    /// The callback asked to stop.
    Stopped,
}

/// The bytes of a record gathered across buffer refills, up to a cap.
struct Gather {
    bytes: Vec<u8>,
    len: u64,
    cap: usize,
    /// A byte other than whitespace was pushed (lines only).
    nonblank: bool,
}

impl Gather {
    fn new(cap: usize) -> Gather {
        Gather {
            bytes: Vec::new(),
            len: 0,
            cap,
            nonblank: false,
        }
    }

    fn push(&mut self, b: &[u8]) {
        self.len += b.len() as u64;
        self.nonblank = self.nonblank || !is_blank(b);
        if self.len <= self.cap as u64 {
            self.bytes.extend_from_slice(b);
        } else {
            self.bytes.clear();
        }
    }

    /// The record whose last bytes are `tail`: in place when nothing was gathered before.
    fn finish<R>(&mut self, tail: &[u8], f: impl FnOnce(Piece<'_>) -> R) -> R {
        let r = if self.len == 0 {
            if tail.len() > self.cap {
                f(Piece::TooLong(tail.len() as u64))
            } else {
                f(Piece::Bytes(tail))
            }
        } else {
            self.push(tail);
            if self.len > self.cap as u64 {
                f(Piece::TooLong(self.len))
            } else {
                f(Piece::Bytes(&self.bytes))
            }
        };
        self.bytes.clear();
        self.len = 0;
        self.nonblank = false;
        r
    }
}

/// JSON whitespace.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_blank(b: &[u8]) -> bool {
    b.iter().all(|c| is_space(*c))
}

/// `fill_buf`, retried when interrupted.
pub(super) fn fill(input: &mut impl BufRead) -> io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Re-borrowed: the loop's borrow ends here (a known limit of the borrow checker).
            Ok(_) => return input.fill_buf(),
            Err(e) => return Err(e),
        }
    }
}

/// Where the scanner is between two buffers.
#[derive(Default)]
struct Scan {
    depth: u64,
    in_string: bool,
    escaped: bool,
    /// The current element has a byte other than whitespace.
    started: bool,
}

impl Scan {
    /// The index in `buf` of the next `,`, `]` or `}` outside strings and at depth 0.
    fn next_stop(&mut self, buf: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < buf.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                let k = memchr2(b'"', b'\\', &buf[i..])?;
                i += k;
                if buf[i] == b'"' {
                    self.in_string = false;
                } else {
                    self.escaped = true;
                }
                i += 1;
                continue;
            }
            match buf[i] {
                b'"' => {
                    self.in_string = true;
                    self.started = true;
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.started = true;
                }
                b',' | b']' | b'}' if self.depth == 0 => return Some(i),
                b']' | b'}' => self.depth -= 1,
                b' ' | b'\t' | b'\n' | b'\r' => {}
                _ => self.started = true,
            }
            i += 1;
        }
        None
    }
}

/// Reads the elements of an array whose `[` is consumed, handing each to `each` with its
/// index, up to and including the closing `]`. An element over `cap` bytes is scanned to its
/// end but not kept. On error, the index is that of the element being read.
pub(super) fn read_array(
    input: &mut impl BufRead,
    cap: usize,
    each: &mut dyn FnMut(usize, Piece<'_>) -> bool,
) -> Result<Ended, (usize, Broken)> {
    let mut scan = Scan::default();
    let mut gather = Gather::new(cap);
    let mut index = 0;
    let mut after_comma = false;
    loop {
        let buf = fill(input).map_err(|e| (index, Broken::Io(e)))?;
        if buf.is_empty() {
            return Err((index, Broken::Eof));
        }
        let mut from = 0;
        loop {
            let Some(k) = scan.next_stop(&buf[from..]) else {
                if scan.started {
                    gather.push(&buf[from..]);
                }
                let n = buf.len();
                input.consume(n);
                break;
            };
            let at = from + k;
            let stop = buf[at];
            if stop == b'}' {
                return Err((index, Broken::Unexpected(stop)));
            }
            let empty_array = stop == b']' && !after_comma && !scan.started;
            if !empty_array {
                let go = if scan.started {
                    gather.finish(&buf[from..at], |p| each(index, p))
                } else {
                    each(index, Piece::Missing)
                };
                if !go {
                    return Ok(Ended::Stopped);
                }
                index += 1;
            }
            scan.started = false;
            from = at + 1;
            if stop == b']' {
                input.consume(from);
                return Ok(Ended::Closed);
            }
            after_comma = true;
        }
    }
}

/// Skips to the end of a value `depth` brackets deep (strings and nesting respected);
/// `Ok(false)` when the input ends first.
pub(super) fn skip_to_close(input: &mut impl BufRead, depth: u64) -> io::Result<bool> {
    let mut scan = Scan {
        depth: depth.saturating_sub(1),
        ..Scan::default()
    };
    loop {
        let buf = fill(input)?;
        if buf.is_empty() {
            return Ok(false);
        }
        let mut from = 0;
        while let Some(k) = scan.next_stop(&buf[from..]) {
            let at = from + k;
            if buf[at] != b',' {
                input.consume(at + 1);
                return Ok(true);
            }
            from = at + 1;
        }
        let n = buf.len();
        input.consume(n);
    }
}

/// What [`skip_space`] stopped at.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// This byte (not consumed).
    Byte(u8),
    Eof,
    /// `limit` bytes of whitespace and still no end.
    Limit,
}

/// Skips whitespace, at most `limit` bytes; counts the bytes and newlines skipped.
pub(super) fn skip_space(
    input: &mut impl BufRead,
    limit: u64,
    skipped: &mut u64,
    newlines: &mut u64,
) -> io::Result<Next> {
    loop {
        let buf = fill(input)?;
        if buf.is_empty() {
            return Ok(Next::Eof);
        }
        let room = usize::try_from(limit.saturating_sub(*skipped)).unwrap_or(usize::MAX);
        let n = buf
            .iter()
            .take(room)
            .position(|b| !is_space(*b))
            .unwrap_or(buf.len().min(room));
        *newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        *skipped += n as u64;
        let next = buf.get(n).copied();
        input.consume(n);
        match next {
            Some(b) if n < room => return Ok(Next::Byte(b)),
            _ if *skipped >= limit => return Ok(Next::Limit),
            _ => {}
        }
    }
}

/// Reads one line (without its `\n`) into `line`, keeping at most `cap` bytes; returns its
/// length (which may exceed `cap`) and whether a `\n` ended it.
pub(super) fn read_line(
    input: &mut impl BufRead,
    cap: usize,
    line: &mut Vec<u8>,
) -> io::Result<(u64, bool)> {
    let mut len = 0u64;
    loop {
        let buf = fill(input)?;
        if buf.is_empty() {
            return Ok((len, false));
        }
        let (part, found) = match memchr(b'\n', buf) {
            Some(k) => (&buf[..k], true),
            None => (buf, false),
        };
        len += part.len() as u64;
        if len <= cap as u64 {
            line.extend_from_slice(part);
        } else {
            line.clear();
        }
        let n = part.len() + usize::from(found);
        input.consume(n);
        if found {
            return Ok((len, true));
        }
    }
}

/// Reads lines, handing each that is not blank to `each` with its number (counted from
/// `first_line`) and the byte offset of its start (from `first_offset`). On error, the
/// number and offset of the line being read.
pub(super) fn read_lines(
    input: &mut impl BufRead,
    cap: usize,
    (first_line, first_offset): (u64, u64),
    each: &mut dyn FnMut(u64, u64, Piece<'_>) -> bool,
) -> Result<bool, (u64, u64, io::Error)> {
    let mut gather = Gather::new(cap);
    let (mut line, mut start) = (first_line, first_offset);
    let mut pos = first_offset;
    loop {
        let buf = fill(input).map_err(|e| (line, start, e))?;
        if buf.is_empty() {
            let go = !gather.nonblank || gather.finish(&[], |p| each(line, start, p));
            return Ok(go);
        }
        let mut from = 0;
        while let Some(k) = memchr(b'\n', &buf[from..]) {
            let end = from + k;
            let text = &buf[from..end];
            let go = if gather.nonblank || !is_blank(text) {
                gather.finish(text, |p| each(line, start, p))
            } else {
                gather.finish(&[], |_| true)
            };
            if !go {
                return Ok(false);
            }
            from = end + 1;
            line += 1;
            start = pos + from as u64;
        }
        gather.push(&buf[from..]);
        let n = buf.len();
        pos += n as u64;
        input.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    /// Every element of `text` (after its `[`), read through buffers of every size from 1
    /// byte up, so that every element straddles a refill somewhere.
    fn elements(text: &str, cap: usize) -> Vec<Result<Vec<String>, String>> {
        let body = text.strip_prefix('[').unwrap();
        (1..=body.len() + 1)
            .map(|size| {
                let mut input = BufReader::with_capacity(size, body.as_bytes());
                let mut out = Vec::new();
                let r = read_array(&mut input, cap, &mut |i, p| {
                    assert_eq!(i, out.len());
                    out.push(match p {
                        Piece::Bytes(b) => String::from_utf8_lossy(b).trim().to_string(),
                        Piece::TooLong(n) => format!("<{n} bytes>"),
                        Piece::Missing => "<missing>".into(),
                    });
                    true
                });
                match r {
                    Ok(Ended::Closed) => {
                        let mut rest = String::new();
                        std::io::Read::read_to_string(&mut input, &mut rest).unwrap();
                        out.push(format!("rest `{rest}`"));
                        Ok(out)
                    }
                    Ok(Ended::Stopped) => Err("stopped".into()),
                    Err((i, e)) => Err(format!("{i}: {e:?}")),
                }
            })
            .collect()
    }

    fn all_same(text: &str, cap: usize) -> Result<Vec<String>, String> {
        let results = elements(text, cap);
        for r in &results[1..] {
            assert_eq!(r, &results[0], "{text}");
        }
        results[0].clone()
    }

    #[test]
    fn elements_are_cut_at_commas_outside_strings_and_nesting() {
        let text = r#"[ {"a": "x],\"y\\"} , [1, {"b": [2,3]}] , 3 ,"s,]" ] }"#;
        assert_eq!(
            all_same(text, 100).unwrap(),
            [
                r#"{"a": "x],\"y\\"}"#,
                r#"[1, {"b": [2,3]}]"#,
                "3",
                r#""s,]""#,
                "rest ` }`"
            ]
        );
        assert_eq!(all_same("[]", 100).unwrap(), ["rest ``"]);
        assert_eq!(all_same("[ \n ]x", 100).unwrap(), ["rest `x`"]);
    }

    #[test]
    fn missing_long_and_broken_elements() {
        assert_eq!(
            all_same("[1,,2,]", 100).unwrap(),
            ["1", "<missing>", "2", "<missing>", "rest ``"]
        );
        // A record over the cap is skipped whole and the next one read.
        assert_eq!(
            all_same(r#"[{"k":"0123456789"}, {"k":1}]"#, 10).unwrap(),
            ["<18 bytes>", r#"{"k":1}"#, "rest ``"]
        );
        assert_eq!(all_same(r#"[{"a":1}, {"b":"#, 100), Err("1: Eof".into()));
        assert_eq!(all_same(r#"[1, }"#, 100), Err("1: Unexpected(125)".into()));
        // Invalid UTF-8 inside a string changes nothing for the scanner.
        let bytes = b"[\"\xff\xfe\", 1]";
        let mut input = &bytes[1..];
        let mut n = 0;
        assert_eq!(
            read_array(&mut input, 100, &mut |_, _| {
                n += 1;
                true
            })
            .unwrap(),
            Ended::Closed
        );
        assert_eq!(n, 2);
    }

    #[test]
    fn lines_are_numbered_blank_ones_skipped_long_ones_cut() {
        let text = "{\"a\":1}\n\n  \n0123456789abc\r\n{\"b\":2}";
        for size in 1..=text.len() + 1 {
            let mut input = BufReader::with_capacity(size, text.as_bytes());
            let mut out = Vec::new();
            let r = read_lines(&mut input, 12, (1, 0), &mut |line, offset, p| {
                out.push(format!("{line}@{offset}: {p:?}"));
                true
            });
            assert!(r.unwrap());
            assert_eq!(
                out,
                [
                    "1@0: Bytes([123, 34, 97, 34, 58, 49, 125])",
                    "4@12: TooLong(14)",
                    "5@27: Bytes([123, 34, 98, 34, 58, 50, 125])"
                ],
                "buffer of {size}"
            );
        }
    }

    #[test]
    fn whitespace_is_skipped_up_to_a_limit() {
        let (mut skipped, mut newlines) = (0, 0);
        let mut input = BufReader::with_capacity(3, &b" \n \n\t{"[..]);
        let next = skip_space(&mut input, 100, &mut skipped, &mut newlines).unwrap();
        assert_eq!((next, skipped, newlines), (Next::Byte(b'{'), 5, 2));
        let mut endless = BufReader::with_capacity(7, std::io::repeat(b' '));
        let (mut skipped, mut newlines) = (0, 0);
        let next = skip_space(&mut endless, 1000, &mut skipped, &mut newlines).unwrap();
        assert_eq!((next, skipped), (Next::Limit, 1000));
        let mut empty = &b"  "[..];
        let (mut skipped, mut newlines) = (0, 0);
        let next = skip_space(&mut empty, 1000, &mut skipped, &mut newlines).unwrap();
        assert_eq!(next, Next::Eof);
    }

    #[test]
    fn the_rest_of_an_object_is_skipped_to_its_brace() {
        let mut input = BufReader::with_capacity(2, &br#", "x": {"y": "}"}, "z": [1] } tail"#[..]);
        assert!(skip_to_close(&mut input, 1).unwrap());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut input, &mut rest).unwrap();
        assert_eq!(rest, " tail");
        let mut open = &br#", "x": {"#[..];
        assert!(!skip_to_close(&mut open, 1).unwrap());
    }
}
