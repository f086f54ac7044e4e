//! fastiam and cedar-policy 4.14.1 on the same requests, with the same decisions, timed in
//! one process.
//!
//! Why a program of its own: the figures users compare engines by must come from one run on
//! one machine — timings taken on different days, or while something else runs, differ by
//! more than the effects measured. So this program generates the standard workload
//! (`fastiam::benchmark::standard`, the same requests `fastiam bench` times), gives Cedar
//! exactly the per-hop contexts fastiam derives (`fastiam::request::chain_contexts`,
//! R-FAS-4), checks that every hop gets the same decision from both, and only then times
//! fastiam's compiled engine, its reference evaluator and Cedar in interleaved rounds, and
//! prints the ratios of each round and their median. It is a crate apart (with its own
//! `[workspace]` and lock file) so that `cargo test` on fastiam never builds Cedar.
//!
//! Counting: a chain evaluator stops at the first hop that is not allowed (R-FAS-2). Both
//! sides count the same hops: fastiam evaluates each chain, Cedar is called hop by hop and
//! stops at the first hop it does not allow; the rate of both is hops evaluated per second
//! (22,621 of the 28,033 hops of 20,000 chains). The rate of Cedar on every hop (what the
//! shared `cedar-bench` on `hops.jsonl` measured) is printed too.
//!
//! What each side is given, prebuilt before timing: fastiam the `Request`s (principal, hop-0
//! context, hops) — it resolves context keys and derives every forwarded hop's context
//! inside the timed call; Cedar one prebuilt `cedar_policy::Request` per hop, with the
//! derived context already converted (ip addresses and datetimes parsed). That favours
//! Cedar; the cost of building Cedar's requests is printed apart.
//!
//! Usage: `cargo run --release -- [--cases N] [--seed S] [--rounds R] [--seconds T] [--json]`
//! (defaults 20,000, 42, 5, 1.0).

use std::collections::BTreeSet;
use std::hint::black_box;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use cedar_policy::{
    Authorizer, Context as CedarContext, Decision as CedarDecision, Entities, EntityId,
    EntityTypeName, EntityUid, PolicySet as CedarPolicySet, Request as CedarRequest,
    RestrictedExpression as RE,
};
use fastiam::benchmark::{standard, Prepared};
use fastiam::decision::Decision;
use fastiam::eval::{Evaluator, Scratch};
use fastiam::request::{chain_contexts, Context, ContextValue, Request};
use serde_json::json;

/// The Cedar translation of the standard workload's 20 statements (README.md).
const CEDAR_POLICIES: &str = include_str!("../policies.cedar");

struct Args {
    cases: usize,
    seed: u64,
    rounds: usize,
    min_time: Duration,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cases: 20_000,
        seed: 42,
        rounds: 5,
        min_time: Duration::from_secs(1),
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--cases" => args.cases = number(&value()?)?,
            "--seed" => args.seed = number(&value()?)? as u64,
            "--rounds" => args.rounds = number(&value()?)?.max(1),
            "--seconds" => {
                let s: f64 = value()?.parse().map_err(|_| "--seconds: a number")?;
                args.min_time = Duration::from_secs_f64(s.max(0.01));
            }
            "--json" => args.json = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn number(text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("expected a whole number, found `{text}`"))
}

// ---------------------------------------------------------------------------------------
// The Cedar side: one request per hop, from fastiam's derived context
// ---------------------------------------------------------------------------------------

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
fn cedar_chains(requests: &[Request]) -> Result<Vec<Vec<CedarRequest>>, String> {
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

struct Cedar {
    authorizer: Authorizer,
    policies: CedarPolicySet,
    entities: Entities,
}

impl Cedar {
    fn decide(&self, request: &CedarRequest) -> Result<Decision, String> {
        let response = self
            .authorizer
            .is_authorized(request, &self.policies, &self.entities);
        if let Some(e) = response.diagnostics().errors().next() {
            return Err(format!("cedar evaluation error: {e}"));
        }
        Ok(cedar_decision(&response))
    }
}

// ---------------------------------------------------------------------------------------
// Same decisions, before any timing
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Checked {
    /// Hops a chain evaluator evaluates (up to the first denied hop).
    hops_evaluated: usize,
    /// Per-hop decisions over every hop (equal on both sides): Allow, ExplicitDeny, ImplicitDeny.
    hops: [usize; 3],
    /// Chain decisions (equal on both sides).
    chains: [usize; 3],
}

fn slot(d: Decision) -> usize {
    match d {
        Decision::Allow => 0,
        Decision::ExplicitDeny => 1,
        _ => 2,
    }
}

/// fastiam's decision for hop `k` of `request` whatever the hops before it decided: the
/// hops before it are marked as needing no permission (R-EVAL-7), which leaves every
/// context as it was but lets evaluation reach hop `k`.
fn hop_decision(
    evaluator: &Evaluator,
    scratch: &mut Scratch,
    request: &Request,
    k: usize,
) -> Decision {
    let mut reach = request.clone();
    reach.hops.truncate(k + 1);
    for hop in &mut reach.hops[..k] {
        hop.requires_no_permission = true;
    }
    let outcome = evaluator.evaluate(&reach, scratch);
    outcome
        .hops
        .last()
        .map_or(Decision::ImplicitDeny, |h| h.decision)
}

/// Every chain: compiled equals reference (decision, reason, statements, missing keys);
/// every hop: fastiam equals Cedar.
fn check(
    prepared: &Prepared,
    evaluator: &Evaluator,
    cedar: &Cedar,
    chains: &[Vec<CedarRequest>],
) -> Result<Checked, String> {
    let mut scratch = evaluator.scratch();
    let mut checked = Checked::default();
    for (i, (request, cedar_hops)) in prepared.requests.iter().zip(chains).enumerate() {
        let outcome = evaluator.evaluate(request, &mut scratch);
        let compiled = evaluator.decision(&outcome);
        let oracle = fastiam::reference::evaluate(request, &prepared.policies);
        if compiled != oracle {
            return Err(format!(
                "chain {i}: compiled {compiled:?}, reference {oracle:?}"
            ));
        }
        checked.hops_evaluated += compiled.hops.len();
        checked.chains[slot(compiled.decision)] += 1;
        let mut cedar_chain = Decision::Allow;
        for (k, cedar_request) in cedar_hops.iter().enumerate() {
            let ours = match compiled.hops.get(k) {
                Some(h) => h.decision,
                None => hop_decision(evaluator, &mut scratch, request, k),
            };
            let theirs = cedar.decide(cedar_request)?;
            if ours != theirs {
                return Err(format!(
                    "chain {i} hop {k} ({}): fastiam {ours:?}, cedar {theirs:?}",
                    request.hops[k].action
                ));
            }
            checked.hops[slot(ours)] += 1;
            if cedar_chain == Decision::Allow {
                cedar_chain = theirs;
            }
        }
        if cedar_chain != compiled.decision {
            return Err(format!(
                "chain {i}: fastiam {:?}, cedar {cedar_chain:?}",
                compiled.decision
            ));
        }
    }
    Ok(checked)
}

// ---------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------

/// Work units per second: whole passes of `pass` (which returns its units) until
/// `min_time` has passed.
fn rate(min_time: Duration, mut pass: impl FnMut() -> usize) -> f64 {
    let started = Instant::now();
    let mut units = 0;
    while units == 0 || started.elapsed() < min_time {
        units += pass();
    }
    units as f64 / started.elapsed().as_secs_f64()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Compiled,
    Reference,
    Cedar,
    CedarEveryHop,
}

const ENGINES: [Engine; 4] = [
    Engine::Compiled,
    Engine::Reference,
    Engine::Cedar,
    Engine::CedarEveryHop,
];

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Compiled => "fastiam compiled",
            Engine::Reference => "fastiam reference",
            Engine::Cedar => "cedar is_authorized",
            Engine::CedarEveryHop => "cedar, every hop",
        }
    }
}

/// Hops per second of one engine over the whole workload.
fn measure(
    engine: Engine,
    prepared: &Prepared,
    evaluator: &Evaluator,
    scratch: &mut Scratch,
    cedar: &Cedar,
    chains: &[Vec<CedarRequest>],
    min_time: Duration,
) -> f64 {
    match engine {
        Engine::Compiled => rate(min_time, || {
            prepared
                .requests
                .iter()
                .map(|r| evaluator.evaluate(black_box(r), scratch).hops.len())
                .sum()
        }),
        Engine::Reference => rate(min_time, || {
            prepared
                .requests
                .iter()
                .map(|r| {
                    fastiam::reference::evaluate(black_box(r), &prepared.policies)
                        .hops
                        .len()
                })
                .sum()
        }),
        Engine::Cedar => rate(min_time, || {
            let mut hops = 0;
            for chain in chains {
                for request in chain {
                    hops += 1;
                    let response = cedar.authorizer.is_authorized(
                        black_box(request),
                        &cedar.policies,
                        &cedar.entities,
                    );
                    if response.decision() != CedarDecision::Allow {
                        break;
                    }
                }
            }
            hops
        }),
        Engine::CedarEveryHop => rate(min_time, || {
            let mut hops = 0;
            for request in chains.iter().flatten() {
                hops += 1;
                black_box(cedar.authorizer.is_authorized(
                    black_box(request),
                    &cedar.policies,
                    &cedar.entities,
                ));
            }
            hops
        }),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn run(args: &Args) -> Result<(), String> {
    let prepared = standard(args.cases, args.seed)?;
    let program = fastiam::compile::compile(&prepared.policies).map_err(|e| e.to_string())?;
    let evaluator = Evaluator::new(&program);
    let cedar = Cedar {
        authorizer: Authorizer::new(),
        policies: CedarPolicySet::from_str(CEDAR_POLICIES).map_err(|e| e.to_string())?,
        entities: action_entities(&prepared.requests)?,
    };
    let built = Instant::now();
    let chains = cedar_chains(&prepared.requests)?;
    let build_seconds = built.elapsed().as_secs_f64();
    let checked = check(&prepared, &evaluator, &cedar, &chains)?;

    if !args.json {
        println!(
            "standard workload: {} chains (seed {}), {} hops; a chain evaluator evaluates {} (it stops at the first denied hop)",
            args.cases, args.seed, prepared.hops, checked.hops_evaluated
        );
        println!(
            "same decisions on all {} hops (fastiam compiled = cedar; compiled = reference on every chain): hops Allow {}, ExplicitDeny {}, ImplicitDeny {}; chains Allow {}, ExplicitDeny {}, ImplicitDeny {}",
            prepared.hops, checked.hops[0], checked.hops[1], checked.hops[2], checked.chains[0], checked.chains[1], checked.chains[2]
        );
    }
    let mut scratch = evaluator.scratch();
    let mut rounds: Vec<[f64; 4]> = Vec::new();
    for round in 0..args.rounds {
        let mut rates = [0.0; 4];
        // Rotate the order from round to round, so no engine always runs first.
        for i in 0..ENGINES.len() {
            let at = (i + round) % ENGINES.len();
            rates[at] = measure(
                ENGINES[at],
                &prepared,
                &evaluator,
                &mut scratch,
                &cedar,
                &chains,
                args.min_time,
            );
        }
        if !args.json {
            println!(
                "round {}: {}",
                round + 1,
                ENGINES
                    .iter()
                    .zip(rates)
                    .map(|(e, r)| format!("{} {:.0}", e.name(), r))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        rounds.push(rates);
    }
    let column = |e: usize| median(rounds.iter().map(|r| r[e]).collect());
    let ratio = |a: usize, b: usize| median(rounds.iter().map(|r| r[a] / r[b]).collect());
    let range = |a: usize, b: usize| {
        let v: Vec<f64> = rounds.iter().map(|r| r[a] / r[b]).collect();
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(0.0, f64::max),
        )
    };
    let hops_all = prepared.hops;
    if args.json {
        let engines: Vec<_> = ENGINES
            .iter()
            .enumerate()
            .map(|(i, e)| {
                json!({"engine": e.name(), "median_hops_per_second": column(i),
                       "per_round": rounds.iter().map(|r| r[i]).collect::<Vec<_>>()})
            })
            .collect();
        println!(
            "{}",
            json!({
                "workload": {"generator": "standard", "cases": args.cases, "seed": args.seed,
                             "hops": hops_all, "hops_evaluated": checked.hops_evaluated},
                "cedar_policy": "4.14.1",
                "decisions_equal_on_every_hop": true,
                "hop_decisions": {"Allow": checked.hops[0], "ExplicitDeny": checked.hops[1], "ImplicitDeny": checked.hops[2]},
                "chain_decisions": {"Allow": checked.chains[0], "ExplicitDeny": checked.chains[1], "ImplicitDeny": checked.chains[2]},
                "rounds": args.rounds,
                "engines": engines,
                "median_ratio": {"compiled_over_cedar": ratio(0, 2), "reference_over_cedar": ratio(1, 2),
                                 "compiled_over_reference": ratio(0, 1)},
                "cedar_request_build_per_second": hops_all as f64 / build_seconds,
            })
        );
        return Ok(());
    }
    println!(
        "one thread, {} interleaved rounds of at least {:.1} s per engine; medians:",
        args.rounds,
        args.min_time.as_secs_f64()
    );
    println!("{:<22} {:>12} {:>10}", "engine", "hops/s", "ns/hop");
    for (i, e) in ENGINES.iter().enumerate() {
        let r = column(i);
        println!("{:<22} {:>12.0} {:>10.1}", e.name(), r, 1e9 / r);
    }
    for (a, b, label) in [
        (0, 2, "fastiam compiled / cedar"),
        (1, 2, "fastiam reference / cedar"),
        (0, 1, "fastiam compiled / reference"),
    ] {
        let (lo, hi) = range(a, b);
        println!(
            "{label:<29} {:>6.1}x  (rounds {lo:.1}x..{hi:.1}x)",
            ratio(a, b)
        );
    }
    println!(
        "(hops/s count the same hops on both sides: up to each chain's first denied hop; \"cedar, every hop\" counts all {hops_all}. Building cedar's requests from the derived contexts, untimed above: {:.0} hops/s)",
        hops_all as f64 / build_seconds
    );
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cedar-compare: {e}");
            ExitCode::from(2)
        }
    }
}
