//! Writes requests, with the answers the Rust API gives, as a flat text file that a C
//! program reads without a JSON parser (`requests.c`). Used by the C ABI tests
//! (`tests/integration/capi/`) and by `examples/c_workload.rs`, which prepares the C
//! example's benchmark; included in both with `#[path]`.
//!
//! One record per line, fields separated by tabs. In a field, `\\`, `\t`, `\n` and `\r`
//! are escapes, and `\N` alone is an absent string. Numbers are decimal.
//!
//! ```text
//! fastiam-requests  1
//! program     PATH                               (later requests use this program file)
//! request     aws|huawei  PRINCIPAL-ARN          (starts a request)
//! principal   KIND ACCOUNT ROLE-ARN PARENT-USER SERVICE-LINKED MANAGEMENT   (overrides)
//! services    NAME...                            (CalledVia registry; absent: default)
//! preserve_source_ip  FLAG
//! credentials ISSUED EXPIRES
//! context     MULTI KEY VALUE...                 (hop 0's given context)
//! hop         VIA ACTION RESOURCE ACCOUNT HAS-RP RP RP-REQUIRED NO-PERMISSION
//! hopcontext  MULTI KEY VALUE...                 (the last hop's own keys)
//! expect      DECISION REASON DENIED-AT|- HOPS   (the Rust API's answer)
//! expecthop   DECISION REASON MATCHED-IDS MISSING-IDS   (ids comma-separated, or -)
//! end
//! ```
//!
//! KIND, MULTI and the flags are the header's `fastiam_principal_kind` / `fastiam_flag`
//! values; fields equal to what the ABI would default to are written as defaults (0,
//! `\N`), as a C caller would leave them.

#![allow(dead_code)] // each includer uses part of it

use std::io::{self, Write};

use fastiam::decision::{Decision, Reason};
use fastiam::eval::{ChainOutcome, Evaluator};
use fastiam::policy::Dialect;
use fastiam::request::{
    default_requires_no_permission, default_resource_account, default_resource_policy_required,
    Context, ContextValue, Principal, PrincipalKind, Request, DEFAULT_CALLED_VIA_SERVICES,
};

/// The Rust API's answer for one request, as the file records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub decision: &'static str,
    pub reason: String,
    pub denied_at: Option<usize>,
    /// Per evaluated hop: decision, reason, matched statement ids, missing key ids.
    pub hops: Vec<(&'static str, String, Vec<u32>, Vec<u32>)>,
}

impl Expected {
    /// What `evaluator` answered, in the ABI's terms (the chain's reason is the denied
    /// hop's, the last hop's when allowed, `ExpiredCredentials` for invalid credentials).
    pub fn of(outcome: &ChainOutcome<'_>) -> Expected {
        let hops: Vec<_> = outcome
            .hops
            .iter()
            .map(|h| {
                (
                    h.decision.name(),
                    h.reason.to_string(),
                    outcome.matched(h).to_vec(),
                    outcome.missing(h).to_vec(),
                )
            })
            .collect();
        let reason = if outcome.decision == Decision::InvalidCredentials {
            Reason::ExpiredCredentials.to_string()
        } else {
            let deciding = outcome.denied_at.unwrap_or(hops.len().saturating_sub(1));
            hops.get(deciding)
                .map_or_else(|| Reason::NoAllow.to_string(), |h| h.1.clone())
        };
        Expected {
            decision: outcome.decision.name(),
            reason,
            denied_at: outcome.denied_at,
            hops,
        }
    }

    /// Evaluates `request` with the Rust API and records the answer.
    pub fn evaluate(evaluator: &Evaluator<'_>, request: &Request) -> Expected {
        let mut scratch = evaluator.scratch();
        Expected::of(&evaluator.evaluate(request, &mut scratch))
    }
}

/// Writes a requests file.
pub struct RequestsWriter<W: Write> {
    out: W,
}

fn escape(s: &str) -> io::Result<String> {
    if s.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{s:?}: the requests format has no NUL"),
        ));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn optional(s: Option<&str>) -> io::Result<String> {
    s.map_or(Ok("\\N".to_string()), escape)
}

fn flag(value: Option<bool>) -> u32 {
    match value {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }
}

fn kind_code(kind: PrincipalKind) -> u32 {
    match kind {
        PrincipalKind::User => 1,
        PrincipalKind::AssumedRole => 2,
        PrincipalKind::FederatedUser => 3,
        PrincipalKind::Root => 4,
        PrincipalKind::Service => 5,
        PrincipalKind::Anonymous => 6,
    }
}

fn ids(ids: &[u32]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

impl<W: Write> RequestsWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        writeln!(out, "fastiam-requests\t1")?;
        Ok(RequestsWriter { out })
    }

    /// Later requests use the program file at `path`.
    pub fn program(&mut self, path: &str) -> io::Result<()> {
        writeln!(self.out, "program\t{}", escape(path)?)
    }

    fn context(&mut self, record: &str, ctx: &Context) -> io::Result<()> {
        for (key, value) in ctx.iter() {
            let multi = flag(Some(matches!(value, ContextValue::Multi(_))));
            write!(self.out, "{record}\t{multi}\t{}", escape(key)?)?;
            for v in value.values() {
                write!(self.out, "\t{}", escape(v)?)?;
            }
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// Writes `request` and the answer it should get.
    pub fn request(&mut self, request: &Request, expected: &Expected) -> io::Result<()> {
        let dialect = match request.dialect {
            Dialect::Aws => "aws",
            Dialect::Huawei => "huawei",
        };
        let p = &request.principal;
        writeln!(self.out, "request\t{dialect}\t{}", escape(&p.arn)?)?;
        let mut parsed = Principal::from_arn(&p.arn)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.0))?;
        if !matches!(
            parsed.kind,
            PrincipalKind::Anonymous | PrincipalKind::Service
        ) {
            parsed.dialect = request.dialect;
        }
        if parsed != *p {
            // The overrides can set fields, not clear them.
            let clears = |given: &Option<String>, derived: &Option<String>| {
                given.is_none() && derived.is_some()
            };
            if clears(&p.account, &parsed.account) || clears(&p.role_arn, &parsed.role_arn) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("principal {p:?}: an override that clears a field"),
                ));
            }
            writeln!(
                self.out,
                "principal\t{}\t{}\t{}\t{}\t{}\t{}",
                kind_code(p.kind),
                optional(p.account.as_deref())?,
                optional(p.role_arn.as_deref())?,
                optional(p.parent_user_arn.as_deref())?,
                flag(Some(p.service_linked)),
                flag(Some(p.management_account)),
            )?;
        }
        let fas = &request.options.fas;
        if fas.called_via_services != DEFAULT_CALLED_VIA_SERVICES {
            write!(self.out, "services")?;
            for s in &fas.called_via_services {
                write!(self.out, "\t{}", escape(s)?)?;
            }
            writeln!(self.out)?;
        }
        if !fas.preserve_source_ip {
            writeln!(self.out, "preserve_source_ip\t1")?;
        }
        if let Some(creds) = &request.credentials {
            let date = |t: Option<fastiam::primitives::Instant>| {
                t.map_or("\\N".to_string(), |t| {
                    format!("{}", t.secs)
                        + &(if t.nanos == 0 {
                            String::new()
                        } else {
                            "?".into()
                        })
                })
            };
            let (issued, expires) = (date(creds.issued), date(creds.expires));
            if issued.ends_with('?') || expires.ends_with('?') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "credentials with fractions of a second",
                ));
            }
            writeln!(self.out, "credentials\t{issued}\t{expires}")?;
        }
        self.context("context", &request.context)?;
        for hop in &request.hops {
            let account = if hop.resource_account == default_resource_account(&hop.resource) {
                None
            } else {
                Some(hop.resource_account.as_deref())
            };
            let account = match account {
                None => "\\N".to_string(),
                Some(None) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "a hop without resource account where the resource names one",
                    ))
                }
                Some(Some(a)) => escape(a)?,
            };
            let default_required =
                default_resource_policy_required(request.dialect, &hop.action, &hop.resource);
            writeln!(
                self.out,
                "hop\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                optional(hop.via.as_deref())?,
                escape(&hop.action)?,
                escape(&hop.resource)?,
                account,
                flag(hop.resource_policy.map(|_| true)),
                hop.resource_policy.unwrap_or(0),
                if hop.resource_policy_required == default_required {
                    0
                } else {
                    flag(Some(hop.resource_policy_required))
                },
                flag(
                    (hop.requires_no_permission
                        != default_requires_no_permission(request.dialect, &hop.action))
                    .then_some(hop.requires_no_permission),
                ),
            )?;
            self.context("hopcontext", &hop.context)?;
        }
        writeln!(
            self.out,
            "expect\t{}\t{}\t{}\t{}",
            expected.decision,
            expected.reason,
            expected
                .denied_at
                .map_or_else(|| "-".to_string(), |d| d.to_string()),
            expected.hops.len()
        )?;
        for (decision, reason, matched, missing) in &expected.hops {
            writeln!(
                self.out,
                "expecthop\t{decision}\t{reason}\t{}\t{}",
                ids(matched),
                ids(missing)
            )?;
        }
        writeln!(self.out, "end")
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
