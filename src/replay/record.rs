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
//!
//! **Modules, by phase.** `fields` finds the fields the mapping reads; `event` checks that
//! the record can be mapped at all (an API call, a known action, an identity); `principal`
//! parses the caller; `hops` writes the recorded call (and the origin hop of a forwarded
//! call); `keys` sets the context keys and lists the keys the record determines. [`RecordMapper::map`] runs them in that order on one request it keeps.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::json::{self, JsonContainerTrait as _, JsonValueTrait as _, Record, Value};
use smallvec::SmallVec;

use crate::policy::Dialect;
use crate::primitives::parse_date;
use crate::request::spares::{set_text, Spares};
use crate::request::{Context, Options, Principal, PrincipalKind, Request, PRINCIPAL_DEFAULT_KEYS};

use super::actions::{ActionMap, Origin, RecordFacts};
use super::cts::{trace_of, CtsMap, CtsMapper};

mod event;
mod fields;
mod hops;
mod keys;
mod principal;

use event::{explained, Event};
use fields::{denied_resource, is_access_denied, str_of};
pub(super) use hops::{reuse_hops, set_logged_hop, set_unlogged_origin_hop};
use hops::{set_origin_hop, set_recorded_hop};
use keys::{call_keys, kms_keys, session_keys, Keys, RecordKey, RecordKeys};
use principal::principal_into;

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
