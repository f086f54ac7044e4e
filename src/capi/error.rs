//! Result codes, the thread's last error message, and the panic boundary every entry point
//! goes through.
//!
//! Every fallible entry point returns a [`fastiam_result`]. A code other than
//! `FASTIAM_RESULT_OK` comes with a message naming what was wrong (the argument or request
//! field, the offending value, the byte offset), kept per thread: the message of the most
//! recent failed call on the calling thread, which [`fastiam_error_message`] copies out.
//! Per thread rather than per handle because a call can fail before it has a handle (a NULL
//! handle, a program that does not load), and so that threads sharing a program never race
//! on one message. Successful calls leave it alone: writing it on the hot path would cost
//! a thread-local access per call.

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt::{self, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::table::LoadError;

/// What a call did. `FASTIAM_RESULT_OK` (0) means the out-parameters were written; any
/// other code means nothing was written, and `fastiam_error_message` says why.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum fastiam_result {
    /// Success: the out-parameters are written.
    Ok = 0,
    /// A required pointer (an argument, an array with a non-zero length, or a required
    /// string) was NULL. The message names it.
    NullArgument = 1,
    /// A string is not valid UTF-8. The message names the field and the byte offset.
    InvalidUtf8 = 2,
    /// An argument or request field is out of range or inconsistent (an unknown enum
    /// value, a hop 0 with `via`, a resource-policy slot the program does not have, two
    /// context keys equal after canonicalisation, an unparsable principal or date...). The
    /// message names the field.
    InvalidArgument = 3,
    /// The bytes are not a program this build can load: truncated, not a fastiam program,
    /// another format version, a checksum mismatch (changed after compiling), misaligned,
    /// or a record that fails verification.
    InvalidProgram = 4,
    /// A file could not be opened or memory-mapped.
    Io = 5,
    /// A caller-provided output array is too small. The message names it and the length
    /// needed.
    InsufficientSize = 6,
    /// fastiam panicked (a bug; please report it with the message). The panic did not
    /// cross into the caller. Free the scratch used in the call; programs stay usable.
    Panic = 7,
}

/// One piece of a field path: a member name or an array index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment {
    Name(&'static str),
    Index(usize),
}

/// Where in the arguments something was wrong: `request->hops[1].context[0].values[2]`.
/// Built without allocating (a fixed array of segments); formatted only on error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    segments: [Segment; 8],
    len: u8,
}

impl Field {
    /// A top-level argument or member.
    pub(crate) const fn root(name: &'static str) -> Field {
        Field {
            segments: [Segment::Name(name); 8],
            len: 1,
        }
    }

    fn push(mut self, segment: Segment) -> Field {
        // The deepest path is `request.hops[h].context[i].values[j]`, 7 segments; a deeper
        // one would keep its first eight, which still names the place.
        if (self.len as usize) < self.segments.len() {
            self.segments[self.len as usize] = segment;
            self.len += 1;
        }
        self
    }

    /// `self.name`.
    pub(crate) fn name(self, name: &'static str) -> Field {
        self.push(Segment::Name(name))
    }

    /// `self[index]`.
    pub(crate) fn index(self, index: usize) -> Field {
        self.push(Segment::Index(index))
    }
}

/// Where a check on the caller's request is made, for the error message it may give.
///
/// A [`Field`] is an array of eight segments: building one per string of a request (and
/// copying it into each check) cost a C caller some 1,500 instructions a chain, more than
/// the checks themselves. So a request is read twice when it is wrong and once when it is
/// right: first at [`Unplaced`], which names nothing and compiles to nothing; only if that
/// fails, again at the [`Field`] `request`, by the same generic code, to name the field
/// (`fill::fill`).
pub(crate) trait Place: Copy {
    /// `self.name`.
    fn name(self, name: &'static str) -> Self;
    /// `self[index]`.
    fn index(self, index: usize) -> Self;
    /// The field for an error message.
    fn field(self) -> Field;
}

impl Place for Field {
    #[inline]
    fn name(self, name: &'static str) -> Field {
        Field::name(self, name)
    }

    #[inline]
    fn index(self, index: usize) -> Field {
        Field::index(self, index)
    }

    #[inline]
    fn field(self) -> Field {
        self
    }
}

/// No place: the first, cheap pass over a request (see [`Place`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unplaced;

impl Place for Unplaced {
    #[inline(always)]
    fn name(self, _: &'static str) -> Unplaced {
        self
    }

    #[inline(always)]
    fn index(self, _: usize) -> Unplaced {
        self
    }

    /// Only the second pass's error is reported; this one says at least what failed.
    #[cold]
    fn field(self) -> Field {
        Field::root("request")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments[..self.len as usize].iter().enumerate() {
            match segment {
                Segment::Name(name) if i == 0 => f.write_str(name)?,
                Segment::Name(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Why a call failed. Each kind maps to one [`fastiam_result`] code.
#[derive(Debug)]
pub(crate) enum ErrorKind {
    /// A required pointer was NULL.
    Null(Field),
    /// A string was not UTF-8; `valid_up_to` bytes were.
    Utf8 { field: Field, valid_up_to: usize },
    /// A value out of range or inconsistent with the rest; `why` completes the sentence
    /// "`field` ...".
    Invalid { field: Field, why: String },
    /// Program bytes that do not load.
    Program(LoadError),
    /// A file that could not be opened or mapped.
    Io { path: String, error: std::io::Error },
    /// An output array too small.
    Size {
        field: Field,
        needed: usize,
        capacity: usize,
    },
    /// A panic caught at the boundary, with its message.
    Panic(String),
}

/// A failed call. Boxed: errors are rare, and a one-word `Result` keeps every call's happy
/// path cheap.
#[derive(Debug)]
pub(crate) struct Error(Box<ErrorKind>);

impl Error {
    pub(crate) fn null(field: Field) -> Error {
        Error(Box::new(ErrorKind::Null(field)))
    }

    pub(crate) fn utf8(field: Field, valid_up_to: usize) -> Error {
        Error(Box::new(ErrorKind::Utf8 { field, valid_up_to }))
    }

    pub(crate) fn invalid(field: Field, why: impl Into<String>) -> Error {
        Error(Box::new(ErrorKind::Invalid {
            field,
            why: why.into(),
        }))
    }

    pub(crate) fn io(path: String, error: std::io::Error) -> Error {
        Error(Box::new(ErrorKind::Io { path, error }))
    }

    pub(crate) fn size(field: Field, needed: usize, capacity: usize) -> Error {
        Error(Box::new(ErrorKind::Size {
            field,
            needed,
            capacity,
        }))
    }

    fn panic(message: String) -> Error {
        Error(Box::new(ErrorKind::Panic(message)))
    }

    pub(crate) fn kind(&self) -> &ErrorKind {
        &self.0
    }

    pub(crate) fn code(&self) -> fastiam_result {
        match *self.0 {
            ErrorKind::Null(_) => fastiam_result::NullArgument,
            ErrorKind::Utf8 { .. } => fastiam_result::InvalidUtf8,
            ErrorKind::Invalid { .. } => fastiam_result::InvalidArgument,
            ErrorKind::Program(_) => fastiam_result::InvalidProgram,
            ErrorKind::Io { .. } => fastiam_result::Io,
            ErrorKind::Size { .. } => fastiam_result::InsufficientSize,
            ErrorKind::Panic(_) => fastiam_result::Panic,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            ErrorKind::Null(field) => write!(f, "`{field}` is NULL"),
            ErrorKind::Utf8 { field, valid_up_to } => write!(
                f,
                "`{field}` is not valid UTF-8 (the first {valid_up_to} bytes are)"
            ),
            ErrorKind::Invalid { field, why } => write!(f, "`{field}` {why}"),
            ErrorKind::Program(e) => write!(f, "{e}"),
            ErrorKind::Io { path, error } => write!(f, "`{path}`: {error}"),
            ErrorKind::Size {
                field,
                needed,
                capacity,
            } => write!(f, "`{field}` holds {capacity} entries, {needed} are needed"),
            ErrorKind::Panic(message) => write!(f, "panic inside fastiam (a bug): {message}"),
        }
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        Error(Box::new(ErrorKind::Program(e)))
    }
}

thread_local! {
    /// The message of the calling thread's most recent failed call.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `error` as the thread's last error, prefixed with the entry point's name.
fn set_last_error(function: &str, error: &Error) {
    // `try_with`: during thread teardown the slot may be gone; the code still tells.
    let _ = LAST_ERROR.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            last.clear();
            let _ = write!(last, "{function}: {error}");
        }
    });
}

/// Runs the body of entry point `function`: its error becomes the thread's last error and
/// its code, and a panic becomes `FASTIAM_RESULT_PANIC` instead of unwinding into C.
///
/// The body must write its out-parameters only once nothing can fail any more, so that a
/// failed call leaves them untouched.
pub(crate) fn boundary(
    function: &'static str,
    body: impl FnOnce() -> Result<(), Error>,
) -> fastiam_result {
    // AssertUnwindSafe: after a panic the handles involved may hold partial state; the
    // `Panic` code documents that the scratch must be freed, and a program is never
    // mutated by any entry point.
    let error = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return fastiam_result::Ok,
        Ok(Err(error)) => error,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            Error::panic(message)
        }
    };
    set_last_error(function, &error);
    error.code()
}

/// As [`boundary`], for entry points that return nothing (the `_free` functions): a panic
/// is recorded as the thread's last error and swallowed.
pub(crate) fn boundary_void(function: &'static str, body: impl FnOnce()) {
    let _ = boundary(function, || {
        body();
        Ok(())
    });
}

/// Copies the message of the calling thread's most recent failed fastiam call into `buf`,
/// as `snprintf` does: at most `len` bytes including a terminating NUL (nothing when `len`
/// is 0 or `buf` is NULL), cut at a UTF-8 character boundary. Returns the message's full
/// length in bytes, without the NUL: a return value `>= len` means it was cut. An empty
/// message (length 0) means no call on this thread has failed yet.
///
/// The message stays until the next failed call on the same thread; successful calls do
/// not clear it. It is meant for people (logs): match on the `fastiam_result` code.
///
/// # Safety
///
/// `buf` is NULL or points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn fastiam_error_message(buf: *mut c_char, len: usize) -> usize {
    let copy = |message: &str| -> usize {
        if buf.is_null() || len == 0 {
            return message.len();
        }
        let mut n = message.len().min(len - 1);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: `buf` is non-NULL and the caller guarantees `len` writable bytes; we
        // write `n + 1 <= len` of them, from a distinct Rust allocation (no overlap).
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
        message.len()
    };
    catch_unwind(AssertUnwindSafe(|| {
        LAST_ERROR
            .try_with(|last| match last.try_borrow() {
                Ok(message) => copy(&message),
                Err(_) => copy(""),
            })
            .unwrap_or_else(|_| copy(""))
    }))
    .unwrap_or(0)
}

/// The name of a result code (`"FASTIAM_RESULT_OK"`...), a static NUL-terminated string;
/// `"FASTIAM_RESULT_UNKNOWN"` for a value that is not a code.
#[no_mangle]
pub extern "C" fn fastiam_result_name(result: u32) -> *const c_char {
    let name: &'static std::ffi::CStr = match result {
        0 => c"FASTIAM_RESULT_OK",
        1 => c"FASTIAM_RESULT_NULL_ARGUMENT",
        2 => c"FASTIAM_RESULT_INVALID_UTF8",
        3 => c"FASTIAM_RESULT_INVALID_ARGUMENT",
        4 => c"FASTIAM_RESULT_INVALID_PROGRAM",
        5 => c"FASTIAM_RESULT_IO",
        6 => c"FASTIAM_RESULT_INSUFFICIENT_SIZE",
        7 => c"FASTIAM_RESULT_PANIC",
        _ => c"FASTIAM_RESULT_UNKNOWN",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        let mut buf = [0 as c_char; 512];
        // SAFETY: `buf` is a local array of `buf.len()` bytes.
        let n = unsafe { fastiam_error_message(buf.as_mut_ptr(), buf.len()) };
        let bytes: Vec<u8> = buf[..n.min(511)].iter().map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_panic_becomes_a_code_and_a_message() {
        let code = boundary("fastiam_test", || panic!("boom {}", 42));
        assert_eq!(code, fastiam_result::Panic);
        assert_eq!(
            message(),
            "fastiam_test: panic inside fastiam (a bug): boom 42"
        );
        let code = boundary("fastiam_test", || std::panic::panic_any(7u8));
        assert_eq!(code, fastiam_result::Panic);
        assert!(message().ends_with("no message"));
    }

    #[test]
    fn errors_set_the_message_and_success_keeps_it() {
        let field = Field::root("request")
            .name("hops")
            .index(1)
            .name("context")
            .index(0)
            .name("values")
            .index(2)
            .name("x")
            .name("dropped");
        let code = boundary("fastiam_evaluate", || Err(Error::utf8(field, 3)));
        assert_eq!(code, fastiam_result::InvalidUtf8);
        let want = "fastiam_evaluate: `request.hops[1].context[0].values[2].x` is not valid UTF-8 (the first 3 bytes are)";
        assert_eq!(message(), want, "the ninth segment is dropped, not a crash");
        assert_eq!(boundary("fastiam_evaluate", || Ok(())), fastiam_result::Ok);
        assert_eq!(message(), want);
    }

    #[test]
    fn the_message_is_cut_like_snprintf_at_a_char_boundary() {
        boundary("f", || Err(Error::invalid(Field::root("é"), "x")));
        // "f: `é` x" is 9 bytes; é is 2 bytes at offset 4..6.
        let mut buf = [1 as c_char; 6];
        // SAFETY: `buf` has 6 bytes.
        let n = unsafe { fastiam_error_message(buf.as_mut_ptr(), 6) };
        assert_eq!(n, 9);
        assert_eq!(
            &buf[..5].iter().map(|&c| c as u8).collect::<Vec<_>>(),
            b"f: `\0"
        );
        // SAFETY: NULL with length 0 asks for the length only.
        assert_eq!(unsafe { fastiam_error_message(std::ptr::null_mut(), 0) }, 9);
    }

    #[test]
    fn every_code_has_a_name() {
        for code in 0..8 {
            // SAFETY: the names are static NUL-terminated strings.
            let name = unsafe { std::ffi::CStr::from_ptr(fastiam_result_name(code)) };
            assert!(name.to_str().unwrap().starts_with("FASTIAM_RESULT_"));
            assert_ne!(name.to_str().unwrap(), "FASTIAM_RESULT_UNKNOWN");
        }
    }
}
