//! A [`Request`] rebuilt through a [`RequestBuilder`] from its strings, as a C caller
//! gives them to `fastiam_builder_build`: shared by `examples/c_workload.rs` and
//! `examples/profile_eval.rs` (included with `#[path]`).

use fastiam::request::compact::Resolver;
use fastiam::request::{CompactRequest, ContextValue, Request, RequestBuilder};

/// Builds `r` from its strings as a C caller gives them (the principal's ARN parsed, keys
/// canonicalised, hop defaults derived), resolved against `resolver` when given.
pub fn build_compact<'b>(
    b: &'b mut RequestBuilder,
    r: &Request,
    resolver: Option<&dyn Resolver>,
) -> &'b CompactRequest {
    b.clear();
    b.dialect(r.dialect);
    b.principal(&r.principal.arn).expect("a principal");
    let value = |b: &mut RequestBuilder, hop: bool, key: &str, v: &ContextValue| {
        match (hop, v) {
            (false, ContextValue::Single(v)) => b.context(key, v),
            (false, ContextValue::Multi(vs)) => b.context_list(key, vs),
            (true, ContextValue::Single(v)) => b.hop_context(key, v),
            (true, ContextValue::Multi(vs)) => b.hop_context_list(key, vs),
        };
    };
    for (key, v) in r.context.iter() {
        value(b, false, key, v);
    }
    for h in &r.hops {
        match &h.via {
            Some(via) => b.forwarded_hop(via, &h.action, &h.resource),
            None => b.hop(&h.action, &h.resource),
        };
        b.resource_policy(h.resource_policy.map(|p| p as u32));
        for (key, v) in h.context.iter() {
            value(b, true, key, v);
        }
    }
    match resolver {
        Some(resolver) => b.finish_for(resolver),
        None => b.finish(),
    }
    .expect("a valid request")
}
