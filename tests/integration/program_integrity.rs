//! A program file that was changed after it was written is refused, never decided on
//! (FORMAT.md, the header's checksum): every single-bit and every single-byte change of a
//! small program, and seeded random mutations of it and of a large program compiled from
//! AWS managed policies. Before the checksum (format version 1), 22 of 300 random
//! mutations of a small program and 38 of 150 of the managed-policies program passed
//! verification and evaluated — with other answers.
//!
//! Programs are mutated in place in one aligned buffer and restored after each load, so
//! a load costs what `Program::from_bytes` costs and nothing is copied.

use std::io::Read;

use fastiam::benchmark::scaling::{parse_managed, read_managed_tsv};
use fastiam::compile::compile;
use fastiam::request::PolicySet;
use fastiam::table::{LoadError, Program};

use crate::generator::Rng;
use crate::util::corpus;
use crate::wire_format::golden_program;

/// Managed policies in the large program: enough for a program of several hundred
/// kilobytes, few enough to compile in a debug build in well under a second.
const MANAGED_POLICIES: usize = 300;

/// An 8-byte-aligned copy of a program that can be changed and put back.
struct Workbench {
    words: Vec<u64>,
    len: usize,
}

impl Workbench {
    fn new(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Workbench {
            words,
            len: bytes.len(),
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<u64, u8>(&mut self.words)[..self.len]
    }

    /// Applies `edits` (position, XOR mask), loads, puts the bytes back; the load's error.
    fn refusal(&mut self, edits: &[(usize, u8)]) -> Result<LoadError, String> {
        for &(at, mask) in edits {
            self.bytes()[at] ^= mask;
        }
        let result = Program::from_bytes(&*self.bytes()).map(|_| ());
        for &(at, mask) in edits.iter().rev() {
            self.bytes()[at] ^= mask;
        }
        match result {
            Err(e) => Ok(e),
            Ok(()) => Err(format!("the program changed at {edits:?} loaded")),
        }
    }
}

fn small_program() -> Vec<u8> {
    golden_program().as_bytes().to_vec()
}

fn large_program() -> Vec<u8> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(corpus("managed/policies.tsv.gz")).expect("policies.tsv.gz"),
    )
    .read_to_string(&mut text)
    .expect("policies.tsv.gz decompresses");
    let documents = read_managed_tsv(&text).unwrap();
    let policies = PolicySet {
        identity: parse_managed(&documents[..MANAGED_POLICIES], 42).unwrap(),
        ..PolicySet::default()
    };
    compile(&policies).unwrap().as_bytes().to_vec()
}

/// Seeded random mutations: 1 to 4 bytes each XOR-ed with a random non-zero mask.
fn random_edits(rng: &mut Rng, len: usize) -> Vec<(usize, u8)> {
    let mut edits: Vec<(usize, u8)> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(len);
        if edits.iter().all(|&(a, _)| a != at) {
            edits.push((at, 1 + rng.below(255) as u8));
        }
    }
    edits
}

/// Runs `edits` over `program`, returning how many refusals were checksum mismatches;
/// panics naming every mutation that loaded.
fn all_refused(program: &[u8], edits: impl Iterator<Item = Vec<(usize, u8)>>) -> (usize, usize) {
    let mut bench = Workbench::new(program);
    assert!(
        Program::from_bytes(&*bench.bytes()).is_ok(),
        "the unchanged program loads"
    );
    let (mut total, mut checksum) = (0, 0);
    let mut loaded = Vec::new();
    for edit in edits {
        total += 1;
        match bench.refusal(&edit) {
            Ok(LoadError::ChecksumMismatch { .. }) => checksum += 1,
            Ok(other) => assert!(!other.to_string().is_empty()),
            Err(e) => loaded.push(e),
        }
    }
    assert!(loaded.is_empty(), "{} of {total}: {loaded:?}", loaded.len());
    (total, checksum)
}

#[test]
fn every_single_bit_and_byte_change_of_a_small_program_is_refused() {
    let program = small_program();
    let bits = (0..program.len()).flat_map(|at| (0..8).map(move |bit| vec![(at, 1u8 << bit)]));
    let (n, checksum) = all_refused(&program, bits);
    assert_eq!(n, program.len() * 8);
    // Only the label, the byte-order mark and the version are checked before it.
    assert!(checksum >= n - 16 * 8, "{checksum} of {n}");
    let bytes = (0..program.len()).map(|at| vec![(at, 0xFF)]);
    let (n, _) = all_refused(&program, bytes);
    assert_eq!(n, program.len());
}

#[test]
fn random_mutations_of_a_small_program_are_refused() {
    let program = small_program();
    let mut rng = Rng::new(0x5EED_0001);
    let (n, _) = all_refused(
        &program,
        (0..500).map(|_| random_edits(&mut rng, program.len())),
    );
    assert_eq!(n, 500);
}

#[test]
fn random_mutations_of_a_large_program_are_refused() {
    let program = large_program();
    assert!(program.len() > 200_000, "{} bytes", program.len());
    let mut rng = Rng::new(0x5EED_0002);
    let (n, checksum) = all_refused(
        &program,
        (0..300).map(|_| random_edits(&mut rng, program.len())),
    );
    assert_eq!(n, 300);
    assert!(checksum > 250, "{checksum} of {n} were checksum mismatches");
}
