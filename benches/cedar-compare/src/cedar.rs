//! The Cedar side: one `cedar_policy::Request` per hop, whose context is the hop context
//! fastiam derives, the entity store of the workload's actions, and the reading of a Cedar
//! response as an IAM decision.
//!
//! Why apart from the timing: the encoding (README.md, `policies.cedar`) is what makes the
//! comparison fair, and it is read on its own; the timing only calls [`Cedar::decide`] or
//! the authorizer on the requests built here. For example, the hop context
//! `{"aws:sourceip": "10.0.0.1", "aws:principaltag/team": "data"}` of a hop on
//! `arn:aws:s3:::b/k` becomes the Cedar context
//! `{arn: "arn:aws:s3:::b/k", sourceIp: ip("10.0.0.1"), principalTag: {team: "data"}}`.

use std::collections::BTreeSet;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context as CedarContext, Decision as CedarDecision, Entities, EntityId,
    EntityTypeName, EntityUid, PolicySet as CedarPolicySet, Request as CedarRequest,
    RestrictedExpression as RE,
};
use fastiam::decision::Decision;
use fastiam::request::{chain_contexts, Context, ContextValue, Request};
use serde_json::json;

/// The Cedar translation of the standard workload's 20 statements (README.md).
const CEDAR_POLICIES: &str = include_str!("../policies.cedar");

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
}

/// A fastiam hop context (canonical keys) → the Cedar context of `policies.cedar`: the
/// keys the encoding uses become typed attributes, every other key is left out (no Cedar
/// policy reads it). `arn` is the hop's resource, which `like` patterns test.
fn cedar_context(resource: &str, ctx: &Context) -> Result<CedarContext, String> {
    let one = |v: &ContextValue| v.values().first().cloned().unwrap_or_default();
    let mut pairs: Vec<(String, RE)> = vec![("arn".into(), RE::new_string(resource.into()))];
    let (mut principal_tags, mut resource_tags) = (Vec::new(), Vec::new());
    for (key, value) in ctx.iter() {
        let text = one(value);
        let (name, expr) = match key {
            "aws:username" => ("username", RE::new_string(text)),
            "aws:principalarn" => ("principalArn", RE::new_string(text)),
            "aws:requestedregion" => ("requestedRegion", RE::new_string(text)),
            "aws:securetransport" => ("secureTransport", boolean(&text)),
            "aws:viaawsservice" => ("viaAwsService", boolean(&text)),
            "aws:currenttime" => ("currentTime", RE::new_datetime(text)),
            "aws:multifactorauthage" => (
                "mfaAge",
                RE::new_long(text.parse().map_err(|_| format!("{key}: `{text}`"))?),
            ),
            "aws:sourceip" => ("sourceIp", RE::new_ip(text)),
            "aws:vpcsourceip" => ("vpcSourceIp", RE::new_ip(text)),
            "aws:sourcevpc" => ("sourceVpc", RE::new_string(text)),
            "aws:sourcevpce" => ("sourceVpce", RE::new_string(text)),
            "aws:calledviafirst" => ("calledViaFirst", RE::new_string(text)),
            "aws:calledvialast" => ("calledViaLast", RE::new_string(text)),
            "aws:calledvia" => (
                "calledVia",
                RE::new_set(value.values().iter().cloned().map(RE::new_string)),
            ),
            _ => {
                if let Some(tag) = key.strip_prefix("aws:principaltag/") {
                    principal_tags.push((tag.to_string(), RE::new_string(text)));
                } else if let Some(tag) = key.strip_prefix("aws:resourcetag/") {
                    resource_tags.push((tag.to_string(), RE::new_string(text)));
                }
                continue;
            }
        };
        pairs.push((name.into(), expr));
    }
    let record = |tags| RE::new_record(tags).map_err(|e| e.to_string());
    pairs.push(("principalTag".into(), record(principal_tags)?));
    if !resource_tags.is_empty() {
        pairs.push(("resourceTag".into(), record(resource_tags)?));
    }
    CedarContext::from_pairs(pairs).map_err(|e| e.to_string())
}

/// IAM's `Bool` reads `true` in any case; anything else is false.
fn boolean(text: &str) -> RE {
    RE::new_bool(text.eq_ignore_ascii_case("true"))
}

/// Every hop of every chain as a Cedar request, chain by chain.
pub fn cedar_chains(requests: &[Request]) -> Result<Vec<Vec<CedarRequest>>, String> {
    requests
        .iter()
        .map(|request| {
            let principal = uid("AWS::Principal", &request.principal.arn);
            request
                .hops
                .iter()
                .zip(chain_contexts(request))
                .map(|(hop, ctx)| {
                    CedarRequest::new(
                        principal.clone(),
                        uid("Action", &hop.action),
                        uid("AWS::Resource", &hop.resource),
                        cedar_context(&hop.resource, &ctx)?,
                        None,
                    )
                    .map_err(|e| e.to_string())
                })
                .collect()
        })
        .collect()
}

/// The entity store: every action of the workload with its parent `Action::"<service>:*"`,
/// and the service groups the policies name (`action in Action::"s3:*"`).
fn action_entities(requests: &[Request]) -> Result<Entities, String> {
    let mut actions: BTreeSet<String> = requests
        .iter()
        .flat_map(|r| r.hops.iter().map(|h| h.action.clone()))
        .collect();
    for group in [
        "iam",
        "organizations",
        "account",
        "ec2",
        "dynamodb",
        "s3",
        "kms",
    ] {
        actions.insert(format!("{group}:*"));
    }
    let groups: BTreeSet<String> = actions
        .iter()
        .map(|a| format!("{}:*", a.split(':').next().unwrap_or_default()))
        .collect();
    let entities: Vec<serde_json::Value> = actions
        .union(&groups)
        .map(|a| {
            let group = format!("{}:*", a.split(':').next().unwrap_or_default());
            let parents = if *a == group {
                vec![]
            } else {
                vec![json!({"type": "Action", "id": group})]
            };
            json!({"uid": {"type": "Action", "id": a}, "attrs": {}, "parents": parents})
        })
        .collect();
    Entities::from_json_value(serde_json::Value::Array(entities), None).map_err(|e| e.to_string())
}

/// The encoding's reading of a Cedar response (README.md): Allow; Deny with a satisfied
/// `forbid` is an explicit deny; Deny with no satisfied policy is an implicit deny.
fn cedar_decision(response: &cedar_policy::Response) -> Decision {
    match response.decision() {
        CedarDecision::Allow => Decision::Allow,
        CedarDecision::Deny if response.diagnostics().reason().next().is_some() => {
            Decision::ExplicitDeny
        }
        CedarDecision::Deny => Decision::ImplicitDeny,
    }
}

/// Cedar's authorizer with the translated policies and the workload's entities.
pub struct Cedar {
    pub authorizer: Authorizer,
    pub policies: CedarPolicySet,
    pub entities: Entities,
}

impl Cedar {
    /// `policies.cedar` and the entities of the actions `requests` name.
    pub fn new(requests: &[Request]) -> Result<Cedar, String> {
        Ok(Cedar {
            authorizer: Authorizer::new(),
            policies: CedarPolicySet::from_str(CEDAR_POLICIES).map_err(|e| e.to_string())?,
            entities: action_entities(requests)?,
        })
    }

    /// One hop's decision; an evaluation error (a bad encoding) is an error, not a deny.
    pub fn decide(&self, request: &CedarRequest) -> Result<Decision, String> {
        let response = self
            .authorizer
            .is_authorized(request, &self.policies, &self.entities);
        if let Some(e) = response.diagnostics().errors().next() {
            return Err(format!("cedar evaluation error: {e}"));
        }
        Ok(cedar_decision(&response))
    }
}
