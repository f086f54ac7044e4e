//! The builder handle: a request built once, resolved against a program, evaluated any
//! number of times.
//!
//! [`fastiam_evaluate`](super::fastiam_evaluate) reads the caller's structs and resolves
//! the request against the program on every call. A [`fastiam_builder`] holds a
//! [`RequestBuilder`]: [`fastiam_builder_build`] reads the structs once (the same checks,
//! the same error messages) and resolves every context key and hop action against the
//! program's tables, and [`fastiam_evaluate_builder`] evaluates the request it holds
//! without looking up any name, as often as the caller likes. The ids resolved are tagged
//! with the program's evaluator: evaluated against another program, the request is still
//! evaluated correctly, by name.
//!
//! A builder belongs to one thread at a time, like a scratch; it borrows nothing, and
//! keeps its buffers from one build to the next (building allocates nothing once warm).

use super::error::{boundary, boundary_void, Error, Field};
use super::evaluate::{check_aligned, evaluate_and_write, fastiam_outcome, fastiam_scratch};
use super::fill::{build_error, fill};
use super::program::fastiam_program;
use super::request::{fastiam_request, Vouched};
use crate::request::RequestBuilder;

/// A reusable request builder (opaque). Free with `fastiam_builder_free`.
///
/// Thread safety: a builder must not be used by two threads at the same time. It may move
/// between threads.
#[derive(Debug)]
pub struct fastiam_builder {
    builder: RequestBuilder,
    /// Whether the last `fastiam_builder_build` succeeded (its request can be evaluated).
    built: bool,
}

/// Makes an empty builder and writes it to `*out`.
///
/// # Safety
///
/// `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_builder_new(
    out: *mut *mut fastiam_builder,
) -> super::fastiam_result {
    boundary("fastiam_builder_new", || {
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        let builder = Box::new(fastiam_builder {
            builder: RequestBuilder::new(),
            built: false,
        });
        // SAFETY: checked non-NULL; the caller guarantees it is valid.
        unsafe { out.write(Box::into_raw(builder)) };
        Ok(())
    })
}

/// Frees a builder. NULL is ignored.
///
/// # Safety
///
/// `builder` is NULL or a builder from `fastiam_builder_new` not freed yet, that no other
/// thread is using.
#[no_mangle]
pub unsafe extern "C" fn fastiam_builder_free(builder: *mut fastiam_builder) {
    boundary_void("fastiam_builder_free", || {
        if !builder.is_null() {
            // SAFETY: the caller hands back ownership of a pointer from `Box::into_raw`.
            drop(unsafe { Box::from_raw(builder) });
        }
    })
}

/// Builds `request` into `builder`, resolving its context keys and actions against
/// `program`, replacing the request the builder held. The checks and error messages are
/// `fastiam_evaluate`'s; on error the builder holds no request until the next successful
/// build.
///
/// Ownership: nothing of `request` is retained: its strings are copied into the builder.
///
/// Allocation: none once the builder has grown to the largest request it has seen (its
/// text, entries, values and hops), except on a failed call (the error message).
///
/// # Safety
///
/// `builder` is a live builder not used concurrently, `program` a live program, and
/// `request` points to an initialised request whose pointers are NULL or valid for their
/// lengths and unchanged during the call.
#[no_mangle]
pub unsafe extern "C" fn fastiam_builder_build(
    builder: *mut fastiam_builder,
    program: *const fastiam_program,
    request: *const fastiam_request,
) -> super::fastiam_result {
    boundary("fastiam_builder_build", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live builder that no
        // other thread uses during the call.
        let b = unsafe { builder.as_mut() }.ok_or_else(|| Error::null(Field::root("builder")))?;
        b.built = false;
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        check_aligned(&[(request.is_aligned(), "request")])?;
        // SAFETY: NULL and alignment are checked; otherwise the caller guarantees an
        // initialised request.
        let request =
            unsafe { request.as_ref() }.ok_or_else(|| Error::null(Field::root("request")))?;
        // SAFETY: the caller guarantees every pointer reachable from the request is NULL
        // or valid for its length and unchanged during this call.
        let input = unsafe { Vouched::new() };
        fill(&mut b.builder, input, request, program.resource_slots())?;
        b.builder
            .finish_for(program.evaluator())
            .map_err(|e| build_error(e, input, request))?;
        b.built = true;
        Ok(())
    })
}

/// Evaluates the request `builder` holds against `program` using `scratch`, and writes the
/// answer as `fastiam_evaluate` does (the same outcome for the same request; on any code
/// other than `FASTIAM_RESULT_OK` nothing of `*outcome` or its arrays is written). The
/// builder is only read: its request can be evaluated again, by any thread holding it.
///
/// Allocation: none once `scratch` is warm. A request built against another program is
/// evaluated correctly, with its keys looked up by name.
///
/// # Safety
///
/// `program` is a live program, `scratch` a live scratch and `builder` a live builder, not
/// used concurrently by other threads, and `outcome` points to a struct whose array fields
/// are set (NULL, or valid for their capacities and not overlapping each other).
#[no_mangle]
pub unsafe extern "C" fn fastiam_evaluate_builder(
    program: *const fastiam_program,
    scratch: *mut fastiam_scratch,
    builder: *const fastiam_builder,
    outcome: *mut fastiam_outcome,
) -> super::fastiam_result {
    boundary("fastiam_evaluate_builder", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        // SAFETY: NULL is checked; otherwise the caller guarantees a live scratch that no
        // other thread uses during the call.
        let scratch =
            unsafe { scratch.as_mut() }.ok_or_else(|| Error::null(Field::root("scratch")))?;
        // SAFETY: NULL is checked; otherwise the caller guarantees a live builder that no
        // other thread writes during the call.
        let b = unsafe { builder.as_ref() }.ok_or_else(|| Error::null(Field::root("builder")))?;
        check_aligned(&[(outcome.is_aligned(), "outcome")])?;
        if !b.built {
            return Err(Error::invalid(
                Field::root("builder"),
                "holds no request: the last fastiam_builder_build failed, or none was made",
            ));
        }
        // SAFETY: the caller's contract on `outcome`, passed on.
        unsafe { evaluate_and_write(program, scratch.interpreter(), b.builder.request(), outcome) }
    })
}
