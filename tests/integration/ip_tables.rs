//! CIDR prefix tables (compiled: sorted, merged ranges, one binary search) against the
//! reference (each CIDR tested with the shared primitive), on random overlapping and
//! adjacent CIDR sets of both families, with invalid values in lenient mode, for
//! `IpAddress` and `NotIpAddress`, addresses inside, outside and on range boundaries.

use std::net::{Ipv4Addr, Ipv6Addr};

use fastiam::request::parse_case;

use crate::util::engines;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A CIDR near a small base so that sets overlap and touch; sometimes invalid.
fn cidr(rng: &mut Rng, v6: bool) -> String {
    if rng.below(12) == 0 {
        return ["10.0.0.300/8", "::g/64", "1.2.3.4/33", "not-an-ip"][rng.below(4) as usize]
            .to_string();
    }
    if v6 {
        let addr = Ipv6Addr::from(0x2001_0db8_u128 << 96 | (rng.below(64) as u128) << 100);
        format!("{addr}/{}", 24 + rng.below(16))
    } else {
        let addr = Ipv4Addr::from(0x0a00_0000u32 | (rng.below(64) as u32) << 18);
        format!("{addr}/{}", 8 + rng.below(20))
    }
}

fn address(rng: &mut Rng, v6: bool) -> String {
    if rng.below(20) == 0 {
        return "garbage".into();
    }
    if v6 {
        Ipv6Addr::from(
            0x2001_0db8_u128 << 96 | (rng.below(1 << 10) as u128) << 94 | rng.below(3) as u128,
        )
        .to_string()
    } else {
        Ipv4Addr::from(0x0a00_0000u32 | (rng.below(1 << 14) as u32) << 14 | rng.below(3) as u32)
            .to_string()
    }
}

#[test]
fn prefix_tables_agree_with_the_reference() {
    let mut rng = Rng(0xC1D2_C1D2_C1D2_C1D2);
    let engines = engines();
    let (mut allowed, mut denied) = (0, 0);
    for i in 0..600 {
        let n = rng.below(6) as usize;
        let cidrs: Vec<String> = (0..n)
            .map(|_| {
                let v6 = rng.below(3) == 0;
                cidr(&mut rng, v6)
            })
            .collect();
        let v6 = rng.below(3) == 0;
        let ip = address(&mut rng, v6);
        let op = if i % 2 == 0 {
            "IpAddress"
        } else {
            "NotIpAddress"
        };
        let case = serde_json::json!({
            "id": format!("ip-{i}"),
            "principal": "arn:aws:iam::111122223333:user/u",
            "options": {"mode": "lenient"},
            "context": {"aws:SourceIp": ip},
            "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {"aws:SourceIp": cidrs}}}
            ]}]},
            "chain": [{"action": "s3:GetObject", "resource": "*"}]
        });
        let case = parse_case(&case.to_string(), "ip").unwrap();
        let oracle = engines[0].evaluate(&case.chain);
        if oracle.decision == fastiam::decision::Decision::Allow {
            allowed += 1;
        } else {
            denied += 1;
        }
        for engine in &engines[1..] {
            assert_eq!(
                engine.evaluate(&case.chain),
                oracle,
                "{} on {cidrs:?} with {ip}",
                engine.name()
            );
        }
    }
    assert!(
        allowed > 100 && denied > 100,
        "allowed {allowed}, denied {denied}"
    );
}
