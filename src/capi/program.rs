//! The program handle: a verified program, memory-mapped from a file or borrowed from the
//! caller's bytes, with its evaluator built once.
//!
//! A [`fastiam_program`] owns its [`Program`] at a fixed heap address and an [`Evaluator`]
//! that borrows it. The evaluator's lifetime is written `'static`; the handle makes that
//! true for as long as the evaluator exists: the program is freed only in `Drop`, after
//! the evaluator. Nothing in the handle changes after it is built, so one program may be
//! used by any number of threads at once.

use std::ffi::c_char;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use super::error::{boundary, boundary_void, Error, Field};
use super::request::fastiam_str;
use crate::bytecode::{policy_kind_from_code, StrId, NONE};
use crate::eval::Evaluator;
use crate::table::{Program, ProgramView};

/// The bytes under a program.
#[derive(Debug)]
enum Bytes {
    /// A memory-mapped file.
    Mapped(memmap2::Mmap),
    /// The caller's bytes; `'static` stands for "until `fastiam_program_free`", which
    /// `fastiam_program_from_bytes` makes the caller promise.
    Borrowed(&'static [u8]),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Borrowed(bytes) => bytes,
        }
    }
}

/// A loaded, verified program (opaque). Free with `fastiam_program_free`.
///
/// Thread safety: a program is immutable once loaded; any number of threads may use one
/// program at the same time (each with its own scratch).
pub struct fastiam_program {
    /// Borrows `*program`; dropped first (see `Drop`).
    evaluator: ManuallyDrop<Evaluator<'static>>,
    /// From `Box::into_raw`; freed in `Drop`.
    program: NonNull<Program<Bytes>>,
    resource_slots: u32,
}

// SAFETY: the handle is immutable after construction. `Program<Bytes>` is Send + Sync
// (an `Mmap` or a shared slice, plus a `Vec`), and the evaluator only holds shared
// borrows of it and owned maps; the raw pointer is only dereferenced (shared) to build
// the evaluator and to free the program in `Drop`, which needs exclusive access anyway.
unsafe impl Send for fastiam_program {}
// SAFETY: as for Send: every method takes `&self` and reads only.
unsafe impl Sync for fastiam_program {}

impl fastiam_program {
    fn new(program: Program<Bytes>) -> Box<fastiam_program> {
        let raw = NonNull::from(Box::leak(Box::new(program)));
        // SAFETY: `raw` comes from a live Box that only this handle frees, in `Drop`, after
        // dropping the evaluator; the program is never moved or mutated meanwhile, so a
        // shared borrow of it is valid for as long as the evaluator exists.
        let shared: &'static Program<Bytes> = unsafe { raw.as_ref() };
        let evaluator = Evaluator::new(shared);
        let resource_slots = evaluator
            .view()
            .meta
            .first()
            .map_or(0, |m| m.resource_policies);
        Box::new(fastiam_program {
            evaluator: ManuallyDrop::new(evaluator),
            program: raw,
            resource_slots,
        })
    }

    pub(crate) fn evaluator(&self) -> &Evaluator<'static> {
        &self.evaluator
    }

    pub(crate) fn resource_slots(&self) -> u32 {
        self.resource_slots
    }

    fn view(&self) -> &ProgramView<'static> {
        self.evaluator.view()
    }

    fn string(&self, id: StrId) -> &'static str {
        let v = self.view();
        // Ids in a loaded program were verified; the checked `get`s cost nothing here.
        v.string_index
            .get(id as usize)
            .and_then(|r| v.strings.get(r.start as usize..(r.start + r.len) as usize))
            .unwrap_or("")
    }
}

impl Drop for fastiam_program {
    fn drop(&mut self) {
        // SAFETY: the evaluator is dropped exactly once, here, and never used after.
        unsafe { ManuallyDrop::drop(&mut self.evaluator) };
        // SAFETY: `program` came from `Box::leak` in `new` and is freed only here; the one
        // borrower (the evaluator) is gone.
        drop(unsafe { Box::from_raw(self.program.as_ptr()) });
    }
}

/// Writes a new handle to `out` (the last step of a successful `_new`).
///
/// # Safety
///
/// `out` is a valid pointer to write a pointer to.
unsafe fn write_out<T>(out: *mut *mut T, value: Box<T>) {
    // SAFETY: from our caller.
    unsafe { out.write(Box::into_raw(value)) };
}

/// Opens the program file at `path` (`path_len` bytes, no NUL needed), memory-maps it and
/// verifies every record; writes the new program to `*out` on success.
///
/// Every byte is checked before `*out` is written: a truncated, foreign, corrupted or
/// hostile file is `FASTIAM_RESULT_INVALID_PROGRAM`, never a crash.
///
/// The file must not be modified or truncated while the program is open: the mapping
/// shares its pages, and a file truncated under a mapping makes reads fault (`SIGBUS`).
/// Replace program files by renaming a new file over the old one, never by rewriting in
/// place. The path is not retained.
///
/// # Safety
///
/// `path` points to `path_len` readable bytes; `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_program_open(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut fastiam_program,
) -> super::fastiam_result {
    boundary("fastiam_program_open", || {
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        let field = Field::root("path");
        if path.is_null() {
            return Err(Error::null(field));
        }
        if path_len > isize::MAX as usize {
            return Err(Error::invalid(
                Field::root("path_len"),
                format!("is {path_len}"),
            ));
        }
        // SAFETY: non-NULL, at most isize::MAX bytes, and the caller guarantees `path_len`
        // readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(path.cast::<u8>(), path_len) };
        let path = path_from_bytes(bytes, field)?;
        let io = |error| Error::io(path.display().to_string(), error);
        let file = std::fs::File::open(&path).map_err(io)?;
        // SAFETY: the file must not change while mapped; the documentation above makes
        // that the caller's promise (the same contract as `Program::map`).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let program = Program::from_bytes(Bytes::Mapped(map))?;
        // SAFETY: `out` was checked non-NULL; the caller guarantees it is valid.
        unsafe { write_out(out, fastiam_program::new(program)) };
        Ok(())
    })
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8], _field: Field) -> Result<std::path::PathBuf, Error> {
    use std::os::unix::ffi::OsStrExt;
    Ok(std::ffi::OsStr::from_bytes(bytes).into())
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8], field: Field) -> Result<std::path::PathBuf, Error> {
    std::str::from_utf8(bytes)
        .map(Into::into)
        .map_err(|e| Error::utf8(field, e.valid_up_to()))
}

/// Loads a program from the caller's `len` bytes at `data`, without copying them, and
/// verifies every record; writes the new program to `*out` on success.
///
/// The bytes must start at an 8-byte aligned address (`malloc`'s are; else
/// `FASTIAM_RESULT_INVALID_PROGRAM` says "misaligned"), and must stay allocated and
/// unchanged until `fastiam_program_free` of this program: the program reads them in
/// place.
///
/// # Safety
///
/// `data` points to `len` readable bytes that stay valid and unchanged until the program
/// is freed; `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_program_from_bytes(
    data: *const u8,
    len: usize,
    out: *mut *mut fastiam_program,
) -> super::fastiam_result {
    boundary("fastiam_program_from_bytes", || {
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        if data.is_null() {
            return Err(Error::null(Field::root("data")));
        }
        if len > isize::MAX as usize {
            return Err(Error::invalid(Field::root("len"), format!("is {len}")));
        }
        // SAFETY: non-NULL, at most isize::MAX, and the caller guarantees `len` bytes that
        // stay valid and unchanged until `fastiam_program_free`, which drops this slice
        // (and everything borrowing it) before returning: `'static` is never observed
        // beyond that.
        let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(data, len) };
        let program = Program::from_bytes(Bytes::Borrowed(bytes))?;
        // SAFETY: `out` was checked non-NULL; the caller guarantees it is valid.
        unsafe { write_out(out, fastiam_program::new(program)) };
        Ok(())
    })
}

/// Frees a program (and unmaps its file). NULL is ignored. Every scratch made for it may
/// still be freed afterwards, but must not be used to evaluate with it.
///
/// # Safety
///
/// `program` is NULL or a program from `fastiam_program_open` / `_from_bytes` not freed
/// yet, that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn fastiam_program_free(program: *mut fastiam_program) {
    boundary_void("fastiam_program_free", || {
        if !program.is_null() {
            // SAFETY: the caller hands back ownership of a pointer from `Box::into_raw`.
            drop(unsafe { Box::from_raw(program) });
        }
    })
}

/// Sizes of a program: what a caller needs to size output arrays.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fastiam_program_info {
    /// Policies compiled into the program.
    pub policies: u32,
    /// Statements; a hop never has more matched statements than this.
    pub statements: u32,
    /// Context keys the policies refer to; a hop never has more missing keys than this.
    pub keys: u32,
    /// Resource-policy slots (`fastiam_hop.resource_policy` must be below this).
    pub resource_policies: u32,
}

/// Writes the program's sizes to `*out`.
///
/// # Safety
///
/// `program` is a live program; `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_program_get_info(
    program: *const fastiam_program,
    out: *mut fastiam_program_info,
) -> super::fastiam_result {
    boundary("fastiam_program_get_info", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        let v = program.view();
        let info = fastiam_program_info {
            policies: v.policies.len() as u32,
            statements: v.statements.len() as u32,
            keys: v.keys.len() as u32,
            resource_policies: program.resource_slots,
        };
        // SAFETY: checked non-NULL; the caller guarantees it is valid.
        unsafe { out.write(info) };
        Ok(())
    })
}

/// A policy kind, in R-SIM-3 order.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fastiam_policy_kind {
    Scp = 1,
    Rcp = 2,
    VpcEndpoint = 3,
    ResourceBased = 4,
    Identity = 5,
    PermissionsBoundary = 6,
    Session = 7,
}

/// No SCP/RCP level: `fastiam_statement.level` of other kinds of policies.
pub const FASTIAM_NO_LEVEL: u32 = u32::MAX;

/// A statement of a program, as a matched statement id names it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_statement {
    /// The policy's id (`identity[0]`, or the name it was compiled with). Points into the
    /// program: valid until `fastiam_program_free`.
    pub policy: fastiam_str,
    /// The statement's `Sid`; `data` is NULL when it has none. Points into the program.
    pub sid: fastiam_str,
    /// A `fastiam_policy_kind`.
    pub kind: u32,
    /// SCP/RCP level (root first), else `FASTIAM_NO_LEVEL`.
    pub level: u32,
    /// The policy's position among those of its kind (and level); for a resource policy,
    /// its slot.
    pub position: u32,
    /// The statement's index in its policy's `Statement` array.
    pub index: u32,
}

/// Describes statement `id` (a matched statement id from `fastiam_evaluate`) in `*out`.
/// `FASTIAM_RESULT_INVALID_ARGUMENT` if the program has no such statement.
///
/// # Safety
///
/// `program` is a live program; `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_program_statement(
    program: *const fastiam_program,
    id: u32,
    out: *mut fastiam_statement,
) -> super::fastiam_result {
    boundary("fastiam_program_statement", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        let v = program.view();
        let statement = v.statements.get(id as usize).ok_or_else(|| {
            Error::invalid(
                Field::root("id"),
                format!("is {id}; the program has {} statements", v.statements.len()),
            )
        })?;
        let policy = v.policies[statement.policy as usize];
        let kind = policy_kind_from_code(policy.kind).map_or(0, super::evaluate::kind_code);
        let info = fastiam_statement {
            policy: fastiam_str::new(program.string(policy.id)),
            sid: if statement.sid == NONE {
                fastiam_str::NONE
            } else {
                fastiam_str::new(program.string(statement.sid))
            },
            kind,
            level: policy.level,
            position: policy.position,
            index: statement.index,
        };
        // SAFETY: checked non-NULL; the caller guarantees it is valid.
        unsafe { out.write(info) };
        Ok(())
    })
}

/// Writes the canonical name of context key `id` (a missing key id from
/// `fastiam_evaluate`) to `*out`; it points into the program, valid until
/// `fastiam_program_free`. `FASTIAM_RESULT_INVALID_ARGUMENT` if the program has no such
/// key.
///
/// # Safety
///
/// `program` is a live program; `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_program_key_name(
    program: *const fastiam_program,
    id: u32,
    out: *mut fastiam_str,
) -> super::fastiam_result {
    boundary("fastiam_program_key_name", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        let v = program.view();
        let key = v.keys.get(id as usize).ok_or_else(|| {
            Error::invalid(
                Field::root("id"),
                format!("is {id}; the program has {} keys", v.keys.len()),
            )
        })?;
        let name = fastiam_str::new(program.string(key.name));
        // SAFETY: checked non-NULL; the caller guarantees it is valid.
        unsafe { out.write(name) };
        Ok(())
    })
}
