//! Realistic synthetic logs at any size, grown from real records.
//!
//! Real logs run to hundreds of millions of records; the bundled real ones to a few
//! thousand. To measure replay at scale the generator draws records from real ones —
//! uniformly, so the mix of services, principals, forwarded calls, network origins and
//! errors is preserved — and makes each one distinct: a fresh `eventID`, an `eventTime`
//! advancing one millisecond a record from the first real record's time, and a source IP
//! drawn from the real ones (forwarded calls keep their service name). Deterministic for
//! a seed.

use std::io::Write;

use serde_json::Value;

/// A small deterministic generator (SplitMix64); quality is ample for sampling.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Writes `n` synthetic records as JSON Lines, drawn from `seeds`. Returns the records
/// written; `seeds` must not be empty.
pub fn generate(seeds: &[Value], n: u64, seed: u64, out: &mut dyn Write) -> std::io::Result<u64> {
    if seeds.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no records to grow synthetic ones from",
        ));
    }
    let ips: Vec<String> = seeds
        .iter()
        .filter_map(|r| r.get("sourceIPAddress")?.as_str())
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_string)
        .collect();
    let start = seeds
        .iter()
        .filter_map(|r| r.get("eventTime")?.as_str())
        .filter_map(crate::primitives::parse_date)
        .map(|t| t.secs)
        .min()
        .unwrap_or(1_700_000_000);
    let mut rng = SplitMix(seed);
    let mut line = Vec::with_capacity(4096);
    for i in 0..n {
        let mut r = seeds[rng.below(seeds.len())].clone();
        if let Some(obj) = r.as_object_mut() {
            obj.insert(
                "eventID".into(),
                Value::String(format!("synthetic-{seed:x}-{i:012}")),
            );
            let millis = start * 1000 + i as i64;
            obj.insert("eventTime".into(), Value::String(rfc3339(millis)));
            let is_ip = obj
                .get("sourceIPAddress")
                .and_then(Value::as_str)
                .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok());
            if is_ip && !ips.is_empty() {
                obj.insert(
                    "sourceIPAddress".into(),
                    Value::String(ips[rng.below(ips.len())].clone()),
                );
            }
        }
        line.clear();
        serde_json::to_writer(&mut line, &r)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(n)
}

/// `2023-07-10T12:07:55.123Z` from milliseconds since the epoch.
fn rfc3339(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_round_trip_through_the_date_parser() {
        for millis in [
            0i64,
            1_688_990_875_123,
            951_782_400_000, /* 2000-02-29 */
        ] {
            let text = rfc3339(millis);
            let parsed = crate::primitives::parse_date(&text).unwrap();
            assert_eq!(parsed.secs, millis.div_euclid(1000), "{text}");
        }
        assert_eq!(rfc3339(1_688_990_875_123), "2023-07-10T12:07:55.123Z");
    }

    #[test]
    fn generates_distinct_records_with_the_seed_mix() {
        let seeds = vec![
            json!({"eventID":"a","eventTime":"2023-07-10T12:00:00Z","sourceIPAddress":"10.0.0.1","eventName":"X"}),
            json!({"eventID":"b","eventTime":"2023-07-10T12:00:01Z","sourceIPAddress":"AWS Internal","eventName":"Y"}),
        ];
        let mut out = Vec::new();
        assert_eq!(generate(&seeds, 1000, 7, &mut out).unwrap(), 1000);
        let lines: Vec<Value> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1000);
        let ids: std::collections::HashSet<_> =
            lines.iter().map(|l| l["eventID"].clone()).collect();
        assert_eq!(ids.len(), 1000);
        let internal = lines
            .iter()
            .filter(|l| l["sourceIPAddress"] == "AWS Internal")
            .count();
        assert!((350..650).contains(&internal), "{internal}");
        let mut again = Vec::new();
        generate(&seeds, 1000, 7, &mut again).unwrap();
        assert_eq!(out, again, "deterministic for a seed");
    }
}
