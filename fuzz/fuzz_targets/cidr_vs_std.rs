//! CIDR parsing and containment (R-OPI-1, R-OPI-2) against a computation from `std::net`
//! addresses and masks; address parsing against `std`'s on short arbitrary strings; and the
//! text forms never panic.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fastiam::primitives::{cidr_contains, parse_cidr, parse_ip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 34 {
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = parse_cidr(s);
            // The dotted-quad fast path must read exactly what `std` reads.
            assert_eq!(parse_ip(s), s.parse::<IpAddr>().ok(), "{s:?}");
        }
        return;
    }
    let v6 = data[0] & 1 == 1;
    let prefix = data[1];
    let (net, ip): (IpAddr, IpAddr) = if v6 {
        let a = Ipv6Addr::from(<[u8; 16]>::try_from(&data[2..18]).unwrap());
        let b = Ipv6Addr::from(<[u8; 16]>::try_from(&data[18..34]).unwrap());
        (a.into(), b.into())
    } else {
        let a = Ipv4Addr::from(<[u8; 4]>::try_from(&data[2..6]).unwrap());
        let b = Ipv4Addr::from(<[u8; 4]>::try_from(&data[6..10]).unwrap());
        (a.into(), b.into())
    };
    let text = format!("{net}/{prefix}");
    let parsed = parse_cidr(&text);
    let max = if v6 { 128 } else { 32 };
    assert_eq!(parsed.is_some(), prefix <= max, "{text}");
    let Some(cidr) = parsed else {
        return;
    };
    let want = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    };
    assert_eq!(cidr_contains(&cidr, &ip), want, "{text} contains {ip}");
    assert_eq!(parse_ip(&ip.to_string()), Some(ip));
});
