//! Builds an [`Evaluator`] for one compiled program many times in one process, and says
//! for each build where its wall time went: its thread's CPU time, its minor page faults
//! (each a first touch of freshly mapped memory, which the kernel zeroes) and its context
//! switches (involuntary: preempted by another task; voluntary: waited) and the CPU it
//! started and ended on, to tell a build's
//! own work from what a fresh process and a busy machine add:
//! `cargo run --release --example build_loop -- PROGRAM.fiam [BUILDS]`.
//!
//! The evaluator of each build is dropped before the next, so the allocator may hand its
//! memory to the next build, as in a process that rebuilds; build 0 is what a fresh
//! process pays (`fastiam inspect` builds once).
//!
//! ```sh
//! fastiam compile ../shared/data/aws-managed-policies/policies -o /tmp/managed.fiam
//! cargo run --release --example build_loop -- /tmp/managed.fiam 20
//! ```

use std::time::{Duration, Instant};

use fastiam::eval::Evaluator;

/// What the calling thread has used so far.
#[derive(Clone, Copy)]
struct Usage {
    cpu: Duration,
    minor_faults: i64,
    involuntary: i64,
    voluntary: i64,
}

#[allow(unsafe_code)]
fn usage() -> Usage {
    // SAFETY: both calls only write the zeroed structs they are given, of the right types.
    let (ts, ru) = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
        (ts, ru)
    };
    Usage {
        cpu: Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
        minor_faults: ru.ru_minflt,
        involuntary: ru.ru_nivcsw,
        voluntary: ru.ru_nvcsw,
    }
}

/// The CPU the calling thread runs on (-1 if unknown).
#[allow(unsafe_code)]
fn current_cpu() -> i32 {
    // SAFETY: takes no arguments and only reads the calling thread's state.
    unsafe { libc::sched_getcpu() }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: build_loop PROGRAM.fiam [BUILDS]")?;
    let builds: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("BUILDS {n:?}: {e}"))?,
        None => 20,
    };
    let program = fastiam::table::Program::read(std::path::Path::new(&path))
        .map_err(|e| format!("{path}: {e}"))?
        .map_err(|e| format!("{path}: {e}"))?;
    for i in 0..builds {
        let cpu_before = current_cpu();
        let before = usage();
        let started = Instant::now();
        let evaluator = Evaluator::new(&program);
        let wall = started.elapsed();
        let after = usage();
        let cpu_after = current_cpu();
        println!(
            "build {i:>3}: wall {:>7.3} ms, cpu {:>7.3} ms, {:>5} minor faults, {} involuntary and {} voluntary switches, on CPU {cpu_before}..{cpu_after}, {} bytes of tables",
            wall.as_secs_f64() * 1e3,
            (after.cpu - before.cpu).as_secs_f64() * 1e3,
            after.minor_faults - before.minor_faults,
            after.involuntary - before.involuntary,
            after.voluntary - before.voluntary,
            evaluator.table_bytes()
        );
        drop(evaluator);
    }
    Ok(())
}
