//! Who is asking: the principal, parsed from an ARN / URN or given as an object
//! (R-PRIN-3, R-CTX-6, CASES.md).
//!
//! The principal decides which resource-policy entries name it (and in which category),
//! which evaluation branch applies (service principal, anonymous, root, same or cross
//! account), and the principal context keys derived for hop 0 when the case does not give
//! them.
//!
//! ```
//! use fastiam::request::{Principal, PrincipalKind};
//! let p = Principal::from_arn("arn:aws:sts::111122223333:assumed-role/data-reader/s1").unwrap();
//! assert_eq!(p.kind, PrincipalKind::AssumedRole);
//! assert_eq!(p.role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/data-reader"));
//! ```

use crate::policy::Dialect;
use crate::primitives::split_arn;

/// The kind of principal (CASES.md `kind`, R-CTX-6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// An IAM user (Huawei: an IAM user URN).
    User,
    /// A role session (Huawei: an assumed-agency session).
    AssumedRole,
    /// An STS federated user (GetFederationToken).
    FederatedUser,
    /// The account root user.
    Root,
    /// A service principal calling directly (`cloudtrail.amazonaws.com`).
    Service,
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKind {
    /// Parses the CASES.md spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "User" => PrincipalKind::User,
            "AssumedRole" => PrincipalKind::AssumedRole,
            "FederatedUser" => PrincipalKind::FederatedUser,
            "Root" => PrincipalKind::Root,
            "Service" => PrincipalKind::Service,
            "Anonymous" => PrincipalKind::Anonymous,
            _ => return None,
        })
    }
}

/// The principal of a request: everything evaluation needs to know about who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub dialect: Dialect,
    /// The ARN / URN as given (`anonymous` for anonymous, the service name for services).
    pub arn: String,
    /// The principal's account (absent for services and anonymous callers).
    pub account: Option<String>,
    /// For a role session: the role's ARN (Huawei: the agency URN).
    pub role_arn: Option<String>,
    /// For a user: the user name; for a session: the session name.
    pub name: Option<String>,
    /// For a federated-user session: the IAM user that created it, when known
    /// (`SessionParentUser`, R-PRIN-3). Not derivable from the ARN.
    pub parent_user_arn: Option<String>,
    /// A service-linked role session (SCPs and RCPs do not apply, R-EVAL-3).
    pub service_linked: bool,
    /// A principal of the organisation's management account (SCPs do not apply).
    pub management_account: bool,
}

/// Why a principal string could not be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalError(pub String);

impl Principal {
    /// Parses a principal string: an IAM/STS ARN, a service principal name, `anonymous`,
    /// or a Huawei URN (`iam::<acct>:user:<name>`, `sts::<acct>:assumed-agency:<a>/<s>`).
    pub fn from_arn(s: &str) -> Result<Principal, PrincipalError> {
        let mut p = Principal::new(PrincipalKind::Anonymous, Dialect::Aws, "", None);
        p.parse_into(s)?;
        Ok(p)
    }

    /// As [`Principal::from_arn`], overwriting `self` and reusing its string buffers: a
    /// caller that parses one principal per request (the C ABI's scratch) allocates only
    /// when a field needs more room than it had, or was absent before. On error `self` is
    /// unchanged.
    pub fn parse_into(&mut self, s: &str) -> Result<(), PrincipalError> {
        if s == "anonymous" {
            self.reset(PrincipalKind::Anonymous, Dialect::Aws, s, None);
            self.role_arn = None;
            self.name = None;
            return Ok(());
        }
        if s.starts_with("arn:") {
            return aws_principal(s, self);
        }
        if s.starts_with("iam::") || s.starts_with("sts::") {
            return huawei_principal(s, self);
        }
        if is_service_name(s) {
            let dialect = if s.starts_with("service.") {
                Dialect::Huawei
            } else {
                Dialect::Aws
            };
            self.reset(PrincipalKind::Service, dialect, s, None);
            self.role_arn = None;
            self.name = None;
            return Ok(());
        }
        Err(PrincipalError(format!(
            "`{s}` is not an IAM/STS ARN, a Huawei URN, a service principal or `anonymous`"
        )))
    }

    fn new(kind: PrincipalKind, dialect: Dialect, arn: &str, account: Option<&str>) -> Principal {
        Principal {
            kind,
            dialect,
            arn: arn.to_string(),
            account: account.map(str::to_string),
            role_arn: None,
            name: None,
            parent_user_arn: None,
            service_linked: false,
            management_account: false,
        }
    }

    /// Makes `self` equal to `Principal::new(kind, dialect, arn, account)`, keeping buffers,
    /// except `role_arn` and `name`, which the caller sets (once each, so that a buffer
    /// dropped is never one that is needed again).
    fn reset(&mut self, kind: PrincipalKind, dialect: Dialect, arn: &str, account: Option<&str>) {
        self.kind = kind;
        self.dialect = dialect;
        self.arn.clear();
        self.arn.push_str(arn);
        set_field(&mut self.account, account);
        self.parent_user_arn = None;
        self.service_linked = false;
        self.management_account = false;
    }

    /// Whether the principal is authenticated and belongs to an account.
    pub fn is_authenticated(&self) -> bool {
        !matches!(self.kind, PrincipalKind::Anonymous | PrincipalKind::Service)
    }

    /// The ARN that `aws:PrincipalArn` / `g:PrincipalUrn` carries (R-CTX-6): the role ARN
    /// for a role session, the principal's own ARN otherwise.
    pub fn principal_arn_key(&self) -> Option<&str> {
        principal_arn_key_of(self.kind, self.dialect, &self.arn, self.role_arn.as_deref())
    }
}

/// [`Principal::principal_arn_key`] from a principal's parts, for the interpreter, which
/// reads principals through [`RequestView`](super::RequestView) and tabulates by kind.
pub fn principal_arn_key_of<'a>(
    kind: PrincipalKind,
    dialect: Dialect,
    arn: &'a str,
    role_arn: Option<&'a str>,
) -> Option<&'a str> {
    match kind {
        PrincipalKind::Anonymous | PrincipalKind::Service => None,
        PrincipalKind::AssumedRole if dialect == Dialect::Aws => role_arn.or(Some(arn)),
        _ => Some(arn),
    }
}

/// `name.amazonaws.com`, `service.obs`, ...: no colon, at least one dot.
fn is_service_name(s: &str) -> bool {
    !s.is_empty()
        && !s.contains([':', '/', ' ', '*'])
        && s.contains('.')
        && !s.starts_with('.')
        && !s.ends_with('.')
}

/// Sets an optional text field to `value`, reusing the field's buffer when it has one.
fn set_field(field: &mut Option<String>, value: Option<&str>) {
    match (field.as_mut(), value) {
        (Some(buf), Some(v)) => {
            buf.clear();
            buf.push_str(v);
        }
        (None, Some(v)) => *field = Some(v.to_string()),
        (_, None) => *field = None,
    }
}

/// Sets an optional text field to the concatenation of `parts`, reusing its buffer.
fn set_joined(field: &mut Option<String>, parts: &[&str]) {
    let buf = field.get_or_insert_with(String::new);
    buf.clear();
    parts.iter().for_each(|part| buf.push_str(part));
}

fn aws_principal(s: &str, p: &mut Principal) -> Result<(), PrincipalError> {
    let bad = || {
        PrincipalError(format!(
            "`{s}` is not a principal ARN (user, role session, federated user or root)"
        ))
    };
    let [_, partition, service, _region, account, resource] = split_arn(s).ok_or_else(bad)?;
    if account.is_empty() {
        return Err(bad());
    }
    // Checked before `p` is touched; then every field is set exactly once.
    let parts = resource.split_once('/');
    match (service, parts) {
        ("iam", None) if resource == "root" => {
            p.reset(PrincipalKind::Root, Dialect::Aws, s, Some(account));
            p.role_arn = None;
            p.name = None;
        }
        ("iam", Some(("user", path_and_name))) => {
            p.reset(PrincipalKind::User, Dialect::Aws, s, Some(account));
            p.role_arn = None;
            set_field(&mut p.name, path_and_name.rsplit('/').next());
        }
        ("iam", Some(("role", path_and_name))) => {
            // A role ARN used as a principal: treated as a session of that role whose
            // session name is unknown.
            p.reset(PrincipalKind::AssumedRole, Dialect::Aws, s, Some(account));
            set_field(&mut p.role_arn, Some(s));
            p.name = None;
            p.service_linked = path_and_name.starts_with("aws-service-role/");
        }
        ("sts", Some(("assumed-role", rest))) => {
            let (role, session) = rest.split_once('/').ok_or_else(bad)?;
            p.reset(PrincipalKind::AssumedRole, Dialect::Aws, s, Some(account));
            set_joined(
                &mut p.role_arn,
                &["arn:", partition, ":iam::", account, ":role/", role],
            );
            set_field(&mut p.name, Some(session));
            p.service_linked = role.starts_with("AWSServiceRoleFor");
        }
        ("sts", Some(("federated-user", name))) => {
            p.reset(PrincipalKind::FederatedUser, Dialect::Aws, s, Some(account));
            p.role_arn = None;
            set_field(&mut p.name, Some(name));
        }
        _ => return Err(bad()),
    }
    Ok(())
}

fn huawei_principal(s: &str, p: &mut Principal) -> Result<(), PrincipalError> {
    let bad = || {
        PrincipalError(format!("`{s}` is not a Huawei principal URN (`iam::<account>:user:<name>` or `sts::<account>:assumed-agency:<agency>/<session>`)"))
    };
    let mut parts = s.splitn(4, ':');
    let (service, _region, account, rest) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    if account.is_empty() {
        return Err(bad());
    }
    match (service, rest.split_once(':')) {
        ("iam", Some(("user", name))) => {
            p.reset(PrincipalKind::User, Dialect::Huawei, s, Some(account));
            p.role_arn = None;
            set_field(&mut p.name, Some(name));
        }
        ("iam", None) if rest == "root" => {
            p.reset(PrincipalKind::Root, Dialect::Huawei, s, Some(account));
            p.role_arn = None;
            p.name = None;
        }
        ("sts", Some(("assumed-agency", agency_session))) => {
            let (agency, session) = agency_session.split_once('/').ok_or_else(bad)?;
            p.reset(
                PrincipalKind::AssumedRole,
                Dialect::Huawei,
                s,
                Some(account),
            );
            set_joined(&mut p.role_arn, &["iam::", account, ":agency:", agency]);
            set_field(&mut p.name, Some(session));
        }
        _ => return Err(bad()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let cases: &[(&str, PrincipalKind, Option<&str>, Option<&str>)] = &[
            (
                "arn:aws:iam::111122223333:user/alice",
                PrincipalKind::User,
                Some("111122223333"),
                None,
            ),
            (
                "arn:aws:iam::111122223333:user/path/to/bob",
                PrincipalKind::User,
                Some("111122223333"),
                None,
            ),
            (
                "arn:aws:iam::111122223333:root",
                PrincipalKind::Root,
                Some("111122223333"),
                None,
            ),
            (
                "arn:aws:sts::111122223333:assumed-role/R/s1",
                PrincipalKind::AssumedRole,
                Some("111122223333"),
                Some("arn:aws:iam::111122223333:role/R"),
            ),
            (
                "arn:aws:sts::111122223333:federated-user/f",
                PrincipalKind::FederatedUser,
                Some("111122223333"),
                None,
            ),
            ("lambda.amazonaws.com", PrincipalKind::Service, None, None),
            ("anonymous", PrincipalKind::Anonymous, None, None),
            (
                "iam::0a1b:user:alice",
                PrincipalKind::User,
                Some("0a1b"),
                None,
            ),
            (
                "sts::0a1b:assumed-agency:ag/s",
                PrincipalKind::AssumedRole,
                Some("0a1b"),
                Some("iam::0a1b:agency:ag"),
            ),
        ];
        for (arn, kind, account, role) in cases {
            let p = Principal::from_arn(arn).unwrap_or_else(|e| panic!("{arn}: {e:?}"));
            assert_eq!(p.kind, *kind, "{arn}");
            assert_eq!(p.account.as_deref(), *account, "{arn}");
            assert_eq!(p.role_arn.as_deref(), *role, "{arn}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "alice",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:::user/x",
            "iam::1:group:g",
            "*",
        ] {
            assert!(Principal::from_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_linked_roles_are_recognised() {
        let p =
            Principal::from_arn("arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForConfig/s")
                .unwrap();
        assert!(p.service_linked);
        let r = Principal::from_arn(
            "arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/X",
        )
        .unwrap();
        assert!(r.service_linked);
    }

    #[test]
    fn parse_into_equals_from_arn_whatever_came_before() {
        let arns = [
            "arn:aws:iam::111122223333:user/path/to/bob",
            "arn:aws:sts::111122223333:assumed-role/R/s1",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:role/aws-service-role/x/Y",
            "arn:aws:sts::111122223333:federated-user/f",
            "lambda.amazonaws.com",
            "service.obs",
            "anonymous",
            "iam::0a1b:user:alice",
            "sts::0a1b:assumed-agency:ag/s",
            "iam::0a1b:root",
        ];
        for before in arns {
            for after in arns {
                let mut p = Principal::from_arn(before).unwrap();
                p.parent_user_arn = Some("arn:aws:iam::1:user/x".into());
                p.management_account = true;
                p.parse_into(after).unwrap();
                assert_eq!(
                    p,
                    Principal::from_arn(after).unwrap(),
                    "{before} then {after}"
                );
            }
        }
    }
}
