//! The record tree the replay reads: a [`sonic_rs::Value`], parsed with SIMD.
//!
//! **Why.** Replay was bound by JSON parsing: building a `serde_json::Value` took about 58k
//! of a record's 81k instructions (callgrind, BENCHMARKS.md "Replay after the sixth
//! session"), and on the same 100,000 records `sonic_rs::from_slice` built its tree five
//! to seven times faster than serde_json. So the readers ([`super::source`]) hand the
//! mapper a [`Record`], and the mapper, the CTS mapper and the resource templates read
//! it. One value type end to end, rather than a trait over both, keeps the mapper
//! monomorphic and its code as it was; a caller that already holds a `serde_json::Value`
//! converts it with [`from_serde`] (re-serialised: not the hot path).
//!
//! **Exactly as before.** The replay used to read serde_json's tree, and its answers are
//! kept:
//!
//! * *Duplicate keys.* serde_json's map keeps a key's last value; a sonic-rs object keeps
//!   every pair, and its `get` finds the first. [`get`] finds the last, the mapper's
//!   one-pass field readers let a later pair overwrite an earlier one, and
//!   [`least_key`] visits keys in serde_json's (sorted) order where the first match wins.
//! * *Errors.* A record sonic-rs refuses is parsed again by serde_json on that (cold) path
//!   for its message, so an unreadable record reads as before (`invalid unicode code point
//!   at line 1 column 9`).
//! * *Depth.* sonic-rs refuses nesting past 255 levels with an error, where serde_json
//!   stopped at 128: deeper records are read now, still bounded (no stack overflow).
//! * *Numbers, escapes, non-ASCII.* Strings are unescaped to the same text; numbers are
//!   only read as integers (`time`) or printed (a CTS `code`), which both do alike.
//!
//! ```
//! use fastiam::replay::json;
//! let record = json::parse(br#"{"eventName": "A", "eventName": "B"}"#).unwrap();
//! assert_eq!(json::get(&record, "eventName").and_then(json::as_str), Some("B"));
//! assert!(json::parse(b"{\"a\": \"\xff\"}").unwrap_err().contains("invalid unicode code point"));
//! ```

pub use sonic_rs::{JsonContainerTrait, JsonValueMutTrait, JsonValueTrait, Object, Value};

/// One record as the replay reads it.
pub type Record = Value;

/// Parses one record. The error is serde_json's message when serde_json refuses the bytes
/// too (module docs), else sonic-rs's.
pub fn parse(bytes: &[u8]) -> Result<Record, String> {
    sonic_rs::from_slice(bytes).map_err(|e| refused(bytes, e))
}

/// (A `serde_json::Value`, not `IgnoredAny`: serde_json skips an ignored string's bytes
/// without checking that they are UTF-8.)
#[cold]
fn refused(bytes: &[u8], sonic: sonic_rs::Error) -> String {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Err(e) => e.to_string(),
        Ok(_) => sonic.to_string(),
    }
}

/// A `serde_json::Value` as a [`Record`], by re-serialising it (for tests and callers that
/// hold one; not the replay's path).
pub fn from_serde(value: &serde_json::Value) -> Record {
    // Serialising a serde_json value cannot fail, and what it writes is JSON sonic-rs reads
    // (both refuse non-finite numbers; nesting within serde_json's own parse limit).
    sonic_rs::from_str(&value.to_string()).unwrap_or_default()
}

/// `value[key]` with serde_json's answer for a duplicated key: its last value.
pub fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    field(value.as_object()?, key)
}

/// `object[key]` with serde_json's answer for a duplicated key: its last value.
pub fn field<'v>(object: &'v Object, key: &str) -> Option<&'v Value> {
    let mut found = None;
    for (k, v) in object.iter() {
        if k == key {
            found = Some(v);
        }
    }
    found
}

/// `value.as_str()` as a function path (`.and_then(json::as_str)`).
pub fn as_str(value: &Value) -> Option<&str> {
    value.as_str()
}

/// The value of the least key (in byte order, serde_json's map order) that `matches`, and
/// of that key's last pair.
pub fn least_key<'v>(object: &'v Object, matches: &dyn Fn(&str) -> bool) -> Option<&'v Value> {
    let mut best: Option<(&str, &Value)> = None;
    for (k, v) in object.iter() {
        if matches(k) && best.is_none_or(|(b, _)| k <= b) {
            best = Some((k, v));
        }
    }
    best.map(|(_, v)| v)
}

/// A [`Record`] as a `serde_json::Value` (for code that edits records with serde_json, such
/// as [`super::synth`]); a duplicated key keeps its last value. Fails past serde_json's
/// nesting limit (128).
pub fn to_serde(value: &Value) -> Result<serde_json::Value, String> {
    serde_json::from_str(&value.to_string()).map_err(|e| e.to_string())
}
