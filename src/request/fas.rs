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

use super::chain::Request;
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

/// Where a principal-derived key takes its value from (R-CTX-6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalField {
    /// The principal's ARN / URN as given (the service name for a service principal).
    Arn,
    /// `aws:PrincipalArn`: the role ARN for a role session, else the ARN.
    PrincipalArn,
    Account,
    /// The user name.
    Name,
    /// A fixed text (`"false"`, `"User"`, ...).
    Fixed(&'static str),
}

impl Principal {
    /// The text of a field, if the principal has it.
    pub fn field(&self, field: PrincipalField) -> Option<&str> {
        match field {
            PrincipalField::Arn => Some(&self.arn),
            PrincipalField::PrincipalArn => self.principal_arn_key(),
            PrincipalField::Account => self.account.as_deref(),
            PrincipalField::Name => self.name.as_deref(),
            PrincipalField::Fixed(text) => Some(text),
        }
    }
}

/// Every key [`for_each_principal_default`] may emit; [`PrincipalDefault::index`] points
/// here, so an engine can resolve them once instead of per request.
pub const PRINCIPAL_DEFAULT_KEYS: &[&str] = &[
    "g:principalurn",
    "g:principalaccount",
    "g:domainid",
    "g:principaltype",
    "g:username",
    "aws:viaawsservice",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
];

/// The position of `name` in [`PRINCIPAL_DEFAULT_KEYS`]; a compile error if absent.
const fn default_key_index(name: &str) -> usize {
    let mut i = 0;
    while i < PRINCIPAL_DEFAULT_KEYS.len() {
        let k = PRINCIPAL_DEFAULT_KEYS[i].as_bytes();
        let n = name.as_bytes();
        if k.len() == n.len() {
            let mut j = 0;
            while j < k.len() && k[j] == n[j] {
                j += 1;
            }
            if j == k.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a principal default key")
}

/// One key hop 0 derives from the principal when the case does not give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrincipalDefault {
    /// Canonical key.
    pub key: &'static str,
    /// Position of `key` in [`PRINCIPAL_DEFAULT_KEYS`].
    pub index: usize,
    pub field: PrincipalField,
    /// The key is multi-valued: the value is a one-element list.
    pub list: bool,
}

/// Calls `f` with every key hop 0 derives from the principal (R-FAS-4 hop-0 column,
/// R-CTX-6, R-HW-12), in a fixed order. Shared by both evaluators; no allocation.
pub fn for_each_principal_default(
    p: &Principal,
    dialect: Dialect,
    f: impl FnMut(PrincipalDefault),
) {
    for_each_principal_default_of(p.kind, dialect, |field| p.field(field).is_some(), f)
}

/// [`for_each_principal_default`] for a principal given by its kind and which of its
/// fields it has: the compiled interpreter tabulates the defaults of every kind and shape
/// of principal once per program instead of deriving them per request.
pub fn for_each_principal_default_of(
    kind: PrincipalKind,
    dialect: Dialect,
    has: impl Fn(PrincipalField) -> bool,
    mut f: impl FnMut(PrincipalDefault),
) {
    let mut emit = |index: usize, field, list| {
        if has(field) {
            let key = PRINCIPAL_DEFAULT_KEYS[index];
            f(PrincipalDefault {
                key,
                index,
                field,
                list,
            });
        }
    };
    // The index of a listed key, computed at compile time.
    macro_rules! key {
        ($name:literal) => {{
            const INDEX: usize = default_key_index($name);
            INDEX
        }};
    }
    if dialect == Dialect::Huawei {
        // R-HW-12: a direct call carries neither `g:CalledVia` nor `g:ViaService`.
        if matches!(kind, PrincipalKind::Anonymous | PrincipalKind::Service) {
            return;
        }
        emit(key!("g:principalurn"), PrincipalField::Arn, false);
        emit(key!("g:principalaccount"), PrincipalField::Account, false);
        emit(key!("g:domainid"), PrincipalField::Account, false);
        let type_name = match kind {
            PrincipalKind::AssumedRole => "AssumedAgency",
            PrincipalKind::Root => "Account",
            _ => "User",
        };
        emit(
            key!("g:principaltype"),
            PrincipalField::Fixed(type_name),
            false,
        );
        if kind == PrincipalKind::User {
            emit(key!("g:username"), PrincipalField::Name, false);
        }
        return;
    }
    // R-FAS-4: `aws:ViaAWSService` is always present, false on a direct call (R-FAS-9).
    emit(
        key!("aws:viaawsservice"),
        PrincipalField::Fixed("false"),
        false,
    );
    if kind == PrincipalKind::Service {
        emit(
            key!("aws:principalisawsservice"),
            PrincipalField::Fixed("true"),
            false,
        );
        emit(key!("aws:principalservicename"), PrincipalField::Arn, false);
        emit(
            key!("aws:principalservicenameslist"),
            PrincipalField::Arn,
            true,
        );
        return;
    }
    emit(
        key!("aws:principalisawsservice"),
        PrincipalField::Fixed("false"),
        false,
    );
    emit(
        key!("aws:principalarn"),
        PrincipalField::PrincipalArn,
        false,
    );
    emit(key!("aws:principalaccount"), PrincipalField::Account, false);
    let type_name = match kind {
        PrincipalKind::Root => "Account",
        PrincipalKind::User => "User",
        PrincipalKind::FederatedUser => "FederatedUser",
        PrincipalKind::AssumedRole => "AssumedRole",
        PrincipalKind::Anonymous | PrincipalKind::Service => "Anonymous",
    };
    emit(
        key!("aws:principaltype"),
        PrincipalField::Fixed(type_name),
        false,
    );
    match kind {
        PrincipalKind::Root => emit(key!("aws:userid"), PrincipalField::Account, false),
        PrincipalKind::Anonymous => emit(
            key!("aws:userid"),
            PrincipalField::Fixed("anonymous"),
            false,
        ),
        PrincipalKind::User => emit(key!("aws:username"), PrincipalField::Name, false),
        _ => {}
    }
}

/// Hop 0's context: the given keys, then (only where not given) the keys AWS always sets
/// and the principal keys of R-CTX-6. A given value always wins (CASES.md).
pub fn initial_context(given: &Context, principal: &Principal, dialect: Dialect) -> Context {
    let mut ctx = given.clone();
    for_each_principal_default(principal, dialect, |d| {
        if ctx.contains(d.key) {
            return;
        }
        let text = principal.field(d.field).unwrap_or_default().to_string();
        let value = if d.list {
            ContextValue::Multi(vec![text])
        } else {
            ContextValue::Single(text)
        };
        ctx.set(d.key.to_string(), value);
    });
    ctx
}

/// Keys of the origin's network path and of the origin request or resource, removed on
/// AWS forwarded hops (R-FAS-4).
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

/// Whether a non-`aws:` key is a session attribute: the listed keys, SAML keys, and
/// web-identity provider keys (`accounts.google.com:sub`: a host name before the colon).
fn is_session_service_key(key: &str) -> bool {
    if AWS_SESSION_SERVICE_KEYS.contains(&key) || key.starts_with("saml:") {
        return true;
    }
    key.split_once(':')
        .is_some_and(|(prefix, _)| prefix.contains('.'))
}

/// Whether a key of hop k−1 is carried to forwarded hop k (R-FAS-4, R-FAS-5, R-HW-13).
/// The keys the forwarded hop sets itself ([`forwarded_hop_sets`], the CalledVia keys)
/// are written afterwards either way.
pub fn carried_to_forwarded_hop(key: &str, dialect: Dialect, options: &FasOptions) -> bool {
    match dialect {
        Dialect::Aws if key.starts_with("aws:") => {
            !AWS_DROPPED.contains(&key)
                && !AWS_DROPPED_PREFIXES.iter().any(|p| key.starts_with(p))
                && (options.preserve_source_ip || key != "aws:sourceip")
        }
        Dialect::Aws => is_session_service_key(key),
        Dialect::Huawei => {
            key.starts_with("g:")
                && !HUAWEI_DROPPED.contains(&key)
                && !HUAWEI_DROPPED_PREFIXES.iter().any(|p| key.starts_with(p))
        }
    }
}

/// A value a forwarded hop sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedValue {
    /// This text, replacing any carried value.
    Fixed(&'static str),
    /// The forwarding service's name.
    Via,
    /// This text only if the key was not carried.
    DefaultFixed(&'static str),
}

/// The keys every forwarded hop sets (R-FAS-4, R-HW-13), besides the CalledVia keys.
pub fn forwarded_hop_sets(dialect: Dialect) -> &'static [(&'static str, ForwardedValue)] {
    match dialect {
        Dialect::Aws => &[
            ("aws:viaawsservice", ForwardedValue::Fixed("true")),
            ("aws:principalisawsservice", ForwardedValue::Fixed("false")),
            // Long-term credentials become temporary ones on a forwarded request (T-FAS-5).
            (
                "aws:multifactorauthpresent",
                ForwardedValue::DefaultFixed("false"),
            ),
            // R-FAS-4 decisions: the service calls over TLS and names itself as the agent.
            ("aws:securetransport", ForwardedValue::Fixed("true")),
            ("aws:useragent", ForwardedValue::Via),
        ],
        Dialect::Huawei => &[("g:viaservice", ForwardedValue::Fixed("true"))],
    }
}

/// The CalledVia list key and its two ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CalledViaKeys {
    pub list: &'static str,
    pub first: &'static str,
    pub last: &'static str,
}

/// The CalledVia keys of a dialect.
pub fn called_via_keys(dialect: Dialect) -> CalledViaKeys {
    match dialect {
        Dialect::Aws => CalledViaKeys {
            list: "aws:calledvia",
            first: "aws:calledviafirst",
            last: "aws:calledvialast",
        },
        Dialect::Huawei => CalledViaKeys {
            list: "g:calledvia",
            first: "g:calledviafirst",
            last: "g:calledvialast",
        },
    }
}

/// Whether a hop forwarded by `via` appends `via` to the CalledVia list: AWS registry
/// services only (R-FAS-6); every Huawei service (R-HW-13).
pub fn appends_to_called_via(dialect: Dialect, via: &str, options: &FasOptions) -> bool {
    appends_to_called_via_among(
        dialect,
        via,
        options.called_via_services.iter().map(String::as_str),
    )
}

/// [`appends_to_called_via`] with the options' service list given as strings (a packed
/// request keeps them as spans of its text).
pub fn appends_to_called_via_among<'a>(
    dialect: Dialect,
    via: &str,
    mut called_via_services: impl Iterator<Item = &'a str>,
) -> bool {
    match dialect {
        Dialect::Aws => called_via_services.any(|s| s == via),
        Dialect::Huawei => true,
    }
}

/// The context of a forwarded hop made by service `via`, derived from the previous hop's
/// context, before the hop's own keys are laid over it. Built from the shared rules above,
/// which the compiled interpreter applies to its own context representation.
pub fn derive_fas_context(
    parent: &Context,
    via: &str,
    dialect: Dialect,
    options: &FasOptions,
) -> Context {
    let keys = called_via_keys(dialect);
    let mut ctx = parent.clone();
    ctx.retain(|k| carried_to_forwarded_hop(k, dialect, options));
    let mut called_via: Vec<String> = parent
        .get(keys.list)
        .map(|v| v.values().to_vec())
        .unwrap_or_default();
    if appends_to_called_via(dialect, via, options) {
        called_via.push(via.to_string());
    }
    // All three absent while the list is empty (R-FAS-4).
    ctx.remove(keys.list);
    ctx.remove(keys.first);
    ctx.remove(keys.last);
    if let (Some(first), Some(last)) = (called_via.first().cloned(), called_via.last().cloned()) {
        ctx.set_single(keys.first, &first);
        ctx.set_single(keys.last, &last);
        ctx.set(keys.list.to_string(), ContextValue::Multi(called_via));
    }
    for (key, value) in forwarded_hop_sets(dialect) {
        match value {
            ForwardedValue::Fixed(text) => ctx.set_single(key, text),
            ForwardedValue::Via => ctx.set_single(key, via),
            ForwardedValue::DefaultFixed(text) => ctx.set_default(key, text),
        }
    }
    ctx
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

/// Hop 0's full context: [`initial_context`], then hop 0's own keys laid over it.
pub fn first_hop_context(request: &Request) -> Context {
    let mut ctx = initial_context(&request.context, &request.principal, request.dialect);
    if let Some(first) = request.hops.first() {
        for (k, v) in first.context.iter() {
            ctx.set(k.to_string(), v.clone());
        }
    }
    ctx
}

/// The context of every hop of a request, in order: [`first_hop_context`], then
/// [`hop_context`] from each hop to the next.
///
/// For engines with no chain model (Cedar, a flat IAM simulator), which are handed one
/// request per hop: the contexts are the ones the reference evaluator derives, so such an
/// engine sees exactly what fastiam's engines see. Every hop is derived, also after a hop
/// that a chain evaluator would stop at.
pub fn chain_contexts(request: &Request) -> Vec<Context> {
    let mut contexts: Vec<Context> = Vec::with_capacity(request.hops.len());
    for hop in &request.hops {
        let ctx = match contexts.last() {
            None => first_hop_context(request),
            Some(parent) => hop_context(
                parent,
                hop.via.as_deref().unwrap_or_default(),
                &hop.context,
                request.dialect,
                &request.options.fas,
            ),
        };
        contexts.push(ctx);
    }
    contexts
}
