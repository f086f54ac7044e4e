//! Requests: who asks ([`Principal`]), with what context ([`Context`]), through which chain
//! of hops ([`Chain`]), and how each forwarded hop's context is derived ([`fas`]).

pub mod case;
pub mod chain;
pub mod compact;
pub mod context;
pub mod fas;
pub mod packed;
pub mod principal;
pub mod shared;
pub(crate) mod spares;
pub mod view;

pub use case::{
    parse_case, parse_case_sharing, parse_case_with, read_case_tree, read_context, Case, CaseError,
    Expectation, SharedCase,
};
pub use chain::{
    default_requires_no_permission, default_resource_account, default_resource_account_str,
    default_resource_policy_required, Chain, Credentials, Hop, Options, PolicySet, Request,
};
pub use compact::{BuildError, CompactRequest, RequestBuilder};
pub use context::{is_multi_valued, Context, ContextValue, KeyCollision, MULTI_VALUED_KEYS};
pub use fas::{
    appends_to_called_via, appends_to_called_via_among, called_via_keys, carried_to_forwarded_hop,
    chain_contexts, derive_fas_context, first_hop_context, for_each_principal_default,
    for_each_principal_default_of, forwarded_hop_sets, hop_context, initial_context, CalledViaKeys,
    FasOptions, ForwardedValue, PrincipalDefault, PrincipalField, DEFAULT_CALLED_VIA_SERVICES,
    PRINCIPAL_DEFAULT_KEYS,
};
pub use packed::PackedRequest;
pub use principal::{principal_arn_key_of, Principal, PrincipalError, PrincipalKind};
pub use shared::{PolicySetCache, SharedPolicies};
pub use view::{ListRef, ReadWith, RequestView, ValueRef};
