//! Arbitrary bytes, plain and gzip-wrapped, through the replay's log readers and the
//! CloudTrail record mapper: never a panic; every record in exactly one count (records in =
//! mapped + unmappable + unreadable); gzip wrapping changes nothing; a valid JSON document
//! or valid JSON Lines give exactly serde_json's records, in order, with their places.
//! The first byte picks the record cap (small caps exercise the skipping of long records).
#![no_main]

use std::io::Write;

use fastiam::replay::json;
use fastiam::replay::source::{read_reader, ReadOptions};
use fastiam::replay::{ActionMap, MapOptions, ReadError, RecordMapper, Report};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Each record's place and value (or error), and the error that ended the input. Values
/// are compared as serde_json's (a duplicated key: its last value).
type Read = (Vec<(String, Result<Value, String>)>, Option<ReadError>);

/// Reads `bytes`, mapping every record and counting it in a report; checks the accounting.
fn read(bytes: &[u8], options: &ReadOptions) -> Read {
    let actions = ActionMap::shared();
    let map_options = MapOptions::default();
    let mut mapper = RecordMapper::new();
    let mut report = Report::new(true);
    let mut records = Vec::new();
    let r = read_reader("fuzz", bytes, options, &mut |at, record| {
        assert_eq!(at.file, "fuzz");
        match &record {
            Ok(value) => match mapper.map(value, at, actions, &map_options) {
                // Mapped: counted as evaluated (no policies here).
                Ok(_) => report.all.allowed += 1,
                Err(u) => report.add_unmappable(at, &u),
            },
            Err(message) => report.add_read_error(&ReadError {
                position: at.clone(),
                message: message.clone(),
            }),
        }
        records.push((at.place.clone(), record.and_then(|v| json::to_serde(&v))));
        true
    });
    let end = match r {
        Ok(finished) => {
            assert!(finished, "nothing asked the reader to stop");
            None
        }
        Err(e) => {
            assert_eq!(e.position.file, "fuzz");
            assert!(!e.message.is_empty());
            report.add_read_error(&e);
            Some(e)
        }
    };
    assert_eq!(
        report.records_seen(),
        records.len() as u64 + u64::from(end.is_some()),
        "records in = mapped + unmappable + unreadable"
    );
    (records, end)
}

/// What serde_json says the records of `data` are, when it is one valid JSON document or
/// valid JSON Lines the readers must read exactly so.
fn expected(data: &[u8]) -> Option<Vec<(String, Value)>> {
    let start = data.iter().position(|b| !b" \t\r\n".contains(b))?;
    // `"Records"` twice (a duplicate key, or inside a string) is decided differently by a
    // streaming reader and by serde_json's map; no oracle then.
    let records_key = data.windows(9).filter(|w| w == b"\"Records\"").count();
    if records_key > 1 {
        return None;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        return match value {
            Value::Array(a) => Some(
                a.into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("[{i}]"), v))
                    .collect(),
            ),
            Value::Object(mut o) => match o.remove("Records") {
                Some(Value::Array(a)) => Some(
                    a.into_iter()
                        .enumerate()
                        .map(|(i, v)| (format!("Records[{i}]"), v))
                        .collect(),
                ),
                Some(_) => None,
                None => Some(vec![("document".into(), Value::Object(o))]),
            },
            _ => None,
        };
    }
    // JSON Lines: an object first, every line that is not blank a whole value.
    if data[start] != b'{' || records_key > 0 {
        return None;
    }
    let mut out = Vec::new();
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(|b| b" \t\r\n".contains(b)) {
            continue;
        }
        out.push((
            format!("line {}", i + 1),
            serde_json::from_slice(line).ok()?,
        ));
    }
    (out.len() >= 2).then_some(out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else {
        return;
    };
    let options = ReadOptions {
        max_record_bytes: if first & 1 == 0 {
            1 << 20
        } else {
            1 + usize::from(first >> 1)
        },
        inflate_ratio: 500,
        inflate_floor: 1 << 20,
    };
    let plain = read(data, &options);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    let compressed = gz.finish().unwrap();
    // Unless the data are gzip themselves (then the plain read inflated them once already).
    if !data.starts_with(&[0x1f, 0x8b]) {
        assert_eq!(
            read(&compressed, &options),
            plain,
            "gzip wrapping changed the records"
        );
    }
    if options.max_record_bytes == 1 << 20 {
        if let Some(expected) = expected(data) {
            let got: Vec<(String, Value)> = plain
                .0
                .iter()
                .map(|(place, r)| {
                    (
                        place.clone(),
                        r.clone().unwrap_or_else(|e| panic!("{place}: {e}")),
                    )
                })
                .collect();
            assert_eq!(got, expected);
            assert_eq!(plain.1, None);
        }
    }
});
