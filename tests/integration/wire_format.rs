//! The program file format (FORMAT.md): hostile and corrupt bytes are clean errors, never a
//! panic; what the verifier accepts evaluates without panicking; the golden file of the
//! current format version keeps loading and deciding the same, and compiling its policies
//! today gives the same bytes (a format change must bump the version); the golden files of
//! older versions are refused, naming both versions. Changed bytes that the checksum
//! refuses are in `program_integrity.rs`; the tests here re-seal them ([`seal`]) to reach
//! the directory checks and the verifier behind the checksum.

use fastiam::compile::compile;
use fastiam::eval::Evaluator;
use fastiam::request::{parse_case, Case, PolicySet};
use fastiam::runner::{Engine, Reference};
use fastiam::table::{seal, AlignedBytes, LoadError, Program, HEADER_LEN, VERSION};

use crate::util::{corpus, read_corpus};

/// The cases whose policies make the golden program: every FAS chain's identity policies,
/// SCP/RCP levels and resource policies are different, so one rich case set is taken.
fn golden_cases() -> Vec<Case> {
    read_corpus("programs/golden-cases.jsonl")
        .lines()
        .map(|l| parse_case(l, "golden-cases.jsonl").unwrap())
        .collect()
}

/// The golden file of the format version this build writes.
fn golden_path() -> std::path::PathBuf {
    corpus(&format!("programs/golden-v{VERSION}.fiam"))
}

pub(crate) fn golden_program() -> Program<AlignedBytes> {
    let bytes = std::fs::read(golden_path()).expect("golden file");
    Program::from_vec(bytes).expect("the current golden file loads")
}

/// Format version 1 (no checksum) is refused with a message that names it and this build's
/// version, whatever its checksum field holds.
#[test]
fn golden_file_of_version_1_is_refused_naming_both_versions() {
    assert_eq!(VERSION, 2, "add the previous version's golden file here");
    let bytes = std::fs::read(corpus("programs/golden-v1.fiam")).expect("golden-v1.fiam");
    let e = Program::from_vec(bytes.clone()).unwrap_err();
    assert_eq!(
        e,
        LoadError::UnsupportedVersion {
            found: 1,
            supported: 2
        }
    );
    let message = e.to_string();
    assert!(
        message.contains("version 1")
            && message.contains("version 2")
            && message.contains("recompile"),
        "{message}"
    );
    let mut sealed = bytes;
    seal(&mut sealed);
    assert_eq!(
        Program::from_vec(sealed).unwrap_err(),
        LoadError::UnsupportedVersion {
            found: 1,
            supported: 2
        }
    );
}

#[test]
fn golden_file_loads_and_decides_like_the_reference() {
    let program = golden_program();
    let evaluator = Evaluator::new(&program);
    let mut scratch = evaluator.scratch();
    let cases = golden_cases();
    assert!(cases.len() >= 5);
    for case in &cases {
        let got = evaluator.decision(&evaluator.evaluate(&case.chain.request, &mut scratch));
        assert_eq!(got, Reference.evaluate(&case.chain), "{}", case.id);
    }
}

#[test]
fn compiling_the_golden_policies_gives_the_golden_bytes() {
    let policies: &PolicySet = &golden_cases()[0].chain.policies;
    let fresh = compile(policies).unwrap();
    let golden = std::fs::read(golden_path()).unwrap();
    assert!(
        fresh.as_bytes() == golden.as_slice(),
        "the compiler's output changed: if the format changed, bump VERSION, keep the old golden file \
         refused cleanly, and regenerate with FASTIAM_WRITE_GOLDEN=1"
    );
}

/// Regenerates the golden file (run once, on purpose, with FASTIAM_WRITE_GOLDEN=1).
#[test]
fn write_golden_when_asked() {
    if std::env::var_os("FASTIAM_WRITE_GOLDEN").is_none() {
        return;
    }
    let program = compile(&golden_cases()[0].chain.policies).unwrap();
    std::fs::write(golden_path(), program.as_bytes()).unwrap();
}

fn sample_bytes() -> Vec<u8> {
    golden_program().as_bytes().to_vec()
}

fn load(bytes: &[u8]) -> Result<Program<AlignedBytes>, LoadError> {
    Program::from_vec(bytes.to_vec())
}

/// Loads `bytes` after writing their checksum: what gets past the checksum to the checks
/// behind it.
fn load_sealed(bytes: &[u8]) -> Result<Program<AlignedBytes>, LoadError> {
    let mut bytes = bytes.to_vec();
    seal(&mut bytes);
    Program::from_vec(bytes)
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample_bytes();
    for len in 0..bytes.len() {
        assert!(
            load(&bytes[..len]).is_err(),
            "a program truncated to {len} of {} bytes loaded",
            bytes.len()
        );
        // Re-sealed, only trailing zero padding after the last section can be cut.
        let result = load_sealed(&bytes[..len]);
        if len + 8 <= bytes.len() {
            assert!(
                result.is_err(),
                "a re-sealed program truncated to {len} of {} bytes loaded",
                bytes.len()
            );
        }
    }
}

/// Flips re-sealed so that they reach the verifier: every defect it lets through must still
/// be safe to evaluate.
#[test]
fn resealed_flips_never_panic_and_accepted_programs_evaluate() {
    let bytes = sample_bytes();
    let cases = golden_cases();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let (mut rejected, mut accepted) = (0, 0);
    // Every byte once (a bit chosen per byte), then 4,000 random flips.
    let flips = bytes.len() + 4_000;
    for n in 0..flips {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut corrupt = bytes.clone();
        let at = if n < bytes.len() {
            n
        } else {
            (state % corrupt.len() as u64) as usize
        };
        corrupt[at] ^= 1 << ((state >> 32) % 8);
        match load_sealed(&corrupt) {
            Err(e) => {
                rejected += 1;
                assert!(!e.to_string().is_empty());
            }
            Ok(program) => {
                accepted += 1;
                let evaluator = Evaluator::new(&program);
                let mut scratch = evaluator.scratch();
                for case in &cases {
                    let outcome = evaluator.evaluate(&case.chain.request, &mut scratch);
                    let _ = evaluator.decision(&outcome);
                }
            }
        }
    }
    assert!(
        rejected > 1_000 && accepted > 100,
        "rejected {rejected}, accepted {accepted}"
    );
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Directory entry `i`: (id, record size, offset, length) at HEADER_LEN + 24 i.
fn entry(i: usize) -> usize {
    HEADER_LEN + 24 * i
}

#[test]
fn hostile_headers_and_directories_are_named_errors() {
    let bytes = sample_bytes();
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        f(&mut b);
        load_sealed(&b).unwrap_err()
    };
    assert_eq!(edit(&|b| b[0] = b'X'), LoadError::BadMagic);
    // Unsealed, a changed directory is caught by the checksum first.
    let mut unsealed = bytes.clone();
    put_u32(&mut unsealed, entry(4), 5);
    assert!(matches!(
        load(&unsealed).unwrap_err(),
        LoadError::ChecksumMismatch { .. }
    ));
    assert_eq!(
        edit(&|b| b[8..12].copy_from_slice(&[1, 2, 3, 4])),
        LoadError::WrongEndianness
    );
    assert!(matches!(
        edit(&|b| put_u32(b, 12, 1)),
        LoadError::UnsupportedVersion {
            found: 1,
            supported: 2
        }
    ));
    assert!(matches!(
        edit(&|b| put_u32(b, 16, 3)),
        LoadError::BadDirectory(_)
    ));
    assert!(matches!(
        edit(&|b| put_u32(b, entry(4), 5)),
        LoadError::BadDirectory(_)
    ));
    // The statements section claims a wrong record size, an offset past the end, an
    // unaligned offset, a length that is not whole records.
    assert!(matches!(
        edit(&|b| put_u32(b, entry(4) + 4, 55)),
        LoadError::BadSection { .. }
    ));
    assert!(matches!(
        edit(&|b| b[entry(4) + 8..entry(4) + 16].copy_from_slice(&u64::MAX.to_le_bytes())),
        LoadError::BadSection { .. }
    ));
    assert!(matches!(
        edit(&|b| b[entry(4) + 8] |= 4),
        LoadError::BadSection { .. }
    ));
    assert!(matches!(
        edit(&|b| b[entry(4) + 16] |= 1),
        LoadError::BadSection { .. }
    ));
    let message = edit(&|b| put_u32(b, 12, 7)).to_string();
    assert!(
        message.contains("version 7") && message.contains("recompile"),
        "{message}"
    );
}

/// Record contents that point outside their tables are caught by the verifier.
#[test]
fn hostile_records_are_named_errors() {
    let bytes = sample_bytes();
    let offset_of = |section: usize| {
        u64::from_le_bytes(
            bytes[entry(section) + 8..entry(section) + 16]
                .try_into()
                .unwrap(),
        ) as usize
    };
    let statements = offset_of(4);
    let edit = |at: usize, v: u32| {
        let mut b = bytes.clone();
        put_u32(&mut b, at, v);
        load_sealed(&b).unwrap_err()
    };
    // statements[0].policy, .sid, .actions_first; conditions and keys likewise.
    for (field, value) in [
        (0usize, 9_999u32),
        (8, 9_999_999),
        (24, 9_999_999),
        (48, 9_999_999),
    ] {
        let e = edit(statements + field, value);
        assert!(
            matches!(
                e,
                LoadError::Invalid {
                    section: "statements",
                    ..
                }
            ),
            "{e}"
        );
    }
    // Unknown flag bits.
    let e = edit(statements + 12, 1 << 20);
    assert!(e.to_string().contains("unknown flags"), "{e}");
    // A string slice that starts inside the string blob's last byte range.
    let index = offset_of(1);
    let e = edit(index, u32::MAX - 2);
    assert!(
        matches!(
            e,
            LoadError::Invalid {
                section: "string_index",
                ..
            }
        ),
        "{e}"
    );
}

/// `from_bytes_unchecked` stays constant-time: it does not read the bytes for the checksum.
#[test]
fn unchecked_load_skips_the_checksum() {
    let mut bytes = sample_bytes();
    bytes[fastiam::table::CHECKSUM_AT] ^= 0xFF;
    let aligned = AlignedBytes::copy_from(&bytes);
    assert!(matches!(
        Program::from_bytes(&aligned).unwrap_err(),
        LoadError::ChecksumMismatch { .. }
    ));
    // SAFETY: the golden program, valid but for its checksum (the contract allows that).
    let program = unsafe { Program::from_bytes_unchecked(&aligned) }.unwrap();
    assert_eq!(
        program.view().policies.len(),
        golden_program().view().policies.len()
    );
}

#[test]
fn misaligned_bytes_are_refused_not_read() {
    let bytes = sample_bytes();
    let mut shifted = vec![0u8; bytes.len() + 1];
    shifted[1..].copy_from_slice(&bytes);
    let aligned = AlignedBytes::copy_from(&shifted);
    let view: &[u8] = &aligned.as_ref()[1..];
    assert_eq!(
        Program::from_bytes(view).unwrap_err(),
        LoadError::Misaligned
    );
}
