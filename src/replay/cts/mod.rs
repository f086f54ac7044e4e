//! One Huawei Cloud Trace Service (CTS) trace → one authorisation question.
//!
//! Huawei users keep their audit trail in CTS, not CloudTrail; a replay reads both, told
//! apart **by content**, record by record: a record with `service_type` and `trace_name` and
//! no `eventSource` is a CTS trace ([`trace_of`]), so one directory may mix the two, in any
//! of the readers' forms (JSON Lines, arrays, gzip — CTS delivers `*.json.gz` trace files to
//! OBS — and the documentation's `{"_source": …, "record": {…}}` wrapper).
//!
//! A trace says who called (`user`: `principal_urn`, `type`, `domain`, `invoked_by`, the
//! agency session's `session_context`), what (`service_type`/`trace_name` → the Huawei
//! action, [`table`]), on what (`resource_id`, `resource_name`, `resource_account_id` → a
//! URN), from where (`source_ip`), when (`time`, epoch milliseconds) and how it ended
//! (`code`, `trace_rating`). That becomes a [`Request`](crate::request::Request) in the
//! Huawei dialect, whose principal is the caller's URN (`iam::<account>:user:<name>`,
//! `sts::<account>:assumed-agency:<agency>/<session>`; the account's root user, whom
//! `principal_is_root_user` marks, is `iam::<account>:root`).
//!
//! **Forwarded calls.** `user.invoked_by` names "the service that sent the request"
//! (`["service.console"]` for the console). A trace whose `invoked_by` names another service
//! (`service.obs`), made with a user's identity, is a call that service made on the user's
//! behalf: hop 1 of a two-hop chain, `via` that service, after a hop 0 that needs no
//! permission (as for CloudTrail's `invokedBy`). Its context is R-HW-13's: `g:ViaService`
//! true, `g:CalledVia*` the service, no `g:SourceIp` nor VPC keys. An *agency session*
//! whose `invoked_by` names a service is that service acting with the agency the customer
//! gave it (a cloud-service agency, `trace-fields.md` §3): delegation, not a forwarded
//! user session, so it is a direct call by the agency session. No documented trace shows
//! a service value of `invoked_by`: the rule is inferred (corpus/replay/huawei/README.md).
//!
//! **Not mapped**, each with a class and a reason: traces the table has no action for
//! (`unknown-action`, `not-an-iam-action`), `SystemAction` traces with no `user` (CTS: the
//! caller cannot be recovered), and callers with no principal URN the trace can give
//! (`unknown-principal`: federated users, the old `<domain>/<agency>` operator names).
//!
//! ```
//! use fastiam::replay::{map_record, ActionMap, MapOptions};
//! let trace = serde_json::json!({
//!     "service_type": "KMS", "trace_name": "createDataKey", "time": 1767225613000u64,
//!     "resource_id": "0d0e0f10", "source_ip": "", "code": "200",
//!     "user": {"type": "User", "principal_urn": "iam::0a1b:user:alice",
//!              "domain": {"id": "0a1b", "name": "example"}, "invoked_by": ["service.obs"]}});
//! let mapped = map_record(&trace, "traces.jsonl: line 1", ActionMap::shared(), &MapOptions::default()).unwrap();
//! assert_eq!((mapped.action(), mapped.hop), ("kms:dek:create", 1));
//! assert_eq!(mapped.via.as_deref(), Some("service.obs"));
//! assert_eq!(mapped.request.principal.arn, "iam::0a1b:user:alice");
//! ```

pub mod table;

use std::borrow::Cow;
use std::fmt::Write as _;

use super::json::{self, JsonContainerTrait as _, JsonValueTrait as _, Object, Record, Value};

use crate::policy::Dialect;
use crate::request::spares::{set_text, Spares};
use crate::request::{default_resource_account_str, Context, Hop, PrincipalKind};

use super::record::{
    reuse_hops, set_logged_hop, set_unlogged_origin_hop, LogOutcome, MapOptions, MappedRecord,
    Unmappable,
};
pub use table::{CtsEntry, CtsMap, UrnFacts};

/// The trace inside `record`, when `record` is a CTS trace (module docs): the object itself,
/// or the trace of a documentation wrapper `{"_source": …, "record": {…}}`. A ListTraces
/// API response (`{"traces": [...]}`) is one too, which [`CtsMapper::map`] refuses with a
/// hint.
pub fn trace_of(record: &Record) -> Option<&Object> {
    let object = record.as_object()?;
    // A CloudTrail record, the common case, costs one look-up.
    if object.contains_key(&"eventSource") {
        return None;
    }
    let is_trace = |o: &Object| {
        !o.contains_key(&"eventSource")
            && ((o.contains_key(&"service_type") && o.contains_key(&"trace_name"))
                || json::field(o, "traces").is_some_and(Value::is_array))
    };
    if is_trace(object) {
        return Some(object);
    }
    json::field(object, "record")
        .and_then(Value::as_object)
        .filter(|inner| is_trace(inner))
}

/// Keys a mapped trace always determines (set, or known absent): R-HW-12 sets the
/// CalledVia keys and `g:ViaService` only on forwarded calls, and a session's MFA and
/// issue time are in its `session_context` when it has them.
const ALWAYS_KNOWN: &[&str] = &[
    "g:calledvia",
    "g:calledviafirst",
    "g:calledvialast",
    "g:viaservice",
    "g:mfapresent",
    "g:mfaage",
    "g:tokenissuetime",
];

/// Keys R-HW-13 removes from a forwarded hop: known absent there.
const FORWARDED_ABSENT: &[&str] = &["g:sourceip", "g:sourcevpc", "g:sourcevpce", "g:vpcsourceip"];

fn unmappable(class: &'static str, reason: impl Into<String>) -> Unmappable {
    Unmappable {
        class,
        reason: reason.into(),
    }
}

/// The fields of a trace the mapping reads, found in one pass.
#[derive(Default)]
struct Fields<'t> {
    code: Option<&'t Value>,
    resource_account_id: Option<&'t str>,
    resource_id: Option<&'t str>,
    resource_name: Option<&'t str>,
    service_type: Option<&'t str>,
    source_ip: Option<&'t str>,
    time: Option<&'t Value>,
    trace_id: Option<&'t str>,
    trace_name: Option<&'t str>,
    trace_rating: Option<&'t str>,
    trace_type: Option<&'t str>,
    user: Option<&'t Value>,
    user_agent: Option<&'t str>,
}

impl<'t> Fields<'t> {
    fn of(trace: &'t Object) -> Fields<'t> {
        let mut f = Fields::default();
        for (key, value) in trace.iter() {
            let text = value.as_str();
            match key {
                "code" => f.code = Some(value),
                "resource_account_id" => f.resource_account_id = text,
                "resource_id" => f.resource_id = text,
                "resource_name" => f.resource_name = text,
                "service_type" => f.service_type = text,
                "source_ip" => f.source_ip = text,
                "time" => f.time = Some(value),
                "trace_id" => f.trace_id = text,
                "trace_name" => f.trace_name = text,
                "trace_rating" => f.trace_rating = text,
                "trace_type" => f.trace_type = text,
                "user" => f.user = Some(value),
                "user_agent" => f.user_agent = text,
                _ => {}
            }
        }
        f
    }
}

/// The fields of `user` the mapping reads.
#[derive(Default)]
struct User<'t> {
    kind: &'t str,
    name: Option<&'t str>,
    id: Option<&'t str>,
    principal_urn: Option<&'t str>,
    account_id: Option<&'t str>,
    domain_id: Option<&'t str>,
    domain_name: Option<&'t str>,
    is_root: Option<&'t str>,
    invoked_by: Option<&'t Value>,
    session_attributes: Option<&'t Value>,
}

impl<'t> User<'t> {
    fn of(user: &'t Object) -> User<'t> {
        let mut u = User::default();
        // `name`, else `user_name`, each its last value (as read from a serde_json map
        // before, whatever their order).
        let mut user_name = None;
        for (key, value) in user.iter() {
            let text = value.as_str();
            match key {
                "type" => u.kind = text.unwrap_or(""),
                "name" => u.name = text,
                "user_name" => user_name = text,
                "id" => u.id = text,
                "principal_urn" => u.principal_urn = text,
                "account_id" => u.account_id = text,
                "domain" => {
                    u.domain_id = json::get(value, "id").and_then(json::as_str);
                    u.domain_name = json::get(value, "name").and_then(json::as_str);
                }
                "principal_is_root_user" => u.is_root = text,
                "invoked_by" => u.invoked_by = Some(value),
                "session_context" => u.session_attributes = json::get(value, "attributes"),
                _ => {}
            }
        }
        u.name = u.name.or(user_name);
        u
    }

    fn account(&self) -> Option<&'t str> {
        self.account_id.or(self.domain_id).filter(|a| !a.is_empty())
    }

    /// The first service of `invoked_by` other than the console (a list, or one string).
    fn invoking_service(&self) -> Option<&'t str> {
        let is_service = |s: &&str| s.starts_with("service.") && *s != "service.console";
        match self.invoked_by? {
            v if v.is_str() => v.as_str().filter(is_service),
            v => v
                .as_array()?
                .iter()
                .filter_map(json::as_str)
                .find(is_service),
        }
    }
}

/// Maps CTS traces one after another into one [`MappedRecord`], reusing its buffers (as
/// [`super::RecordMapper`] does for CloudTrail records; it holds one of these).
#[derive(Debug)]
pub struct CtsMapper {
    mapped: MappedRecord,
    spares: Spares,
    /// Numbers formatted before they are copied into the request.
    text: String,
}

impl Default for CtsMapper {
    fn default() -> Self {
        CtsMapper::new()
    }
}

impl CtsMapper {
    pub fn new() -> CtsMapper {
        let mut mapped = MappedRecord::empty();
        mapped.request.dialect = Dialect::Huawei;
        CtsMapper {
            mapped,
            spares: Spares::default(),
            text: String::new(),
        }
    }

    /// Maps one trace (from [`trace_of`]) with the table `table`; `position` names it when
    /// it has no `trace_id`.
    pub fn map(
        &mut self,
        trace: &Object,
        position: &dyn std::fmt::Display,
        table: &CtsMap,
        options: &MapOptions,
    ) -> Result<&mut MappedRecord, Unmappable> {
        let f = Fields::of(trace);
        let (Some(service), Some(name)) = (f.service_type, f.trace_name) else {
            if trace.contains_key(&"traces") {
                return Err(unmappable(
                    "cts-listing",
                    "a ListTraces API response (`{\"traces\": [...]}`): replay its traces, e.g. `jq -c '.traces[]'`",
                ));
            }
            return Err(unmappable(
                "malformed",
                "CTS trace without `service_type` and `trace_name` strings",
            ));
        };
        let entry = table.lookup(service, name).ok_or_else(|| {
            unmappable(
                "unknown-action",
                format!("no Huawei action known for CTS trace {service} {name}"),
            )
        })?;
        let Some(action) = entry.action.as_deref() else {
            return Err(unmappable(
                "not-an-iam-action",
                format!("CTS trace {service} {name}: {}", entry.note),
            ));
        };
        let user = match f.user.map(|u| (u.as_object(), u.is_null())) {
            Some((Some(user), _)) => User::of(user),
            Some((None, true)) | None => {
                return Err(unmappable(
                    "no-principal",
                    format!(
                        "trace_type `{}` with no `user`: the caller cannot be attributed",
                        f.trace_type.unwrap_or("?")
                    ),
                ))
            }
            Some((None, false)) => return Err(unmappable("malformed", "`user` is not an object")),
        };

        let CtsMapper {
            mapped: m,
            spares,
            text,
        } = self;
        principal_into(&user, m, spares, text)?;
        let principal = &m.request.principal;
        let via = user
            .invoking_service()
            .filter(|_| principal.kind != PrincipalKind::AssumedRole);
        let hop = usize::from(via.is_some());
        let account = f
            .resource_account_id
            .filter(|a| !a.is_empty())
            .or(user.account())
            .unwrap_or("");
        let region = options
            .extra_context
            .iter()
            .find(|(k, _)| k == "g:requestedregion")
            .map_or("", |(_, v)| v.as_str());
        let facts = UrnFacts {
            account,
            region,
            resource_id: f.resource_id.unwrap_or(""),
            resource_name: f.resource_name.unwrap_or(""),
        };

        // Nothing fails from here on.
        let request = &mut m.request;
        reuse_hops(&mut request.context, &mut request.hops, hop + 1, spares);
        let recorded = &mut request.hops[hop];
        // A URN the trace cannot give is an unknown of the answer (`super::certainty`).
        let urn = table.urn_into(entry, &facts, &mut recorded.resource);
        let unknown = urn.err().map(|reason| {
            text.clear();
            let template = entry.urn.as_deref().unwrap_or("-");
            let _ = write!(text, "CTS trace {service} {name} ({template}): {reason}");
            text.as_str()
        });
        spares.set_optional(&mut m.resource_unknown, unknown);
        set_recorded_hop(recorded, action, via, account, spares);
        if let Some(service) = via {
            set_origin_hop(&mut request.hops[0], service, spares);
        }

        forget(&mut m.known_keys, spares);
        let known = &mut m.known_keys;
        known.extend(ALWAYS_KNOWN.iter().map(|k| Cow::Borrowed(*k)));
        session_keys(&user, &mut request.context, spares, known, text);
        let call = match via {
            Some(_) => &mut request.hops[hop].context,
            None => &mut request.context,
        };
        let time = f.time.and_then(epoch_millis);
        m.event_secs = time.map(|ms| ms.div_euclid(1000));
        if let Some(ms) = time {
            text.clear();
            if write_iso_date(ms, text) {
                spares.set_single(call, "g:currenttime", text);
                known.push(Cow::Borrowed("g:currenttime"));
            }
        }
        let source_ip = f.source_ip.unwrap_or("");
        match via {
            Some(_) => known.extend(FORWARDED_ABSENT.iter().map(|k| Cow::Borrowed(*k))),
            None if source_ip.parse::<std::net::IpAddr>().is_ok() => {
                spares.set_single(call, "g:sourceip", source_ip);
                known.push(Cow::Borrowed("g:sourceip"));
            }
            None => {}
        }
        if let Some(agent) = f.user_agent {
            spares.set_single(call, "g:useragent", agent);
            known.push(Cow::Borrowed("g:useragent"));
        }
        for (k, v) in &options.extra_context {
            spares.set_single(call, k, v);
            known.push(Cow::Owned(spares.string(k)));
        }

        let (outcome, error) = outcome(&f, text);
        m.log_outcome = outcome;
        spares.set_optional(&mut m.error_code, error.then_some(text.as_str()));
        spares.set_optional(&mut m.via, via);
        match f.trace_id {
            Some(id) => set_text(&mut m.id, id),
            None => {
                m.id.clear();
                let _ = write!(m.id, "{position}");
            }
        }
        m.hop = hop;
        m.principal_tags_known = false;
        Ok(m)
    }
}

/// The caller's principal and the identity whose policies apply: `principal_urn`, or for
/// an old trace with none, the IAM user URN its `domain.id` and `name` give; the root user
/// (`principal_is_root_user`) as the account's root, `iam::<account>:root`.
fn principal_into(
    user: &User<'_>,
    m: &mut MappedRecord,
    spares: &mut Spares,
    text: &mut String,
) -> Result<(), Unmappable> {
    let urn = match (user.principal_urn, user.name, user.account()) {
        // The account's root user: full permissions in its account (R-EVAL-6), which
        // the principal's `Root` kind carries; its `principal_urn` is a user's.
        (_, _, Some(account)) if user.is_root == Some("true") => {
            text.clear();
            let _ = write!(text, "iam::{account}:root");
            text.as_str()
        }
        (Some(urn), _, _) => urn,
        (None, Some(name), Some(account)) if !name.contains('/') && !name.is_empty() => {
            text.clear();
            let _ = write!(text, "iam::{account}:user:{name}");
            text.as_str()
        }
        (None, Some(name), _) => {
            return Err(unmappable(
                "unknown-principal",
                format!("operator `{name}` has no `principal_urn`, and its name is not an IAM user's with the account known (an agency or federated operator)"),
            ))
        }
        (None, None, _) => {
            return Err(unmappable(
                "unknown-principal",
                "`user` has neither `principal_urn` nor `name`",
            ))
        }
    };
    let principal = &mut m.request.principal;
    if principal.arn != urn {
        principal
            .parse_into(urn)
            .map_err(|e| unmappable("unknown-principal", e.0))?;
    }
    let identity = match principal.kind {
        PrincipalKind::AssumedRole => principal.role_arn.as_deref(),
        _ => Some(principal.arn.as_str()),
    };
    spares.set_optional(&mut m.identity_arn, identity);
    Ok(())
}

/// The session's keys on hop 0 (carried to a forwarded hop by R-HW-13): MFA and issue time
/// of an agency session, and the principal facts the trace gives.
fn session_keys(
    user: &User<'_>,
    ctx: &mut Context,
    spares: &mut Spares,
    known: &mut Vec<Cow<'static, str>>,
    text: &mut String,
) {
    let mut set = |key: &'static str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            spares.set_single(ctx, key, v);
            known.push(Cow::Borrowed(key));
        }
    };
    set("g:domainname", user.domain_name);
    let attributes = user.session_attributes;
    let attribute = |k| {
        attributes
            .and_then(|a| json::get(a, k))
            .and_then(json::as_str)
    };
    set("g:mfapresent", attribute("mfa_authenticated"));
    set("g:principalisrootuser", user.is_root);
    text.clear();
    if let Some(ms) = attribute("created_at").and_then(|s| s.parse().ok()) {
        write_iso_date(ms, text);
    }
    set("g:tokenissuetime", Some(text));
    if user.kind == "User" {
        set("g:userid", user.id);
    }
}

/// What the trace says of the outcome, and whether `text` now holds an error code.
fn outcome(f: &Fields<'_>, text: &mut String) -> (LogOutcome, bool) {
    text.clear();
    match f.code {
        Some(v) if v.is_str() => text.push_str(v.as_str().unwrap_or("")),
        Some(v) if v.is_number() => {
            let _ = write!(text, "{v}");
        }
        _ => {}
    }
    let rating_ok = f.trace_rating.is_none_or(|r| r == "normal");
    match text.parse::<u16>() {
        Ok(200..=299) if rating_ok => (LogOutcome::Succeeded, false),
        Ok(401 | 403) => (LogOutcome::Denied, true),
        Ok(_) => (LogOutcome::OtherError, true),
        Err(_) if text.is_empty() && rating_ok => (LogOutcome::Succeeded, false),
        Err(_) => {
            if text.is_empty() {
                let _ = write!(text, "trace_rating {}", f.trace_rating.unwrap_or("?"));
            }
            (LogOutcome::OtherError, true)
        }
    }
}

/// `time`: epoch milliseconds, as a number or a string of digits (older console exports
/// write a local date string, which is not read).
fn epoch_millis(v: &Value) -> Option<i64> {
    if v.is_number() {
        v.as_i64()
    } else {
        v.as_str()?.parse().ok()
    }
}

/// Writes epoch milliseconds as ISO 8601 UTC (`2026-01-01T00:00:01Z`, the form of
/// `g:CurrentTime`); false, writing nothing, outside years 1970–9999.
fn write_iso_date(ms: i64, out: &mut String) -> bool {
    if !(0..=253_402_300_799_999).contains(&ms) {
        return false;
    }
    let secs = ms / 1000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 → civil date (H. Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, min, s) = (day_secs / 3600, day_secs % 3600 / 60, day_secs % 60);
    let _ = write!(out, "{year:04}-{month:02}-{day:02}T{h:02}:{min:02}:{s:02}Z");
    true
}

/// Empties the known keys of the previous trace, keeping owned buffers.
fn forget(known: &mut Vec<Cow<'static, str>>, spares: &mut Spares) {
    for key in known.drain(..) {
        if let Cow::Owned(buf) = key {
            spares.strings.push(buf);
        }
    }
}

/// The recorded call, its resource already set (its account: the URN's, else the trace's).
fn set_recorded_hop(
    hop: &mut Hop,
    action: &str,
    via: Option<&str>,
    account: &str,
    spares: &mut Spares,
) {
    let owner = default_resource_account_str(&hop.resource)
        .or_else(|| (!account.is_empty()).then_some(account));
    spares.set_optional(&mut hop.resource_account, owner);
    set_logged_hop(hop, action, via, spares);
}

/// The user's own call to the forwarding service (`service.obs` → `obs:*:*`): not in the
/// trace, and needing no permission.
fn set_origin_hop(hop: &mut Hop, service: &str, spares: &mut Spares) {
    let prefix = service.strip_prefix("service.").unwrap_or(service);
    set_unlogged_origin_hop(hop, prefix, ":*:*", spares);
}

#[cfg(test)]
mod tests;
