//! Arbitrary bytes into the policy parser, every kind and both modes: an error or a
//! policy, never a panic; a policy that parses strictly also parses leniently.
#![no_main]

use fastiam::policy::{parse_policy, Mode, ParseOptions, PolicyKind};
use libfuzzer_sys::fuzz_target;

const KINDS: [PolicyKind; 7] = [
    PolicyKind::Identity,
    PolicyKind::PermissionsBoundary,
    PolicyKind::Session,
    PolicyKind::ResourceBased,
    PolicyKind::Scp,
    PolicyKind::Rcp,
    PolicyKind::VpcEndpoint,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in KINDS {
        let strict = parse_policy(text, "fuzz", &ParseOptions::new(kind));
        let lenient = parse_policy(text, "fuzz", &ParseOptions::new(kind).with_mode(Mode::Lenient));
        if let Err(e) = &strict {
            // Every error names its source and a place.
            assert!(e.to_string().starts_with("fuzz: at "));
        }
        if strict.is_ok() {
            assert!(lenient.is_ok(), "lenient mode must accept what strict mode accepts");
        }
    }
});
