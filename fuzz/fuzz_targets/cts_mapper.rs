//! Arbitrary JSON through the replay's record mapper, laid over a real CTS trace so that
//! most inputs reach the CTS mapper (`src/replay/cts/`): an unmappable answer or a
//! well-formed request, never a panic; a mapped trace is a Huawei request of one hop, or of
//! two whose first needs no permission, with a URN or the reason it has none; the
//! reference evaluator decides it.
#![no_main]

use fastiam::policy::{parse_policy, Dialect, ParseOptions, PolicyKind};
use fastiam::replay::json::from_serde;
use fastiam::replay::{ActionMap, MapOptions, RecordMapper};
use fastiam::request::{Chain, PolicySet};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A forwarded trace (KMS called by OBS for a user), whose fields the input overrides.
const BASE: &str = r#"{"service_type":"KMS","trace_name":"createDataKey","time":1767225613000,
 "resource_id":"0d0e","resource_name":"k","source_ip":"","code":"200","trace_rating":"normal",
 "user":{"type":"User","principal_urn":"iam::0a1b:user:alice","domain":{"id":"0a1b","name":"d"},
 "invoked_by":["service.obs"]}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut over = serde_json::from_str::<Value>(BASE).unwrap();
    if let (Some(base), Some(fields)) = (over.as_object_mut(), input.as_object()) {
        for (k, v) in fields {
            base.insert(k.clone(), v.clone());
        }
    }
    let identity = parse_policy(
        r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["kms:*:*"],"Resource":["*"]}]}"#,
        "fuzz",
        &ParseOptions::new(PolicyKind::Identity),
    )
    .unwrap();
    let mut mapper = RecordMapper::new();
    let (input, over) = (from_serde(&input), from_serde(&over));
    for record in [&input, &over, &input] {
        let is_trace = fastiam::replay::cts::trace_of(record).is_some();
        let Ok(m) = mapper.map(record, &"fuzz", ActionMap::shared(), &MapOptions::default()) else {
            continue;
        };
        let hops = &m.request.hops;
        assert_eq!(hops.len(), m.hop + 1);
        assert_eq!(m.via.is_some(), m.hop == 1);
        if is_trace {
            assert_eq!(m.request.dialect, Dialect::Huawei);
            assert!(m.hop == 0 || hops[0].requires_no_permission);
            // A URN, or none and the reason it is unknown.
            assert_eq!(hops[m.hop].resource.is_empty(), m.resource_unknown.is_some());
        }
        let chain = Chain {
            request: m.request.clone(),
            policies: PolicySet {
                identity: vec![identity.clone()],
                ..PolicySet::default()
            },
        };
        let decision = fastiam::reference::evaluate_chain(&chain);
        assert!(decision.hops.len() <= hops.len());
    }
});
