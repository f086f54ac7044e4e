//! The `fastiam` command line: thin glue over the library.
//!
//! Exit codes: 0 every case evaluated; 1 some case lines could not be read (they got an
//! `Error` decision, the rest were evaluated); 2 usage or I/O error; 3 with `--expect`,
//! some decision differs from its case's `expect`.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fastiam::policy::Mode;
use fastiam::runner::{run_cases_with, Compiled, Engine, Reference, Summary};

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
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Case files (JSON Lines); `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The engine that decides.
    #[arg(long, value_enum, default_value_t = EngineName::Compiled)]
    engine: EngineName,
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

#[derive(Clone, Copy, ValueEnum)]
enum ModeName {
    Strict,
    Lenient,
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineName {
    /// Each distinct policy set compiled once, every chain on the zero-allocation interpreter.
    Compiled,
    /// The tree-walking oracle.
    Reference,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(args) => eval(&args),
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

fn eval(args: &EvalArgs) -> io::Result<ExitCode> {
    let compiled = Compiled::new();
    let engine: &dyn Engine = match args.engine {
        EngineName::Compiled => &compiled,
        EngineName::Reference => &Reference,
    };
    let mode = args.mode.map(|m| match m {
        ModeName::Strict => Mode::Strict,
        ModeName::Lenient => Mode::Lenient,
    });
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
