//! [`RequestBuilder`]: builds [`CompactRequest`]s call by call, reusing every buffer.
//!
//! A builder is cleared per request and keeps its buffers: once it has seen requests of a
//! given size, building one allocates nothing (the counting-allocator test proves it). The
//! checks that need the whole request — a key given twice after canonicalisation (R-CTX-2),
//! `via` on hop 0 or missing on a later hop (R-FAS-2), no principal, no hop — are made by
//! [`RequestBuilder::finish`], which reports the first problem as a [`BuildError`].
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::{BuildError, RequestView};
//! let mut b = RequestBuilder::new();
//! b.principal("arn:aws:sts::111122223333:assumed-role/R/s").unwrap();
//! b.context_list("aws:TagKeys", ["a", "b"]);
//! b.hop("s3:GetObject", "arn:aws:s3:::b/k");
//! b.forwarded_hop("s3.amazonaws.com", "kms:Decrypt", "arn:aws:kms:us-east-1:444455556666:key/k");
//! let req = b.finish().unwrap();
//! assert_eq!(req.principal_role_arn(), Some("arn:aws:iam::111122223333:role/R"));
//! assert!(req.resource_policy_required(1)); // a KMS key (R-EVAL-5)
//! b.clear();
//! b.principal("anonymous").unwrap();
//! b.context("aws:SourceIp", "10.0.0.1");
//! b.context("AWS:sourceip", "10.0.0.2");
//! b.hop("s3:GetObject", "*");
//! assert!(matches!(b.finish(), Err(BuildError::KeyCollision { context: 0, .. })));
//! ```

use super::build_error::BuildError;
use super::hop_defaults::PendingHop;
use super::layout::Parts;
use super::setters::PARSE_SLOTS;
use super::{CompactRequest, Entry, Resolver, ACCOUNT, NAME};
use crate::policy::Dialect;
use crate::request::Principal;

/// Builds [`CompactRequest`]s (see the module docs). Reusable: [`RequestBuilder::clear`]
/// starts the next request.
#[derive(Clone, Debug)]
pub struct RequestBuilder {
    pub(super) req: CompactRequest,
    /// The request's parts as set, packed into `req`'s one buffer by `finish`.
    pub(super) parts: Parts,
    /// Principals parsed from strings, one per shape of ARN (`setters::parse_slot`), so
    /// that a builder seeing principals of alternating shapes keeps every field's buffer.
    pub(super) parsed: [Principal; PARSE_SLOTS],
    pub(super) has_principal: bool,
    /// Context entries as given: the context (0: the request's, k + 1: hop k's), the entry.
    pub(super) given: Vec<(u32, Entry)>,
    pub(super) hops: Vec<PendingHop>,
    /// The first error of a setter, reported by `finish`.
    pub(super) deferred: Option<BuildError>,
    pub(super) fold: String,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        RequestBuilder::new()
    }
}

impl RequestBuilder {
    pub fn new() -> RequestBuilder {
        RequestBuilder {
            req: CompactRequest::default(),
            parts: Parts::default(),
            parsed: std::array::from_fn(|_| {
                Principal::from_arn("anonymous").expect("`anonymous` is a principal")
            }),
            has_principal: false,
            given: Vec::with_capacity(16),
            hops: Vec::with_capacity(4),
            deferred: None,
            fold: String::with_capacity(64),
        }
    }

    /// Starts a new request (AWS dialect, no principal, no context, no hop), keeping every
    /// buffer.
    pub fn clear(&mut self) -> &mut Self {
        let r = &mut self.req;
        self.parts.clear();
        r.dialect = Dialect::Aws;
        r.called_via_services = None;
        r.preserve_source_ip = true;
        r.credentials = None;
        r.token = 0;
        r.key_token = 0;
        r.context = (0, 0);
        self.has_principal = false;
        self.given.clear();
        self.hops.clear();
        self.deferred = None;
        self
    }

    /// The policy dialect (default AWS).
    pub fn dialect(&mut self, dialect: Dialect) -> &mut Self {
        self.req.dialect = dialect;
        self
    }

    /// Finishes the request without resolving its names: the evaluator looks its keys and
    /// actions up by name as it evaluates (the lazy path, for a request evaluated once).
    pub fn finish(&mut self) -> Result<&CompactRequest, BuildError> {
        self.complete(None)
    }

    /// Finishes the request, resolving every key and action against `resolver` (an
    /// [`Evaluator`](crate::eval::Evaluator)): evaluating it with that evaluator then looks
    /// nothing up by name.
    pub fn finish_for(&mut self, resolver: &dyn Resolver) -> Result<&CompactRequest, BuildError> {
        self.complete(Some(resolver))
    }

    /// The request last finished (empty before the first `finish`).
    pub fn request(&self) -> &CompactRequest {
        &self.req
    }

    fn complete(&mut self, resolver: Option<&dyn Resolver>) -> Result<&CompactRequest, BuildError> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        if !self.has_principal {
            return Err(BuildError::NoPrincipal);
        }
        if self.hops.is_empty() {
            return Err(BuildError::NoHop);
        }
        if self.hops[0].via.is_some() {
            return Err(BuildError::ViaOnFirstHop);
        }
        self.parts.entries.clear();
        self.parts.given.clear();
        self.req.context = (0, 0);
        self.hops_with_defaults(resolver)?;
        let keys_fit = self.entries_in_order(resolver)?;
        self.req.token = resolver.map_or(0, |r| r.token());
        self.req.key_token = if keys_fit { self.req.token } else { 0 };
        let r = &self.req;
        let shape = crate::request::view::principal_shape(
            r.dialect,
            r.kind,
            r.principal[ACCOUNT].is_some(),
            r.principal[NAME].is_some(),
        );
        self.req.shape = shape as u8;
        if self.deferred.is_some() {
            // A string pushed above overflowed the text.
            return Err(self.deferred.take().unwrap_or(BuildError::TooLarge));
        }
        self.req
            .packed
            .pack(&self.parts)
            .map_err(|_| BuildError::TooLarge)?;
        Ok(&self.req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestView;

    #[test]
    fn malformed_requests_are_reported() {
        let mut b = RequestBuilder::new();
        b.hop("s3:GetObject", "*");
        assert_eq!(b.finish().err(), Some(BuildError::NoPrincipal));
        b.clear();
        assert!(matches!(
            b.principal("arn:nonsense"),
            Err(BuildError::Principal(_))
        ));
        b.principal("anonymous").unwrap();
        assert_eq!(b.finish().err(), Some(BuildError::NoHop));
        b.hop_context("k", "v");
        b.hop("s3:GetObject", "*");
        assert_eq!(
            b.finish().err(),
            Some(BuildError::BeforeFirstHop("hop_context"))
        );
        b.clear();
        b.principal("anonymous").unwrap();
        b.forwarded_hop("s3.amazonaws.com", "s3:GetObject", "*");
        assert_eq!(b.finish().err(), Some(BuildError::ViaOnFirstHop));
        b.clear();
        b.principal("anonymous").unwrap();
        b.hop("s3:GetObject", "*").hop("kms:Decrypt", "*");
        assert_eq!(b.finish().err(), Some(BuildError::MissingVia(1)));
        b.clear();
        b.principal("anonymous").unwrap();
        b.hop("s3:GetObject", "*")
            .hop_context("s3:prefix", "a")
            .hop_context_list("S3:Prefix", ["b"]);
        let e = b.finish().err().unwrap();
        assert_eq!(
            e,
            BuildError::KeyCollision {
                context: 1,
                key: "s3:prefix".into()
            }
        );
        assert!(e.to_string().contains("hop 0's context"), "{e}");
        // The same key in two contexts is no collision; an empty list is no entry.
        b.clear();
        b.principal("anonymous").unwrap();
        b.context("s3:prefix", "a")
            .context_list("aws:TagKeys", [""; 0])
            .context_list("AWS:tagkeys", ["t"])
            .hop("s3:GetObject", "*")
            .hop_context("s3:prefix", "b");
        let r = b.finish().unwrap();
        assert_eq!(
            r.context_keys(0).collect::<Vec<_>>(),
            ["aws:tagkeys", "s3:prefix"]
        );
        assert_eq!(r.context_keys(1).collect::<Vec<_>>(), ["s3:prefix"]);
    }
}
