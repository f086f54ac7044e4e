//! A loaded program over any bytes: owned, read from a file, or memory-mapped.
//!
//! [`Program<B>`] is one type for every source of bytes (`B: AsRef<[u8]>`), so the
//! interpreter is written once. There are two doors in:
//! - [`Program::from_bytes`] checks the header, the checksum, every section's place and
//!   size, and then every id, range, code and string of every record ([`verify`]); it never
//!   panics and never reads out of bounds, whatever the bytes;
//! - [`Program::from_bytes_unchecked`] (`unsafe`) checks only the header and the section
//!   directory (constant time), not the checksum, and trusts the rest; its contract is in
//!   its `# Safety`.
//!
//! Why a checksum when every record is verified: the verifier proves a program *safe* to
//! interpret, not that it is the program the compiler wrote. A flipped byte inside a
//! string, a glob or an in-range id gives a well-formed program that decides differently;
//! before format version 2, 22 of 300 random byte mutations of a small program passed
//! verification that way. The header's CRC-32 over every other byte of the file refuses
//! every single-byte change (CRC-32 detects every error burst of up to 32 bits) and all but
//! about one in 2³² of the others ([`LoadError::ChecksumMismatch`]). It detects corruption,
//! not tampering: whoever can write the file can recompute it ([`seal`]).
//!
//! The file layout is FORMAT.md. In short: an 8-byte label `FASTIAM\0`, an endianness mark,
//! a version, a section count, the checksum, then a directory of `(id, record size,
//! offset, length)` entries, then the sections, each 8-byte aligned. Record tables are
//! viewed in place with `bytemuck` (which checks alignment and size); nothing is copied.
//!
//! ```
//! use fastiam::request::parse_case;
//! use fastiam::table::Program;
//! let case = parse_case(r#"{"id":"x","principal":"anonymous","policies":{"identity":[
//!   {"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]},
//!   "chain":[{"action":"s3:GetObject","resource":"*"}]}"#, "doc").unwrap();
//! let program = fastiam::compile::compile(&case.chain.policies).unwrap();
//! let bytes = program.as_bytes().to_vec();
//! let loaded = Program::from_vec(bytes).unwrap();
//! assert_eq!(loaded.view().statements.len(), 1);
//! assert!(Program::from_vec(b"not a program".to_vec()).is_err());
//! ```

pub mod verify;

use bytemuck::Pod;

use crate::bytecode::*;

/// The label every program file starts with.
pub const MAGIC: [u8; 8] = *b"FASTIAM\0";
/// Written as a little-endian `u32`; read back differently on a big-endian writer.
pub const ENDIAN_MARK: u32 = 0x0102_0304;
/// The format version this build writes and reads (FORMAT.md "Versions").
pub const VERSION: u32 = 2;
/// Where the header holds the checksum: a little-endian `u32`, the CRC-32 (IEEE) of every
/// byte of the file except these four (FORMAT.md).
pub const CHECKSUM_AT: usize = 20;
/// Bytes before the section directory.
pub const HEADER_LEN: usize = 24;
/// Bytes of one directory entry.
pub const DIRECTORY_ENTRY_LEN: usize = 24;

/// Why bytes are not a loadable program. Every variant names what was wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Shorter than the header and directory it announces.
    Truncated { needed: usize, len: usize },
    /// The first 8 bytes are not `FASTIAM\0`.
    BadMagic,
    /// The endianness mark does not read as little-endian.
    WrongEndianness,
    /// A version this build does not read.
    UnsupportedVersion { found: u32, supported: u32 },
    /// The checksum in the header is not that of the bytes: the file was corrupted or
    /// changed after it was written.
    ChecksumMismatch { stored: u32, computed: u32 },
    /// The directory is not the expected list of sections.
    BadDirectory(String),
    /// A section lies outside the file, is misaligned, or has a wrong size.
    BadSection { section: &'static str, why: String },
    /// The bytes are not 8-byte aligned in memory (copy them: [`Program::from_vec`]).
    Misaligned,
    /// A record refers to something that does not exist or holds an unknown code.
    Invalid {
        section: &'static str,
        index: usize,
        why: String,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Truncated { needed, len } => {
                write!(f, "truncated program: needs at least {needed} bytes, has {len}")
            }
            LoadError::BadMagic => write!(f, "not a fastiam program (expected the label `FASTIAM\\0`)"),
            LoadError::WrongEndianness => write!(f, "program written with another byte order"),
            LoadError::UnsupportedVersion { found, supported } => write!(
                f,
                "program format version {found} is not supported (this build reads version {supported}; recompile the policies)"
            ),
            LoadError::ChecksumMismatch { stored, computed } => write!(
                f,
                "program checksum mismatch: the header says {stored:#010x}, the bytes give {computed:#010x} (the file is corrupt or was changed after compiling; recompile the policies)"
            ),
            LoadError::BadDirectory(why) => write!(f, "bad section directory: {why}"),
            LoadError::BadSection { section, why } => write!(f, "bad section `{section}`: {why}"),
            LoadError::Misaligned => write!(f, "program bytes are not 8-byte aligned in memory"),
            LoadError::Invalid { section, index, why } => {
                write!(f, "invalid record {index} of section `{section}`: {why}")
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// A byte buffer whose start is 8-byte aligned (records are viewed in place).
#[derive(Clone, Debug, Default)]
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` into an aligned buffer.
    pub fn copy_from(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }
}

macro_rules! sections {
    ($( $id:literal $field:ident : $ty:ty, )*) => {
        /// The tables of a program as owned vectors (what the compiler builds).
        #[derive(Clone, Debug, Default)]
        pub struct Sections {
            $( pub $field: Vec<$ty>, )*
        }

        /// The tables of a loaded program, borrowed from its bytes.
        #[derive(Clone, Copy, Debug)]
        pub struct ProgramView<'a> {
            /// The string blob (valid UTF-8).
            pub strings: &'a str,
            $( pub $field: &'a [$ty], )*
        }

        /// Section names, in directory order.
        pub const SECTION_NAMES: &[&str] = &[ $( stringify!($field), )* ];

        fn record_sizes() -> Vec<usize> {
            vec![ $( std::mem::size_of::<$ty>(), )* ]
        }

        impl Sections {
            fn section_bytes(&self) -> Vec<&[u8]> {
                vec![ $( bytemuck::cast_slice(&self.$field), )* ]
            }
        }

        fn build_view<'a>(bytes: &'a [u8], ranges: &[(usize, usize)], strings: &'a str) -> Result<ProgramView<'a>, LoadError> {
            let mut i = 0;
            $(
                let $field: &'a [$ty] = cast(bytes, ranges[i], SECTION_NAMES[i])?;
                i += 1;
            )*
            let _ = i;
            Ok(ProgramView { strings, $( $field, )* })
        }
    };
}

sections! {
    0 strings_raw: u8,
    1 string_index: StrRef,
    2 keys: KeyRec,
    3 policies: PolicyRec,
    4 statements: StatementRec,
    5 actions: ActionRec,
    6 resources: ResourceRec,
    7 matchers: MatcherRec,
    8 tokens: TokenRec,
    9 principals: PrincipalRec,
    10 conditions: ConditionRec,
    11 values: ValueRec,
    12 statement_keys: u32,
    13 services: ServiceRec,
    14 index_exact: ExactRec,
    15 index_globs: GlobRec,
    16 index_statements: u32,
    17 index_always: u32,
    18 meta: MetaRec,
    19 ip_ranges: IpRangeRec,
    20 index_not_action: u32,
}

impl<'a> ProgramView<'a> {
    /// String `id` of the string table; `None` if there is no such string (never for a
    /// verified program's ids).
    pub fn string(&self, id: StrId) -> Option<&'a str> {
        let r = self.string_index.get(id as usize)?;
        self.strings
            .get(r.start as usize..r.start as usize + r.len as usize)
    }
}

fn cast<'a, T: Pod>(
    bytes: &'a [u8],
    (start, len): (usize, usize),
    name: &'static str,
) -> Result<&'a [T], LoadError> {
    let slice = bytes
        .get(start..start + len)
        .ok_or_else(|| LoadError::BadSection {
            section: name,
            why: "outside the file".into(),
        })?;
    bytemuck::try_cast_slice(slice).map_err(|e| match e {
        bytemuck::PodCastError::TargetAlignmentGreaterAndInputNotAligned => LoadError::Misaligned,
        other => LoadError::BadSection {
            section: name,
            why: format!("{other:?}"),
        },
    })
}

impl Sections {
    /// Serialises the tables into the file format.
    pub fn to_bytes(&self) -> AlignedBytes {
        let parts = self.section_bytes();
        let sizes = record_sizes();
        let mut out: Vec<u8> = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&ENDIAN_MARK.to_le_bytes());
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
        // The checksum, filled in once the file is complete.
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut offset = align8(HEADER_LEN + parts.len() * DIRECTORY_ENTRY_LEN);
        for (id, part) in parts.iter().enumerate() {
            out.extend_from_slice(&(id as u32).to_le_bytes());
            out.extend_from_slice(&(sizes[id] as u32).to_le_bytes());
            out.extend_from_slice(&(offset as u64).to_le_bytes());
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            offset = align8(offset + part.len());
        }
        for part in parts {
            out.resize(align8(out.len()), 0);
            out.extend_from_slice(part);
        }
        out.resize(align8(out.len()), 0);
        seal(&mut out);
        AlignedBytes::copy_from(&out)
    }
}

/// The checksum of a program's bytes: the CRC-32 (IEEE) of every byte except the four at
/// [`CHECKSUM_AT`]. `None` for bytes shorter than the header.
///
/// CRC-32 rather than a faster non-cryptographic hash: it *guarantees* that any change
/// within 32 consecutive bits (every single-byte flip) is detected, and `crc32fast` computes
/// it with the CPU's carry-less multiply (several GB/s), so checking a 3.4 MB program costs
/// well under a millisecond.
pub fn checksum(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[..CHECKSUM_AT]);
    hasher.update(&bytes[CHECKSUM_AT + 4..]);
    Some(hasher.finalize())
}

/// Writes the checksum of `bytes` into their header (what the compiler's writer does last).
/// For tools and tests that change a program on purpose; bytes shorter than the header
/// are left as they are.
///
/// ```
/// use fastiam::table::{seal, LoadError, Program};
/// # let case = fastiam::request::parse_case(r#"{"id":"x","principal":"anonymous","policies":{"identity":[
/// #   {"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}]},
/// #   "chain":[{"action":"s3:GetObject","resource":"*"}]}"#, "doc").unwrap();
/// # let program = fastiam::compile::compile(&case.chain.policies).unwrap();
/// let mut bytes = program.as_bytes().to_vec();
/// let at = bytes.windows(4).position(|w| w == b"get*").unwrap();
/// bytes[at] = b'p'; // `s3:Get*` becomes `s3:pet*`: still a well-formed program
/// let refused = Program::from_vec(bytes.clone()).unwrap_err();
/// assert!(matches!(refused, LoadError::ChecksumMismatch { .. }));
/// seal(&mut bytes);
/// assert!(Program::from_vec(bytes).is_ok());
/// ```
pub fn seal(bytes: &mut [u8]) {
    if let Some(sum) = checksum(bytes) {
        bytes[CHECKSUM_AT..CHECKSUM_AT + 4].copy_from_slice(&sum.to_le_bytes());
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// A program over bytes `B`, checked at load.
#[derive(Clone, Debug)]
pub struct Program<B> {
    bytes: B,
    ranges: Vec<(usize, usize)>,
}

impl<B: AsRef<[u8]>> Program<B> {
    /// Loads and fully verifies a program: header, checksum, directory, every record.
    /// Never panics; any defect is a [`LoadError`].
    pub fn from_bytes(bytes: B) -> Result<Self, LoadError> {
        let ranges = read_directory(bytes.as_ref(), Checksum::Check)?;
        let program = Program { bytes, ranges };
        let raw = program.section(0);
        let strings = std::str::from_utf8(raw).map_err(|e| LoadError::Invalid {
            section: "strings_raw",
            index: e.valid_up_to(),
            why: "not valid UTF-8".into(),
        })?;
        let view = build_view(program.bytes.as_ref(), &program.ranges, strings)?;
        verify::verify(&view)?;
        Ok(program)
    }

    /// Loads a program checking only the header and the section directory (constant
    /// time): for programs this process wrote or verified before. The checksum is **not**
    /// checked (that reads every byte).
    ///
    /// # Safety
    ///
    /// `bytes` must be a program that [`Program::from_bytes`] accepts, or would accept
    /// but for its checksum (for example bytes written by [`Sections::to_bytes`] or loaded
    /// successfully before and not modified).
    /// The string section is not checked for UTF-8 here; a program that is not valid
    /// breaks `str` invariants (undefined behaviour), and one with out-of-range ids makes
    /// evaluation panic.
    #[allow(unsafe_code)]
    pub unsafe fn from_bytes_unchecked(bytes: B) -> Result<Self, LoadError> {
        let ranges = read_directory(bytes.as_ref(), Checksum::Skip)?;
        // Constant-time: the casts check each section's alignment and size only.
        build_view(bytes.as_ref(), &ranges, "")?;
        Ok(Program { bytes, ranges })
    }

    fn section(&self, i: usize) -> &[u8] {
        let (start, len) = self.ranges[i];
        &self.bytes.as_ref()[start..start + len]
    }

    /// Each section's `(offset, length)` in the bytes, in directory order.
    pub fn section_ranges(&self) -> &[(usize, usize)] {
        &self.ranges
    }

    /// The program's bytes (what a file holds).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The tables, borrowed from the bytes. Cheap (a few slice casts, no scan); evaluate
    /// many requests with one view.
    #[allow(unsafe_code)]
    pub fn view(&self) -> ProgramView<'_> {
        // SAFETY: the string section is valid UTF-8: `from_bytes` checked it before
        // constructing `self`, and `from_bytes_unchecked`'s contract requires bytes that
        // `from_bytes` accepts. Re-checking here would cost a scan of every string per view.
        let strings = unsafe { std::str::from_utf8_unchecked(self.section(0)) };
        build_view(self.bytes.as_ref(), &self.ranges, strings)
            .expect("sections were checked at load")
    }
}

impl Program<AlignedBytes> {
    /// Loads a program from owned bytes, copying them into an aligned buffer.
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self, LoadError> {
        Program::from_bytes(AlignedBytes::copy_from(&bytes))
    }

    /// Reads and verifies a program file into memory (the safe alternative to mapping).
    pub fn read(path: &std::path::Path) -> std::io::Result<Result<Self, LoadError>> {
        Ok(Program::from_vec(std::fs::read(path)?))
    }
}

impl Program<memmap2::Mmap> {
    /// Maps a program file and verifies it.
    ///
    /// # Safety
    ///
    /// The file must not be modified or truncated while the program is alive (memory-mapping
    /// is the caller's `unsafe` choice; see `memmap2::Mmap::map`). Verification then
    /// guarantees the rest.
    #[allow(unsafe_code)]
    pub unsafe fn map(file: &std::fs::File) -> std::io::Result<Result<Self, LoadError>> {
        // SAFETY: the caller promises the file stays unchanged while mapped.
        let map = unsafe { memmap2::Mmap::map(file)? };
        Ok(Program::from_bytes(map))
    }
}

/// Whether [`read_directory`] checks the checksum.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checksum {
    Check,
    Skip,
}

/// Reads the header (label, byte order, version, then the checksum if asked) and the
/// directory; returns each section's `(offset, length)`. The version comes before the
/// checksum so that a file of another version is named as such.
fn read_directory(bytes: &[u8], check: Checksum) -> Result<Vec<(usize, usize)>, LoadError> {
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    if bytes.len() < HEADER_LEN {
        return Err(LoadError::Truncated {
            needed: HEADER_LEN,
            len: bytes.len(),
        });
    }
    if bytes[..8] != MAGIC {
        return Err(LoadError::BadMagic);
    }
    if u32_at(8) != Some(ENDIAN_MARK) {
        return Err(LoadError::WrongEndianness);
    }
    let version = u32_at(12).unwrap_or(0);
    if version != VERSION {
        return Err(LoadError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    if check == Checksum::Check {
        let stored = u32_at(CHECKSUM_AT).unwrap_or(0);
        match checksum(bytes) {
            Some(computed) if computed != stored => {
                return Err(LoadError::ChecksumMismatch { stored, computed });
            }
            _ => {}
        }
    }
    let count = u32_at(16).unwrap_or(0) as usize;
    if count != SECTION_NAMES.len() {
        return Err(LoadError::BadDirectory(format!(
            "{count} sections, expected {}",
            SECTION_NAMES.len()
        )));
    }
    let directory_end = HEADER_LEN + count * DIRECTORY_ENTRY_LEN;
    if bytes.len() < directory_end {
        return Err(LoadError::Truncated {
            needed: directory_end,
            len: bytes.len(),
        });
    }
    let sizes = record_sizes();
    let mut ranges = Vec::with_capacity(count);
    for (i, name) in SECTION_NAMES.iter().enumerate() {
        let at = HEADER_LEN + i * DIRECTORY_ENTRY_LEN;
        let bad = |why: String| LoadError::BadSection { section: name, why };
        let (id, size) = (u32_at(at).unwrap_or(u32::MAX), u32_at(at + 4).unwrap_or(0));
        let (offset, len) = (
            u64_at(at + 8).unwrap_or(u64::MAX),
            u64_at(at + 16).unwrap_or(u64::MAX),
        );
        if id as usize != i {
            return Err(LoadError::BadDirectory(format!("entry {i} has id {id}")));
        }
        if size as usize != sizes[i] {
            return Err(bad(format!("record size {size}, expected {}", sizes[i])));
        }
        let end = offset
            .checked_add(len)
            .ok_or_else(|| bad("offset + length overflows".into()))?;
        if offset % 8 != 0 || (offset as usize) < directory_end {
            return Err(bad(format!(
                "offset {offset} is misaligned or inside the header"
            )));
        }
        if end > bytes.len() as u64 {
            return Err(bad(format!(
                "ends at byte {end}, the file has {}",
                bytes.len()
            )));
        }
        if len % size as u64 != 0 {
            return Err(bad(format!(
                "length {len} is not a multiple of the record size {size}"
            )));
        }
        ranges.push((offset as usize, len as usize));
    }
    Ok(ranges)
}
