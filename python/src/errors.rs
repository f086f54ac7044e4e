//! The exceptions of the package, one per phase (STYLE.md habit 6), all under
//! `FastiamError`:
//!
//! - `PolicyError`: a policy document could not be read; `.file`, `.pointer`, `.line`,
//!   `.column` say where (`None` when not known, e.g. a missing file);
//! - `ProgramError`: bytes or a file that are not a valid compiled program;
//! - `RequestError`: a chain that is not a CASES.md request;
//! - `ReplayError`: a replay input that cannot be used.
//!
//! ```python
//! try:
//!     fastiam.Program.compile(identity=['{"Statement": [{"Effect": "allow"}]}'])
//! except fastiam.PolicyError as e:
//!     print(e.file, e.pointer, e.line, e.column)   # identity[0] /Statement/0/Effect 1 27
//! ```

use fastiam::error::ParseError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    fastiam,
    FastiamError,
    PyException,
    "Base of every fastiam error."
);
create_exception!(
    fastiam,
    PolicyError,
    FastiamError,
    "A policy document could not be read: `file`, `pointer`, `line`, `column` say where."
);
create_exception!(
    fastiam,
    ProgramError,
    FastiamError,
    "Bytes or a file that are not a valid compiled program."
);
create_exception!(
    fastiam,
    RequestError,
    FastiamError,
    "A chain that is not a CASES.md request (or does not fit the program)."
);
create_exception!(
    fastiam,
    ReplayError,
    FastiamError,
    "A replay input (policy, account data, log, Arrow column) that cannot be used."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("FastiamError", py.get_type::<FastiamError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("ProgramError", py.get_type::<ProgramError>())?;
    m.add("RequestError", py.get_type::<RequestError>())?;
    m.add("ReplayError", py.get_type::<ReplayError>())?;
    Ok(())
}

/// Where a policy error is, as the exception's attributes.
#[derive(Default)]
pub struct Place {
    pub file: Option<String>,
    pub pointer: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// A `PolicyError` with its place as attributes.
pub fn policy_error(py: Python<'_>, message: String, place: Place) -> PyErr {
    let err = PolicyError::new_err(message);
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail short of memory
    // exhaustion; the error message carries the same facts anyway.
    let _ = value.setattr("file", place.file);
    let _ = value.setattr("pointer", place.pointer);
    let _ = value.setattr("line", place.line);
    let _ = value.setattr("column", place.column);
    err
}

/// A `PolicyError` from the parser's error (its source is the file or the policy's name).
pub fn parse_error(py: Python<'_>, e: &ParseError) -> PyErr {
    let place = Place {
        file: Some(e.location.source.clone()),
        pointer: Some(e.location.pointer.to_string()),
        line: Some(e.location.line),
        column: Some(e.location.column),
    };
    policy_error(py, e.to_string(), place)
}

/// A `RequestError` whose `pointer` attribute says where in the chain (`None`: the whole
/// chain, or not known).
pub fn request_error(py: Python<'_>, message: String, pointer: Option<String>) -> PyErr {
    let err = RequestError::new_err(message);
    // As in `policy_error`: the message carries the pointer too.
    let _ = err.value(py).setattr("pointer", pointer);
    err
}
