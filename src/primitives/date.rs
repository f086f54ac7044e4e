//! Date literals for the `Date*` operators (R-OPD-1, R-OPD-2, R-OPD-3).
//!
//! Policy and context values are parsed into an [`Instant`] (seconds and nanoseconds since
//! 1970-01-01T00:00:00Z) and compared with nanosecond precision. Accepted forms (R-OPD-2):
//!
//! 1. epoch seconds `^-?[0-9]+$`; an all-digit string is *always* epoch seconds, so `2024` is
//!    the instant 2024 s after the epoch, not the year 2024 (the W3C `YYYY` profile is
//!    therefore unreachable);
//! 2. the W3C ISO 8601 profiles `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mmTZD`,
//!    `YYYY-MM-DDThh:mm:ssTZD`, `YYYY-MM-DDThh:mm:ss.sTZD` (1–9 fraction digits), `TZD` = `Z` or
//!    `±hh:mm`. Date-only forms mean 00:00:00Z of that day (first day of the month).
//!
//! `T` and `Z` are uppercase only; no whitespace; a time without `TZD` is rejected. Years are
//! `0000`–`9999` (proleptic Gregorian), hours `00`–`23`, seconds `00`–`59` (a leap second `60`
//! is rejected), offsets `00:00`–`23:59`. No `chrono`: days are counted with Howard Hinnant's
//! `days_from_civil`.
//!
//! ```
//! use fastiam::primitives::date::{parse_date, Instant};
//! let t = parse_date("2026-11-22T10:30:00Z").unwrap();
//! assert_eq!(t, Instant { secs: 1_795_343_400, nanos: 0 });
//! assert_eq!(parse_date("2026-11-22T11:30:00+01:00"), Some(t));
//! assert_eq!(parse_date("2024"), Some(Instant { secs: 2024, nanos: 0 }));
//! ```

/// A point in time: `secs` since 1970-01-01T00:00:00Z plus `nanos` (< 1e9) (R-OPD-3).
///
/// The derived order (seconds, then nanoseconds) is chronological order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Whole seconds since the Unix epoch (negative before 1970).
    pub secs: i64,
    /// Nanoseconds after `secs`, always below 1 000 000 000.
    pub nanos: u32,
}

/// Parses a date literal (R-OPD-2): epoch seconds or a W3C ISO 8601 profile; `None` otherwise
/// (including epoch values outside `i64`).
pub fn parse_date(s: &str) -> Option<Instant> {
    if let Some(f) = fixed_utc_fields(s.as_bytes()) {
        return valid_fields(&f).then(|| to_instant(&f)).flatten();
    }
    if is_epoch_form(s) {
        parse_epoch(s)
    } else {
        parse_w3c(s)
    }
}

/// `^-?[0-9]+$` (R-OPD-2 form 1).
fn is_epoch_form(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Epoch seconds with checked arithmetic; negative values accumulate downwards so `i64::MIN`
/// is representable.
fn parse_epoch(s: &str) -> Option<Instant> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut secs: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b.checked_sub(b'0')?);
        secs = secs.checked_mul(10)?;
        secs = if negative {
            secs.checked_sub(d)?
        } else {
            secs.checked_add(d)?
        };
    }
    Some(Instant { secs, nanos: 0 })
}

/// A calendar date and wall-clock time with its UTC offset, as written.
#[derive(Clone, Copy, Default)]
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC in seconds (`+01:00` → 3600).
    offset_secs: i64,
}

/// The fields of the one form nearly every context time takes, `YYYY-MM-DDThh:mm:ssZ`
/// (`aws:CurrentTime`, CloudTrail's `eventTime`), read at fixed positions; `None` for any
/// other form, which [`parse_w3c`] then reads. Ranges are left to [`valid_fields`]. A third
/// of the cost of the general reader on a hop's time condition.
fn fixed_utc_fields(b: &[u8]) -> Option<Fields> {
    let b: &[u8; 20] = b.try_into().ok()?;
    let punctuation = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ];
    if !punctuation.iter().all(|&(i, c)| b[i] == c) {
        return None;
    }
    let number = |at: usize, len: usize| -> Option<u32> {
        b[at..at + len].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    Some(Fields {
        year: number(0, 4)?,
        month: number(5, 2)?,
        day: number(8, 2)?,
        hour: number(11, 2)?,
        minute: number(14, 2)?,
        second: number(17, 2)?,
        nanos: 0,
        offset_secs: 0,
    })
}

/// The W3C profiles (R-OPD-2 form 2).
fn parse_w3c(s: &str) -> Option<Instant> {
    let mut c = Cursor {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let mut f = Fields {
        day: 1,
        ..Fields::default()
    };
    f.year = c.digits(4)?;
    c.require(b'-')?;
    f.month = c.digits(2)?;
    if c.eat(b'-') {
        f.day = c.digits(2)?;
        if c.eat(b'T') {
            parse_time(&mut c, &mut f)?;
        }
    }
    if !c.at_end() || !valid_fields(&f) {
        return None;
    }
    to_instant(&f)
}

/// `hh:mm[:ss[.s{1,9}]]TZD` after the `T`.
fn parse_time(c: &mut Cursor<'_>, f: &mut Fields) -> Option<()> {
    f.hour = c.digits(2)?;
    c.require(b':')?;
    f.minute = c.digits(2)?;
    if c.eat(b':') {
        f.second = c.digits(2)?;
        if c.eat(b'.') {
            f.nanos = c.fraction_nanos()?;
        }
    }
    f.offset_secs = parse_tzd(c)?;
    Some(())
}

/// `Z` or `±hh:mm`, returned as seconds east of UTC (hours 0–23, minutes 0–59).
fn parse_tzd(c: &mut Cursor<'_>) -> Option<i64> {
    if c.eat(b'Z') {
        return Some(0);
    }
    let sign = if c.eat(b'+') {
        1
    } else {
        c.require(b'-')?;
        -1
    };
    let hours = c.digits(2)?;
    c.require(b':')?;
    let minutes = c.digits(2)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// Range checks: month 1–12, day within the month (leap years), hour 0–23, minute and second
/// 0–59 (no leap second).
fn valid_fields(f: &Fields) -> bool {
    (1..=12).contains(&f.month)
        && (1..=days_in_month(f.year, f.month)).contains(&f.day)
        && f.hour <= 23
        && f.minute <= 59
        && f.second <= 59
}

fn is_leap_year(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`; 0 for an invalid month.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`). Month 1–12 and day 1–31 are assumed.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// `secs` since the epoch as `YYYY-MM-DDThh:mm:ssZ` (UTC), the inverse of [`parse_date`]'s
/// fixed form for years 0000–9999 (reports label times with it). Outside those years the
/// year is printed as it comes (`-0001`, `10000`), which no reader parses back.
///
/// ```
/// use fastiam::primitives::date::format_utc;
/// assert_eq!(format_utc(1_795_343_400), "2026-11-22T10:30:00Z");
/// ```
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let time = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Combines validated fields into an instant (checked arithmetic throughout).
fn to_instant(f: &Fields) -> Option<Instant> {
    let days = days_from_civil(i64::from(f.year), f.month, f.day);
    let time_of_day = i64::from(f.hour * 3600 + f.minute * 60 + f.second);
    let secs = days
        .checked_mul(86_400)?
        .checked_add(time_of_day)?
        .checked_sub(f.offset_secs)?;
    Some(Instant {
        secs,
        nanos: f.nanos,
    })
}

/// A byte cursor over ASCII syntax; never slices inside a UTF-8 character.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.bytes.get(self.pos) == Some(&b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn require(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }

    /// Exactly `n` ASCII digits as a number (`n` ≤ 9, so no overflow).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..n {
            value = value * 10 + self.digit()?;
        }
        Some(value)
    }

    fn digit(&mut self) -> Option<u32> {
        let b = *self.bytes.get(self.pos)?;
        if !b.is_ascii_digit() {
            return None;
        }
        self.pos += 1;
        Some(u32::from(b - b'0'))
    }

    /// 1–9 fraction digits scaled to nanoseconds (`.5` → 500 000 000).
    fn fraction_nanos(&mut self) -> Option<u32> {
        let mut nanos = 0;
        let mut count = 0;
        while let Some(d) = self.digit() {
            count += 1;
            if count > 9 {
                return None;
            }
            nanos = nanos * 10 + d;
        }
        if count == 0 {
            return None;
        }
        Some(nanos * 10u32.pow(9 - count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: u32) -> Option<Instant> {
        Some(Instant { secs, nanos })
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<Instant>)] = &[
            // W3C profiles
            ("2026-11-22T10:30:00Z", at(1_795_343_400, 0)),
            ("2026-11-22T10:30Z", at(1_795_343_400, 0)),
            ("2026-11-22T11:30:00+01:00", at(1_795_343_400, 0)),
            ("2026-11-22T05:00:00-05:30", at(1_795_343_400, 0)),
            ("2026-11-22T10:30:00-00:00", at(1_795_343_400, 0)),
            ("2026-11-22T10:30:00.5Z", at(1_795_343_400, 500_000_000)),
            (
                "2026-11-22T10:30:00.123456789Z",
                at(1_795_343_400, 123_456_789),
            ),
            ("2026-11-22T10:30:00.000000001+00:00", at(1_795_343_400, 1)),
            ("1970-01-01", at(0, 0)),
            ("1970-01", at(0, 0)),
            ("1969-12-31T23:59:59.5Z", at(-1, 500_000_000)),
            ("2024-02-29", at(1_709_164_800, 0)),
            ("2000-02-29", at(951_782_400, 0)),
            ("2024-01-01T10:00Z", at(1_704_103_200, 0)),
            (
                "2024-01-01T23:59:59+23:59",
                at(1_704_067_200 + 86_399 - 86_340, 0),
            ),
            ("0000-01-01", at(-62_167_219_200, 0)),
            ("9999-12-31T23:59:59Z", at(253_402_300_799, 0)),
            // epoch seconds
            ("1700000000", at(1_700_000_000, 0)),
            ("2024", at(2024, 0)),
            ("0", at(0, 0)),
            ("-5", at(-5, 0)),
            ("-0", at(0, 0)),
            ("0001700000000", at(1_700_000_000, 0)),
            ("9223372036854775807", at(i64::MAX, 0)),
            ("-9223372036854775808", at(i64::MIN, 0)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("99999999999999999999999", None),
            // rejected
            ("", None),
            ("-", None),
            ("+5", None),
            ("1.5", None),
            (" 2024-01-01", None),
            ("2024-01-01 ", None),
            ("2023-02-29", None),
            ("1900-02-29", None),
            ("2024-04-31", None),
            ("2024-00-01", None),
            ("2024-13-01", None),
            ("2024-01-00", None),
            ("2024-01-32", None),
            ("2024-1-01", None),
            ("24-01-01", None),
            ("12024-01-01", None),
            ("-2024-01-01", None),
            ("2024-01-01T", None),
            ("2024-01-01T10:00:00", None),
            ("2024-01-01T10:00", None),
            ("2024-01-01T10Z", None),
            ("2024-01-01t10:00:00Z", None),
            ("2024-01-01T10:00:00z", None),
            ("2024-01-01T24:00:00Z", None),
            ("2024-01-01T23:60:00Z", None),
            ("2024-01-01T23:59:60Z", None),
            ("2024-01-01T10:00:00.Z", None),
            ("2024-01-01T10:00:00.1234567890Z", None),
            ("2024-01-01T10:00.5Z", None),
            ("2024-01-01T10:00:00+24:00", None),
            ("2024-01-01T10:00:00+01:60", None),
            ("2024-01-01T10:00:00+0100", None),
            ("2024-01-01T10:00:00+01", None),
            ("2024-01-01T10:00:00ZZ", None),
            ("2024-01-01T10:00:00Z ", None),
            ("2024-01-01T10:00:00\u{00A0}Z", None),
            ("2024-01-01\u{00E9}", None),
            ("\u{0662}\u{0660}\u{0662}\u{0664}", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_date(input), *want, "parse_date({input:?})");
        }
    }

    #[test]
    fn order_is_chronological() {
        let ordered = [
            "-5",
            "0",
            "1970-01-01T00:00:00.000000001Z",
            "1970-01-01T00:00:01Z",
            "2024-01-01",
            "2024-01-01T09:30:00+00:00",
            "2024-01-01T10:00:00.1Z",
            "2026-11-22T10:30:00Z",
        ];
        for pair in ordered.windows(2) {
            let (a, b) = (parse_date(pair[0]), parse_date(pair[1]));
            assert!(a.is_some() && a < b, "{} < {}", pair[0], pair[1]);
        }
    }

    /// Days from 1970-01-01 counted naively, month by month.
    fn naive_days(year: u32, month: u32, day: u32) -> i64 {
        let mut days: i64 = 0;
        for y in year.min(1970)..year.max(1970) {
            let len = if is_leap_year(y) { 366 } else { 365 };
            days += if year < 1970 { -len } else { len };
        }
        for m in 1..month {
            days += i64::from(days_in_month(year, m));
        }
        days + i64::from(day) - 1
    }

    #[test]
    fn format_utc_is_the_inverse_of_parse_date() {
        // Every day of a 400-year cycle and its neighbours, at a varying time of day.
        for days in -800i64..146_097 + 800 {
            let secs = days * 86_400 + (days * 3_607).rem_euclid(86_400);
            let text = format_utc(secs);
            assert_eq!(parse_date(&text), at(secs, 0), "{text}");
        }
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn days_from_civil_agrees_with_naive_count() {
        let years = (0..=3)
            .chain(1596..=1604)
            .chain(1896..=2104)
            .chain(9996..=9999);
        for year in years {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(
                        days_from_civil(i64::from(year), month, day),
                        naive_days(year, month, day),
                        "{year:04}-{month:02}-{day:02}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_day_of_a_leap_cycle_parses() {
        let mut previous = None;
        for year in 2096..=2104 {
            for month in 1..=12 {
                for day in 1..=31 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    let parsed = parse_date(&text);
                    assert_eq!(
                        parsed.is_some(),
                        day <= days_in_month(year, month),
                        "{text}"
                    );
                    if let Some(instant) = parsed {
                        if let Some(prev) = previous {
                            assert_eq!(
                                instant,
                                Instant {
                                    secs: prev + 86_400,
                                    nanos: 0
                                }
                            );
                        }
                        previous = Some(instant.secs);
                    }
                }
            }
        }
    }

    /// The fixed-position reader of `YYYY-MM-DDThh:mm:ssZ` agrees with the general one on
    /// every 20-byte string around that form: valid, out of range, or one byte off.
    #[test]
    fn fixed_form_agrees_with_general_reader() {
        let mut texts = Vec::new();
        for (y, mo, d, h, mi, se) in [
            (2026, 5, 1, 12, 0, 0),
            (2024, 2, 29, 23, 59, 59),
            (2023, 2, 29, 0, 0, 0),
            (2026, 13, 1, 0, 0, 0),
            (2026, 0, 1, 0, 0, 0),
            (2026, 4, 31, 0, 0, 0),
            (2026, 1, 0, 0, 0, 0),
            (2026, 1, 1, 24, 0, 0),
            (2026, 1, 1, 0, 60, 0),
            (2026, 1, 1, 0, 0, 60),
            (0, 1, 1, 0, 0, 0),
            (9999, 12, 31, 23, 59, 59),
        ] {
            texts.push(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z"));
        }
        let base = texts[0].clone();
        for i in 0..base.len() {
            for c in ["0", "9", "-", ":", "T", "Z", "z", "t", " ", "+", "a"] {
                let mut t = base.clone();
                t.replace_range(i..i + 1, c);
                texts.push(t);
            }
        }
        for t in &texts {
            assert_eq!(parse_date(t), parse_w3c(t), "{t}");
        }
        assert!(fixed_utc_fields(base.as_bytes()).is_some());
    }
}
