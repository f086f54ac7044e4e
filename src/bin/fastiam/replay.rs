//! `fastiam replay` and `fastiam synth`: glue from flags to [`fastiam::replay`].

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use clap::ValueEnum;
use fastiam::policy::files::read_policies;
use fastiam::policy::{Mode, ParseOptions, PolicyKind};
use fastiam::primitives::canonical_key;
use fastiam::replay::html::{self, About, Statements};
use fastiam::replay::report::CSV_HEADER;
use fastiam::replay::{
    json, replay_to, source, synth, Guardrails, OutputFormat, ReadOptions, ReplayOptions,
    ReplayPolicies, Report,
};

/// `fastiam replay --help`: how the exit code is chosen.
const REPLAY_EXIT_CODES: &str = "\
Exit codes (the first that applies):
  130  interrupted (Ctrl-C); the partial report is printed
  2    usage, I/O or policy error; no report
  4    --fail-on matched: the report has records of a listed kind
  1    some input was unreadable (a file, or records in one); the rest was replayed
  0    otherwise (skipped files, such as a README beside the logs, are not errors)";

#[derive(clap::Args)]
#[command(after_help = REPLAY_EXIT_CODES)]
pub struct ReplayArgs {
    /// CloudTrail logs (`{"Records":[…]}` files) or Huawei CTS traces, as JSON Lines or
    /// arrays, plain or gzip, or directories of them (walked in name order); told apart
    /// record by record.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Identity policies (files or directories, AWS or Huawei) of every principal: without
    /// `--account-data` they replace the assumed allow-all identity and resource side, so a
    /// new identity policy can be tested; with it they are added to every user and role.
    #[arg(long)]
    identity: Vec<PathBuf>,
    /// Session policies (files or directories, AWS or Huawei) of every role and agency
    /// session: the policies its credentials were issued with, which logs do not record.
    #[arg(long)]
    session: Vec<PathBuf>,
    /// One SCP level, root first, as `compile` takes it: repeat the flag for each level of
    /// the organisation (root, OUs, account); files or directories, comma-separated, in one
    /// flag share a level. Each level also holds the default `FullAWSAccess`.
    #[arg(long, value_name = "F[,F...]")]
    scp: Vec<String>,
    /// One RCP level, root first (as `--scp`); each also holds `RCPFullAWSAccess`.
    #[arg(long, value_name = "F[,F...]")]
    rcp: Vec<String>,
    /// How invalid policy values are treated (R-GEN-6): `strict` refuses the policy,
    /// `lenient` keeps it with the value never matching.
    #[arg(long, value_enum, default_value_t = PolicyMode::Strict)]
    mode: PolicyMode,
    /// Leave out the default allow-alls of the SCP and RCP levels.
    #[arg(long)]
    exact_guardrails: bool,
    /// Identity policies, groups, boundaries and tags: the output of
    /// `aws iam get-account-authorization-details`. Without it the replay runs in what-if
    /// mode: every principal is assumed allowed by its identity and resource side, and only
    /// the guardrails can deny.
    #[arg(long)]
    account_data: Option<PathBuf>,
    /// A resource policy: `ARN=FILE` (an S3 bucket's policy also covers its objects).
    #[arg(long, value_name = "ARN=FILE")]
    resource_policy: Vec<String>,
    /// A context key to set on every record, for what logs do not carry
    /// (`aws:PrincipalOrgID=o-abc123`).
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Take unknown context keys matching this pattern (`*` and `?` wildcards, any case) to
    /// be absent rather than unknown: `--assume-absent 'aws:PrincipalTag/*'` when the
    /// principals carry no tags. Repeatable. Keys given with `--context`, and principal
    /// tags read from `--account-data`, keep their values.
    #[arg(long, value_name = "PATTERN")]
    assume_absent: Vec<String>,
    /// Rows to add to or override in the event → action table: a TSV file with the shipped
    /// table's columns (event_source, event_name, action, resource_types, param_hints, note).
    /// Repeatable; a later file's row wins.
    #[arg(long, value_name = "FILE")]
    action_map: Vec<PathBuf>,
    /// Say which table mapped each record (shipped table, exception row, or FILE:LINE of an
    /// `--action-map`): a `mapping` field of `--output`, and counts in the summary.
    #[arg(long)]
    explain_mapping: bool,
    /// Write one line per record here (`-`: standard output, and the summary then goes to
    /// standard error).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The format of `--output`.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Print the summary as JSON on standard output instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the report as one self-contained HTML page here (counts, charts over time
    /// and by service, denials with their deciding statements' text).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Only parse the records (as the replay does) and count them: the baseline replay's cost
    /// is compared with (BENCHMARKS.md).
    #[arg(long)]
    parse_only: bool,
    /// Exit with status 4 when the report has records of this kind (repeatable, or a comma
    /// list): `deny`, a record the replay denies that the log does not show denied (a new
    /// denial); `depends`, a decision that depends on keys the log does not carry.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND")]
    fail_on: Vec<FailOn>,
    /// A record (array element, line, or whole single document) longer than this is skipped
    /// and counted unreadable (bytes; K, M, G suffixes allowed).
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = parse_bytes)]
    record_cap: u64,
    /// Decompression guard: stop reading a gzip file once it has inflated past this many
    /// times its compressed bytes and past --inflate-floor.
    #[arg(long, value_name = "RATIO", default_value_t = 500)]
    inflate_ratio: u64,
    /// Decompression guard: no gzip file is stopped before this many bytes (K, M, G allowed).
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_bytes)]
    inflate_floor: u64,
}

/// `--fail-on` kinds.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Deny,
    Depends,
}

/// A byte count with an optional binary suffix: `65536`, `64K`, `16M`, `1G`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        _ => (text, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}`: expected a byte count such as 65536, 64K, 16M or 1G"))?;
    n.checked_mul(1 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}`: expected a byte count from 1 to 2^64 - 1"))
}

#[derive(Clone, Copy, ValueEnum)]
enum PolicyMode {
    Strict,
    Lenient,
}

impl PolicyMode {
    fn mode(self) -> Mode {
        match self {
            PolicyMode::Strict => Mode::Strict,
            PolicyMode::Lenient => Mode::Lenient,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Real CloudTrail logs to draw records from (as for `replay`).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// How many records to write.
    #[arg(long, short = 'n')]
    records: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The JSON Lines file to write (gzip when it ends in `.gz`).
    #[arg(short, long)]
    output: PathBuf,
}

/// Set by Ctrl-C; workers stop between records and the partial report is printed.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Policy levels, one a flag, each flag's files (comma-separated) in one level.
/// Policies of one kind from files or directories, all in one list (`--identity`).
fn read_policy_files(
    paths: &[PathBuf],
    kind: PolicyKind,
    mode: Mode,
) -> io::Result<Vec<fastiam::policy::Policy>> {
    let options = ParseOptions::new(kind).with_mode(mode);
    let mut out = Vec::new();
    for p in paths {
        out.extend(read_policies(p, &options).map_err(other)?);
    }
    Ok(out)
}

fn read_levels(
    specs: &[String],
    kind: PolicyKind,
    mode: Mode,
) -> io::Result<Vec<Vec<fastiam::policy::Policy>>> {
    let options = ParseOptions::new(kind).with_mode(mode);
    specs
        .iter()
        .map(|level| {
            let mut out = Vec::new();
            for p in level.split(',') {
                out.extend(read_policies(Path::new(p), &options).map_err(other)?);
            }
            Ok(out)
        })
        .collect()
}

pub fn replay(args: &ReplayArgs) -> io::Result<ExitCode> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(other)?;
    }
    let read = ReadOptions {
        max_record_bytes: usize::try_from(args.record_cap).unwrap_or(usize::MAX),
        inflate_ratio: args.inflate_ratio,
        inflate_floor: args.inflate_floor,
    };
    if args.parse_only {
        if args.html.is_some() {
            return Err(other("--html: --parse-only makes no report to write"));
        }
        return parse_only(&args.inputs, &read);
    }
    let mut guardrails = Guardrails {
        identity: read_policy_files(&args.identity, PolicyKind::Identity, args.mode.mode())?,
        session: read_policy_files(&args.session, PolicyKind::Session, args.mode.mode())?,
        scp: read_levels(&args.scp, PolicyKind::Scp, args.mode.mode())?,
        rcp: read_levels(&args.rcp, PolicyKind::Rcp, args.mode.mode())?,
        exact: args.exact_guardrails,
        mode: args.mode.mode(),
        ..Guardrails::default()
    };
    for spec in &args.resource_policy {
        let (arn, file) = spec
            .split_once('=')
            .ok_or_else(|| other(format!("--resource-policy `{spec}`: expected ARN=FILE")))?;
        let options = ParseOptions::new(PolicyKind::ResourceBased).with_mode(args.mode.mode());
        for policy in read_policies(Path::new(file), &options).map_err(other)? {
            guardrails.resource.push((arn.to_string(), policy));
        }
    }
    let mut options = ReplayOptions {
        read,
        ..ReplayOptions::default()
    };
    if !args.action_map.is_empty() {
        let mut actions = fastiam::replay::ActionMap::shared().clone();
        for path in &args.action_map {
            actions.add_rows(path).map_err(other)?;
        }
        options.actions = Some(actions);
    }
    options.map.explain = args.explain_mapping;
    for spec in &args.context {
        let (k, v) = spec
            .split_once('=')
            .ok_or_else(|| other(format!("--context `{spec}`: expected KEY=VALUE")))?;
        options
            .map
            .extra_context
            .push((canonical_key(k), v.to_string()));
    }
    for pattern in &args.assume_absent {
        if !pattern.contains(':') {
            return Err(other(format!(
                "--assume-absent `{pattern}`: expected a key pattern such as `aws:PrincipalTag/*`"
            )));
        }
        options.map.assume_absent.push(canonical_key(pattern));
    }
    let policies = match &args.account_data {
        Some(path) => ReplayPolicies::from_account_data(path, &guardrails),
        None => ReplayPolicies::what_if(&guardrails),
    }
    .map_err(other)?;
    options.output = args.output.as_ref().map(|_| match args.format {
        Format::Json => OutputFormat::Json,
        Format::Csv => OutputFormat::Csv,
    });
    options.cancel = Some(&INTERRUPTED);
    ctrlc::set_handler(|| INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed))
        .map_err(other)?;

    let total: u64 = source::plan(&args.inputs).0.iter().map(|u| u.bytes()).sum();
    let bar = if args.quiet || !io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
            )
            .map_err(other)?,
        );
        bar
    };
    let records_on_stdout = args.output.as_deref() == Some(Path::new("-"));
    let mut sink: Box<dyn Write> = match &args.output {
        Some(_) if records_on_stdout => Box::new(BufWriter::new(io::stdout())),
        Some(path) => {
            let file = File::create(path).map_err(|e| other(format!("{}: {e}", path.display())))?;
            Box::new(BufWriter::new(file))
        }
        None => Box::new(io::sink()),
    };
    if args.output.is_some() && matches!(args.format, Format::Csv) {
        sink.write_all(CSV_HEADER.as_bytes())?;
    }
    // Created before the replay, so that a path that cannot be written fails at once.
    let html_file = match &args.html {
        Some(path) => Some((path, File::create(path).map_err(|e| html_error(path, e))?)),
        None => None,
    };
    let started = Instant::now();
    let report = replay_to(
        &args.inputs,
        &policies,
        &options,
        &|n| bar.inc(n),
        &mut sink,
    )?;
    sink.flush()?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let summary = if args.json {
        let mut v = report.to_json();
        v["seconds"] = serde_json::json!(elapsed);
        format!("{v}\n")
    } else {
        format!(
            "{}\n{} records in {:.2} s ({:.0} records/s, {} threads)\n",
            report.summary_table(),
            report.records_seen(),
            elapsed,
            report.records_seen() as f64 / elapsed.max(1e-9),
            rayon::current_num_threads()
        )
    };
    if let Some((path, file)) = html_file {
        write_html(path, file, &report, &policies, args)?;
    }
    if records_on_stdout {
        eprint!("{summary}");
    } else {
        out!("{summary}");
    }
    Ok(exit_code(&report, &args.fail_on))
}

/// The exit code of a finished replay (see [`REPLAY_EXIT_CODES`]).
fn exit_code(report: &Report, fail_on: &[FailOn]) -> ExitCode {
    let matched = |kind: &FailOn| match kind {
        FailOn::Deny => report.newly_denied > 0,
        FailOn::Depends => report.all.depends_on > 0,
    };
    if report.interrupted {
        ExitCode::from(130)
    } else if fail_on.iter().any(matched) {
        ExitCode::from(4)
    } else if report.unreadable.count > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--html FILE`: the page, with the statements as written in the policy files given.
fn html_error(path: &Path, e: impl std::fmt::Display) -> io::Error {
    other(format!("--html {}: {e}", path.display()))
}

fn write_html(
    path: &Path,
    file: File,
    report: &Report,
    policies: &ReplayPolicies,
    args: &ReplayArgs,
) -> io::Result<()> {
    let mut statements = Statements::of(policies);
    let mut about = About {
        inputs: args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        generator: format!("fastiam {}", env!("CARGO_PKG_VERSION")),
        ..About::default()
    };
    for (flag, paths) in [("--identity", &args.identity), ("--session", &args.session)] {
        for p in paths {
            statements.add_files(p).map_err(other)?;
            about.policies.push(format!("{flag} {}", p.display()));
        }
    }
    for (flag, paths) in [("--scp", &args.scp), ("--rcp", &args.rcp)] {
        for level in paths {
            for p in level.split(',') {
                statements.add_files(Path::new(p)).map_err(other)?;
            }
            about.policies.push(format!("{flag} {level}"));
        }
    }
    for spec in &args.resource_policy {
        if let Some((_, file)) = spec.split_once('=') {
            statements.add_files(Path::new(file)).map_err(other)?;
        }
        about.policies.push(format!("--resource-policy {spec}"));
    }
    if let Some(p) = &args.account_data {
        about
            .policies
            .push(format!("--account-data {}", p.display()));
    }
    let page = html::render(report, &statements, &about);
    let mut out = BufWriter::new(file);
    out.write_all(page.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| html_error(path, e))
}

/// The baseline: read and parse every record as the replay does (sonic-rs), nothing else.
fn parse_only(inputs: &[PathBuf], options: &ReadOptions) -> io::Result<ExitCode> {
    use rayon::prelude::*;
    let started = Instant::now();
    let (units, errors) = source::plan(inputs);
    let (records, bad) = units
        .par_iter()
        .map(|u| {
            let (mut ok, mut bad) = (0u64, 0u64);
            let r = source::read_unit_with(u, options, &mut |_, parsed| {
                match parsed {
                    Ok(_) => ok += 1,
                    Err(_) => bad += 1,
                }
                true
            });
            (ok, bad + u64::from(r.is_err()))
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let elapsed = started.elapsed().as_secs_f64();
    let unreadable = bad + errors.len() as u64;
    outln!(
        "{} records parsed, {} unreadable, in {:.2} s ({:.0} records/s, {} threads)",
        records,
        unreadable,
        elapsed,
        records as f64 / elapsed.max(1e-9),
        rayon::current_num_threads()
    );
    Ok(if unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn synth(args: &SynthArgs) -> io::Result<ExitCode> {
    let (units, errors) = source::plan(&args.inputs);
    for e in &errors {
        eprintln!("fastiam: {}: {}", e.position, e.message);
    }
    let mut seeds = Vec::new();
    for unit in &units {
        let r = source::read_unit(unit, &mut |at, parsed| {
            match parsed {
                Ok(v) => match json::to_serde(&v) {
                    Ok(v) => seeds.push(v),
                    Err(e) => eprintln!("fastiam: {at}: {e}"),
                },
                Err(e) => eprintln!("fastiam: {at}: {e}"),
            }
            true
        });
        if let Err(e) = r {
            eprintln!("fastiam: {}: {}", e.position, e.message);
        }
    }
    let path = &args.output;
    let file = File::create(path).map_err(|e| other(format!("{}: {e}", path.display())))?;
    let n = if path.extension().is_some_and(|e| e == "gz") {
        let mut gz =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
        let n = synth::generate(&seeds, args.records, args.seed, &mut gz)?;
        gz.finish()?.flush()?;
        n
    } else {
        let mut out = BufWriter::new(file);
        let n = synth::generate(&seeds, args.records, args.seed, &mut out)?;
        out.flush()?;
        n
    };
    eprintln!(
        "{n} records written to {} (drawn from {} real ones)",
        path.display(),
        seeds.len()
    );
    Ok(ExitCode::SUCCESS)
}
