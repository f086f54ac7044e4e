//! [`RequestBuilder::fill_from`]: a compact request from a parsed [`Request`].
//!
//! For callers holding [`Request`]s (cases, replayed logs) and for the differential tests:
//! everything the request says goes through the same setters as a caller's strings, so a
//! request filled from a [`Request`] reads, accessor by accessor, as that request (the test
//! below checks every accessor of [`RequestView`](crate::request::RequestView)).
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::{parse_case, RequestView};
//! let case = parse_case(
//!     r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//!         "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}]}"#,
//!     "example",
//! )
//! .unwrap();
//! let mut b = RequestBuilder::new();
//! let req = b.fill_from(&case.chain.request).finish().unwrap();
//! assert_eq!(req.action(0), case.chain.request.action(0));
//! ```

use super::builder::RequestBuilder;
use crate::request::{ContextValue, Request, DEFAULT_CALLED_VIA_SERVICES};

impl RequestBuilder {
    /// Clears the builder and sets everything `request` says (for callers holding
    /// [`Request`]s, and for differential tests).
    pub fn fill_from(&mut self, request: &Request) -> &mut Self {
        self.clear();
        self.dialect(request.dialect);
        self.principal_from(&request.principal);
        for (key, value) in request.context.iter() {
            self.value(0, key, value);
        }
        for (k, hop) in request.hops.iter().enumerate() {
            self.push_hop(hop.via.as_deref(), &hop.action, &hop.resource);
            self.resource_account(hop.resource_account.as_deref());
            self.resource_policy(hop.resource_policy.and_then(|r| u32::try_from(r).ok()));
            self.resource_policy_required(hop.resource_policy_required);
            self.requires_no_permission(hop.requires_no_permission);
            for (key, value) in hop.context.iter() {
                self.value(k as u32 + 1, key, value);
            }
        }
        let fas = &request.options.fas;
        if fas
            .called_via_services
            .iter()
            .ne(DEFAULT_CALLED_VIA_SERVICES)
        {
            self.called_via_services(&fas.called_via_services);
        }
        self.preserve_source_ip(fas.preserve_source_ip);
        if let Some(c) = request.credentials {
            self.credentials(c);
        }
        self
    }

    pub(super) fn value(&mut self, ctx: u32, key: &str, value: &ContextValue) {
        match value {
            ContextValue::Single(v) => self.single(ctx, key, v),
            ContextValue::Multi(vs) => self.list(ctx, key, vs),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::request::compact::CompactRequest;
    use crate::request::{parse_case, RequestView, ValueRef};

    pub(in crate::request::compact) fn request(text: &str) -> Request {
        parse_case(text, "test").unwrap().chain.request
    }

    pub(in crate::request::compact) fn values(
        v: Option<ValueRef<'_>>,
    ) -> Option<(bool, Vec<&str>)> {
        Some(match v? {
            ValueRef::Single(s) => (false, vec![s]),
            ValueRef::Multi(l) => (true, (0..l.len()).map(|i| l.get(i).unwrap()).collect()),
        })
    }

    /// Every accessor of the view answers as the request's own.
    fn assert_reads_as(compact: &CompactRequest, req: &Request) {
        assert_eq!(compact.dialect(), req.dialect());
        assert_eq!(compact.principal_kind(), req.principal_kind());
        assert_eq!(compact.principal_arn(), req.principal_arn());
        assert_eq!(compact.principal_account(), req.principal_account());
        assert_eq!(compact.principal_role_arn(), req.principal_role_arn());
        assert_eq!(compact.principal_name(), req.principal_name());
        assert_eq!(
            compact.principal_parent_user_arn(),
            req.principal_parent_user_arn()
        );
        assert_eq!(compact.service_linked(), req.service_linked());
        assert_eq!(compact.management_account(), req.management_account());
        assert_eq!(compact.credentials(), req.credentials());
        assert_eq!(compact.preserve_source_ip(), req.preserve_source_ip());
        assert_eq!(compact.principal_shape(), req.principal_shape());
        assert_eq!(compact.hop_count(), req.hop_count());
        for k in 0..req.hop_count() + 1 {
            assert_eq!(compact.via(k), req.via(k));
            assert_eq!(compact.action(k), req.action(k));
            assert_eq!(compact.resource(k), req.resource(k));
            assert_eq!(compact.resource_account(k), req.resource_account(k));
            assert_eq!(
                compact.hop_appends_to_called_via(k),
                req.hop_appends_to_called_via(k),
                "{k}"
            );
            assert_eq!(
                compact.resource_in_principal_account(k),
                req.resource_in_principal_account(k),
                "{k}"
            );
            assert_eq!(compact.resource_policy(k), req.resource_policy(k));
            assert_eq!(
                compact.resource_policy_required(k),
                req.resource_policy_required(k)
            );
            assert_eq!(
                compact.requires_no_permission(k),
                req.requires_no_permission(k)
            );
        }
        for ctx in 0..req.hop_count() + 2 {
            let keys: Vec<&str> = compact.context_keys(ctx).collect();
            assert_eq!(keys, req.context_keys(ctx).collect::<Vec<_>>(), "{ctx}");
            for e in 0..keys.len() + 1 {
                assert_eq!(
                    values(compact.context_value(ctx, e)),
                    values(req.context_value(ctx, e))
                );
            }
        }
        for via in ["athena.amazonaws.com", "s3.amazonaws.com", "x"] {
            assert_eq!(
                compact.appends_to_called_via(via),
                req.appends_to_called_via(via)
            );
        }
    }

    #[test]
    fn a_built_request_reads_as_the_parsed_one() {
        let cases = [
            r#"{"id":"x","principal":"arn:aws:sts::111122223333:assumed-role/R/s",
            "context":{"aws:SourceIp":"10.0.0.1","aws:CalledVia":["a.amazonaws.com"],
                       "aws:PrincipalTag/Team":"red","aws:TagKeys":"k"},
            "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_policy":{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}},
                     {"via":"s3.amazonaws.com","action":"kms:Decrypt",
                      "resource":"arn:aws:kms:us-east-1:444455556666:key/k",
                      "context":{"kms:ViaService":"s3.us-east-1.amazonaws.com",
                                 "kms:EncryptionContextKeys":["a","b"]}},
                     {"via":"kms.amazonaws.com","action":"sts:GetCallerIdentity","resource":"*"}]}"#,
            r#"{"id":"y","principal":"s3.amazonaws.com",
            "options":{"called_via_services":["x"],"preserve_source_ip":false},
            "chain":[{"action":"sqs:SendMessage","resource":"*"}]}"#,
            r#"{"id":"z","principal":"iam::0a1b:user:alice",
            "context":{"g:SourceIp":"10.0.0.1"},
            "chain":[{"action":"obs:object:GetObject","resource":"obs:cn-north-4:0a1b:object:b/k"}]}"#,
        ];
        // The one buffer's edges: no context at all, many hops each with its own context,
        // long and multi-byte texts (the text's end falls at every offset in a word).
        let long = "é€x".repeat(700);
        let mut many = String::from(
            r#"{"id":"m","principal":"arn:aws:iam::111122223333:user/u","chain":[
            {"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#,
        );
        for k in 1..14 {
            many.push_str(&format!(
                r#",{{"via":"s{k}.amazonaws.com","action":"s{k}:Do{k}","resource":"arn:aws:s{k}:us-east-1:111122223333:thing/{}",
                "context":{{"s{k}:Key":"{}","s{k}:List":["{}","b"]}}}}"#,
                "r".repeat(k * 37),
                long.chars().take(k * 5).collect::<String>(),
                "v".repeat(k)
            ));
        }
        many.push_str("]}");
        let generated = [
            r#"{"id":"e","principal":"arn:aws:iam::111122223333:user/u",
            "chain":[{"action":"s3:ListBucket","resource":"arn:aws:s3:::b"}]}"#
                .to_string(),
            many,
            format!(
                r#"{{"id":"l","principal":"arn:aws:iam::111122223333:user/{long}",
                "context":{{"aws:userid":"{long}","aws:TagKeys":["{long}","{long}x"]}},
                "chain":[{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/{long}"}}]}}"#
            ),
        ];
        let texts = cases
            .iter()
            .copied()
            .chain(generated.iter().map(String::as_str));
        let texts: Vec<&str> = texts.collect();
        let mut b = RequestBuilder::new();
        let mut kept = Vec::new();
        for _round in 0..2 {
            for text in &texts {
                let req = request(text);
                b.fill_from(&req);
                let built = b.finish().unwrap();
                assert_reads_as(built, &req);
                kept.push((built.clone(), req));
            }
        }
        // A clone is one copy of the buffer, independent of the builder's next requests.
        for (clone, req) in &kept {
            assert_reads_as(clone, req);
            assert!(clone.buffer_len() >= clone.text_len());
        }
    }
}
