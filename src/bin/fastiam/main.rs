//! The `fastiam` command line: thin glue over the library.
//!
//! Exit codes: 0 success; 1 some case lines could not be read (they got an `Error`
//! decision, the rest were evaluated); 2 usage, I/O, policy or program error; 3 with
//! `--expect`, some decision differs from its case's `expect` (`simulate --fail-on`: some
//! cell has the decision it names).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `println!` that returns the write error instead of panicking, so that output piped into
/// `head` ends the command quietly (`main` turns a broken pipe into success).
macro_rules! outln {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

/// `print!` that returns the write error; see [`outln`].
macro_rules! out {
    ($($arg:tt)*) => {
        write!(std::io::stdout().lock(), $($arg)*)?
    };
}

mod replay;
mod simulate;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use fastiam::policy::files::read_policies;
use fastiam::policy::{Mode, ParseOptions, Policy, PolicyKind};
use fastiam::request::PolicySet;
use fastiam::runner::{run_cases_with, Compiled, Engine, OnProgram, Reference, Summary};
use fastiam::table::{Program, SECTION_NAMES};

#[derive(Parser)]
#[command(
    name = "fastiam",
    version,
    about = "Exact, fast evaluation of cloud IAM policies and forward-access-session chains"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate cases (CASES.md JSON Lines): one decision line per case, in input order.
    Eval(EvalArgs),
    /// Compile policies into a program file.
    Compile(CompileArgs),
    /// Load a program file (verified) and describe it: policies, sections, sizes, load times.
    Inspect(InspectArgs),
    /// Time the engines on the standard workload (generated in-process, deterministic).
    Bench(BenchArgs),
    /// Replay CloudTrail logs against policies: which recorded requests would they deny?
    Replay(replay::ReplayArgs),
    /// Grow synthetic CloudTrail JSON Lines of any size from real records.
    Synth(replay::SynthArgs),
    /// Ask one question from flags: may this principal do this action on this resource
    /// (and may services then forward it)? A matrix of actions × resources.
    Simulate(simulate::SimulateArgs),
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Number of chains (cases) of the standard workload.
    #[arg(long, default_value_t = 20_000)]
    cases: usize,
    /// Generator seed (42 gives the standard figures).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also measure with 2, 4, … up to this many threads (a rayon pool; each worker
    /// evaluates with its own scratch).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Which engines to time.
    #[arg(long, value_enum, default_value_t = BenchEngines::Both)]
    engine: BenchEngines,
    /// Minimum seconds per measurement.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum BenchEngines {
    Compiled,
    Reference,
    Both,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Case files (JSON Lines); `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The engine that decides.
    #[arg(long, value_enum, default_value_t = EngineName::Compiled)]
    engine: EngineName,
    /// Evaluate against this compiled program instead of each case's own policies (the
    /// cases must carry none; hops name resource policies by `resource_policy_slot`).
    #[arg(long, conflicts_with = "engine")]
    program: Option<PathBuf>,
    /// Print counts by decision to standard error (and, with cases that carry `expect`,
    /// how many agree).
    #[arg(long)]
    summary: bool,
    /// Print only the summary, not the decision lines (implies --summary).
    #[arg(long)]
    quiet: bool,
    /// Exit with status 3 when a decision differs from its case's `expect`.
    #[arg(long)]
    expect: bool,
    /// Loading mode for every case's policies, overriding the case's `options.mode`
    /// (R-GEN-6): `strict` rejects invalid values, `lenient` makes them never match.
    #[arg(long, value_enum)]
    mode: Option<ModeName>,
}

#[derive(clap::Args)]
struct CompileArgs {
    /// Identity policies: JSON files, or directories of them.
    identity: Vec<PathBuf>,
    /// The permissions boundary.
    #[arg(long)]
    boundary: Option<PathBuf>,
    /// Session policies (repeatable); with `--session-passed` and none, an empty list.
    #[arg(long)]
    session: Vec<PathBuf>,
    /// Session policies were passed even if none is given (R-STS-3).
    #[arg(long)]
    session_passed: bool,
    /// One SCP level, root first (repeatable; files or directories, comma-separated).
    #[arg(long)]
    scp: Vec<String>,
    /// One RCP level, root first (repeatable; files or directories, comma-separated).
    #[arg(long)]
    rcp: Vec<String>,
    /// The VPC endpoint policy.
    #[arg(long)]
    vpce: Option<PathBuf>,
    /// Resource policies, in slot order (repeatable).
    #[arg(long)]
    resource: Vec<PathBuf>,
    /// Loading mode (R-GEN-6).
    #[arg(long, value_enum, default_value_t = ModeName::Strict)]
    mode: ModeName,
    /// Write a program even when no policy at all was given (it allows nothing). Without
    /// it that is an error: an empty directory or a forgotten argument is not silently
    /// compiled into a program that denies every request.
    #[arg(long)]
    allow_empty: bool,
    /// The program file to write.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(clap::Args)]
struct InspectArgs {
    /// A program file.
    file: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineName {
    /// Each distinct policy set compiled once, every chain on the zero-allocation interpreter.
    Compiled,
    /// The tree-walking oracle.
    Reference,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeName {
    Strict,
    Lenient,
}

impl ModeName {
    fn mode(self) -> Mode {
        match self {
            ModeName::Strict => Mode::Strict,
            ModeName::Lenient => Mode::Lenient,
        }
    }
}

fn main() -> ExitCode {
    // The matches are kept: `simulate` pairs each `--then` with its `--via` by position.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Eval(args) => eval(&args),
        Command::Compile(args) => compile(&args),
        Command::Inspect(args) => inspect(&args),
        Command::Bench(args) => bench(&args),
        Command::Replay(args) => replay::replay(&args),
        Command::Synth(args) => replay::synth(&args),
        Command::Simulate(args) => simulate::run(
            &args,
            matches.subcommand_matches("simulate").unwrap_or(&matches),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fastiam: {e}");
            ExitCode::from(2)
        }
    }
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn load_program(path: &Path) -> io::Result<Program<fastiam::table::AlignedBytes>> {
    let name = path.display();
    Program::read(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?
        .map_err(|e| other(format!("{name}: {e}")))
}

fn eval(args: &EvalArgs) -> io::Result<ExitCode> {
    let mode = args.mode.map(ModeName::mode);
    let loaded = args.program.as_deref().map(load_program).transpose()?;
    let on_program = loaded.as_ref().map(OnProgram::new);
    let compiled = Compiled::new();
    let engine: &dyn Engine = match (&on_program, args.engine) {
        (Some(p), _) => p,
        (None, EngineName::Compiled) => &compiled,
        (None, EngineName::Reference) => &Reference,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut total = Summary::default();
    let mut write_error = None;
    for path in &args.files {
        let name = path.display().to_string();
        let mut emit = |o: &fastiam::runner::Outcome| {
            if args.quiet || write_error.is_some() {
                return;
            }
            if let Err(e) = writeln!(out, "{}", o.to_json()) {
                write_error = Some(e);
            }
        };
        let summary = if name == "-" {
            run_cases_with(io::stdin().lock(), "<stdin>", engine, mode, &mut emit)?
        } else {
            let file =
                File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
            run_cases_with(BufReader::new(file), &name, engine, mode, &mut emit)?
        };
        if let Some(e) = write_error.take() {
            return Err(e);
        }
        if args.summary || args.quiet {
            eprintln!("== {name} ({} engine)\n{summary}", engine.name());
        }
        total.merge(summary);
    }
    out.flush()?;
    if (args.summary || args.quiet) && args.files.len() > 1 {
        eprintln!("== total\n{total}");
    }
    Ok(if args.expect && !total.expect_disagree.is_empty() {
        ExitCode::from(3)
    } else if total.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn compile(args: &CompileArgs) -> io::Result<ExitCode> {
    let mode = args.mode.mode();
    let started = Instant::now();
    let read = |paths: &[PathBuf], kind: PolicyKind| -> io::Result<Vec<Policy>> {
        let options = ParseOptions::new(kind).with_mode(mode);
        let mut out = Vec::new();
        for p in paths {
            out.extend(read_policies(p, &options).map_err(other)?);
        }
        Ok(out)
    };
    let one = |path: &Option<PathBuf>, kind| -> io::Result<Option<Policy>> {
        Ok(read(path.as_slice(), kind)?.into_iter().next())
    };
    let levels = |specs: &[String], kind| -> io::Result<Vec<Vec<Policy>>> {
        specs
            .iter()
            .map(|level| {
                let paths: Vec<PathBuf> = level.split(',').map(PathBuf::from).collect();
                read(&paths, kind)
            })
            .collect()
    };
    let mut set = PolicySet {
        identity: read(&args.identity, PolicyKind::Identity)?,
        boundary: one(&args.boundary, PolicyKind::PermissionsBoundary)?,
        session: None,
        scp: levels(&args.scp, PolicyKind::Scp)?,
        rcp: levels(&args.rcp, PolicyKind::Rcp)?,
        vpce: one(&args.vpce, PolicyKind::VpcEndpoint)?,
        resource: read(&args.resource, PolicyKind::ResourceBased)?,
    };
    if args.session_passed || !args.session.is_empty() {
        set.session = Some(read(&args.session, PolicyKind::Session)?);
    }
    if policy_count(&set) == 0 && !args.allow_empty {
        return Err(other(
            "no policy to compile: the arguments name no policy file (directories without \
             `.json` files count as none); pass identity policies, --boundary, --session, --scp, \
             --rcp, --vpce or --resource, or --allow-empty for a program that allows nothing",
        ));
    }
    let parsed = started.elapsed();
    let program = fastiam::compile::compile(&set).map_err(other)?;
    let compiled = started.elapsed() - parsed;
    std::fs::write(&args.output, program.as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.output.display())))?;
    let view = program.view();
    eprintln!(
        "compiled {} policies, {} statements into {} ({} bytes): parse {:.1} ms, compile {:.1} ms",
        view.policies.len(),
        view.statements.len(),
        args.output.display(),
        program.as_bytes().len(),
        parsed.as_secs_f64() * 1e3,
        compiled.as_secs_f64() * 1e3,
    );
    Ok(ExitCode::SUCCESS)
}

/// How many policies a set holds, of every kind.
fn policy_count(set: &PolicySet) -> usize {
    set.identity.len()
        + usize::from(set.boundary.is_some())
        + set.session.as_ref().map_or(0, Vec::len)
        + set.scp.iter().map(Vec::len).sum::<usize>()
        + set.rcp.iter().map(Vec::len).sum::<usize>()
        + usize::from(set.vpce.is_some())
        + set.resource.len()
}

fn inspect(args: &InspectArgs) -> io::Result<ExitCode> {
    let name = args.file.display();
    let bytes =
        std::fs::read(&args.file).map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
    let aligned = fastiam::table::AlignedBytes::copy_from(&bytes);
    let started = Instant::now();
    let program = Program::from_bytes(&aligned).map_err(|e| other(format!("{name}: {e}")))?;
    let verified = started.elapsed();
    let file = File::open(&args.file)?;
    let started = Instant::now();
    // SAFETY: `Program::map` requires the file to stay unchanged while mapped; this
    // command only reads it, and the mapping ends with this function.
    let mapped = unsafe { Program::map(&file) }?.map_err(|e| other(format!("{name}: {e}")))?;
    let mapped_time = started.elapsed();
    let view = program.view();
    outln!(
        "{name}: {} bytes, format version {}",
        bytes.len(),
        fastiam::table::VERSION
    );
    outln!(
        "  {} policies, {} statements, {} keys, {} strings; action index: {} services",
        view.policies.len(),
        view.statements.len(),
        view.keys.len(),
        view.string_index.len(),
        view.services.len()
    );
    outln!(
        "  checksum {:#010x}; verified load from memory (checksum included): {:.3} ms; memory-mapped and verified: {:.3} ms",
        fastiam::table::checksum(program.as_bytes()).unwrap_or(0),
        verified.as_secs_f64() * 1e3,
        mapped_time.as_secs_f64() * 1e3
    );
    for p in view.policies {
        let kind = fastiam::bytecode::policy_kind_from_code(p.kind).map_or("?", |k| k.name());
        let place = match kind {
            "scp" | "rcp" => format!("level {} #{}", p.level, p.position),
            "resource" => format!("slot {}", p.position),
            _ => format!("#{}", p.position),
        };
        outln!(
            "  policy {kind:<8} {place:<12} {:>6} statements  {}",
            p.statements_len,
            view.string(p.id).unwrap_or("?")
        );
    }
    let started = Instant::now();
    let evaluator = fastiam::eval::Evaluator::new(&program);
    outln!(
        "  evaluator built (per-program tables): {:.3} ms; {} tabulated candidates; {} bytes of tables",
        started.elapsed().as_secs_f64() * 1e3,
        evaluator.tabulated_candidates(),
        evaluator.table_bytes()
    );
    for (name, bytes) in evaluator.table_parts() {
        outln!("  evaluator table {name:<35} {bytes:>10} bytes");
    }
    for (name, (_, len)) in SECTION_NAMES.iter().zip(program_ranges(&mapped)) {
        outln!("  section {name:<17} {len:>10} bytes");
    }
    Ok(ExitCode::SUCCESS)
}

fn program_ranges<B: AsRef<[u8]>>(p: &Program<B>) -> Vec<(usize, usize)> {
    p.section_ranges().to_vec()
}

fn bench(args: &BenchArgs) -> io::Result<ExitCode> {
    use fastiam::benchmark::{run, BenchConfig, Engines};
    let config = BenchConfig {
        cases: args.cases.max(1),
        seed: args.seed,
        threads: args.threads.max(1),
        engines: match args.engine {
            BenchEngines::Compiled => Engines::Compiled,
            BenchEngines::Reference => Engines::Reference,
            BenchEngines::Both => Engines::Both,
        },
        min_time: std::time::Duration::from_secs_f64(args.seconds.max(0.01)),
    };
    let report = run(&config).map_err(other)?;
    if args.json {
        outln!("{}", report.to_json());
    } else {
        outln!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
