//! A request chain: the principal, its policies, and the hops (R-FAS-2, CASES.md).
//!
//! Hop 0 is the principal's own call; hop k ≥ 1 is made by `via` on the principal's behalf.
//! The principal-side policies (identity, boundary, session, SCP) are the same at every
//! hop; the resource side (resource policy, and the RCP levels of the case) is per hop;
//! the VPC-endpoint policy applies to hop 0 only (R-FAS-3).

use super::context::Context;
use super::fas::FasOptions;
use super::principal::Principal;
use crate::policy::{Dialect, Mode, Policy};
use crate::primitives::{self, Instant};

/// The principal-side and organisation policies of a chain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicySet {
    /// Identity policies (user with its groups, or role); OR-ed (R-STMT-3).
    pub identity: Vec<Policy>,
    /// The permissions boundary.
    pub boundary: Option<Policy>,
    /// `Some` when session policies were passed, even none (R-STS-3).
    pub session: Option<Vec<Policy>>,
    /// SCP levels, root first (R-EVAL-0a).
    pub scp: Vec<Vec<Policy>>,
    /// RCP levels of the resource accounts, root first; applied at every hop.
    pub rcp: Vec<Vec<Policy>>,
    /// The VPC endpoint policy hop 0 went through.
    pub vpce: Option<Policy>,
    /// Resource policies, referred to by index from [`Hop::resource_policy`].
    pub resource: Vec<Policy>,
}

/// One hop of a chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Hop {
    /// The service principal that forwards this hop; `None` for hop 0.
    pub via: Option<String>,
    pub action: String,
    /// An ARN, a Huawei URN, or `*`.
    pub resource: String,
    /// The account owning the resource (CASES.md default: from the ARN/URN, else the
    /// principal's).
    pub resource_account: Option<String>,
    /// Index of the resource's policy in [`PolicySet::resource`].
    pub resource_policy: Option<usize>,
    /// R-EVAL-5: the resource policy must grant even within the account.
    pub resource_policy_required: bool,
    /// R-EVAL-7: the action is authorised without evaluation (extension of CASES.md).
    pub requires_no_permission: bool,
    /// Keys this hop's request sets; laid over the derived context.
    pub context: Context,
}

/// A credential validity window `[issued, expires)` (R-STS-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub issued: Option<Instant>,
    pub expires: Option<Instant>,
}

impl Credentials {
    /// Whether `now` is inside the window.
    pub fn valid_at(&self, now: Instant) -> bool {
        self.issued.is_none_or(|i| now >= i) && self.expires.is_none_or(|e| now < e)
    }
}

/// Evaluation options of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub fas: FasOptions,
    pub mode: Mode,
    /// R-HW-17: expand `${…}` in Huawei documents.
    pub huawei_policy_variables: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fas: FasOptions::default(),
            mode: Mode::Strict,
            huawei_policy_variables: false,
        }
    }
}

/// The request side of an authorisation question: who asks, with what context, through
/// which hops. It holds no policy: the same request can be evaluated against a policy set
/// walked by the reference evaluator or compiled into a program.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub dialect: Dialect,
    pub principal: Principal,
    /// Hop 0's given context (canonical keys), before derivations.
    pub context: Context,
    pub hops: Vec<Hop>,
    pub options: Options,
    pub credentials: Option<Credentials>,
}

/// A whole authorisation question: may this principal make this chain of requests under
/// these policies?
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub request: Request,
    pub policies: PolicySet,
}

/// The default of `resource_policy_required` (CASES.md, R-EVAL-5, R-HW-16): AWS KMS keys,
/// `sts:AssumeRole*` on a role, Huawei `sts:agencies:assume`.
pub fn default_resource_policy_required(dialect: Dialect, action: &str, resource: &str) -> bool {
    default_resource_policy_required_split(dialect, action, primitives::split_arn(resource))
}

/// [`default_resource_policy_required`] of a resource already split as an ARN (`None`: not
/// one): the request builder splits each resource once for all its defaults.
pub(crate) fn default_resource_policy_required_split(
    dialect: Dialect,
    action: &str,
    arn: Option<[&str; 6]>,
) -> bool {
    match dialect {
        Dialect::Aws => {
            let Some(p) = arn else {
                return false;
            };
            let kms_key = p[2] == "kms" && p[5].starts_with("key/");
            let assume_role = action
                .get(.."sts:AssumeRole".len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sts:AssumeRole"))
                && p[2] == "iam"
                && p[5].starts_with("role/");
            kms_key || assume_role
        }
        Dialect::Huawei => action.eq_ignore_ascii_case("sts:agencies:assume"),
    }
}

/// The default of `requires_no_permission` (CASES.md, R-EVAL-7): true for the AWS action
/// `sts:GetCallerIdentity` in any case, which needs no permission even under an explicit
/// deny; false otherwise, Huawei included. A hop that gives the flag overrides it.
///
/// ```
/// use fastiam::request::default_requires_no_permission;
/// use fastiam::policy::Dialect;
/// assert!(default_requires_no_permission(Dialect::Aws, "STS:getcalleridentity"));
/// assert!(!default_requires_no_permission(Dialect::Huawei, "sts:GetCallerIdentity"));
/// ```
pub fn default_requires_no_permission(dialect: Dialect, action: &str) -> bool {
    dialect == Dialect::Aws && action.eq_ignore_ascii_case("sts:GetCallerIdentity")
}

/// The default resource account (CASES.md): the ARN's account field, or a Huawei URN's
/// account part when neither empty nor `*`; `None` means the principal's account.
pub fn default_resource_account(resource: &str) -> Option<String> {
    default_resource_account_str(resource).map(str::to_string)
}

/// [`default_resource_account`] borrowed from `resource`, without allocating.
pub fn default_resource_account_str(resource: &str) -> Option<&str> {
    if resource.starts_with("arn:") {
        return primitives::arn_account(resource);
    }
    primitives::urn_account(resource)
}

/// [`default_resource_account_str`] of a resource already split: `arn` as an ARN, `urn` as a
/// Huawei URN (`None`: not one).
pub(crate) fn default_resource_account_split<'r>(
    resource: &str,
    arn: Option<[&'r str; 6]>,
    urn: Option<[&'r str; 5]>,
) -> Option<&'r str> {
    if resource.starts_with("arn:") {
        return arn.map(|parts| parts[4]).filter(|a| !a.is_empty());
    }
    urn.map(|parts| parts[2])
        .filter(|a| !a.is_empty() && *a != "*")
}
