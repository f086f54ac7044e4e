//! What a CloudTrail record must say to be mapped at all: an API call, to a known action,
//! by an identity; and whether a service made the call on the principal's behalf.
//!
//! **Why a module.** These are the checks that make a record *unmappable* (each with its
//! class and reason, [`super::Unmappable`]), done before anything is written into the
//! request, so a record that fails them costs no buffer writes.
//!
//! ```text
//! "eventType": "AwsServiceEvent"          → not-an-api-call
//! "eventSource": "s3…", "eventName": "X"  → unknown-action (no row in the table)
//! "sourceIPAddress": "kms.amazonaws.com"  → forwarded by kms.amazonaws.com
//! ```

use super::super::actions::{ActionMap, EventEntry};
use super::super::json::{JsonContainerTrait as _, Value};
use super::fields::{is_service_source, str_of, via_from_encryption_context, Fields, Identity};
use super::unmappable;
use super::Unmappable;
use crate::request::{Principal, PrincipalKind};

/// What a record must say to be mapped at all: an API call, to a known action, by an
/// identity.
pub(super) struct Event<'r, 'a> {
    pub(super) fields: Fields<'r>,
    pub(super) source: &'r str,
    pub(super) entry: &'a EventEntry,
    pub(super) action: &'a str,
    pub(super) identity: Identity<'r>,
    pub(super) source_ip: &'r str,
}

impl<'r, 'a> Event<'r, 'a> {
    pub(super) fn read(
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
    pub(super) fn forwarding_service(&self, principal: &Principal) -> Option<&'r str> {
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
pub(super) fn explained(entry: &EventEntry, explain: bool) -> String {
    if explain {
        format!(" (mapping: {})", entry.origin)
    } else {
        String::new()
    }
}
