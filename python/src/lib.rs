//! The Python package's native module, `fastiam._native` (re-exported by
//! `python/fastiam/__init__.py`): IAM policies compiled and evaluated from Python, and
//! CloudTrail records replayed into Arrow batches.
//!
//! Why a Python package: the people who audit IAM work in Python (PMapper, cloudsplaining,
//! policy_sentry, notebooks, Spark). They get the same engine as the command line and the C
//! ABI — this crate only converts: Python values to the library's inputs, results back.
//!
//! ```python
//! import fastiam
//! program = fastiam.Program.compile(identity=[{"Version": "2012-10-17", "Statement": [
//!     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}])
//! result = program.evaluate({"principal": "arn:aws:iam::111122223333:user/alice",
//!                            "chain": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}]})
//! assert result.decision == "Allow"
//! ```
//!
//! Errors are typed ([`errors`]): a policy that cannot be read raises `PolicyError` with
//! its file, JSON pointer, line and column; a bad program file `ProgramError`; a bad
//! chain `RequestError`. A panic inside fastiam raises pyo3's `PanicException`; it never
//! takes the interpreter down.

use pyo3::prelude::*;

mod chain;
mod chain_tree;
mod errors;
mod outcome;
mod policies;
mod program;
mod replay;
mod rows;
mod scratch_pool;
mod tasks;

/// See python/Cargo.toml: memory walked on one thread and freed on another.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<program::Program>()?;
    m.add_class::<chain::Chain>()?;
    m.add_class::<outcome::Evaluation>()?;
    m.add_class::<outcome::HopResult>()?;
    m.add_class::<outcome::MatchedStatement>()?;
    m.add_class::<replay::Replayer>()?;
    m.add_class::<replay::ReplayReport>()?;
    m.add_function(wrap_pyfunction!(tasks::plan_tasks, m)?)?;
    Ok(())
}
