//! Buffers kept between requests, for callers that build one [`Request`](super::Request)
//! per input and want to stop allocating once they have seen a few.
//!
//! The log replay (`replay::record`) rebuilds a request for every CloudTrail record. It
//! overwrites the strings of the previous request in place and parks what the new one
//! does not use (a second hop, context entries, optional fields now absent) in
//! [`Spares`], where the next request takes them back. The lists only grow to the most
//! that one request has needed.
//!
//! For a context: [`Spares::recycle`] empties it and keeps its strings, then
//! [`Spares::set_single`] refills it with them, key by key, in place of
//! [`Context::set_single`], which allocates a key and a value every time.

use super::chain::Hop;
use super::context::{Context, ContextValue};

/// Buffers not used by the current request, kept for the next.
#[derive(Debug, Default)]
pub(crate) struct Spares {
    pub(crate) hops: Vec<Hop>,
    pub(crate) strings: Vec<String>,
    pub(crate) lists: Vec<Vec<String>>,
}

impl Spares {
    /// A spare string (or a new one) holding `value`.
    pub(crate) fn string(&mut self, value: &str) -> String {
        let mut buf = self.strings.pop().unwrap_or_default();
        set_text(&mut buf, value);
        buf
    }

    /// Keeps a list and its strings.
    pub(crate) fn keep_list(&mut self, mut list: Vec<String>) {
        self.strings.append(&mut list);
        self.lists.push(list);
    }

    /// Sets an optional text field, reusing its buffer or a spare one.
    pub(crate) fn set_optional(&mut self, field: &mut Option<String>, value: Option<&str>) {
        match (field.as_mut(), value) {
            (Some(buf), Some(v)) => set_text(buf, v),
            (None, Some(v)) => *field = Some(self.string(v)),
            (Some(_), None) => self.strings.extend(field.take()),
            (None, None) => {}
        }
    }

    /// A spare hop, or a new one with empty buffers; its fields hold whatever the last
    /// request left in them.
    pub(crate) fn hop(&mut self) -> Hop {
        self.hops.pop().unwrap_or_else(empty_hop)
    }

    /// Empties `ctx`, keeping the strings and lists of its entries (and the context's own
    /// list).
    pub(crate) fn recycle(&mut self, ctx: &mut Context) {
        let mut entries = ctx.take_entries();
        for (key, value) in entries.drain(..) {
            self.strings.push(key);
            match value {
                ContextValue::Single(buf) => self.strings.push(buf),
                ContextValue::Multi(list) => self.keep_list(list),
            }
        }
        *ctx = Context::from_canonical_entries(entries);
    }

    /// [`Context::set_single`] with spare buffers: `canonical` must be canonical (R-CTX-2).
    /// A key set twice drops the first value's buffers; a registered multi-valued key
    /// (only ever from `--context`) allocates its list. Both are rare.
    pub(crate) fn set_single(&mut self, ctx: &mut Context, canonical: &str, value: &str) {
        let key = self.string(canonical);
        let value = self.string(value);
        ctx.set(key, ContextValue::Single(value));
    }
}

/// Overwrites `buf` with `value`, keeping its allocation.
pub(crate) fn set_text(buf: &mut String, value: &str) {
    buf.clear();
    buf.push_str(value);
}

/// A hop with empty buffers.
pub(crate) fn empty_hop() -> Hop {
    Hop {
        via: None,
        action: String::new(),
        resource: String::new(),
        resource_account: None,
        resource_policy: None,
        resource_policy_required: false,
        requires_no_permission: false,
        context: Context::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_context_is_rebuilt_equal_to_a_fresh_one() {
        let mut spares = Spares::default();
        let mut ctx = Context::new();
        for round in 0..3 {
            spares.recycle(&mut ctx);
            let mut fresh = Context::new();
            let keys = [
                "aws:useragent",
                "aws:sourceip",
                "aws:calledvia",
                "aws:epochtime",
            ];
            for (i, key) in keys.iter().enumerate().skip(round) {
                let value = format!("v{round}{i}");
                spares.set_single(&mut ctx, key, &value);
                fresh.set_single(key, &value);
            }
            assert_eq!(ctx, fresh, "round {round}");
        }
    }
}
