//! How each hop's request context is derived (R-FAS-4, R-FAS-5, R-FAS-6, R-HW-12, R-HW-13).
//!
//! Hop 0 is the principal's own call: its context is what the case gives plus the keys
//! AWS always sets (`aws:ViaAWSService=false`, `aws:PrincipalIsAWSService`) and the
//! principal keys derived from the principal when not given ([`initial_context`]).
//! Hop k ≥ 1 is a forwarded request made by service `via` on the principal's behalf; its
//! context is derived from hop k−1's by [`derive_fas_context`] — network keys of the origin
//! dropped, `aws:CalledVia` extended for registry services — and the hop's own keys are
//! then laid over it ([`hop_context`]).
//!
//! This is a pure function shared by both evaluators (R-COMP-5): it is not part of the
//! bytecode, so a compiled and a reference evaluation see the same contexts.
//!
//! ```
//! use fastiam::policy::Dialect;
//! use fastiam::request::{derive_fas_context, Context, ContextValue, FasOptions};
//! let mut hop0 = Context::new();
//! hop0.set_single("aws:sourcevpc", "vpc-1");
//! hop0.set_single("aws:viaawsservice", "false");
//! let hop1 = derive_fas_context(&hop0, "athena.amazonaws.com", Dialect::Aws, &FasOptions::default());
//! assert!(!hop1.contains("aws:sourcevpc"));
//! assert_eq!(hop1.get("aws:calledvia"), Some(&ContextValue::Multi(vec!["athena.amazonaws.com".into()])));
//! assert_eq!(hop1.get("aws:viaawsservice"), Some(&ContextValue::Single("true".into())));
//! ```

use super::context::{Context, ContextValue};
use super::principal::{Principal, PrincipalKind};
use crate::policy::Dialect;

/// The default AWS CalledVia registry (R-FAS-6): the union of the 2023 list, the 2024–25
/// additions and `servicecatalog.amazonaws.com` (19 entries).
pub const DEFAULT_CALLED_VIA_SERVICES: &[&str] = &[
    "athena.amazonaws.com",
    "cloud9.amazonaws.com",
    "cloudformation.amazonaws.com",
    "databrew.amazonaws.com",
    "dataexchange.amazonaws.com",
    "dynamodb.amazonaws.com",
    "kms.amazonaws.com",
    "servicecatalog-appregistry.amazonaws.com",
    "sqlworkbench.amazonaws.com",
    "aoss.amazonaws.com",
    "backup.amazonaws.com",
    "imagebuilder.amazonaws.com",
    "mgn.amazonaws.com",
    "nimble.amazonaws.com",
    "omics.amazonaws.com",
    "ram.amazonaws.com",
    "robomaker.amazonaws.com",
    "ssm-guiconnect.amazonaws.com",
    "servicecatalog.amazonaws.com",
];

/// Options of the FAS derivation (CASES.md `options`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FasOptions {
    /// Services whose forwarded requests append to `aws:CalledVia` (R-FAS-6).
    pub called_via_services: Vec<String>,
    /// Whether `aws:SourceIp` is carried to forwarded hops (R-FAS-5; default true).
    pub preserve_source_ip: bool,
}

impl Default for FasOptions {
    fn default() -> Self {
        FasOptions {
            called_via_services: DEFAULT_CALLED_VIA_SERVICES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            preserve_source_ip: true,
        }
    }
}

/// Hop 0's context: the given keys, then (only where not given) the keys AWS always sets
/// and the principal keys of R-CTX-6. A given value always wins (CASES.md).
pub fn initial_context(given: &Context, principal: &Principal, dialect: Dialect) -> Context {
    let mut ctx = given.clone();
    match dialect {
        Dialect::Aws => aws_principal_keys(&mut ctx, principal),
        Dialect::Huawei => huawei_principal_keys(&mut ctx, principal),
    }
    ctx
}

fn aws_principal_keys(ctx: &mut Context, p: &Principal) {
    // R-FAS-4: `aws:ViaAWSService` is always present, false on a direct call (R-FAS-9).
    ctx.set_default("aws:viaawsservice", "false");
    let is_service = p.kind == PrincipalKind::Service;
    ctx.set_default(
        "aws:principalisawsservice",
        if is_service { "true" } else { "false" },
    );
    if is_service {
        ctx.set_default("aws:principalservicename", &p.arn);
        if !ctx.contains("aws:principalservicenameslist") {
            ctx.set(
                "aws:principalservicenameslist".into(),
                ContextValue::Multi(vec![p.arn.clone()]),
            );
        }
        return;
    }
    if let Some(arn) = p.principal_arn_key() {
        ctx.set_default("aws:principalarn", arn);
    }
    if let Some(account) = &p.account {
        ctx.set_default("aws:principalaccount", account);
    }
    let (kind, userid) = match p.kind {
        PrincipalKind::Root => ("Account", p.account.as_deref()),
        PrincipalKind::User => ("User", None),
        PrincipalKind::FederatedUser => ("FederatedUser", None),
        PrincipalKind::AssumedRole => ("AssumedRole", None),
        PrincipalKind::Anonymous => ("Anonymous", Some("anonymous")),
        PrincipalKind::Service => return, // handled above
    };
    ctx.set_default("aws:principaltype", kind);
    if let Some(userid) = userid {
        ctx.set_default("aws:userid", userid);
    }
    if p.kind == PrincipalKind::User {
        if let Some(name) = &p.name {
            ctx.set_default("aws:username", name);
        }
    }
}

fn huawei_principal_keys(ctx: &mut Context, p: &Principal) {
    // R-HW-12: a direct call carries neither `g:CalledVia` nor `g:ViaService`.
    if !p.is_authenticated() {
        return;
    }
    ctx.set_default("g:principalurn", &p.arn);
    if let Some(account) = &p.account {
        ctx.set_default("g:principalaccount", account);
        ctx.set_default("g:domainid", account);
    }
    let kind = match p.kind {
        PrincipalKind::AssumedRole => "AssumedAgency",
        PrincipalKind::Root => "Account",
        _ => "User",
    };
    ctx.set_default("g:principaltype", kind);
    if p.kind == PrincipalKind::User {
        if let Some(name) = &p.name {
            ctx.set_default("g:username", name);
        }
    }
}

/// The context of a forwarded hop made by service `via`, derived from the previous hop's
/// context, before the hop's own keys are laid over it.
pub fn derive_fas_context(
    parent: &Context,
    via: &str,
    dialect: Dialect,
    options: &FasOptions,
) -> Context {
    match dialect {
        Dialect::Aws => derive_aws(parent, via, options),
        Dialect::Huawei => derive_huawei(parent, via),
    }
}

/// The full context of hop k ≥ 1: [`derive_fas_context`], then the hop's own keys,
/// which override the derivation (CASES.md).
pub fn hop_context(
    parent: &Context,
    via: &str,
    own: &Context,
    dialect: Dialect,
    options: &FasOptions,
) -> Context {
    let mut ctx = derive_fas_context(parent, via, dialect, options);
    for (k, v) in own.iter() {
        ctx.set(k.to_string(), v.clone());
    }
    ctx
}

/// Keys of the origin's network path, removed on AWS forwarded hops (R-FAS-4).
const AWS_DROPPED: &[&str] = &[
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:sourcevpcarn",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:referer",
    "aws:tagkeys",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
];

/// Key prefixes that belong to the request or resource of one hop (R-FAS-4).
const AWS_DROPPED_PREFIXES: &[&str] = &["aws:requesttag/", "aws:resourcetag/"];

/// Keys without the `aws:` prefix that are session attributes, carried like principal
/// keys (R-FAS-4 "session keys" row). Every other service key belongs to its hop.
const AWS_SESSION_SERVICE_KEYS: &[&str] = &[
    "ec2:sourceinstancearn",
    "ec2:roledelivery",
    "lambda:sourcefunctionarn",
    "identitystore:userid",
];

/// Whether a non-`aws:` key is a session attribute: the listed keys, SAML keys, and
/// web-identity provider keys (`accounts.google.com:sub`: a host name before the colon).
fn is_session_service_key(key: &str) -> bool {
    if AWS_SESSION_SERVICE_KEYS.contains(&key) || key.starts_with("saml:") {
        return true;
    }
    key.split_once(':')
        .is_some_and(|(prefix, _)| prefix.contains('.'))
}

fn derive_aws(parent: &Context, via: &str, options: &FasOptions) -> Context {
    let mut ctx = parent.clone();
    ctx.retain(|k| {
        if k.starts_with("aws:") {
            !AWS_DROPPED.contains(&k) && !AWS_DROPPED_PREFIXES.iter().any(|p| k.starts_with(p))
        } else {
            is_session_service_key(k)
        }
    });
    if !options.preserve_source_ip {
        ctx.remove("aws:sourceip");
    }
    let mut called_via = called_via_list(parent, "aws:calledvia");
    if options.called_via_services.iter().any(|s| s == via) {
        called_via.push(via.to_string());
    }
    set_called_via(
        &mut ctx,
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        called_via,
    );
    ctx.set_single("aws:viaawsservice", "true");
    ctx.set_single("aws:principalisawsservice", "false");
    // Long-term credentials become temporary ones on a forwarded request (T-FAS-5).
    ctx.set_default("aws:multifactorauthpresent", "false");
    // R-FAS-4 decisions: the service calls over TLS and names itself as the user agent.
    ctx.set_single("aws:securetransport", "true");
    ctx.set_single("aws:useragent", via);
    ctx
}

/// Keys removed on Huawei forwarded hops besides every non-`g:` key (R-HW-13).
const HUAWEI_DROPPED: &[&str] = &[
    "g:sourceip",
    "g:sourcevpc",
    "g:sourcevpce",
    "g:vpcsourceip",
    "g:tagkeys",
    "g:referer",
    "g:sourceaccount",
    "g:sourceurn",
    "g:enterpriseprojectid",
    "g:resourceorgid",
];

const HUAWEI_DROPPED_PREFIXES: &[&str] = &["g:requesttag/", "g:resourcetag/"];

fn derive_huawei(parent: &Context, via: &str) -> Context {
    let mut ctx = parent.clone();
    ctx.retain(|k| {
        k.starts_with("g:")
            && !HUAWEI_DROPPED.contains(&k)
            && !HUAWEI_DROPPED_PREFIXES.iter().any(|p| k.starts_with(p))
    });
    let mut called_via = called_via_list(parent, "g:calledvia");
    called_via.push(via.to_string());
    set_called_via(
        &mut ctx,
        "g:calledvia",
        "g:calledviafirst",
        "g:calledvialast",
        called_via,
    );
    ctx.set_single("g:viaservice", "true");
    ctx
}

fn called_via_list(parent: &Context, key: &str) -> Vec<String> {
    parent
        .get(key)
        .map(|v| v.values().to_vec())
        .unwrap_or_default()
}

/// Sets the list and its ends; all three absent while the list is empty (R-FAS-4).
fn set_called_via(ctx: &mut Context, list: &str, first: &str, last: &str, values: Vec<String>) {
    match (values.first().cloned(), values.last().cloned()) {
        (Some(f), Some(l)) => {
            ctx.set_single(first, &f);
            ctx.set_single(last, &l);
            ctx.set(list.to_string(), ContextValue::Multi(values));
        }
        _ => {
            ctx.remove(list);
            ctx.remove(first);
            ctx.remove(last);
        }
    }
}
