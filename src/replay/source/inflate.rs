//! Gzip told by its magic bytes, decompressed behind a guard.
//!
//! Records stream (see `split`), so a huge decompressed file no longer costs memory; what
//! is left to bound is time. A gzip bomb — a few megabytes inflating to many gigabytes of
//! one repeated byte — is stopped once the bytes it produced pass **both**
//! `inflate_ratio` × the compressed bytes read so far **and** `inflate_floor`
//! ([`ReadOptions`]): a small file is never stopped, a large one only at a ratio no log
//! reaches (deflate's own ceiling is 1032×; real CloudTrail files inflate 10–30×). The
//! guard is an I/O error of the stream: every record before it has already been handed on,
//! and the reader names the file and the place where it stopped.
//!
//! ```
//! use std::io::{Read, Write};
//! use fastiam::replay::source::{inflate, ReadOptions};
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
//! gz.write_all(&vec![b' '; 1 << 20]).unwrap();
//! let bomb = gz.finish().unwrap();
//! let options = ReadOptions { inflate_ratio: 10, inflate_floor: 64 << 10, ..ReadOptions::default() };
//! let mut input = inflate::open(&bomb[..], &options).unwrap();
//! let err = std::io::copy(&mut input, &mut std::io::sink()).unwrap_err();
//! assert!(err.to_string().contains("past the decompression guard"), "{err}");
//! ```

use std::io::{self, BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;

use super::ReadOptions;

/// Buffer of the decompressed (or plain) stream the record splitter reads.
const BUFFER: usize = 256 << 10;

/// A reader that counts the bytes it hands on.
pub struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A gzip decoder that stops past the guard.
pub struct Guarded<R> {
    decoder: MultiGzDecoder<BufReader<Counting<R>>>,
    produced: u64,
    ratio: u64,
    floor: u64,
    tripped: bool,
}

impl<R: Read> Guarded<R> {
    fn compressed(&self) -> u64 {
        self.decoder.get_ref().get_ref().count
    }

    #[cold]
    fn trip(&mut self) -> io::Error {
        self.tripped = true;
        io::Error::other(format!(
            "decompressed {} bytes from {} compressed bytes: past the decompression guard \
             ({}× the compressed size and at least {} bytes); the rest of the file is not read",
            self.produced,
            self.compressed(),
            self.ratio,
            self.floor
        ))
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped {
            return Err(self.trip());
        }
        let n = self
            .decoder
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), format!("gzip: {e}")))?;
        self.produced += n as u64;
        let limit = self.compressed().saturating_mul(self.ratio).max(self.floor);
        if self.produced > limit {
            return Err(self.trip());
        }
        Ok(n)
    }
}

/// A reader whose first bytes were read ahead to look for gzip's magic.
pub type Peeked<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// A log's bytes, decompressed if they were gzip.
pub enum Input<R> {
    Plain(BufReader<Counting<R>>),
    /// Boxed: the decoder's state is large, and most logs on disk are read once each.
    Gzip(Box<BufReader<Guarded<R>>>),
}

/// Opens `reader`: gzip (by its magic bytes) behind the guard of `options`, else as it is.
pub fn open<R: Read>(reader: R, options: &ReadOptions) -> Result<Input<Peeked<R>>, String> {
    let mut magic = Vec::with_capacity(2);
    let mut reader = reader;
    (&mut reader)
        .take(2)
        .read_to_end(&mut magic)
        .map_err(|e| e.to_string())?;
    let gzip = magic == [0x1f, 0x8b];
    let raw = BufReader::with_capacity(
        BUFFER,
        Counting {
            inner: io::Cursor::new(magic).chain(reader),
            count: 0,
        },
    );
    if !gzip {
        return Ok(Input::Plain(raw));
    }
    let guarded = Guarded {
        decoder: MultiGzDecoder::new(raw),
        produced: 0,
        ratio: options.inflate_ratio,
        floor: options.inflate_floor,
        tripped: false,
    };
    Ok(Input::Gzip(Box::new(BufReader::with_capacity(
        BUFFER, guarded,
    ))))
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Input::Plain(r) => r.fill_buf(),
            Input::Gzip(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Input::Plain(r) => r.consume(n),
            Input::Gzip(r) => r.consume(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    fn inflate(bytes: &[u8], options: &ReadOptions) -> (Vec<u8>, Option<String>) {
        let mut input = open(bytes, options).unwrap();
        let mut out = Vec::new();
        let err = input.read_to_end(&mut out).err().map(|e| e.to_string());
        (out, err)
    }

    #[test]
    fn plain_bytes_pass_through_and_gzip_is_told_by_content() {
        let options = ReadOptions::default();
        assert_eq!(
            inflate(b"{\"a\":1}", &options),
            (b"{\"a\":1}".to_vec(), None)
        );
        let text = b"{\"Records\":[]}".repeat(100);
        assert_eq!(inflate(&gzip(&text), &options), (text, None));
        assert_eq!(inflate(b"", &options), (Vec::new(), None));
        // A reader that hands over one byte at a time (a slow pipe) is still told gzip.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let compressed = gzip(b"{}");
        let mut input = open(OneByte(&compressed), &options).unwrap();
        let mut out = Vec::new();
        input.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"{}");
    }

    #[test]
    fn the_guard_needs_both_the_ratio_and_the_floor() {
        let zeros = gzip(&vec![0u8; 4 << 20]);
        assert!(zeros.len() < 8 << 10, "{}", zeros.len());
        // Past the ratio but under the floor: read whole.
        let lenient = ReadOptions {
            inflate_ratio: 10,
            inflate_floor: 8 << 20,
            ..ReadOptions::default()
        };
        assert_eq!(inflate(&zeros, &lenient).0.len(), 4 << 20);
        // Past the floor but under the ratio: read whole.
        let high_ratio = ReadOptions {
            inflate_ratio: 100_000,
            inflate_floor: 1 << 10,
            ..ReadOptions::default()
        };
        assert_eq!(inflate(&zeros, &high_ratio).0.len(), 4 << 20);
        // Past both: stopped, with what came before kept.
        let strict = ReadOptions {
            inflate_ratio: 10,
            inflate_floor: 1 << 20,
            ..ReadOptions::default()
        };
        let (out, err) = inflate(&zeros, &strict);
        let err = err.expect("the guard trips");
        assert!(err.contains("past the decompression guard"), "{err}");
        assert!(
            err.contains("10×") && err.contains("1048576 bytes"),
            "{err}"
        );
        assert!(
            out.len() <= 1 << 20 && out.len() >= 512 << 10,
            "{}",
            out.len()
        );
    }

    #[test]
    fn a_corrupt_gzip_stream_is_an_error_naming_gzip() {
        let mut bytes = gzip(&b"{\"x\": 1}\n".repeat(1000));
        let n = bytes.len();
        bytes.truncate(n / 2);
        let (_, err) = inflate(&bytes, &ReadOptions::default());
        assert!(err.unwrap().starts_with("gzip: "));
    }
}
