//! The last date and address parsed from context values, remembered per scratch
//! ([`ParseMemo`]): the typed tests' parse step, apart from the tests that use it.
//!
//! A chain's `aws:CurrentTime` and `aws:SourceIp` are compared by several conditions
//! (the standard workload's `DateGreaterThan` on every hop, `IpAddress` and
//! `NotIpAddress` on the same address), and each would parse them again. A hit compares
//! the text with the one remembered in a few words and returns the parse kept with it;
//! a miss parses out of line and remembers.
//!
//! ```text
//! date.parse("2026-05-01T12:00:00Z", parse_date)   miss: parsed, remembered
//! date.parse("2026-05-01T12:00:00Z", parse_date)   hit: three word compares
//! ip.address("10.200.0.9")                          miss: the dotted quad read from its padded text
//! ```

use std::net::IpAddr;

use crate::primitives::ip::{padded, quad, Address};
use crate::primitives::Instant;

use super::super::residual::bytes::same;

/// The last date and address parsed from context values, remembered per scratch: a chain's
/// `aws:CurrentTime` and `aws:SourceIp` are compared by several conditions, and each would
/// parse them again.
#[derive(Clone, Debug, Default)]
pub(in crate::eval) struct ParseMemo {
    pub(in crate::eval) date: Memo<Instant>,
    pub(in crate::eval) ip: IpMemo,
}

/// The last address parsed. A text of 4 to 16 bytes (every dotted quad, short IPv6) is
/// remembered as its length and its [`padded`] text — which determine it, so that a hit is
/// exact: three compares — and its [`Address`], the bits the tests compare; a longer or
/// shorter one in a [`Memo`] of its own. The padded text is also what the dotted-quad read
/// ([`quad`]) takes, so a miss loads the text once for both.
#[derive(Clone, Debug)]
pub(in crate::eval) struct IpMemo {
    /// Length of the text remembered, within 4..=16; `usize::MAX` when none (no text is
    /// that long).
    len: usize,
    text: u128,
    address: Address,
    other: Memo<Address>,
}

impl Default for IpMemo {
    fn default() -> Self {
        IpMemo {
            len: usize::MAX,
            text: 0,
            address: Address::Invalid,
            other: Memo::default(),
        }
    }
}

impl IpMemo {
    /// `Address::parse(v)`, from memory when `v` is the text parsed last.
    #[inline(always)]
    pub(in crate::eval) fn address(&mut self, v: &str) -> Address {
        match self.remembered(v) {
            Some(address) => address,
            None => self.parse_new_out_of_line(v),
        }
    }

    #[inline(never)]
    fn parse_new_out_of_line(&mut self, v: &str) -> Address {
        self.parse_new(v)
    }

    /// The address of `v` when `v` is the text of 4 to 16 bytes parsed last.
    #[inline(always)]
    pub(in crate::eval) fn remembered(&self, v: &str) -> Option<Address> {
        // `self.len` is within 4..=16 or `usize::MAX`: equal lengths make `padded` `Some`.
        (v.len() == self.len && padded(v.as_bytes()) == Some(self.text)).then_some(self.address)
    }

    /// `Address::parse(v)` for a `v` not remembered, remembered from now (inlined into
    /// `ValueTests::ip_parsed`, itself out of line: no second call a miss). A dotted quad
    /// is read here, from the padded text; anything else goes to `std`, out of line.
    #[inline(always)]
    pub(in crate::eval) fn parse_new(&mut self, v: &str) -> Address {
        let b = v.as_bytes();
        let Some(text) = padded(b) else {
            return self.parse_other(v);
        };
        let address = match quad(text, b.len()) {
            Some(a) => Address::V4(a),
            None => Address::parse_std(v),
        };
        (self.len, self.text, self.address) = (b.len(), text, address);
        address
    }

    /// A text shorter than 4 bytes or longer than 16 (long IPv6), through its own memo.
    #[inline(never)]
    fn parse_other(&mut self, v: &str) -> Address {
        (self.other)
            .parse(v, |v| Some(Address::parse(v, None)))
            .unwrap_or_default()
    }

    /// `primitives::parse_ip(v)`, through the memo (the general comparison's form).
    pub(in crate::eval) fn parse(&mut self, v: &str) -> Option<IpAddr> {
        self.address(v).ip()
    }
}

/// One remembered parse; see [`ParseMemo`].
#[derive(Clone, Debug)]
pub(in crate::eval) struct Memo<T> {
    text: [u8; 48],
    /// Length of `text`; 0 when empty (an empty string is never remembered).
    len: usize,
    value: Option<T>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            text: [0; 48],
            len: 0,
            value: None,
        }
    }
}

impl<T: Copy> Memo<T> {
    /// `parse(v)`, from memory when `v` is the text parsed last (the common case, inlined;
    /// the parse out of line).
    #[inline(always)]
    pub(in crate::eval) fn parse(
        &mut self,
        v: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let b = v.as_bytes();
        if b.len() == self.len && self.holds(b) {
            return self.value;
        }
        self.miss(v, parse)
    }

    /// Whether `b`, as long as the text remembered, is that text. A text of 16 to 24 bytes
    /// (an ISO 8601 time, `2026-12-07T14:00:00Z`, has 20) is three overlapping words, compared
    /// at once with no loop; others go through `same`. A date memo hit cost ~33
    /// instructions through `same` alone (BENCHMARKS.md, eleventh session, `tests3`).
    #[inline(always)]
    fn holds(&self, b: &[u8]) -> bool {
        let n = b.len();
        if (16..=24).contains(&n) {
            let word = |t: &[u8], at: usize| {
                u64::from_le_bytes(t[at..at + 8].try_into().expect("8 bytes"))
            };
            let t = &self.text[..n];
            (word(b, 0) ^ word(t, 0))
                | (word(b, 8) ^ word(t, 8))
                | (word(b, n - 8) ^ word(t, n - 8))
                == 0
        } else {
            self.text.get(..n).is_some_and(|t| same(t, b))
        }
    }

    #[inline(never)]
    fn miss(&mut self, v: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let b = v.as_bytes();
        let value = parse(v);
        if (1..=self.text.len()).contains(&b.len()) {
            self.text[..b.len()].copy_from_slice(b);
            self.len = b.len();
            self.value = value;
        }
        value
    }
}
