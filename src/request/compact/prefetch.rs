//! Asking the processor for a request's cache lines before the interpreter reads them.
//!
//! A request evaluated out of cache misses on each of its parts — text, entries, given
//! keys, hops — as the interpreter reaches it; [`RequestView::touch`](super::RequestView::touch)
//! takes those misses together at the start of an evaluation (without it the wall clock
//! out of cache doubled, BENCHMARKS.md "The chain frame and value reads"). Reading one
//! element of every line did that with a load, a bounds check and a dependent `xor` a
//! line; on x86-64 a prefetch instruction a line asks for the same lines with no check,
//! no dependency and no value to keep alive. Other targets keep the reads.
//!
//! ```
//! use fastiam::request::compact::prefetch::touch_lines;
//! let text = vec![0u8; 1000];
//! std::hint::black_box(touch_lines(&text, |b| u32::from(*b))); // 16 or 17 lines
//! ```

/// A cache line's size on the targets this library runs on.
const LINE: usize = 64;

/// Brings every cache line `items` occupies towards the cache: on x86-64 by a prefetch of
/// each (from the line holding its first byte to the line holding its last; `read` is
/// not called and 0 is returned), elsewhere by reading with `read`
/// one element every line's worth of elements (the result only keeps the reads).
#[inline(always)]
pub fn touch_lines<T>(items: &[T], read: impl Fn(&T) -> u32) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        let _ = read;
        let (mut line, end) = line_span(items);
        while line < end {
            prefetch(line);
            line = line.wrapping_add(LINE);
        }
        0
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    {
        let step = (LINE / std::mem::size_of::<T>().max(1)).max(1);
        let mut acc = 0;
        let mut i = 0;
        while let Some(t) = items.get(i) {
            acc ^= read(t);
            i += step;
        }
        acc
    }
}

/// The start of the cache line holding `items`' first byte, and the end of its last
/// byte: every line from the first up to the end holds some of its bytes — but for an
/// empty slice (or zero-sized elements) not at a line's start, whose one line holds none
/// (asking for it costs less than testing for it).
#[inline(always)]
fn line_span<T>(items: &[T]) -> (*const u8, *const u8) {
    let first = items.as_ptr().cast::<u8>();
    let end = first.wrapping_add(std::mem::size_of_val(items));
    (first.wrapping_sub(first as usize % LINE), end)
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
#[inline(always)]
fn prefetch(line: *const u8) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: `_mm_prefetch` needs SSE, which this function is compiled only with
    // (`target_feature = "sse"`, in every x86-64 target's baseline). A prefetch is a hint:
    // it never faults and reads nothing the program sees, whatever the address (here
    // always the start of a line holding some byte of the slice, `line_span`).
    #[allow(unsafe_code)]
    unsafe {
        _mm_prefetch::<_MM_HINT_T0>(line.cast::<i8>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines asked for are exactly those holding some byte of the slice (at most the
    /// line of its start when empty), for slices of every start and length up to a few
    /// lines, wider elements included.
    #[test]
    fn line_span_covers_exactly_the_slices_lines() {
        fn check<T>(items: &[T]) {
            let (start, end) = line_span(items);
            let first = items.as_ptr() as usize;
            let bytes = std::mem::size_of_val(items);
            let want: std::collections::BTreeSet<usize> =
                (first..first + bytes).map(|b| b / LINE).collect();
            let got: std::collections::BTreeSet<usize> = (start as usize..end as usize)
                .step_by(LINE)
                .map(|b| b / LINE)
                .collect();
            assert_eq!(start as usize % LINE, 0);
            if bytes == 0 {
                assert!(got.len() <= 1 && got.iter().all(|l| *l == first / LINE));
            } else {
                assert_eq!(got, want, "{bytes} bytes from {first:#x}");
            }
            assert_eq!(touch_lines(items, |_| 0), 0);
        }
        let bytes = vec![7u8; 700];
        for start in 0..70 {
            for end in start..bytes.len() {
                check(&bytes[start..end]);
            }
        }
        let words = vec![[1u32; 5]; 40];
        for n in 0..words.len() {
            check(&words[n / 2..n]);
        }
        check::<()>(&[(); 10]);
    }
}
