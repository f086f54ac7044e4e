//! Python values (dict, list, tuple, str, int, float, bool, None) walked straight into the
//! library's JSON tree, which its case reader turns into a `Request`: no JSON text is
//! written and parsed again, and the reader's errors keep their JSON pointers.
//!
//! ```python
//! program.evaluate({"principal": arn, "chain": [{"action": "s3:GetObject", "resource": "*",
//!                                                "context": {"aws:SourceIp": {1}}}]})
//! # RequestError: chain: at /chain/0/context/aws:SourceIp: expected a JSON value
//! #   (dict, list, tuple, str, int, float, bool or None), found set
//! ```
//!
//! The tree's numbers borrow their text (`Value::Number(&str)`): the walk writes every
//! number into one buffer, leaves the node's span pointing into it, and points the nodes
//! at the finished buffer at the end. The spans mean nothing else here (there is no text):
//! errors are placed by their pointer alone.

use std::borrow::Cow;
use std::fmt::Write;

use fastiam::json::{Member, Node, Pointer, Span, Value, MAX_DEPTH};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Where a value could not be taken, and why.
pub struct WalkError {
    pub pointer: Pointer,
    pub message: String,
}

/// A tree of Python values, with the text of its numbers.
pub struct Walked {
    tree: Node<'static>,
    numbers: String,
    has_numbers: bool,
}

impl Walked {
    /// Walks `value` (a chain: a dict at the top).
    pub fn new(value: &Bound<'_, PyAny>) -> Result<Walked, WalkError> {
        let mut walk = Walk {
            numbers: String::new(),
            has_numbers: false,
        };
        let tree = walk.node(value, Path::Root, 0)?;
        Ok(Walked {
            tree,
            numbers: walk.numbers,
            has_numbers: walk.has_numbers,
        })
    }

    /// Adds a top-level member (the reader wants an `id`) unless present.
    pub fn add_default(&mut self, key: &'static str, value: &'static str) {
        if let Value::Object(members) = &mut self.tree.value {
            if !members.iter().any(|m| m.key == key) {
                members.push(Member {
                    key: Cow::Borrowed(key),
                    key_span: Span::default(),
                    value: leaf(Value::String(Cow::Borrowed(value))),
                });
            }
        }
    }

    /// Hands the finished tree to `read`, its numbers pointing at their text.
    pub fn read<R>(self, read: impl FnOnce(&Node<'_>) -> R) -> R {
        let mut tree: Node<'_> = self.tree;
        if self.has_numbers {
            point_numbers(&mut tree, &self.numbers);
        }
        read(&tree)
    }
}

fn point_numbers<'n>(node: &mut Node<'n>, numbers: &'n str) {
    match &mut node.value {
        Value::Number(_) => {
            node.value = Value::Number(numbers.get(node.span.range()).unwrap_or("0"));
        }
        Value::Array(items) => items.iter_mut().for_each(|n| point_numbers(n, numbers)),
        Value::Object(members) => members
            .iter_mut()
            .for_each(|m| point_numbers(&mut m.value, numbers)),
        _ => {}
    }
}

fn leaf(value: Value<'static>) -> Node<'static> {
    Node {
        span: Span::default(),
        value,
    }
}

struct Walk {
    numbers: String,
    has_numbers: bool,
}

/// Where the walk is, kept on the stack: the JSON pointer is written only for an error.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn pointer(&self) -> Pointer {
        match self {
            Path::Root => Pointer::root(),
            Path::Key(parent, key) => parent.pointer().key(key),
            Path::Index(parent, i) => parent.pointer().index(*i),
        }
    }
}

impl Walk {
    fn node(
        &mut self,
        v: &Bound<'_, PyAny>,
        at: Path<'_>,
        depth: usize,
    ) -> Result<Node<'static>, WalkError> {
        let error = |message: String| WalkError {
            pointer: at.pointer(),
            message,
        };
        let py_error = |e: PyErr| error(e.to_string());
        if depth > MAX_DEPTH {
            return Err(error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        if let Ok(s) = v.cast::<PyString>() {
            let text = s.to_str().map_err(py_error)?;
            return Ok(leaf(Value::String(Cow::Owned(text.to_owned()))));
        }
        if let Ok(d) = v.cast::<PyDict>() {
            let mut members = Vec::with_capacity(d.len());
            for (key, value) in d.iter() {
                let Ok(key) = key.cast::<PyString>() else {
                    return Err(error(format!(
                        "expected string keys, found a key of type {}",
                        type_name(&key)
                    )));
                };
                let key = key.to_str().map_err(py_error)?;
                let node = self.node(&value, Path::Key(&at, key), depth + 1)?;
                members.push(Member {
                    key: Cow::Owned(key.to_owned()),
                    key_span: Span::default(),
                    value: node,
                });
            }
            return Ok(leaf(Value::Object(members)));
        }
        if let Ok(list) = v.cast::<PyList>() {
            return self.array(list.iter(), at, depth);
        }
        if let Ok(tuple) = v.cast::<PyTuple>() {
            return self.array(tuple.iter(), at, depth);
        }
        if let Ok(b) = v.cast::<PyBool>() {
            return Ok(leaf(Value::Bool(b.is_true())));
        }
        if v.is_none() {
            return Ok(leaf(Value::Null));
        }
        let start = self.numbers.len();
        if v.cast::<PyInt>().is_ok() {
            match v.extract::<i64>() {
                Ok(n) => {
                    let _ = write!(self.numbers, "{n}");
                }
                Err(_) => self
                    .numbers
                    .push_str(v.str().map_err(py_error)?.to_str().map_err(py_error)?),
            }
        } else if let Ok(f) = v.cast::<PyFloat>() {
            if !f.value().is_finite() {
                return Err(error(format!(
                    "expected a finite number, found {}",
                    f.value()
                )));
            }
            // Python's repr, as `json.dumps` writes it (`1e+20`, `0.1`).
            self.numbers
                .push_str(v.repr().map_err(py_error)?.to_str().map_err(py_error)?);
        } else {
            return Err(error(format!(
                "expected a JSON value (dict, list, tuple, str, int, float, bool or None), found {}",
                type_name(v)
            )));
        }
        self.has_numbers = true;
        Ok(Node {
            span: Span {
                start: saturate(start),
                end: saturate(self.numbers.len()),
            },
            value: Value::Number(""),
        })
    }

    fn array<'py>(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        at: Path<'_>,
        depth: usize,
    ) -> Result<Node<'static>, WalkError> {
        let items = items
            .enumerate()
            .map(|(i, item)| self.node(&item, Path::Index(&at, i), depth + 1))
            .collect::<Result<_, _>>()?;
        Ok(leaf(Value::Array(items)))
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map_or_else(|_| "an unknown type".to_string(), |n| n.to_string())
}
