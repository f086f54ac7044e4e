//! `fastiam simulate`: glue from flags to [`fastiam::simulate`].
//!
//! Exit codes: 0 answered; 2 usage, I/O, policy or account-data error; 3 with `--fail-on`,
//! some cell has the decision it names.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, ValueEnum};
use fastiam::decision::Decision;
use fastiam::eval::Evaluator;
use fastiam::simulate::sources::{PolicyFiles, Sources};
use fastiam::simulate::{account_data, context, evaluate, report, simulate, Answer};
use fastiam::simulate::{Forwarded, Question, SimulateError};

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Identity policies: JSON files or directories of them (repeatable).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// The permissions boundary.
    #[arg(long, value_name = "FILE")]
    boundary: Option<PathBuf>,
    /// Session policies (repeatable); given at all, session policies were passed (R-STS-3).
    #[arg(long, value_name = "FILE")]
    session: Vec<PathBuf>,
    /// One SCP level, root first (repeatable; files or directories, comma-separated).
    #[arg(long, value_name = "F[,F...]")]
    scp: Vec<String>,
    /// One RCP level, root first (repeatable; files or directories, comma-separated).
    #[arg(long, value_name = "F[,F...]")]
    rcp: Vec<String>,
    /// The VPC endpoint policy the principal's own call went through.
    #[arg(long, value_name = "FILE")]
    vpce: Option<PathBuf>,
    /// A resource policy: `FILE` for the resource of the principal's own call, or
    /// `ARN=FILE` for every hop on that ARN (a bucket's policy also covers its objects).
    #[arg(long, value_name = "[ARN=]FILE")]
    resource_policy: Vec<String>,
    /// Evaluate against a compiled program (`fastiam compile`) instead of policy files.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["policy", "boundary", "session", "scp", "rcp", "vpce", "resource_policy", "account_data"])]
    program: Option<PathBuf>,
    /// The principal's own policies, boundary and tags, from
    /// `aws iam get-account-authorization-details`.
    #[arg(long, value_name = "AUTH.json", conflicts_with_all = ["policy", "boundary"])]
    account_data: Option<PathBuf>,
    /// Who asks: an IAM/STS ARN, a Huawei URN, a service principal or `anonymous`.
    #[arg(long, required = true)]
    principal: String,
    /// The action of the principal's own call (several: one cell each).
    #[arg(long, num_args = 1.., required = true)]
    action: Vec<String>,
    /// Its resource (several: one cell each with every action; default `*`).
    #[arg(long, num_args = 1..)]
    resource: Vec<String>,
    /// A context key of the principal's call: `KEY=VALUE[,VALUE...]`, typed by the key
    /// (`aws:SourceIp` an IP, …) or by `KEY(TYPE)=…` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// A forwarded hop: this service calls the next `--then` on the principal's behalf.
    #[arg(long, value_name = "SERVICE")]
    via: Vec<String>,
    /// The forwarded hop's action and resource (default `*`); follows its `--via`.
    #[arg(long, num_args = 1..=2, value_names = ["ACTION", "RESOURCE"])]
    then: Vec<String>,
    /// One JSON decision line per cell (eval's line, with the action and resource).
    #[arg(long)]
    json: bool,
    /// Exit with status 3 when a cell is not allowed (`deny`) or is allowed (`allow`).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    /// Some cell is not `Allow`.
    Deny,
    /// Some cell is `Allow`.
    Allow,
}

fn usage(message: String) -> io::Error {
    io::Error::other(message)
}

fn error(e: SimulateError) -> io::Error {
    io::Error::other(e.to_string())
}

pub fn run(args: &SimulateArgs, matches: &ArgMatches) -> io::Result<ExitCode> {
    let forwarded = forwarded_hops(matches).map_err(usage)?;
    let files = policy_files(args).map_err(usage)?;
    let mut sources = Sources::read(&files).map_err(error)?;
    let mut question = Question::new(&args.principal, &sources.set).map_err(error)?;
    if let Some(path) = &args.account_data {
        account_data::load(path, &mut question, &mut sources).map_err(error)?;
    }
    question.actions = args.action.clone();
    question.resources = args.resource.clone();
    question.forwarded = forwarded;
    for spec in &args.context {
        question
            .context
            .push(context::parse_entry(spec).map_err(|e| error(e.into()))?);
    }
    let (answers, sources) = match &args.program {
        Some(path) => {
            let program = crate::load_program(path)?;
            let cells = question.cells(None).map_err(error)?;
            (evaluate(&Evaluator::new(&program), cells), None)
        }
        None => (
            simulate(&question, &sources).map_err(error)?,
            Some(&sources),
        ),
    };
    let mut out = io::stdout().lock();
    if args.json {
        for answer in &answers {
            writeln!(out, "{}", report::to_json(answer, sources))?;
        }
    } else {
        write!(out, "{}", report::table(&answers, sources))?;
    }
    out.flush()?;
    Ok(exit_code(&answers, args.fail_on))
}

fn exit_code(answers: &[Answer], fail_on: Option<FailOn>) -> ExitCode {
    let allowed = |a: &Answer| a.decision.decision == Decision::Allow;
    let fail = match fail_on {
        None => false,
        Some(FailOn::Deny) => !answers.iter().all(allowed),
        Some(FailOn::Allow) => answers.iter().any(allowed),
    };
    if fail {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn policy_files(args: &SimulateArgs) -> Result<PolicyFiles, String> {
    let levels = |specs: &[String]| -> Vec<Vec<PathBuf>> {
        specs
            .iter()
            .map(|level| level.split(',').map(PathBuf::from).collect())
            .collect()
    };
    let mut resource = Vec::new();
    for spec in &args.resource_policy {
        resource.push(match spec.split_once('=') {
            Some((arn, file)) if arn.contains(':') => (Some(arn.to_string()), PathBuf::from(file)),
            _ if spec.is_empty() => {
                return Err("--resource-policy: expected FILE or ARN=FILE, found nothing".into())
            }
            _ => (None, PathBuf::from(spec)),
        });
    }
    Ok(PolicyFiles {
        identity: args.policy.clone(),
        boundary: args.boundary.clone(),
        session: (!args.session.is_empty()).then(|| args.session.clone()),
        scp: levels(&args.scp),
        rcp: levels(&args.rcp),
        vpce: args.vpce.clone(),
        resource,
    })
}

/// Pairs each `--then` with the `--via` just before it, by position on the command line.
fn forwarded_hops(matches: &ArgMatches) -> Result<Vec<Forwarded>, String> {
    enum Flag {
        Via(String),
        Then(Vec<String>),
    }
    let mut flags: Vec<(usize, Flag)> = Vec::new();
    if let (Some(values), Some(indices)) =
        (matches.get_many::<String>("via"), matches.indices_of("via"))
    {
        flags.extend(indices.zip(values).map(|(i, v)| (i, Flag::Via(v.clone()))));
    }
    if let (Some(occurrences), Some(mut indices)) = (
        matches.get_occurrences::<String>("then"),
        matches.indices_of("then"),
    ) {
        for occurrence in occurrences {
            let values: Vec<String> = occurrence.cloned().collect();
            let first = indices.next().unwrap_or(0);
            for _ in 1..values.len() {
                indices.next();
            }
            flags.push((first, Flag::Then(values)));
        }
    }
    flags.sort_by_key(|(i, _)| *i);
    let mut hops = Vec::new();
    let mut pending: Option<String> = None;
    for (_, flag) in flags {
        match flag {
            Flag::Via(service) => {
                if let Some(previous) = pending.replace(service) {
                    return Err(format!(
                        "--via `{previous}` has no --then after it (write --via SERVICE --then ACTION [RESOURCE] for each forwarded hop)"
                    ));
                }
            }
            Flag::Then(values) => {
                let via = pending.take().ok_or_else(|| {
                    format!(
                        "--then `{}` without a --via SERVICE before it (the service that forwards the call)",
                        values.join(" ")
                    )
                })?;
                let mut values = values.into_iter();
                hops.push(Forwarded {
                    via,
                    action: values.next().unwrap_or_default(),
                    resource: values.next(),
                });
            }
        }
    }
    match pending {
        Some(service) => Err(format!(
            "--via `{service}` has no --then after it (write --via SERVICE --then ACTION [RESOURCE] for each forwarded hop)"
        )),
        None => Ok(hops),
    }
}
