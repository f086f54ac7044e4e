//! Python policy arguments → a [`PolicySet`], with the names and errors of the rest of
//! fastiam.
//!
//! A policy is given as JSON text (`str`), a parsed document (`dict`), CASES.md's
//! wrapped form `{"id": NAME, "document": DOC}`, or a path (`pathlib.Path`, any
//! `os.PathLike`): a file, or a directory whose `*.json` files are read in name order, as
//! `fastiam compile` reads them. Text and dicts are named like the policies of a case
//! (`identity[0]`, `scp[1][0]`, `resource[2]`), files by their stem; the names are what
//! matched statements show.
//!
//! ```python
//! Program.compile(identity=[pathlib.Path("policies/"), '{"Statement": [...]}'],
//!                 scp=[[root_scp], [ou_scp]], resource=[{"id": "bucket", "document": doc}])
//! ```

use std::path::PathBuf;

use fastiam::policy::files::{read_policies, PolicyFileError};
use fastiam::policy::{parse_policy, Mode, ParseOptions, Policy, PolicyKind};
use fastiam::request::PolicySet;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::{parse_error, policy_error, Place};

/// The arguments of `Program.compile`, as Python gave them.
pub struct PolicyArgs<'py> {
    pub identity: Option<Bound<'py, PyAny>>,
    pub boundary: Option<Bound<'py, PyAny>>,
    pub session: Option<Bound<'py, PyAny>>,
    pub scp: Option<Bound<'py, PyAny>>,
    pub rcp: Option<Bound<'py, PyAny>>,
    pub vpce: Option<Bound<'py, PyAny>>,
    pub resource: Option<Bound<'py, PyAny>>,
}

/// How documents are read: `mode="strict"|"lenient"` (R-GEN-6), Huawei variables (R-HW-17).
pub struct Reader {
    mode: Mode,
    huawei_policy_variables: bool,
}

impl Reader {
    /// The loading mode (R-GEN-6).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `mode` as Python gives it: `"strict"` or `"lenient"`.
    pub fn new(mode: &str, huawei_policy_variables: bool) -> PyResult<Self> {
        let mode = match mode {
            "strict" => Mode::Strict,
            "lenient" => Mode::Lenient,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "mode: expected `strict` or `lenient`, found `{other}`"
                )))
            }
        };
        Ok(Reader {
            mode,
            huawei_policy_variables,
        })
    }

    pub fn policy_set(&self, args: &PolicyArgs<'_>) -> PyResult<PolicySet> {
        let one = |arg: &Option<Bound<'_, PyAny>>, name: &str, kind| -> PyResult<Option<Policy>> {
            given(arg.as_ref())
                .map(|a| self.single(a, name, kind))
                .transpose()
        };
        Ok(PolicySet {
            identity: self.optional_list(
                args.identity.as_ref(),
                "identity",
                PolicyKind::Identity,
            )?,
            boundary: one(&args.boundary, "boundary", PolicyKind::PermissionsBoundary)?,
            // `session=[]` means session policies were passed, none of them (R-STS-3).
            session: match given(args.session.as_ref()) {
                Some(a) => Some(self.list(a, "session", PolicyKind::Session)?),
                None => None,
            },
            scp: self.optional_levels(args.scp.as_ref(), "scp", PolicyKind::Scp)?,
            rcp: self.optional_levels(args.rcp.as_ref(), "rcp", PolicyKind::Rcp)?,
            vpce: one(&args.vpce, "vpce", PolicyKind::VpcEndpoint)?,
            resource: self.optional_list(
                args.resource.as_ref(),
                "resource",
                PolicyKind::ResourceBased,
            )?,
        })
    }

    /// A list of policies, none when the argument is absent or `None`.
    pub fn optional_list(
        &self,
        arg: Option<&Bound<'_, PyAny>>,
        name: &str,
        kind: PolicyKind,
    ) -> PyResult<Vec<Policy>> {
        match given(arg) {
            Some(a) => self.list(a, name, kind),
            None => Ok(Vec::new()),
        }
    }

    /// Levels (lists of policies), root first; none when the argument is absent or `None`.
    pub fn optional_levels(
        &self,
        arg: Option<&Bound<'_, PyAny>>,
        name: &str,
        kind: PolicyKind,
    ) -> PyResult<Vec<Vec<Policy>>> {
        let Some(a) = given(arg) else {
            return Ok(Vec::new());
        };
        sequence(a, name, "a list of levels (lists of policies), root first")?
            .iter()
            .enumerate()
            .map(|(i, level)| self.list(level, &format!("{name}[{i}]"), kind))
            .collect()
    }

    fn options(&self, kind: PolicyKind) -> ParseOptions {
        ParseOptions {
            kind,
            mode: self.mode,
            huawei_policy_variables: self.huawei_policy_variables,
        }
    }

    /// A list of policies; each item may be a directory standing for several.
    fn list(&self, arg: &Bound<'_, PyAny>, name: &str, kind: PolicyKind) -> PyResult<Vec<Policy>> {
        let mut out = Vec::new();
        for (i, item) in sequence(arg, name, "a list of policies")?
            .iter()
            .enumerate()
        {
            out.extend(self.policies(item, &format!("{name}[{i}]"), kind)?);
        }
        Ok(out)
    }

    /// Exactly one policy (a directory must hold exactly one `*.json` file).
    fn single(&self, arg: &Bound<'_, PyAny>, name: &str, kind: PolicyKind) -> PyResult<Policy> {
        let mut found = self.policies(arg, name, kind)?;
        if found.len() != 1 {
            let message = format!("{name}: expected one policy, found {}", found.len());
            return Err(policy_error(arg.py(), message, Place::default()));
        }
        Ok(found.remove(0))
    }

    /// The policies one argument stands for: one, or a directory's.
    pub fn policies(
        &self,
        arg: &Bound<'_, PyAny>,
        id: &str,
        kind: PolicyKind,
    ) -> PyResult<Vec<Policy>> {
        let py = arg.py();
        let options = self.options(kind);
        if let Some(path) = fspath(arg)? {
            return read_policies(&path, &options).map_err(|e| match e {
                PolicyFileError::Parse(e) => parse_error(py, &e),
                PolicyFileError::Io { path, error } => {
                    let file = path.display().to_string();
                    let place = Place {
                        file: Some(file.clone()),
                        ..Place::default()
                    };
                    policy_error(py, format!("{file}: {error}"), place)
                }
            });
        }
        let (id, text) = document_text(arg, id)?;
        let policy = parse_policy(&text, &id, &options).map_err(|e| parse_error(py, &e))?;
        Ok(vec![policy])
    }
}

/// The argument unless absent or `None`.
fn given<'a, 'py>(arg: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    arg.filter(|a| !a.is_none())
}

/// `os.fspath(arg)` for path-like arguments (not for `str`, which is JSON text).
fn fspath(arg: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if arg.is_instance_of::<PyString>() || !arg.hasattr("__fspath__")? {
        return Ok(None);
    }
    let os = arg.py().import("os")?;
    Ok(Some(
        os.call_method1("fspath", (arg,))?.extract::<PathBuf>()?,
    ))
}

/// The name and JSON text of a `str`, `dict` or wrapped `{"id", "document"}` argument.
fn document_text(arg: &Bound<'_, PyAny>, id: &str) -> PyResult<(String, String)> {
    if let Ok(text) = arg.cast::<PyString>() {
        return Ok((id.to_string(), text.extract::<String>()?));
    }
    let Ok(dict) = arg.cast::<PyDict>() else {
        return Err(PyTypeError::new_err(format!(
            "{id}: expected a policy as JSON text (str), a dict or a path, found {}",
            arg.get_type().name()?
        )));
    };
    let wrapped = dict.contains("document")? && !dict.contains("Statement")?;
    if wrapped {
        let name = match dict.get_item("id")? {
            Some(name) => name.extract::<String>()?,
            None => id.to_string(),
        };
        let document = dict.get_item("document")?.expect("checked above");
        return document_text(&document, &name).map(|(_, text)| (name, text));
    }
    Ok((id.to_string(), to_json(arg)?))
}

/// A Python value as JSON text (`json.dumps`).
pub fn to_json(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let json = value.py().import("json")?;
    json.call_method1("dumps", (value,))?.extract::<String>()
}

/// The items of a list or tuple argument.
fn sequence<'py>(
    arg: &Bound<'py, PyAny>,
    name: &str,
    expected: &str,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if arg.is_instance_of::<PyString>()
        || arg.is_instance_of::<PyDict>()
        || arg.hasattr("__fspath__")?
    {
        return Err(PyTypeError::new_err(format!(
            "{name}: expected {expected}, found a single {}",
            arg.get_type().name()?
        )));
    }
    arg.try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{name}: expected {expected}")))?
        .collect()
}
