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

use std::borrow::Cow;
use std::fmt::Write as _;

use super::json::{self, JsonContainerTrait as _, JsonValueTrait as _, Object, Record, Value};
use smallvec::SmallVec;

use crate::policy::Dialect;
use crate::primitives::{parse_date, Instant};
use crate::request::spares::{set_text, Spares};
use crate::request::{
    default_resource_account_str, Context, Hop, Options, Principal, PrincipalKind, Request,
    PRINCIPAL_DEFAULT_KEYS,
};

use super::actions::{ActionMap, EventEntry, Origin, RecordFacts};
use super::cts::{trace_of, CtsMap, CtsMapper};

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
    pub known_keys: Vec<Cow<'static, str>>,
    /// Whether every `aws:PrincipalTag/…` key is known (the principal's tags were given).
    pub principal_tags_known: bool,
    pub log_outcome: LogOutcome,
    pub error_code: Option<String>,
    /// The IAM identity whose policies apply: the user, or the role of a role session.
    pub identity_arn: Option<String>,
    /// Why the record's resource could not be built, when it could not: the resource is
    /// then an unknown of the answer (`super::certainty`), and the hop's resource is empty.
    pub resource_unknown: Option<String>,
    /// Which table decided the mapping ([`MapOptions::explain`]).
    pub mapping: Option<Origin>,
    /// `eventTime` (or `@timestamp`) in seconds since the Unix epoch; `None` when the
    /// record has no readable time. The report's timeline counts by it.
    pub event_secs: Option<i64>,
}

impl MappedRecord {
    /// A record with empty buffers, for a mapper to fill.
    pub(crate) fn empty() -> MappedRecord {
        MappedRecord {
            id: String::new(),
            request: Request {
                dialect: Dialect::Aws,
                principal: Principal::from_arn("anonymous").expect("`anonymous` parses"),
                context: Context::new(),
                hops: Vec::with_capacity(2),
                options: Options::default(),
                credentials: None,
            },
            hop: 0,
            via: None,
            known_keys: Vec::new(),
            principal_tags_known: false,
            log_outcome: LogOutcome::Succeeded,
            error_code: None,
            identity_arn: None,
            resource_unknown: None,
            mapping: None,
            event_secs: None,
        }
    }

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

/// Access-denied error codes (the service's spelling varies), compared ignoring ASCII case.
fn is_access_denied(code: &str) -> bool {
    let contains = |needle: &str| {
        code.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    };
    contains("accessdenied")
        || contains("unauthorizedoperation")
        || code.eq_ignore_ascii_case("unauthorizedaccess")
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| json::get(v, k))?.as_str()
}

fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// The top-level fields of a record that the mapping reads, found in one pass over the
/// record. Looking each up instead searched the record's twenty-odd keys, with a string
/// comparison per key passed, some twenty times per record: a tenth of the replay's time
/// (callgrind, perf).
#[derive(Default)]
struct Fields<'r> {
    aws_region: Option<&'r Value>,
    error_code: Option<&'r Value>,
    error_message: Option<&'r Value>,
    event_id: Option<&'r Value>,
    event_name: Option<&'r Value>,
    event_source: Option<&'r Value>,
    event_time: Option<&'r Value>,
    event_type: Option<&'r Value>,
    recipient_account_id: Option<&'r Value>,
    /// The record inside a test fixture's wrapper (`{"_source": …, "record": {…}}`).
    record: Option<&'r Value>,
    request_parameters: Option<&'r Value>,
    resources: Option<&'r Value>,
    source_ip_address: Option<&'r Value>,
    /// `@timestamp`, the time field of some exports.
    timestamp: Option<&'r Value>,
    tls_details: Option<&'r Value>,
    user_agent: Option<&'r Value>,
    user_identity: Option<&'r Value>,
    vpc_endpoint_id: Option<&'r Value>,
}

impl<'r> Fields<'r> {
    fn of(record: &'r Object) -> Fields<'r> {
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
fn is_service_source(source: &str) -> bool {
    source == "AWS Internal" || source.ends_with(".amazonaws.com")
}

/// The fields of a `userIdentity` that the mapping reads, found in one pass (as
/// [`Fields`]).
#[derive(Default)]
struct Identity<'r> {
    /// `type`, or empty.
    kind: &'r str,
    arn: Option<&'r str>,
    account_id: Option<&'r str>,
    invoked_by: Option<&'r str>,
    session_context: Option<&'r Value>,
}

impl<'r> Identity<'r> {
    fn of(identity: &'r Object) -> Identity<'r> {
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
    fn issuer(&self) -> Option<&'r str> {
        let issuer = json::get(self.session_context?, "sessionIssuer")?;
        json::get(issuer, "arn")?.as_str()
    }
}

/// The forwarding service of an `AWS Internal` KMS call, read from its encryption context.
fn via_from_encryption_context(parameters: Option<&Value>) -> Option<&'static str> {
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
fn denied_resource(message: &str) -> Option<&str> {
    let rest = &message[message.find("on resource: ")? + "on resource: ".len()..];
    let arn = rest
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', ',', ';']);
    arn.starts_with("arn:").then_some(arn)
}

/// A context key the mapper sets from a record (in key order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecordKey {
    CurrentTime,
    EpochTime,
    MfaAge,
    MfaPresent,
    RequestedRegion,
    SecureTransport,
    SourceIp,
    SourceVpce,
    TokenIssueTime,
    UserAgent,
    VpcSourceIp,
    KmsCallerAccount,
    KmsViaService,
}

impl RecordKey {
    const ALL: [RecordKey; 13] = [
        RecordKey::CurrentTime,
        RecordKey::EpochTime,
        RecordKey::MfaAge,
        RecordKey::MfaPresent,
        RecordKey::RequestedRegion,
        RecordKey::SecureTransport,
        RecordKey::SourceIp,
        RecordKey::SourceVpce,
        RecordKey::TokenIssueTime,
        RecordKey::UserAgent,
        RecordKey::VpcSourceIp,
        RecordKey::KmsCallerAccount,
        RecordKey::KmsViaService,
    ];

    /// The canonical name.
    fn name(self) -> &'static str {
        match self {
            RecordKey::CurrentTime => "aws:currenttime",
            RecordKey::EpochTime => "aws:epochtime",
            RecordKey::MfaAge => "aws:multifactorauthage",
            RecordKey::MfaPresent => "aws:multifactorauthpresent",
            RecordKey::RequestedRegion => "aws:requestedregion",
            RecordKey::SecureTransport => "aws:securetransport",
            RecordKey::SourceIp => "aws:sourceip",
            RecordKey::SourceVpce => "aws:sourcevpce",
            RecordKey::TokenIssueTime => "aws:tokenissuetime",
            RecordKey::UserAgent => "aws:useragent",
            RecordKey::VpcSourceIp => "aws:vpcsourceip",
            RecordKey::KmsCallerAccount => "kms:calleraccount",
            RecordKey::KmsViaService => "kms:viaservice",
        }
    }
}

/// Which [`RecordKey`]s a mapper sets, one bit each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RecordKeys(u16);

impl RecordKeys {
    const ALL: RecordKeys = RecordKeys((1 << RecordKey::ALL.len()) - 1);

    fn contains(self, key: RecordKey) -> bool {
        self.0 & (1 << key as u16) != 0
    }
}

/// Options of the mapping.
#[derive(Clone, Debug, Default)]
pub struct MapOptions {
    /// Keys set on every record (`--context KEY=VALUE`), canonical, with their values.
    pub extra_context: Vec<(String, String)>,
    /// `--assume-absent PATTERN`: unknown keys whose canonical names match one of these
    /// (canonical) wildcard patterns are taken to be absent, not unknown.
    pub assume_absent: Vec<String>,
    /// Say which table decided each record's mapping (`--explain-mapping`): in
    /// [`MappedRecord::mapping`], and in the reason of a record the table's row left
    /// unmappable.
    pub explain: bool,
}

impl MapOptions {
    /// Whether an unknown key is to be taken as absent (`--assume-absent`).
    pub fn assumes_absent(&self, canonical: &str) -> bool {
        self.assume_absent
            .iter()
            .any(|p| crate::primitives::wildcard_match(p, canonical))
    }
}

/// Maps one record. `position` names it when it has no `eventID`.
///
/// Each call builds a new request; to map many records, [`RecordMapper`] reuses one. A
/// convenience for callers that hold a `serde_json::Value`: it is converted to the
/// replay's [`Record`] first ([`json::from_serde`]), which the replay itself never does.
pub fn map_record(
    record: &serde_json::Value,
    position: &str,
    actions: &ActionMap,
    options: &MapOptions,
) -> Result<MappedRecord, Unmappable> {
    let mut mapper = RecordMapper::new();
    let record = json::from_serde(record);
    let mapped = mapper.map(&record, &position, actions, options)?;
    Ok(std::mem::replace(mapped, MappedRecord::empty()))
}

/// Maps records one after another into one [`MappedRecord`], overwriting the strings of
/// the previous record in place instead of allocating a request per record (a replay
/// worker keeps one). The result is the same as [`map_record`]'s.
#[derive(Debug)]
pub struct RecordMapper {
    mapped: MappedRecord,
    /// The mapper of Huawei CTS traces, told apart by content ([`super::cts::trace_of`]).
    cts: CtsMapper,
    spares: Spares,
    /// Numbers and joined names, formatted here before they are copied into the context.
    text: String,
    /// The record's keys this mapper sets (all, unless made with [`RecordMapper::reading`]).
    wanted: RecordKeys,
}

impl Default for RecordMapper {
    fn default() -> Self {
        RecordMapper::new()
    }
}

impl RecordMapper {
    pub fn new() -> RecordMapper {
        RecordMapper {
            mapped: MappedRecord::empty(),
            cts: CtsMapper::new(),
            spares: Spares::default(),
            text: String::new(),
            wanted: RecordKeys::ALL,
        }
    }

    /// A mapper whose requests carry only the context keys for which `reads` is true, such
    /// as the keys some compiled program reads ([`crate::eval::Evaluator::key_id`]): a key
    /// no policy reads cannot change a decision, and setting it costs a copy, and for some a
    /// date or an address to parse (a replay under one perimeter policy: 3% of its
    /// instructions). Which keys the record determines ([`MappedRecord::knows`]) does not
    /// change; keys given in [`MapOptions::extra_context`] are always set.
    pub fn reading(reads: impl Fn(&str) -> bool) -> RecordMapper {
        let wanted = RecordKey::ALL
            .iter()
            .filter(|k| reads(k.name()))
            .fold(0, |bits, k| bits | 1 << *k as u16);
        RecordMapper {
            wanted: RecordKeys(wanted),
            ..RecordMapper::new()
        }
    }

    /// Maps one record into the mapper's [`MappedRecord`]; `position` names it when it has
    /// no `eventID`. After an error the mapped record is left half written (the next call
    /// rewrites all of it).
    pub fn map(
        &mut self,
        record: &Record,
        position: &dyn std::fmt::Display,
        actions: &ActionMap,
        options: &MapOptions,
    ) -> Result<&mut MappedRecord, Unmappable> {
        if let Some(trace) = trace_of(record) {
            return self.cts.map(trace, position, CtsMap::shared(), options);
        }
        let event = Event::read(record, actions, options.explain)?;
        let record = &event.fields;
        let RecordMapper {
            mapped: m,
            spares,
            text,
            wanted,
            ..
        } = self;
        let Request {
            principal,
            context,
            hops,
            ..
        } = &mut m.request;
        principal_into(&event, principal, &mut m.identity_arn, spares)?;
        let principal = &*principal;
        let via = event.forwarding_service(principal);
        let hop = usize::from(via.is_some());
        reuse_hops(context, hops, hop + 1, spares);

        let region = str_of(record.aws_region).unwrap_or("");
        let account = str_of(record.recipient_account_id)
            .or(principal.account.as_deref())
            .unwrap_or("");
        let mut resource_arns: SmallVec<[&str; 4]> = record
            .resources
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                json::get(r, "ARN")
                    .or_else(|| json::get(r, "arn"))
                    .and_then(Value::as_str)
            })
            .collect();
        // A denied call logs no parameters, but its message names the resource:
        // "… is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::…:role/x".
        resource_arns.extend(str_of(record.error_message).and_then(denied_resource));
        let null = Value::new();
        let facts = RecordFacts {
            region,
            account,
            resource_arns: &resource_arns,
            parameters: record.request_parameters.unwrap_or(&null),
            caller_user: (principal.kind == PrincipalKind::User)
                .then_some(principal.name.as_deref())
                .flatten(),
        };
        let recorded = &mut hops[hop];
        // A resource the record does not name is an unknown of the answer, not a reason to
        // give up: the answer is certain when no Resource clause can change it.
        m.resource_unknown = actions
            .resource_into(event.entry, &facts, &mut recorded.resource)
            .err()
            .map(|reason| {
                recorded.resource.clear();
                let explained = explained(event.entry, options.explain);
                format!("{}: {reason}{explained}", event.action)
            });

        // Nothing fails from here on.
        set_recorded_hop(recorded, event.action, via, account, spares);
        if let Some(service) = via {
            set_origin_hop(&mut hops[0], service, spares);
        }
        let mut keys = Keys {
            spares,
            text,
            known: &mut m.known_keys,
            wanted: *wanted,
        };
        keys.forget();
        let event_time = str_of(record.event_time).or_else(|| str_of(record.timestamp));
        let time = event_time.and_then(parse_date);
        m.event_secs = time.map(|t| t.secs);
        let now =
            time.filter(|_| keys.wants(RecordKey::EpochTime) || keys.wants(RecordKey::MfaAge));
        // The principal's session: hop 0's context, carried to forwarded hops as session
        // keys. The request's own keys: hop 0's context too, or the forwarded hop's.
        session_keys(&mut keys, context, &event.identity, now);
        let call = match via {
            Some(_) => &mut hops[hop].context,
            None => context,
        };
        call_keys(&mut keys, call, &event, region, event_time, now, via);
        if event.source == "kms.amazonaws.com" {
            kms_keys(&mut keys, call, principal, region, via);
        }
        for (k, v) in &options.extra_context {
            keys.spares.set_single(call, k, v);
            keys.known.push(Cow::Owned(keys.spares.string(k)));
        }

        let error_code = str_of(record.error_code);
        m.log_outcome = match error_code {
            None => LogOutcome::Succeeded,
            Some(c) if is_access_denied(c) => LogOutcome::Denied,
            Some(_) => LogOutcome::OtherError,
        };
        spares.set_optional(&mut m.error_code, error_code);
        spares.set_optional(&mut m.via, via);
        match str_of(record.event_id) {
            Some(id) => set_text(&mut m.id, id),
            None => {
                m.id.clear();
                let _ = write!(m.id, "{position}");
            }
        }
        m.hop = hop;
        m.principal_tags_known = false;
        // An origin is an enum, or a user file's shared name: cloning it allocates nothing.
        m.mapping = options.explain.then(|| event.entry.origin.clone());
        Ok(m)
    }
}

/// What a record must say to be mapped at all: an API call, to a known action, by an
/// identity.
struct Event<'r, 'a> {
    fields: Fields<'r>,
    source: &'r str,
    entry: &'a EventEntry,
    action: &'a str,
    identity: Identity<'r>,
    source_ip: &'r str,
}

impl<'r, 'a> Event<'r, 'a> {
    fn read(
        record: &'r Value,
        actions: &'a ActionMap,
        explain: bool,
    ) -> Result<Event<'r, 'a>, Unmappable> {
        let Some(object) = record.as_object() else {
            return Err(unmappable(
                "not-a-record",
                "the record is not a JSON object",
            ));
        };
        let mut record = Fields::of(object);
        // Test fixtures and documentation wrap a record: `{"_source": …, "record": {…}}`.
        if let (Some(inner), None) = (
            record.record.and_then(Value::as_object),
            record.event_source,
        ) {
            record = Fields::of(inner);
        }
        let event_type = str_of(record.event_type).unwrap_or("AwsApiCall");
        if event_type != "AwsApiCall" {
            return Err(unmappable(
                "not-an-api-call",
                format!(
                    "eventType `{event_type}` is not an API call (only AwsApiCall is authorised)"
                ),
            ));
        }
        let source = str_of(record.event_source)
            .ok_or_else(|| unmappable("malformed", "no `eventSource` string"))?;
        let name = str_of(record.event_name)
            .ok_or_else(|| unmappable("malformed", "no `eventName` string"))?;
        let entry = actions.lookup(source, name).ok_or_else(|| {
            unmappable(
                "unknown-action",
                format!("no IAM action known for {source} {name} (no row in the event → action table; `--action-map` adds one)"),
            )
        })?;
        let Some(action) = entry.action.as_deref() else {
            let (class, note) = if entry.unknown {
                ("unknown-action", entry.note.as_str())
            } else {
                (
                    "not-an-iam-action",
                    entry.note.trim_start_matches("exception: "),
                )
            };
            let explained = explained(entry, explain);
            return Err(unmappable(
                class,
                format!("{source} {name}: {note}{explained}"),
            ));
        };
        let identity = record
            .user_identity
            .and_then(Value::as_object)
            .ok_or_else(|| unmappable("malformed", "no `userIdentity` object"))?;
        let source_ip = str_of(record.source_ip_address).unwrap_or("");
        Ok(Event {
            fields: record,
            source,
            entry,
            action,
            identity: Identity::of(identity),
            source_ip,
        })
    }

    /// The service that made the call on the principal's behalf, for a forwarded call
    /// (module docs).
    fn forwarding_service(&self, principal: &Principal) -> Option<&'r str> {
        let forwarded = principal.kind != PrincipalKind::Service
            && (self.identity.invoked_by.is_some() || is_service_source(self.source_ip));
        forwarded.then(|| {
            let named = self
                .identity
                .invoked_by
                .filter(|s| s.ends_with(".amazonaws.com"))
                .or_else(|| Some(self.source_ip).filter(|s| s.ends_with(".amazonaws.com")));
            named
                .or_else(|| via_from_encryption_context(self.fields.request_parameters))
                .unwrap_or("AWS Internal")
        })
    }
}

/// ` (mapping: …)`, naming the table whose row left a record unmappable, when explaining.
fn explained(entry: &EventEntry, explain: bool) -> String {
    if explain {
        format!(" (mapping: {})", entry.origin)
    } else {
        String::new()
    }
}

/// Empties the contexts of the previous record and leaves `len` hops, buffers kept.
pub(super) fn reuse_hops(
    context: &mut Context,
    hops: &mut Vec<Hop>,
    len: usize,
    spares: &mut Spares,
) {
    spares.recycle(context);
    for h in hops.iter_mut() {
        spares.recycle(&mut h.context);
    }
    while hops.len() > len {
        spares.hops.extend(hops.pop());
    }
    while hops.len() < len {
        hops.push(spares.hop());
    }
}

/// The recorded call, its resource already set.
fn set_recorded_hop(
    hop: &mut Hop,
    action: &str,
    via: Option<&str>,
    account: &str,
    spares: &mut Spares,
) {
    let resource = hop.resource.as_str();
    let owner = default_resource_account_str(resource)
        .or_else(|| (!account.is_empty() && resource != "*").then_some(account));
    spares.set_optional(&mut hop.resource_account, owner);
    set_logged_hop(hop, action, via, spares);
}

/// The logged call of a record (CloudTrail or CTS), its resource and the resource's
/// account already set by the caller. Key policies are not in the log: a resource policy is
/// required only when the replay was given one for this resource (see `super::policies`).
pub(super) fn set_logged_hop(hop: &mut Hop, action: &str, via: Option<&str>, spares: &mut Spares) {
    set_text(&mut hop.action, action);
    spares.set_optional(&mut hop.via, via);
    hop.resource_policy = None;
    hop.resource_policy_required = false;
    hop.requires_no_permission = false;
}

/// The principal's own call to the forwarding service of a forwarded record: not in the
/// log, and needing no permission.
fn set_origin_hop(hop: &mut Hop, service: &str, spares: &mut Spares) {
    set_unlogged_origin_hop(
        hop,
        service.split('.').next().unwrap_or("aws"),
        ":*",
        spares,
    );
}

/// The principal's own call to a forwarding service, which no log holds: `prefix` and
/// `wildcard` make its action (`ssm` + `:*`; Huawei's `obs` + `:*:*`), on `*`, needing no
/// permission.
pub(super) fn set_unlogged_origin_hop(
    hop: &mut Hop,
    prefix: &str,
    wildcard: &str,
    spares: &mut Spares,
) {
    spares.set_optional(&mut hop.via, None);
    hop.action.clear();
    hop.action.push_str(prefix);
    hop.action.make_ascii_lowercase();
    hop.action.push_str(wildcard);
    set_text(&mut hop.resource, "*");
    spares.set_optional(&mut hop.resource_account, None);
    hop.resource_policy = None;
    hop.resource_policy_required = false;
    hop.requires_no_permission = true;
}

/// Writes context keys with spare buffers, and lists the keys the record determines.
struct Keys<'m> {
    spares: &'m mut Spares,
    /// Numbers and joined names, formatted here before they are copied into a context.
    text: &'m mut String,
    known: &'m mut Vec<Cow<'static, str>>,
    wanted: RecordKeys,
}

impl Keys<'_> {
    /// Empties the known keys of the previous record.
    fn forget(&mut self) {
        for key in self.known.drain(..) {
            if let Cow::Owned(buf) = key {
                self.spares.strings.push(buf);
            }
        }
    }

    /// Whether the mapper sets `key`; a value that costs work to make is made only then.
    fn wants(&self, key: RecordKey) -> bool {
        self.wanted.contains(key)
    }

    fn set(&mut self, ctx: &mut Context, key: RecordKey, value: &str) {
        if self.wants(key) {
            self.spares.set_single(ctx, key.name(), value);
        }
    }

    fn set_number(&mut self, ctx: &mut Context, key: RecordKey, n: i64) {
        self.text.clear();
        let _ = write!(self.text, "{n}");
        self.set_text(ctx, key);
    }

    /// Sets `key` to the text formatted in `self.text`.
    fn set_text(&mut self, ctx: &mut Context, key: RecordKey) {
        if self.wants(key) {
            self.spares.set_single(ctx, key.name(), self.text);
        }
    }

    fn know(&mut self, key: &'static str) {
        self.known.push(Cow::Borrowed(key));
    }
}

/// The session's keys: MFA and the credentials' issue time.
fn session_keys(
    keys: &mut Keys<'_>,
    ctx: &mut Context,
    identity: &Identity<'_>,
    now: Option<Instant>,
) {
    let Some(attrs) = identity
        .session_context
        .and_then(|s| json::get(s, "attributes"))
    else {
        return;
    };
    // In key order, as in `call_keys`.
    let created = str_at(attrs, &["creationDate"]);
    if let Some(mfa) = str_at(attrs, &["mfaAuthenticated"]) {
        if mfa == "true" && keys.wants(RecordKey::MfaAge) {
            if let (Some(created), Some(now)) = (created.and_then(parse_date), now) {
                keys.set_number(ctx, RecordKey::MfaAge, (now.secs - created.secs).max(0));
            }
        }
        keys.set(ctx, RecordKey::MfaPresent, mfa);
    }
    if let Some(created) = created {
        keys.set(ctx, RecordKey::TokenIssueTime, created);
    }
}

/// The call's own keys: time, region, agent, transport, and where it came from.
fn call_keys(
    keys: &mut Keys<'_>,
    ctx: &mut Context,
    event: &Event<'_, '_>,
    region: &str,
    event_time: Option<&str>,
    now: Option<Instant>,
    via: Option<&str>,
) {
    // Keys are set in key order, so that each is appended to the context (`Context::set`).
    let record = &event.fields;
    if let Some(t) = event_time {
        keys.set(ctx, RecordKey::CurrentTime, t);
        if let Some(now) = now {
            keys.set_number(ctx, RecordKey::EpochTime, now.secs);
        }
    }
    if !region.is_empty() {
        keys.set(ctx, RecordKey::RequestedRegion, region);
    }
    if record.tls_details.is_some_and(Value::is_object) {
        keys.set(ctx, RecordKey::SecureTransport, "true");
        keys.know("aws:securetransport");
    }
    let source_ip = event.source_ip;
    let endpoint = str_of(record.vpc_endpoint_id);
    let from_address = via.is_none()
        && (keys.wants(RecordKey::SourceIp) || keys.wants(RecordKey::VpcSourceIp))
        && source_ip.parse::<std::net::IpAddr>().is_ok();
    match (via, endpoint) {
        // R-FAS-4 drops the origin's VPC keys; the origin's public IP is not in the record.
        (Some(_), _) => keys.know("aws:sourcevpc"),
        (None, Some(endpoint)) => {
            keys.set(ctx, RecordKey::SourceVpce, endpoint);
            // Through an endpoint there is no public source IP (`aws:VpcSourceIp` is set
            // below); the VPC is not logged.
            keys.know("aws:sourceip");
        }
        (None, None) => {
            if from_address {
                keys.set(ctx, RecordKey::SourceIp, source_ip);
            }
            // Not through an endpoint: no VPC keys.
            keys.know("aws:sourceip");
            keys.know("aws:sourcevpc");
        }
    }
    if let Some(agent) = str_of(record.user_agent) {
        keys.set(ctx, RecordKey::UserAgent, agent);
    }
    if endpoint.is_some() && from_address {
        keys.set(ctx, RecordKey::VpcSourceIp, source_ip);
    }
}

/// KMS names the service that called it for the principal (`kms:ViaService`,
/// `ssm.us-east-1.amazonaws.com`) and the caller's account; unknown when the log says only
/// `AWS Internal`.
fn kms_keys(
    keys: &mut Keys<'_>,
    ctx: &mut Context,
    principal: &Principal,
    region: &str,
    via: Option<&str>,
) {
    if let Some(account) = principal.account.as_deref() {
        keys.set(ctx, RecordKey::KmsCallerAccount, account);
        keys.know("kms:calleraccount");
    }
    match via.map(|v| v.strip_suffix(".amazonaws.com")) {
        Some(Some(service)) => {
            if keys.wants(RecordKey::KmsViaService) {
                keys.text.clear();
                for part in [service, ".", region, ".amazonaws.com"] {
                    keys.text.push_str(part);
                }
                keys.set_text(ctx, RecordKey::KmsViaService);
            }
            keys.know("kms:viaservice");
        }
        None => keys.know("kms:viaservice"),
        Some(None) => {}
    }
}

/// Parses `s` into `principal`, keeping its buffers. Consecutive records mostly come from
/// one caller: a principal already parsed from `s` is kept, which is the same because the
/// mapper changes a principal only by parsing into it and by setting `parent_user_arn`
/// (reset here, as `parse_into` does).
fn parse_principal(
    principal: &mut Principal,
    s: &str,
    spares: &mut Spares,
) -> Result<(), Unmappable> {
    if principal.arn == s {
        spares.set_optional(&mut principal.parent_user_arn, None);
        return Ok(());
    }
    principal
        .parse_into(s)
        .map_err(|e| unmappable("unknown-principal", e.0))
}

/// The principal of a `userIdentity` into `principal`, and the IAM identity whose policies
/// apply into `identity_arn`.
fn principal_into(
    event: &Event<'_, '_>,
    principal: &mut Principal,
    identity_arn: &mut Option<String>,
    spares: &mut Spares,
) -> Result<(), Unmappable> {
    let identity = &event.identity;
    let identity_type = identity.kind;
    let arn = identity.arn;
    match identity_type {
        "IAMUser" | "Root" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", format!("{identity_type} identity without `arn`")))?;
            parse_principal(principal, arn, spares)?;
            spares.set_optional(identity_arn, Some(arn));
        }
        "AssumedRole" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", "AssumedRole identity without `arn`"))?;
            parse_principal(principal, arn, spares)?;
            spares.set_optional(
                identity_arn,
                identity.issuer().or(principal.role_arn.as_deref()),
            );
        }
        "FederatedUser" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", "FederatedUser identity without `arn`"))?;
            parse_principal(principal, arn, spares)?;
            spares.set_optional(&mut principal.parent_user_arn, identity.issuer());
            spares.set_optional(identity_arn, identity.issuer());
        }
        "AWSService" => {
            let service = identity.invoked_by.ok_or_else(|| unmappable("unknown-principal", "AWSService identity without `invokedBy`"))?;
            parse_principal(principal, service, spares)?;
            spares.set_optional(identity_arn, None);
        }
        // S3 logs an anonymous caller as an `AWSAccount` whose account is `anonymous`.
        "AWSAccount" | "Anonymous"
            if arn.is_none()
                && (identity.account_id == Some("anonymous")
                    || identity_type == "Anonymous") =>
        {
            parse_principal(principal, "anonymous", spares)?;
            spares.set_optional(identity_arn, None);
        }
        other => return Err(unmappable(
            "unknown-principal",
            format!("userIdentity type `{other}` is not mapped (users, roles, federated users, root, services and anonymous are)"),
        )),
    }
    Ok(())
}
