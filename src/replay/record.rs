//! One CloudTrail record → one authorisation question.
//!
//! A record says who called (`userIdentity`), what (`eventSource`/`eventName` → the IAM
//! action, [`super::actions`]), on what (`resources[]`, request parameters), from where
//! (`sourceIPAddress`, `vpcEndpointId`), when and how (`eventTime`, `awsRegion`,
//! `tlsDetails`, the session's MFA and issue time). That becomes a [`Request`].
//!
//! **Forwarded calls.** A record whose `userIdentity.invokedBy` is set, or whose
//! `sourceIPAddress` is a service (`kms.amazonaws.com`, `AWS Internal`), while the identity is
//! a user or role, is a call a service made on the principal's behalf (a forward access
//! session). It becomes a two-hop chain: hop 0 is the principal's own call to the forwarding
//! service — not in this record, so it is marked as needing no permission — and hop 1 is
//! the recorded call, `via` the forwarding service, whose context is derived by R-FAS-4
//! exactly as for any chain (`aws:ViaAWSService` true, `aws:CalledVia` from the registry,
//! the origin's VPC keys absent). Only hop 1 is reported. When the record says only `AWS
//! Internal`, the forwarding service is read from a KMS encryption context where it names
//! one (`PARAMETER_ARN` → SSM Parameter Store, `SecretARN` → Secrets Manager, `aws:s3:arn`
//! → S3); otherwise `via` is `AWS Internal` itself, which is in no CalledVia registry.
//!
//! **What a log cannot say.** Some keys the record does not carry: the VPC of a VPC endpoint
//! call, the origin's IP of a forwarded call, organisation ids, tags, most service keys. The
//! mapping lists the keys it *knows* — set, or known to be absent — in
//! [`MappedRecord::known_keys`]; a decision that read another key while it was absent
//! depends on that key ([`super::Verdict::DependsOn`]).

use serde_json::Value;

use crate::policy::Dialect;
use crate::primitives::parse_date;
use crate::request::{
    default_resource_account, Context, Hop, Options, Principal, PrincipalKind, Request,
    PRINCIPAL_DEFAULT_KEYS,
};

use super::actions::{ActionMap, RecordFacts};

/// What the log recorded about the call's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogOutcome {
    /// No `errorCode`: the call was authorised.
    Succeeded,
    /// An access-denied `errorCode`.
    Denied,
    /// Another error (throttling, a missing entity, …): authorisation is not known.
    OtherError,
}

impl LogOutcome {
    pub fn name(self) -> &'static str {
        match self {
            LogOutcome::Succeeded => "succeeded",
            LogOutcome::Denied => "denied",
            LogOutcome::OtherError => "other-error",
        }
    }
}

/// A record turned into a request.
#[derive(Clone, Debug)]
pub struct MappedRecord {
    /// `eventID`, or the record's position when it has none.
    pub id: String,
    pub request: Request,
    /// The hop this record is (1 for a forwarded call, else 0).
    pub hop: usize,
    /// The forwarding service of a forwarded call.
    pub via: Option<String>,
    /// Canonical keys whose presence or absence this record determines, besides
    /// `ALWAYS_KNOWN` and the principal keys (module docs).
    pub known_keys: Vec<std::borrow::Cow<'static, str>>,
    /// Whether every `aws:PrincipalTag/…` key is known (the principal's tags were given).
    pub principal_tags_known: bool,
    pub log_outcome: LogOutcome,
    pub error_code: Option<String>,
    /// The IAM identity whose policies apply: the user, or the role of a role session.
    pub identity_arn: Option<String>,
}

impl MappedRecord {
    pub fn action(&self) -> &str {
        &self.request.hops[self.hop].action
    }

    pub fn resource(&self) -> &str {
        &self.request.hops[self.hop].resource
    }

    /// Whether the record determines `key` (canonical).
    pub fn knows(&self, key: &str) -> bool {
        (self.principal_tags_known && key.starts_with("aws:principaltag/"))
            || ALWAYS_KNOWN.contains(&key)
            || PRINCIPAL_DEFAULT_KEYS.contains(&key)
            || self.known_keys.iter().any(|k| k == key)
    }
}

/// Why a record could not be turned into a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmappable {
    /// A short class for the summary (`not-an-api-call`, `unknown-action`, …).
    pub class: &'static str,
    /// The details.
    pub reason: String,
}

fn unmappable(class: &'static str, reason: impl Into<String>) -> Unmappable {
    Unmappable {
        class,
        reason: reason.into(),
    }
}

/// Keys every mapped record determines (set or known absent), besides those added per
/// record and the principal keys the evaluator derives (`PRINCIPAL_DEFAULT_KEYS`, R-CTX-6).
const ALWAYS_KNOWN: &[&str] = &[
    "aws:currenttime",
    "aws:epochtime",
    "aws:requestedregion",
    "aws:useragent",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:tokenissuetime",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:sourcevpce",
    "aws:vpcsourceip",
];

/// Access-denied error codes (the service's spelling varies).
fn is_access_denied(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    c.contains("accessdenied") || c.contains("unauthorizedoperation") || c == "unauthorizedaccess"
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Whether `sourceIPAddress` names a service rather than an address.
fn is_service_source(source: &str) -> bool {
    source == "AWS Internal" || source.ends_with(".amazonaws.com")
}

/// The forwarding service of an `AWS Internal` KMS call, read from its encryption context.
fn via_from_encryption_context(record: &Value) -> Option<&'static str> {
    let ctx = record
        .get("requestParameters")?
        .get("encryptionContext")?
        .as_object()?;
    if ctx.contains_key("PARAMETER_ARN") {
        Some("ssm.amazonaws.com")
    } else if ctx.contains_key("SecretARN") {
        Some("secretsmanager.amazonaws.com")
    } else if ctx.contains_key("aws:s3:arn") {
        Some("s3.amazonaws.com")
    } else {
        None
    }
}

/// The ARN an access-denied message names after `on resource: `.
fn denied_resource(message: &str) -> Option<&str> {
    let rest = &message[message.find("on resource: ")? + "on resource: ".len()..];
    let arn = rest
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', ',', ';']);
    arn.starts_with("arn:").then_some(arn)
}

/// Options of the mapping.
#[derive(Clone, Debug, Default)]
pub struct MapOptions {
    /// Keys set on every record (`--context KEY=VALUE`), canonical, with their values.
    pub extra_context: Vec<(String, String)>,
}

/// Maps one record. `position` names it when it has no `eventID`.
pub fn map_record(
    record: &Value,
    position: &str,
    actions: &ActionMap,
    options: &MapOptions,
) -> Result<MappedRecord, Unmappable> {
    if !record.is_object() {
        return Err(unmappable(
            "not-a-record",
            "the record is not a JSON object",
        ));
    }
    // Test fixtures and documentation wrap a record: `{"_source": …, "record": {…}}`.
    let record = match record.get("record") {
        Some(inner) if record.get("eventSource").is_none() && inner.is_object() => inner,
        _ => record,
    };
    let id = str_at(record, &["eventID"]).unwrap_or(position).to_string();
    let event_type = str_at(record, &["eventType"]).unwrap_or("AwsApiCall");
    if event_type != "AwsApiCall" {
        return Err(unmappable(
            "not-an-api-call",
            format!("eventType `{event_type}` is not an API call (only AwsApiCall is authorised)"),
        ));
    }
    let source = str_at(record, &["eventSource"])
        .ok_or_else(|| unmappable("malformed", "no `eventSource` string"))?;
    let name = str_at(record, &["eventName"])
        .ok_or_else(|| unmappable("malformed", "no `eventName` string"))?;
    let entry = actions.lookup(source, name).ok_or_else(|| {
        unmappable(
            "unknown-action",
            format!("no IAM action known for {source} {name}"),
        )
    })?;
    let Some(action) = entry.action.clone() else {
        return Err(unmappable(
            "not-an-iam-action",
            format!(
                "{source} {name}: {}",
                entry.note.trim_start_matches("exception: ")
            ),
        ));
    };
    let identity = record
        .get("userIdentity")
        .filter(|v| v.is_object())
        .ok_or_else(|| unmappable("malformed", "no `userIdentity` object"))?;
    let identity_type = str_at(identity, &["type"]).unwrap_or("");
    let invoked_by = str_at(identity, &["invokedBy"]);
    let source_ip = str_at(record, &["sourceIPAddress"]).unwrap_or("");
    let (principal, identity_arn) = principal_of(identity, identity_type, invoked_by)?;

    let region = str_at(record, &["awsRegion"]).unwrap_or("");
    let account = str_at(record, &["recipientAccountId"])
        .or(principal.account.as_deref())
        .unwrap_or("");
    let resource_arns: Vec<String> = record
        .get("resources")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    r.get("ARN")
                        .or_else(|| r.get("arn"))
                        .and_then(Value::as_str)
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut resource_arns = resource_arns;
    // A denied call logs no parameters, but its message names the resource:
    // "… is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::…:role/x".
    if let Some(arn) = str_at(record, &["errorMessage"]).and_then(denied_resource) {
        resource_arns.push(arn.to_string());
    }
    let null = Value::Null;
    let facts = RecordFacts {
        region,
        account,
        resource_arns: &resource_arns,
        parameters: record.get("requestParameters").unwrap_or(&null),
        caller_user: (principal.kind == PrincipalKind::User)
            .then_some(principal.name.as_deref())
            .flatten(),
    };
    let resource = actions
        .resource(entry, &facts)
        .map_err(|reason| unmappable("no-resource", format!("{action}: {reason}")))?;

    let forwarded = principal.kind != PrincipalKind::Service
        && (invoked_by.is_some() || is_service_source(source_ip));
    let via = forwarded.then(|| {
        let named = invoked_by
            .filter(|s| s.ends_with(".amazonaws.com"))
            .or_else(|| Some(source_ip).filter(|s| s.ends_with(".amazonaws.com")));
        named
            .or_else(|| via_from_encryption_context(record))
            .unwrap_or("AWS Internal")
            .to_string()
    });

    // The principal's session: hop 0's context, carried to forwarded hops as session keys.
    let mut session = Context::new();
    let mut known: Vec<std::borrow::Cow<'static, str>> = Vec::new();
    let attributes = identity
        .get("sessionContext")
        .and_then(|s| s.get("attributes"));
    let event_time = str_at(record, &["eventTime"]).or_else(|| str_at(record, &["@timestamp"]));
    let now = event_time.and_then(parse_date);
    if let Some(attrs) = attributes {
        if let Some(mfa) = str_at(attrs, &["mfaAuthenticated"]) {
            session.set_single("aws:multifactorauthpresent", mfa);
            if let (Some(created), Some(now)) =
                (str_at(attrs, &["creationDate"]).and_then(parse_date), now)
            {
                if mfa == "true" {
                    let age = (now.secs - created.secs).max(0);
                    session.set_single("aws:multifactorauthage", &age.to_string());
                }
            }
        }
        if let Some(created) = str_at(attrs, &["creationDate"]) {
            session.set_single("aws:tokenissuetime", created);
        }
    }

    // The request's own keys.
    let mut call = Context::new();
    if let Some(t) = event_time {
        call.set_single("aws:currenttime", t);
        if let Some(now) = now {
            call.set_single("aws:epochtime", &now.secs.to_string());
        }
    }
    if !region.is_empty() {
        call.set_single("aws:requestedregion", region);
    }
    if let Some(agent) = str_at(record, &["userAgent"]) {
        call.set_single("aws:useragent", agent);
    }
    if record.get("tlsDetails").is_some_and(Value::is_object) {
        call.set_single("aws:securetransport", "true");
        known.push("aws:securetransport".into());
    }
    let vpce = str_at(record, &["vpcEndpointId"]);
    if !forwarded {
        match vpce {
            Some(endpoint) => {
                call.set_single("aws:sourcevpce", endpoint);
                if source_ip.parse::<std::net::IpAddr>().is_ok() {
                    call.set_single("aws:vpcsourceip", source_ip);
                }
                // Through an endpoint there is no public source IP; the VPC is not logged.
                known.push("aws:sourceip".into());
            }
            None => {
                if source_ip.parse::<std::net::IpAddr>().is_ok() {
                    call.set_single("aws:sourceip", source_ip);
                }
                // Not through an endpoint: no VPC keys.
                known.push("aws:sourceip".into());
                known.push("aws:sourcevpc".into());
            }
        }
    } else {
        // R-FAS-4 drops the origin's VPC keys; the origin's public IP is not in the record.
        known.push("aws:sourcevpc".into());
    }
    // KMS names the service that called it for the principal (`kms:ViaService`,
    // `ssm.us-east-1.amazonaws.com`) and the caller's account; unknown when the log says
    // only `AWS Internal`.
    if source == "kms.amazonaws.com" {
        if let Some(account) = principal.account.as_deref() {
            call.set_single("kms:calleraccount", account);
            known.push("kms:calleraccount".into());
        }
        match via
            .as_deref()
            .and_then(|v| v.strip_suffix(".amazonaws.com"))
        {
            Some(service) => {
                call.set_single(
                    "kms:viaservice",
                    &format!("{service}.{region}.amazonaws.com"),
                );
                known.push("kms:viaservice".into());
            }
            None if via.is_none() => known.push("kms:viaservice".into()),
            None => {}
        }
    }
    for (k, v) in &options.extra_context {
        call.set_single(k, v);
        known.push(k.clone().into());
    }

    let dialect = Dialect::Aws;
    let error_code = str_at(record, &["errorCode"]).map(str::to_string);
    let log_outcome = match error_code.as_deref() {
        None => LogOutcome::Succeeded,
        Some(c) if is_access_denied(c) => LogOutcome::Denied,
        Some(_) => LogOutcome::OtherError,
    };
    let recorded_hop = Hop {
        via: via.clone(),
        resource_account: default_resource_account(&resource)
            .or_else(|| (!account.is_empty() && resource != "*").then(|| account.to_string())),
        // Key policies are not in the log: a resource policy is required only when the
        // replay was given one for this resource (see `super::policies`).
        resource_policy_required: false,
        requires_no_permission: false,
        resource_policy: None,
        action,
        resource,
        context: Context::new(),
    };
    let (context, hops, hop) = match &via {
        None => {
            let mut context = session;
            for (k, v) in call.take_entries() {
                context.set(k, v);
            }
            (context, vec![recorded_hop], 0)
        }
        Some(service) => {
            let service_prefix = service
                .split('.')
                .next()
                .unwrap_or("aws")
                .to_ascii_lowercase();
            let origin = Hop {
                via: None,
                action: format!("{service_prefix}:*"),
                resource: "*".to_string(),
                resource_account: None,
                resource_policy: None,
                resource_policy_required: false,
                requires_no_permission: true,
                context: Context::new(),
            };
            let mut forwarded_hop = recorded_hop;
            forwarded_hop.context = call;
            (session, vec![origin, forwarded_hop], 1)
        }
    };
    Ok(MappedRecord {
        id,
        request: Request {
            dialect,
            principal,
            context,
            hops,
            options: Options::default(),
            credentials: None,
        },
        hop,
        via,
        known_keys: known,
        principal_tags_known: false,
        log_outcome,
        error_code,
        identity_arn,
    })
}

/// The principal of a `userIdentity`, and the IAM identity whose policies apply.
fn principal_of(
    identity: &Value,
    identity_type: &str,
    invoked_by: Option<&str>,
) -> Result<(Principal, Option<String>), Unmappable> {
    let arn = str_at(identity, &["arn"]);
    let from_arn =
        |arn: &str| Principal::from_arn(arn).map_err(|e| unmappable("unknown-principal", e.0));
    match identity_type {
        "IAMUser" | "Root" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", format!("{identity_type} identity without `arn`")))?;
            Ok((from_arn(arn)?, Some(arn.to_string())))
        }
        "AssumedRole" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", "AssumedRole identity without `arn`"))?;
            let principal = from_arn(arn)?;
            let role = str_at(identity, &["sessionContext", "sessionIssuer", "arn"])
                .map(str::to_string)
                .or_else(|| principal.role_arn.clone());
            Ok((principal, role))
        }
        "FederatedUser" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", "FederatedUser identity without `arn`"))?;
            let mut principal = from_arn(arn)?;
            let parent = str_at(identity, &["sessionContext", "sessionIssuer", "arn"]).map(str::to_string);
            principal.parent_user_arn = parent.clone();
            Ok((principal, parent))
        }
        "AWSService" => {
            let service = invoked_by.ok_or_else(|| unmappable("unknown-principal", "AWSService identity without `invokedBy`"))?;
            Ok((from_arn(service)?, None))
        }
        // S3 logs an anonymous caller as an `AWSAccount` whose account is `anonymous`.
        "AWSAccount" | "Anonymous"
            if arn.is_none()
                && (str_at(identity, &["accountId"]) == Some("anonymous")
                    || identity_type == "Anonymous") =>
        {
            Ok((from_arn("anonymous")?, None))
        }
        other => Err(unmappable(
            "unknown-principal",
            format!("userIdentity type `{other}` is not mapped (users, roles, federated users, root, services and anonymous are)"),
        )),
    }
}
