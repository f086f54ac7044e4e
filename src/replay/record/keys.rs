//! The context keys a CloudTrail record sets, and the keys it determines.
//!
//! **Why a module.** Which keys a record carries is the part of the mapping that decides
//! certainty: a key the record sets or knows to be absent is *known* (listed in
//! [`super::MappedRecord::known_keys`]); any other key a policy reads is an unknown of the
//! answer. The keys are written with spare buffers ([`Keys`]) in key order, and only those
//! some policy reads ([`RecordKeys`], chosen once per worker by
//! [`super::RecordMapper::reading`]).
//!
//! ```text
//! "eventTime": "2023-07-10T11:42:36Z", "sourceIPAddress": "192.0.2.7", "tlsDetails": {…}
//!   → aws:CurrentTime, aws:EpochTime, aws:SourceIp, aws:SecureTransport set;
//!     aws:SourceIp, aws:SourceVpc, aws:SecureTransport known
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::primitives::{parse_date, Instant};
use crate::request::spares::Spares;
use crate::request::{Context, Principal};

use super::super::json::{self, JsonValueTrait as _, Value};
use super::event::Event;
use super::fields::{str_at, str_of, Identity};

/// A context key the mapper sets from a record (in key order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecordKey {
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
    pub(super) const ALL: [RecordKey; 13] = [
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
    pub(super) fn name(self) -> &'static str {
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
pub(super) struct RecordKeys(pub(super) u16);

impl RecordKeys {
    pub(super) const ALL: RecordKeys = RecordKeys((1 << RecordKey::ALL.len()) - 1);

    pub(super) fn contains(self, key: RecordKey) -> bool {
        self.0 & (1 << key as u16) != 0
    }
}

/// Writes context keys with spare buffers, and lists the keys the record determines.
pub(super) struct Keys<'m> {
    pub(super) spares: &'m mut Spares,
    /// Numbers and joined names, formatted here before they are copied into a context.
    pub(super) text: &'m mut String,
    pub(super) known: &'m mut Vec<Cow<'static, str>>,
    pub(super) wanted: RecordKeys,
}

impl Keys<'_> {
    /// Empties the known keys of the previous record.
    pub(super) fn forget(&mut self) {
        for key in self.known.drain(..) {
            if let Cow::Owned(buf) = key {
                self.spares.strings.push(buf);
            }
        }
    }

    /// Whether the mapper sets `key`; a value that costs work to make is made only then.
    pub(super) fn wants(&self, key: RecordKey) -> bool {
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
pub(super) fn session_keys(
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
pub(super) fn call_keys(
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
pub(super) fn kms_keys(
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
