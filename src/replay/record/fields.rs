//! The fields of a CloudTrail record that the mapping reads, each found in one pass.
//!
//! **Why.** A sonic-rs object is a list of pairs: looking a field up walks the record's
//! twenty-odd keys with a string comparison each, and the mapper reads some twenty fields.
//! [`Fields::of`] and [`Identity::of`] walk the pairs once and keep the ones the mapper
//! reads (a later duplicate wins, as serde_json's map kept it); the small readers here
//! (`str_of`, an access-denied code, the resource an error message names) work on them.
//!
//! ```text
//! {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userIdentity": {…}, …}
//!   → Fields { event_source: Some("s3.amazonaws.com"), event_name: Some("GetObject"), … }
//! ```

use super::super::json::{self, JsonContainerTrait as _, JsonValueTrait as _, Object, Value};

/// Access-denied error codes (the service's spelling varies), compared ignoring ASCII case.
pub(super) fn is_access_denied(code: &str) -> bool {
    let contains = |needle: &str| {
        code.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    };
    contains("accessdenied")
        || contains("unauthorizedoperation")
        || code.eq_ignore_ascii_case("unauthorizedaccess")
}

pub(super) fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| json::get(v, k))?.as_str()
}

pub(super) fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// The top-level fields of a record that the mapping reads, found in one pass over the
/// record. Looking each up instead searched the record's twenty-odd keys, with a string
/// comparison per key passed, some twenty times per record: a tenth of the replay's time
/// (callgrind, perf).
#[derive(Default)]
pub(super) struct Fields<'r> {
    pub(super) aws_region: Option<&'r Value>,
    pub(super) error_code: Option<&'r Value>,
    pub(super) error_message: Option<&'r Value>,
    pub(super) event_id: Option<&'r Value>,
    pub(super) event_name: Option<&'r Value>,
    pub(super) event_source: Option<&'r Value>,
    pub(super) event_time: Option<&'r Value>,
    pub(super) event_type: Option<&'r Value>,
    pub(super) recipient_account_id: Option<&'r Value>,
    /// The record inside a test fixture's wrapper (`{"_source": …, "record": {…}}`).
    pub(super) record: Option<&'r Value>,
    pub(super) request_parameters: Option<&'r Value>,
    pub(super) resources: Option<&'r Value>,
    pub(super) source_ip_address: Option<&'r Value>,
    /// `@timestamp`, the time field of some exports.
    pub(super) timestamp: Option<&'r Value>,
    pub(super) tls_details: Option<&'r Value>,
    pub(super) user_agent: Option<&'r Value>,
    pub(super) user_identity: Option<&'r Value>,
    pub(super) vpc_endpoint_id: Option<&'r Value>,
}

impl<'r> Fields<'r> {
    pub(super) fn of(record: &'r Object) -> Fields<'r> {
        let mut f = Fields::default();
        for (key, value) in record.iter() {
            let field = match key {
                "awsRegion" => &mut f.aws_region,
                "errorCode" => &mut f.error_code,
                "errorMessage" => &mut f.error_message,
                "eventID" => &mut f.event_id,
                "eventName" => &mut f.event_name,
                "eventSource" => &mut f.event_source,
                "eventTime" => &mut f.event_time,
                "eventType" => &mut f.event_type,
                "recipientAccountId" => &mut f.recipient_account_id,
                "record" => &mut f.record,
                "requestParameters" => &mut f.request_parameters,
                "resources" => &mut f.resources,
                "sourceIPAddress" => &mut f.source_ip_address,
                "@timestamp" => &mut f.timestamp,
                "tlsDetails" => &mut f.tls_details,
                "userAgent" => &mut f.user_agent,
                "userIdentity" => &mut f.user_identity,
                "vpcEndpointId" => &mut f.vpc_endpoint_id,
                _ => continue,
            };
            *field = Some(value);
        }
        f
    }
}

/// Whether `sourceIPAddress` names a service rather than an address.
pub(super) fn is_service_source(source: &str) -> bool {
    source == "AWS Internal" || source.ends_with(".amazonaws.com")
}

/// The fields of a `userIdentity` that the mapping reads, found in one pass (as
/// [`Fields`]).
#[derive(Default)]
pub(super) struct Identity<'r> {
    /// `type`, or empty.
    pub(super) kind: &'r str,
    pub(super) arn: Option<&'r str>,
    pub(super) account_id: Option<&'r str>,
    pub(super) invoked_by: Option<&'r str>,
    pub(super) session_context: Option<&'r Value>,
}

impl<'r> Identity<'r> {
    pub(super) fn of(identity: &'r Object) -> Identity<'r> {
        let mut id = Identity::default();
        for (key, value) in identity.iter() {
            match key {
                "type" => id.kind = value.as_str().unwrap_or(""),
                "arn" => id.arn = value.as_str(),
                "accountId" => id.account_id = value.as_str(),
                "invokedBy" => id.invoked_by = value.as_str(),
                "sessionContext" => id.session_context = Some(value),
                _ => {}
            }
        }
        id
    }

    /// `sessionContext.sessionIssuer.arn`: the role or user that issued the session.
    pub(super) fn issuer(&self) -> Option<&'r str> {
        let issuer = json::get(self.session_context?, "sessionIssuer")?;
        json::get(issuer, "arn")?.as_str()
    }
}

/// The forwarding service of an `AWS Internal` KMS call, read from its encryption context.
pub(super) fn via_from_encryption_context(parameters: Option<&Value>) -> Option<&'static str> {
    let ctx = json::get(parameters?, "encryptionContext")?.as_object()?;
    if ctx.contains_key(&"PARAMETER_ARN") {
        Some("ssm.amazonaws.com")
    } else if ctx.contains_key(&"SecretARN") {
        Some("secretsmanager.amazonaws.com")
    } else if ctx.contains_key(&"aws:s3:arn") {
        Some("s3.amazonaws.com")
    } else {
        None
    }
}

/// The ARN an access-denied message names after `on resource: `.
pub(super) fn denied_resource(message: &str) -> Option<&str> {
    let rest = &message[message.find("on resource: ")? + "on resource: ".len()..];
    let arn = rest
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', ',', ';']);
    arn.starts_with("arn:").then_some(arn)
}
