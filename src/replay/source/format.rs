//! Telling a log's format from its first bytes, and reading it record by record.
//!
//! The first byte that is not whitespace (after an optional UTF-8 byte-order mark) decides,
//! within [`SNIFF_BYTES`]: anything but `{` or `[` is refused at once, so a gigabyte of
//! zeros or a picture costs one buffer, not a full read. Then:
//!
//! | starts with | read as | places |
//! | --- | --- | --- |
//! | `{"Records": [` | the array streamed, the rest of the object skipped | `Records[i]` |
//! | `[` | the array streamed | `[i]` |
//! | `{` and a first line that is a whole value, more after it | JSON Lines | `line n` |
//! | `{` otherwise | one document (at most one record's cap): its `Records`, or itself | `Records[i]`, `document` |
//!
//! When the first line is not a whole value, the input is one document if it parses as one
//! (read whole, up to the cap); otherwise it is JSON Lines with a damaged first line when its
//! second line is a whole object, and refused when not. The decisions are taken on bytes
//! read into buffers of their own, never on how much a reader's buffer happens to hold.
//!
//! ```text
//! \x00\x00\x00…        → refused: "not JSON: byte 0x00 at byte 0 …"
//! (empty)              → no record
//! {"Records":[{…},{…   → Records[0], then "the input ends inside this record"
//! ```

use std::io::{self, BufRead, Cursor, Read};

use super::super::json::{self, JsonValueMutTrait as _, JsonValueTrait as _, Record};

use super::split::{self, Broken, Ended, Next, Piece};
use super::{Each, Places, ReadError, ReadOptions, SNIFF_BYTES};

/// The UTF-8 byte-order mark some Windows tools write first.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads one log (decompressed already) from its first byte.
pub(super) fn read_stream(
    name: &str,
    input: &mut impl BufRead,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    let file_error = |e: io::Error| ReadError::new(name, "file", format!("reading stopped: {e}"));
    // Peeks are read into buffers of their own, so that what is decided does not depend on
    // how much a reader happens to hand over at once (a pipe, a gzip decoder).
    let mut bom = peek(input, BOM.len()).map_err(file_error)?;
    let mut skipped = 0;
    if bom.get_ref()[..] == *BOM {
        bom.set_position(BOM.len() as u64);
        skipped = BOM.len() as u64;
    }
    let input = &mut bom.chain(input);
    let mut newlines = 0;
    let first = split::skip_space(input, SNIFF_BYTES as u64, &mut skipped, &mut newlines)
        .map_err(file_error)?;
    match first {
        Next::Eof => Ok(true),
        Next::Limit => Err(ReadError::new(
            name,
            "file",
            format!("not a log: nothing but whitespace in the first {SNIFF_BYTES} bytes"),
        )),
        Next::Byte(b'[') => {
            input.consume(1);
            read_array(name, input, "", options, each)
        }
        Next::Byte(b'{') => {
            let mut head = peek(input, DELIVERY_PEEK).map_err(file_error)?;
            match delivery_start(head.get_ref()) {
                Some(Ok(n)) => {
                    head.set_position(n as u64);
                    read_array(name, &mut head.chain(input), "Records", options, each)
                }
                Some(Err(())) => Err(ReadError::new(name, "file", "`Records` is not an array")),
                None => {
                    read_object_start(name, &mut head.chain(input), 1 + newlines, options, each)
                }
            }
        }
        Next::Byte(b) => Err(not_json(name, b, skipped)),
    }
}

/// How far a delivery file's start (`{ "Records" : [`, with some whitespace) is looked for.
const DELIVERY_PEEK: usize = 64;

/// The next `n` bytes (fewer at the end of the input), taken out of `input`.
fn peek(input: &mut impl BufRead, n: usize) -> io::Result<Cursor<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(n);
    input.take(n as u64).read_to_end(&mut bytes)?;
    Ok(Cursor::new(bytes))
}

/// Lines `bytes` of a mapped file, whose first byte is byte `offset` of the file.
pub(super) fn read_slice(
    name: &str,
    mut bytes: &[u8],
    offset: usize,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    read_lines(
        name,
        &mut bytes,
        (1, offset as u64),
        Place::Byte,
        options,
        each,
    )
}

#[cold]
fn not_json(name: &str, b: u8, at: u64) -> ReadError {
    let shown = if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    };
    ReadError::new(
        name,
        "file",
        format!(
            "not JSON: {shown} at byte {at}, where a log starts with `{{` (a `{{\"Records\": \
             [...]}}` file or JSON Lines) or `[` (an array of records)"
        ),
    )
}

/// The length of `{ "Records" : [` at the start of `head`; an error when `Records` is there
/// but its value is not an array; `None` when the head does not start a delivery file. (A
/// head cut short by a slow pipe is read as a document instead, which gives the same records
/// up to the cap.)
pub(super) fn delivery_start(head: &[u8]) -> Option<Result<usize, ()>> {
    let mut i = 1;
    let space = |i: &mut usize| {
        while head.get(*i).copied().is_some_and(split::is_space) {
            *i += 1;
        }
    };
    space(&mut i);
    if !head[i..].starts_with(b"\"Records\"") {
        return None;
    }
    i += b"\"Records\"".len();
    space(&mut i);
    if head.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    space(&mut i);
    match head.get(i) {
        Some(b'[') => Some(Ok(i + 1)),
        Some(_) => Some(Err(())),
        None => None,
    }
}

/// The elements of an array whose `[` is consumed, named `label[i]`; then, for a delivery
/// file, the rest of its object; then nothing but whitespace.
fn read_array(
    name: &str,
    input: &mut impl BufRead,
    label: &str,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    let cap = options.max_record_bytes;
    let mut places = Places::new(name);
    let r = split::read_array(input, cap, &mut |i, piece| {
        each(places.at(format_args!("{label}[{i}]")), parse(piece, cap))
    });
    match r {
        Ok(Ended::Stopped) => return Ok(false),
        Ok(Ended::Closed) => {}
        Err((i, broken)) => {
            let message = match broken {
                Broken::Io(e) => format!("reading stopped: {e}"),
                Broken::Eof => "the input ends inside this record (truncated?)".to_string(),
                Broken::Unexpected(b) => format!(
                    "`{}` where a `,` or `]` should follow the record: the structure is broken \
                     here, the rest of the file is not read",
                    b as char
                ),
            };
            return Err(ReadError {
                position: places.owned(format_args!("{label}[{i}]")),
                message,
            });
        }
    }
    let tail_error = |message: String| ReadError::new(name, "file", message);
    if !label.is_empty() {
        let closed = split::skip_to_close(input, 1)
            .map_err(|e| tail_error(format!("after the records, reading stopped: {e}")))?;
        if !closed {
            return Err(tail_error(
                "the input ends before the `{\"Records\": [...]}` object closes".into(),
            ));
        }
    }
    expect_end(input, "the records").map_err(tail_error)?;
    Ok(true)
}

/// Nothing but whitespace to the end.
fn expect_end(input: &mut impl BufRead, what: &str) -> Result<(), String> {
    let (mut skipped, mut newlines) = (0, 0);
    match split::skip_space(input, u64::MAX, &mut skipped, &mut newlines) {
        Ok(Next::Eof) => Ok(()),
        Ok(_) => Err(format!(
            "data after {what}, from line {} on, is not read",
            newlines + 1
        )),
        Err(e) => Err(format!("after {what}, reading stopped: {e}")),
    }
}

/// One record's bytes parsed, or why not.
fn parse(piece: Piece<'_>, cap: usize) -> Result<Record, String> {
    match piece {
        Piece::Bytes(b) => json::parse(b),
        Piece::TooLong(n) => Err(format!(
            "a record of {n} bytes, over the {cap}-byte cap: skipped"
        )),
        Piece::Missing => Err("no record between two commas (or before `]`)".into()),
    }
}

/// A log that starts with `{` but not with `"Records"`: JSON Lines, or one document. The
/// first line starts at line `line` of the file.
fn read_object_start(
    name: &str,
    input: &mut impl BufRead,
    line: u64,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    let cap = options.max_record_bytes;
    let io_error = |e: io::Error| ReadError::new(name, format!("line {line}"), e.to_string());
    let mut first = Vec::new();
    let (len, newline) = split::read_line(input, cap, &mut first).map_err(io_error)?;
    let mut places = Places::new(name);
    let mut at = |n: u64| places.owned(format_args!("line {n}"));
    if len > cap as u64 {
        // Too long for one document anyway: JSON Lines with a long first line.
        if !each(&at(line), parse(Piece::TooLong(len), cap)) {
            return Ok(false);
        }
        return read_lines(name, input, (line + 1, 0), Place::Line, options, each);
    }
    if let Ok(value) = json::parse(&first) {
        let (mut skipped, mut newlines) = (0, 0);
        let next = split::skip_space(input, u64::MAX, &mut skipped, &mut newlines)
            .map_err(|e| ReadError::new(name, format!("line {}", line + 1), e.to_string()))?;
        if next == Next::Eof {
            return Ok(read_document(name, value, each));
        }
        if !each(&at(line), Ok(value)) {
            return Ok(false);
        }
        let next_line = line + u64::from(newline) + newlines;
        return read_lines(name, input, (next_line, 0), Place::Line, options, each);
    }
    // The first line of a pretty-printed document, or a damaged first line of JSON Lines:
    // a document when the whole input (up to the cap) is one; else JSON Lines when its
    // second line is a whole object.
    let mut bytes = first;
    bytes.push(b'\n');
    let room = (cap + 1).saturating_sub(bytes.len()) as u64;
    input
        .take(room)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::new(name, "file", format!("reading stopped: {e}")))?;
    // Why the input is not one document: serde_json's error names the line and column.
    let document = match (bytes.len() <= cap).then(|| sonic_rs::from_slice::<Record>(&bytes)) {
        Some(Ok(value)) => return Ok(read_document(name, value, each)),
        Some(Err(sonic)) => Some(match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Err(e) => format!("not JSON at line {}, column {}: {e}", e.line(), e.column()),
            Ok(_) => format!("not JSON: {sonic}"),
        }),
        None => None,
    };
    let second = bytes[len as usize + 1..].split(|b| *b == b'\n').next();
    let lines = second.is_some_and(|l| json::parse(l).is_ok_and(|v| v.is_object()));
    if lines {
        let input = &mut Cursor::new(bytes).chain(input);
        return read_lines(name, input, (line, 0), Place::Line, options, each);
    }
    Err(match document {
        Some(why) => ReadError::new(name, "file", why),
        None => document_too_long(name, cap),
    })
}

#[cold]
fn document_too_long(name: &str, cap: usize) -> ReadError {
    ReadError::new(
        name,
        "file",
        format!(
            "one JSON document of more than {cap} bytes (the record cap) that is neither a \
             `{{\"Records\": [...]}}` file with `Records` first, nor an array, nor JSON Lines"
        ),
    )
}

/// The records of one parsed document: its `Records`, or the document itself.
fn read_document(name: &str, mut value: Record, each: &mut Each<'_>) -> bool {
    let mut places = Places::new(name);
    let (label, records) = if value.is_array() {
        ("", value.take())
    } else if let Some(o) = value.as_object_mut() {
        // The last `Records` pair, as serde_json's map kept it.
        match o.iter_mut().filter(|(k, _)| *k == "Records").last() {
            Some((_, records)) if records.is_array() => ("Records", records.take()),
            Some(_) => {
                return each(
                    places.at(format_args!("Records")),
                    Err("`Records` is not an array".into()),
                );
            }
            None => return each(places.at(format_args!("document")), Ok(value)),
        }
    } else {
        return each(places.at(format_args!("document")), Ok(value));
    };
    let records = records.into_array().unwrap_or_default();
    for (i, record) in records.into_iter().enumerate() {
        if !each(places.at(format_args!("{label}[{i}]")), Ok(record)) {
            return false;
        }
    }
    true
}

/// How JSON Lines name a record: by line number, or by byte offset (a slice of a mapped
/// file, whose earlier lines are not counted).
#[derive(Clone, Copy)]
enum Place {
    Line,
    Byte,
}

impl Place {
    fn name(self, places: &mut Places, line: u64, offset: u64) -> &super::Position {
        match self {
            Place::Line => places.at(format_args!("line {line}")),
            Place::Byte => places.at(format_args!("byte {offset}")),
        }
    }
}

/// JSON Lines from the line numbered and placed as given; `place` names a line from its
/// number and byte offset.
fn read_lines(
    name: &str,
    input: &mut impl BufRead,
    first: (u64, u64),
    place: Place,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    let cap = options.max_record_bytes;
    let mut places = Places::new(name);
    split::read_lines(input, cap, first, &mut |line, offset, piece| {
        each(place.name(&mut places, line, offset), parse(piece, cap))
    })
    .map_err(|(line, offset, e)| ReadError {
        position: place.name(&mut places, line, offset).clone(),
        message: format!("reading stopped: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `bytes` as `place: value or error`, and the final error if any.
    fn read(bytes: &[u8], cap: usize) -> (Vec<String>, Option<String>) {
        let options = ReadOptions {
            max_record_bytes: cap,
            ..ReadOptions::default()
        };
        // However the reader cuts its buffers, the same records and the same end.
        let results: Vec<_> = [1, 2, 7, 1 << 16]
            .into_iter()
            .map(|size| {
                let mut out = Vec::new();
                let mut input = std::io::BufReader::with_capacity(size, bytes);
                let r = read_stream("f", &mut input, &options, &mut |at, v| {
                    out.push(match v {
                        Ok(v) => format!("{}: {v}", at.place),
                        Err(e) => format!("{}: ERROR {e}", at.place),
                    });
                    true
                });
                let end = r
                    .err()
                    .map(|e| format!("{}: {}", e.position.place, e.message));
                (out, end)
            })
            .collect();
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
        results.into_iter().next().unwrap()
    }

    #[test]
    fn each_format_is_told_by_its_start() {
        let delivery = br#" {"Records" : [ {"a":1}, {"b":"]"} ], "x": {"}": 1} }  "#;
        assert_eq!(
            read(delivery, 100),
            (
                vec![
                    r#"Records[0]: {"a":1}"#.into(),
                    r#"Records[1]: {"b":"]"}"#.into()
                ],
                None
            )
        );
        assert_eq!(
            read(b"[{\"a\":1}]", 100),
            (vec![r#"[0]: {"a":1}"#.into()], None)
        );
        let lines = b"\n{\"a\":1}\n\n{\"b\":2}\n";
        assert_eq!(
            read(lines, 100),
            (
                vec![r#"line 2: {"a":1}"#.into(), r#"line 4: {"b":2}"#.into()],
                None
            )
        );
        let pretty = b"{\n  \"eventName\": \"X\",\n  \"Records\": [1, 2]\n}\n";
        assert_eq!(
            read(pretty, 100),
            (vec!["Records[0]: 1".into(), "Records[1]: 2".into()], None)
        );
        // A whole value on the second line of a document does not make it JSON Lines.
        assert_eq!(
            read(b"{\"a\":\n{}\n}", 100),
            (vec![r#"document: {"a":{}}"#.into()], None)
        );
        let record = b"{\n  \"eventName\": \"X\"\n}";
        assert_eq!(
            read(record, 100),
            (vec![r#"document: {"eventName":"X"}"#.into()], None)
        );
        assert_eq!(read(b"", 100), (vec![], None));
        assert_eq!(read(b" \n\t ", 100), (vec![], None));
        assert_eq!(
            read(b"\xef\xbb\xbf{\"a\":1}", 100),
            (vec![r#"document: {"a":1}"#.into()], None)
        );
    }

    #[test]
    fn garbage_is_refused_from_its_first_bytes() {
        let (records, end) = read(&[0u8; 1000], 100);
        assert!(records.is_empty());
        let end = end.unwrap();
        assert!(
            end.starts_with("file: not JSON: byte 0x00 at byte 0"),
            "{end}"
        );
        let (_, end) = read(b"  PK\x03\x04", 100);
        assert!(end.unwrap().contains("`P` at byte 2"));
        // An endless source is refused without being read to its end.
        let options = ReadOptions::default();
        for byte in [0u8, b' '] {
            let mut endless = std::io::BufReader::new(std::io::repeat(byte));
            let e = read_stream("zero", &mut endless, &options, &mut |_, _| true).unwrap_err();
            assert_eq!(e.position.place, "file");
            assert!(e.message.starts_with("not "), "{}", e.message);
        }
    }

    #[test]
    fn a_bad_record_costs_that_record_only() {
        let delivery =
            b"{\"Records\":[{\"a\":\"\xff\"},{\"b\":2},{\"c\":\"0123456789\"},{\"d\":4}]}";
        let (records, end) = read(delivery, 16);
        assert_eq!(end, None);
        assert_eq!(records.len(), 4);
        assert!(
            records[0].starts_with("Records[0]: ERROR invalid unicode"),
            "{records:?}"
        );
        assert_eq!(records[1], r#"Records[1]: {"b":2}"#);
        assert!(
            records[2].starts_with("Records[2]: ERROR a record of 18 bytes, over the 16-byte cap")
        );
        assert_eq!(records[3], r#"Records[3]: {"d":4}"#);
        let lines = b"{\"a\":1}\n{\"a\":\"\xff\"}\n{\"c\":\"0123456789\"}\n{not json\n{\"d\":4}";
        let (records, end) = read(lines, 16);
        assert_eq!(end, None);
        let places: Vec<&str> = records.iter().map(|r| &r[..r.find(':').unwrap()]).collect();
        assert_eq!(places, ["line 1", "line 2", "line 3", "line 4", "line 5"]);
        assert!(records[1].contains("ERROR invalid unicode"));
        assert!(records[2].contains("ERROR a record of 18 bytes"));
        assert!(records[3].contains("ERROR key must be a string"));
        assert_eq!(records[4], r#"line 5: {"d":4}"#);
        // A damaged first line of JSON Lines.
        let (records, end) = read(b"{\"a\":\n{\"b\":2}\n{\"c\":3}\n", 100);
        assert_eq!(end, None);
        assert_eq!(records.len(), 3);
        assert!(records[0].starts_with("line 1: ERROR"));
    }

    #[test]
    fn a_truncated_or_broken_file_keeps_its_records_before_the_damage() {
        let (records, end) = read(br#"{"Records":[{"a":1},{"b":[2"#, 100);
        assert_eq!(records, [r#"Records[0]: {"a":1}"#]);
        assert_eq!(
            end.unwrap(),
            "Records[1]: the input ends inside this record (truncated?)"
        );
        let (records, end) = read(br#"{"Records":[{"a":1}]"#, 100);
        assert_eq!(records.len(), 1);
        assert!(end.unwrap().contains("ends before the"));
        let (records, end) = read(br#"[{"a":1}] [2]"#, 100);
        assert_eq!(records.len(), 1);
        assert!(end.unwrap().starts_with("file: data after the records"));
        let (_, end) = read(br#"{"Records": 3}"#, 100);
        assert_eq!(end.unwrap(), "file: `Records` is not an array");
        let (records, end) = read(b"{\n\"a\": [1, 2, 3, 4, 5, 6, 7, 8, 9]\n}", 16);
        assert!(records.is_empty());
        assert!(end.unwrap().contains("more than 16 bytes"));
    }
}
