//! Exact decimal numbers for the `Numeric*` / Huawei `Number*` operators (R-OPN-1, R-OPN-2).
//!
//! Both policy and context values use the grammar `^[+-]?[0-9]+(\.[0-9]+)?$` (ASCII digits, no
//! whitespace, no exponent, no hex, no `NaN`/`inf`). A [`Decimal`] borrows its digits from the
//! input and compares exactly at any length without allocating, so `10`, `10.0`, `+10` and `010`
//! are equal and a 100-digit value never loses precision.
//!
//! ```
//! use fastiam::primitives::number::parse_decimal;
//! let ten = parse_decimal("10").unwrap();
//! assert_eq!(ten, parse_decimal("+010.000").unwrap());
//! assert!(parse_decimal("7").unwrap() <= ten);
//! assert!(parse_decimal("1e3").is_none());
//! ```

use std::cmp::Ordering;

/// A parsed, normalised decimal borrowing its digits from the input (R-OPN-2).
///
/// Invariants (established by [`parse_decimal`], the only constructor): `int` has no leading
/// zeros, `frac` has no trailing zeros (either may be empty), both are ASCII digits, and zero is
/// never negative. Equality is therefore structural and equals numeric equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> Decimal<'a> {
    /// Whether the value is below zero (`-0` is not).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the value is zero (`0`, `-0`, `000.000`, ...).
    pub fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    /// Integer digits without leading zeros (empty for values below one).
    pub fn int_digits(&self) -> &'a str {
        self.int
    }

    /// Fraction digits without trailing zeros (empty for integers).
    pub fn frac_digits(&self) -> &'a str {
        self.frac
    }
}

/// Parses `s` with the grammar `^[+-]?[0-9]+(\.[0-9]+)?$` (R-OPN-2); `None` on anything else.
pub fn parse_decimal(s: &str) -> Option<Decimal<'_>> {
    let (negative, unsigned) = split_sign(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    if !is_digits(int) || !frac.is_none_or(is_digits) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.unwrap_or("").trim_end_matches('0');
    let zero = int.is_empty() && frac.is_empty();
    Some(Decimal {
        negative: negative && !zero,
        int,
        frac,
    })
}

/// Splits an optional leading `+`/`-`; returns (is negative, rest).
fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else {
        (false, s.strip_prefix('+').unwrap_or(s))
    }
}

/// Non-empty and ASCII digits only.
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Compares absolute values (R-OPN-2): integer length, integer digits, then fraction digits.
/// Lexicographic order on the fraction is numeric order because trailing zeros are stripped.
fn cmp_magnitude(a: &Decimal<'_>, b: &Decimal<'_>) -> Ordering {
    a.int
        .len()
        .cmp(&b.int.len())
        .then_with(|| a.int.cmp(b.int))
        .then_with(|| a.frac.cmp(b.frac))
}

impl Ord for Decimal<'_> {
    /// Numeric order (R-OPN-1 `NumericLessThan` etc.).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, false) => cmp_magnitude(self, other),
            (true, true) => cmp_magnitude(other, self),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal<'_> {
        parse_decimal(s).unwrap_or_else(|| panic!("{s:?} should parse"))
    }

    #[test]
    fn grammar_table() {
        let cases: &[(&str, bool)] = &[
            ("0", true),
            ("10", true),
            ("+10", true),
            ("-10", true),
            ("010", true),
            ("10.0", true),
            ("0.5", true),
            ("-0.000", true),
            ("", false),
            ("+", false),
            ("-", false),
            (".5", false),
            ("5.", false),
            ("1.2.3", false),
            ("1e3", false),
            ("1E3", false),
            (" 1", false),
            ("1 ", false),
            ("+-1", false),
            ("--1", false),
            ("0x10", false),
            ("NaN", false),
            ("inf", false),
            ("1_000", false),
            ("\u{0661}", false), // Arabic-Indic digit one
            ("\u{FF11}", false), // fullwidth digit one
        ];
        for (input, ok) in cases {
            assert_eq!(
                parse_decimal(input).is_some(),
                *ok,
                "parse_decimal({input:?})"
            );
        }
    }

    #[test]
    fn normalisation_table() {
        let cases: &[(&str, bool, &str, &str)] = &[
            ("010.500", false, "10", "5"),
            ("-0", false, "", ""),
            ("-0.000", false, "", ""),
            ("+0007", false, "7", ""),
            ("-0.25", true, "", "25"),
        ];
        for (input, negative, int, frac) in cases {
            let d = dec(input);
            assert_eq!(
                (d.is_negative(), d.int_digits(), d.frac_digits()),
                (*negative, *int, *frac),
                "{input:?}"
            );
        }
        assert!(dec("-0.0").is_zero());
        assert!(!dec("0.01").is_zero());
    }

    #[test]
    fn order_table() {
        let big = "1".repeat(100);
        let big_plus = format!("{}2", "1".repeat(99));
        let big_frac = format!("0.{}1", "0".repeat(98));
        let big_frac2 = format!("0.{}2", "0".repeat(98));
        let neg_big = format!("-{big}");
        let cases: &[(&str, &str, Ordering)] = &[
            ("10", "10.0", Ordering::Equal),
            ("10", "+10", Ordering::Equal),
            ("10", "010", Ordering::Equal),
            ("-0", "0", Ordering::Equal),
            ("0", "0.000", Ordering::Equal),
            ("-0.0", "+0", Ordering::Equal),
            ("-1", "-0.5", Ordering::Less),
            ("-0.5", "0", Ordering::Less),
            ("0", "0.5", Ordering::Less),
            ("0.5", "1", Ordering::Less),
            ("0.5", "0.51", Ordering::Less),
            ("0.6", "0.51", Ordering::Greater),
            ("-0.6", "-0.51", Ordering::Less),
            ("9", "10", Ordering::Less),
            ("-9", "-10", Ordering::Greater),
            ("7", "10", Ordering::Less),
            ("11", "10", Ordering::Greater),
            (&big, &big_plus, Ordering::Less),
            (&big, &big, Ordering::Equal),
            (&neg_big, "-1", Ordering::Less),
            (&big_frac, &big_frac2, Ordering::Less),
            (&big_frac, "0", Ordering::Greater),
        ];
        for (a, b, want) in cases {
            let (da, db) = (dec(a), dec(b));
            assert_eq!(da.cmp(&db), *want, "{a} vs {b}");
            assert_eq!(db.cmp(&da), want.reverse(), "{b} vs {a}");
            assert_eq!(da == db, *want == Ordering::Equal, "{a} == {b}");
            assert_eq!(da.partial_cmp(&db), Some(*want), "{a} partial {b}");
        }
    }

    use crate::test_rng::XorShift;

    /// A random decimal text with value `m / 4` (exact in f64), in varied spellings.
    fn random_quarter(rng: &mut XorShift) -> (String, f64) {
        let r = rng.next();
        let quarters = (r % 4001) as i64 - 2000;
        let value = quarters as f64 / 4.0;
        let magnitude = quarters.unsigned_abs();
        let int = magnitude / 4;
        let frac = ["", "25", "5", "75"][(magnitude % 4) as usize];
        let sign = match (quarters < 0, (r >> 20) % 3) {
            (true, _) => "-",
            (false, 0) => "+",
            (false, 1) if magnitude == 0 => "-",
            _ => "",
        };
        let zeros = "0".repeat(((r >> 24) % 3) as usize);
        let text = match (frac.is_empty(), (r >> 28) % 2) {
            (true, 0) => format!("{sign}{zeros}{int}"),
            (true, _) => format!("{sign}{zeros}{int}.0{zeros}"),
            (false, _) => format!("{sign}{zeros}{int}.{frac}{zeros}"),
        };
        (text, value)
    }

    #[test]
    fn agrees_with_f64_on_exact_values() {
        let mut rng = XorShift(0x0BAD_5EED_1234_5678);
        for _ in 0..20_000 {
            let (a, fa) = random_quarter(&mut rng);
            let (b, fb) = random_quarter(&mut rng);
            let want = fa.partial_cmp(&fb);
            assert_eq!(dec(&a).partial_cmp(&dec(&b)), want, "{a} vs {b}");
        }
    }
}
