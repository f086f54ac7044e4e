//! Requests: who asks ([`Principal`]), with what context ([`Context`]), through which chain
//! of hops ([`Chain`]), and how each forwarded hop's context is derived ([`fas`]).

pub mod case;
pub mod chain;
pub mod context;
pub mod fas;
pub mod principal;

pub use case::{parse_case, parse_case_with, read_context, Case, CaseError, Expectation};
pub use chain::{
    default_resource_account, default_resource_policy_required, Chain, Credentials, Hop, Options,
    PolicySet,
};
pub use context::{is_multi_valued, Context, ContextValue, KeyCollision, MULTI_VALUED_KEYS};
pub use fas::{
    derive_fas_context, hop_context, initial_context, FasOptions, DEFAULT_CALLED_VIA_SERVICES,
};
pub use principal::{Principal, PrincipalError, PrincipalKind};
