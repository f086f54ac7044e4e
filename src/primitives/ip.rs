//! IP addresses and CIDR ranges for `IpAddress` / `NotIpAddress` (R-OPI-1, R-OPI-2).
//!
//! Addresses use `std::net` parsing rules: dotted-quad IPv4 with no leading zeros in an octet,
//! IPv6 with case-insensitive hex and `::`, no zone id (`%eth0`), no brackets, no surrounding
//! whitespace. A policy CIDR may omit the prefix (a bare address is `/32` or `/128`); host bits
//! are masked off. Families never cross: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is IPv6.
//!
//! ```
//! use fastiam::primitives::ip::{cidr_contains, parse_cidr, parse_ip};
//! let net = parse_cidr("203.0.113.7/24").unwrap();
//! assert_eq!(net.to_string(), "203.0.113.0/24");
//! assert!(cidr_contains(&net, &parse_ip("203.0.113.200").unwrap()));
//! assert!(!cidr_contains(&net, &parse_ip("::ffff:203.0.113.200").unwrap()));
//! ```

use ipnet::IpNet;
use std::net::IpAddr;

/// Parses one IPv4 or IPv6 address with `std::net` rules (R-OPI-2); `None` on anything else,
/// including octets with leading zeros, zone ids and whitespace.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    parse_dotted_quad(s.as_bytes())
        .map(|a| IpAddr::from(a.to_be_bytes()))
        .or_else(|| s.parse().ok())
}

/// An address as the IP condition tests compare it with their ranges: an IPv4 address as
/// its 32 bits, an IPv6 one as its 128, or a text that is neither (an `Error` against
/// every range). [`parse_ip`] with the family and the bits unpacked once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Address {
    #[default]
    Invalid,
    V4(u32),
    V6(u128),
}

impl Address {
    /// The address `parse_ip(s)` reads, from `s` and its [`padded`] text (`text`, when `s`
    /// has 4 to 16 bytes): a dotted quad straight from the padded text, anything else
    /// through `std`.
    #[inline]
    pub(crate) fn parse(s: &str, text: Option<u128>) -> Address {
        if let Some(a) = text.and_then(|t| quad(t, s.len())) {
            return Address::V4(a);
        }
        Address::parse_std(s)
    }

    /// The address `std` reads from `s` (IPv6, and every text [`quad`] turns down), out of
    /// line: the callers that inline the dotted-quad read keep no registers for it.
    #[inline(never)]
    pub(crate) fn parse_std(s: &str) -> Address {
        Address::of(s.parse().ok())
    }

    /// The address of a parse's answer.
    pub(crate) fn of(ip: Option<IpAddr>) -> Address {
        match ip {
            Some(IpAddr::V4(a)) => Address::V4(u32::from(a)),
            Some(IpAddr::V6(a)) => Address::V6(u128::from(a)),
            None => Address::Invalid,
        }
    }

    /// The parse's answer this address is.
    pub(crate) fn ip(self) -> Option<IpAddr> {
        match self {
            Address::V4(a) => Some(IpAddr::from(a.to_be_bytes())),
            Address::V6(a) => Some(IpAddr::from(a.to_be_bytes())),
            Address::Invalid => None,
        }
    }
}

/// A text of 4 to 16 bytes as one little-endian `u128`, zero above its last byte: two
/// overlapping loads (its first and last eight bytes, or four below eight), no copy. With
/// the length, it determines the text (the loads cover every byte), so it is both the IP
/// memo's key and what [`quad`] reads. `None` for shorter and longer texts.
#[inline]
pub(crate) fn padded(b: &[u8]) -> Option<u128> {
    let n = b.len();
    if (8..=16).contains(&n) {
        let first = u64::from_le_bytes(b[..8].try_into().ok()?);
        let last = u64::from_le_bytes(b[n - 8..].try_into().ok()?);
        Some(u128::from(first) | u128::from(last) << (8 * (n - 8)))
    } else if (4..8).contains(&n) {
        let first = u32::from_le_bytes(b[..4].try_into().ok()?);
        let last = u32::from_le_bytes(b[n - 4..].try_into().ok()?);
        Some(u128::from(
            u64::from(first) | u64::from(last) << (8 * (n - 4)),
        ))
    } else {
        None
    }
}

/// A plain dotted quad (`203.0.113.7`) as its 32 bits, big-endian as `u32::from(Ipv4Addr)`:
/// four octets of one to three digits, no leading zero, at most 255. Anything else is
/// `None` and goes to the `std` parser, which then decides; what this accepts, `std`
/// accepts as the same address (a test compares them).
#[inline]
fn parse_dotted_quad(b: &[u8]) -> Option<u32> {
    quad(padded(b)?, b.len())
}

/// [`parse_dotted_quad`] of the `len`-byte text `text` ([`padded`]). Each octet's digits are
/// read unrolled, first, second, third, with no count kept, from the padded bytes: a byte
/// past the text is 0, neither a digit nor a dot, so no read needs a bounds test (an index
/// is at most 15; the `& 15` only shows it). A chain's `aws:SourceIp` is parsed once for
/// its IP conditions: the loop over digits with a count cost ~160 instructions an address,
/// reading through `get` ~126 (BENCHMARKS.md, tenth session).
#[inline(always)]
pub(crate) fn quad(text: u128, len: usize) -> Option<u32> {
    let b = text.to_le_bytes();
    let digit = |i: usize| u32::from(b[i & 15].wrapping_sub(b'0'));
    let mut addr = 0u32;
    let mut i = 0;
    for n in 0..4 {
        if n > 0 {
            if b[i & 15] != b'.' {
                return None;
            }
            i += 1;
        }
        let mut octet = digit(i);
        if octet > 9 {
            return None;
        }
        i += 1;
        let d = digit(i);
        if d < 10 {
            if octet == 0 {
                return None; // a leading zero
            }
            octet = octet * 10 + d;
            i += 1;
            let d = digit(i);
            if d < 10 {
                octet = octet * 10 + d;
                i += 1;
                if octet > 255 {
                    return None;
                }
            }
        }
        addr = addr << 8 | octet;
    }
    (i == len).then_some(addr)
}

/// Parses a policy CIDR (R-OPI-1, R-OPI-2): `addr/len` or a bare address (`/32`, `/128`).
///
/// The prefix length is ASCII decimal digits only: no sign, no leading zero (`/024` is
/// rejected, `/0` accepted), at most 32 (IPv4) or 128 (IPv6). Host bits are cleared
/// (`203.0.113.7/24` → `203.0.113.0/24`).
pub fn parse_cidr(s: &str) -> Option<IpNet> {
    let (addr, len) = if let Some((addr, len)) = s.split_once('/') {
        (parse_ip(addr)?, parse_prefix_len(len)?)
    } else {
        let addr = parse_ip(s)?;
        (addr, max_prefix_len(&addr))
    };
    IpNet::new(addr, len).ok().map(|net| net.trunc())
}

/// Whether `ip` lies inside `net` (R-OPI-2). An IPv4 address never matches an IPv6 network and
/// vice versa.
pub fn cidr_contains(net: &IpNet, ip: &IpAddr) -> bool {
    match (net, ip) {
        (IpNet::V4(net), IpAddr::V4(ip)) => net.contains(ip),
        (IpNet::V6(net), IpAddr::V6(ip)) => net.contains(ip),
        _ => false,
    }
}

/// `0` or a decimal number without leading zeros, at most three digits (range-checked later by
/// `IpNet::new`).
fn parse_prefix_len(s: &str) -> Option<u8> {
    let well_formed = matches!(s.len(), 1..=3)
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if !well_formed {
        return None;
    }
    s.parse().ok()
}

fn max_prefix_len(addr: &IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// The dotted-quad fast path accepts nothing `std` rejects, reads what it accepts as
    /// `std` does, and accepts every IPv4 address `std` does; random strings over digits
    /// and dots (and a few others) both ways.
    #[test]
    fn dotted_quads_read_as_std_reads_them() {
        let mut rng = crate::test_rng::XorShift(0x1d_2e_3f);
        let alphabet = b"0123456789...:a ";
        let mut accepted = 0;
        for _ in 0..200_000 {
            let text: String = if rng.below(2) == 0 {
                let len = 1 + rng.below(16);
                (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len())] as char)
                    .collect()
            } else {
                // Four groups of one to four digits: leading zeros, values past 255.
                let group = |rng: &mut crate::test_rng::XorShift| {
                    let digits = 1 + rng.below(4);
                    (0..digits)
                        .map(|_| (b'0' + rng.below(10) as u8) as char)
                        .collect::<String>()
                };
                (0..4)
                    .map(|_| group(&mut rng))
                    .collect::<Vec<_>>()
                    .join(".")
            };
            let fast = parse_dotted_quad(text.as_bytes());
            if let Some(octets) = fast {
                accepted += 1;
                assert_eq!(
                    text.parse::<Ipv4Addr>().ok(),
                    Some(Ipv4Addr::from(octets)),
                    "{text}"
                );
            }
            // And it takes every quad `std` takes, so that none goes the slow way.
            if text.parse::<Ipv4Addr>().is_ok() {
                assert!(fast.is_some(), "{text}");
            }
            assert_eq!(parse_ip(&text), text.parse().ok(), "{text}");
        }
        assert!(
            accepted > 5_000,
            "the generator makes dotted quads ({accepted})"
        );
    }

    #[test]
    fn parse_ip_table() {
        let cases: &[(&str, bool)] = &[
            ("203.0.113.7", true),
            ("0.0.0.0", true),
            ("255.255.255.255", true),
            ("2001:DB8:1234:5678::1", true),
            ("2001:db8::", true),
            ("::", true),
            ("::1", true),
            ("::ffff:1.2.3.4", true),
            ("203.0.113.07", false),
            ("010.0.0.1", false),
            ("00.0.0.1", false),
            ("::ffff:1.2.3.04", false),
            ("256.0.0.1", false),
            ("1.2.3", false),
            ("1.2.3.4.5", false),
            ("0x7f.0.0.1", false),
            ("2130706433", false),
            ("fe80::1%eth0", false),
            ("fe80::1%1", false),
            ("[::1]", false),
            (" 1.2.3.4", false),
            ("1.2.3.4 ", false),
            ("1.2.3.4\n", false),
            ("2001:db8:::1", false),
            ("2001:db8::12345", false),
            ("", false),
            ("1.2.3.4/32", false),
        ];
        for (input, ok) in cases {
            assert_eq!(parse_ip(input).is_some(), *ok, "parse_ip({input:?})");
        }
        assert!(matches!(parse_ip("::ffff:1.2.3.4"), Some(IpAddr::V6(_))));
    }

    #[test]
    fn parse_cidr_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("203.0.113.0/24", Some("203.0.113.0/24")),
            ("203.0.113.7/24", Some("203.0.113.0/24")),
            ("203.0.113.7", Some("203.0.113.7/32")),
            ("203.0.113.7/32", Some("203.0.113.7/32")),
            ("203.0.113.7/0", Some("0.0.0.0/0")),
            ("2001:DB8:1234:5678::/64", Some("2001:db8:1234:5678::/64")),
            (
                "2001:db8:1234:5678:9::1/64",
                Some("2001:db8:1234:5678::/64"),
            ),
            ("2001:db8::1", Some("2001:db8::1/128")),
            ("::/0", Some("::/0")),
            ("::ffff:1.2.3.4/120", Some("::ffff:1.2.3.0/120")),
            ("203.0.113.0/33", None),
            ("2001:db8::/129", None),
            ("203.0.113.0/024", None),
            ("203.0.113.0/00", None),
            ("203.0.113.0/+24", None),
            ("203.0.113.0/-1", None),
            ("203.0.113.0/", None),
            ("203.0.113.0/ 24", None),
            ("203.0.113.0/24 ", None),
            ("203.0.113.0/1000", None),
            ("203.0.113.0/24/1", None),
            ("/24", None),
            ("203.0.113.07/24", None),
            ("fe80::%eth0/64", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse_cidr(input).map(|net| net.to_string());
            assert_eq!(got.as_deref(), *want, "parse_cidr({input:?})");
        }
    }

    #[test]
    fn contains_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("203.0.113.0/24", "203.0.113.0", true),
            ("203.0.113.0/24", "203.0.113.255", true),
            ("203.0.113.0/24", "203.0.114.0", false),
            ("203.0.113.7", "203.0.113.7", true),
            ("203.0.113.7", "203.0.113.8", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("0.0.0.0/0", "::1", false),
            ("::/0", "8.8.8.8", false),
            ("::/0", "::ffff:8.8.8.8", true),
            ("1.2.3.0/24", "::ffff:1.2.3.4", false),
            ("::ffff:1.2.3.0/120", "1.2.3.4", false),
            (
                "2001:DB8:1234:5678::/64",
                "2001:db8:1234:5678:ffff::1",
                true,
            ),
            ("2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", false),
        ];
        for (cidr, ip, want) in cases {
            let net = parse_cidr(cidr).unwrap_or_else(|| panic!("{cidr:?}"));
            let addr = parse_ip(ip).unwrap_or_else(|| panic!("{ip:?}"));
            assert_eq!(cidr_contains(&net, &addr), *want, "{cidr} contains {ip}");
        }
    }

    use crate::test_rng::XorShift;

    fn mask(prefix: u32) -> u32 {
        u32::MAX.checked_shl(32 - prefix).unwrap_or(0)
    }

    #[test]
    fn v4_agrees_with_manual_mask() {
        let mut rng = XorShift(0xC0FF_EE00_1234_ABCD);
        for _ in 0..20_000 {
            let r = rng.next();
            let net_addr = (r >> 32) as u32;
            let prefix = (r % 33) as u32;
            // Half the probes share the network bits, so both outcomes are common.
            let probe = match rng.next() % 2 {
                0 => rng.next() as u32,
                _ => (net_addr & mask(prefix)) | (rng.next() as u32 & !mask(prefix)),
            };
            let text = format!("{}/{prefix}", Ipv4Addr::from(net_addr));
            let net = parse_cidr(&text).unwrap_or_else(|| panic!("{text}"));
            let want_net = format!("{}/{prefix}", Ipv4Addr::from(net_addr & mask(prefix)));
            assert_eq!(net.to_string(), want_net, "network of {text}");
            let want = net_addr & mask(prefix) == probe & mask(prefix);
            let ip = IpAddr::V4(Ipv4Addr::from(probe));
            assert_eq!(cidr_contains(&net, &ip), want, "{text} contains {ip}");
        }
    }
}
