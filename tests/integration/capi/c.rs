//! C programs compiled with the `cc` crate and run: `tests/c/capi_test.c` over the
//! conformance corpus and the standard workload (answers compared with the Rust API's),
//! from many threads, and through the error paths; `examples/c/minimal.c` as the README
//! shows it. `.ci/run` runs the same C test under valgrind (the ignored test below).
//!
//! The programs link the `libfastiam.so` cargo built next to this test binary (in
//! `target/<profile>/deps`: the library's cdylib is built with it).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use fastiam::eval::Evaluator;
use fastiam::request::parse_case;
use fastiam::table::Program;

use crate::util::read_corpus;

#[path = "../../../examples/c/requests.rs"]
pub(crate) mod requests;
use requests::{Expected, RequestsWriter};

/// `target/<profile>/deps`: where this test binary is, and where cargo put the
/// `libfastiam.so` it built with it (`cargo test` alone does not copy it up to
/// `target/<profile>`, and a copy there may be from an older `cargo build`).
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// `target/<profile>`.
fn profile_dir() -> PathBuf {
    deps_dir()
        .parent()
        .expect("target/<profile>/deps")
        .to_path_buf()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory for one test's files, under the target directory.
fn work_dir(name: &str) -> PathBuf {
    let dir = profile_dir().join("capi-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the work directory");
    dir
}

/// The host's target triple, for `cc` (which normally learns it from a build script).
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

/// Compiles and links C `sources` into the executable `out`, against the fastiam cdylib.
pub fn compile_c(sources: &[&str], out: &Path) {
    let triple = host_triple();
    let tool = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .target(&triple)
        .host(&triple)
        .opt_level(1)
        .debug(true)
        .get_compiler();
    let lib = deps_dir();
    assert!(
        lib.join("libfastiam.so").exists(),
        "{} has no libfastiam.so: is `cdylib` among the crate types?",
        lib.display()
    );
    let mut cmd = tool.to_command();
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg("-I")
        .arg(repo().join("include"))
        .arg("-I")
        .arg(repo().join("examples/c"));
    for source in sources {
        cmd.arg(repo().join(source));
    }
    cmd.arg("-o")
        .arg(out)
        .arg("-L")
        .arg(&lib)
        .arg("-lfastiam")
        .arg(format!("-Wl,-rpath,{}", lib.display()));
    let output = cmd.output().expect("run the C compiler");
    assert!(
        output.status.success(),
        "compiling {sources:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every corpus case: one program file per distinct policy set, and
/// `conformance.requests` with the Rust API's answer for each. Returns the case count.
fn conformance_fixture(dir: &Path) -> usize {
    let files = [
        "conformance/hand.jsonl",
        "conformance/fas.jsonl",
        "regressions/decisions.jsonl",
        "spec/vectors.jsonl",
    ];
    let file = File::create(dir.join("conformance.requests")).unwrap();
    let mut writer = RequestsWriter::new(BufWriter::new(file)).unwrap();
    let mut programs: HashMap<String, (String, Program<_>)> = HashMap::new();
    let mut cases = 0;
    for name in files {
        for (i, line) in read_corpus(name).lines().enumerate() {
            let case = parse_case(line, &format!("{name}:{}", i + 1)).unwrap();
            let key = format!("{:?}", case.chain.policies);
            let next = programs.len();
            let (path, program) = programs.entry(key).or_insert_with(|| {
                let path = format!("p{next}.fiam");
                let bytes = fastiam::compile::compile(&case.chain.policies)
                    .unwrap()
                    .as_bytes()
                    .to_vec();
                std::fs::write(dir.join(&path), &bytes).unwrap();
                // The expectation comes from the file the C side loads.
                let program = Program::read(&dir.join(&path)).unwrap().unwrap();
                (path, program)
            });
            writer.program(path).unwrap();
            let expected = Expected::evaluate(&Evaluator::new(program), &case.chain.request);
            writer
                .request(&case.chain.request, &expected)
                .unwrap_or_else(|e| panic!("{}: {e}", case.id));
            cases += 1;
        }
    }
    writer.finish().unwrap();
    cases
}

/// `n` standard-workload requests, their program `workload.fiam` and answers.
pub fn workload_fixture(dir: &Path, n: usize) {
    let prepared = fastiam::benchmark::standard(n, 42).unwrap();
    let bytes = fastiam::compile::compile(&prepared.policies)
        .unwrap()
        .as_bytes()
        .to_vec();
    std::fs::write(dir.join("workload.fiam"), &bytes).unwrap();
    let program = Program::read(&dir.join("workload.fiam")).unwrap().unwrap();
    let evaluator = Evaluator::new(&program);
    let file = File::create(dir.join("workload.requests")).unwrap();
    let mut writer = RequestsWriter::new(BufWriter::new(file)).unwrap();
    writer.program("workload.fiam").unwrap();
    for request in &prepared.requests {
        writer
            .request(request, &Expected::evaluate(&evaluator, request))
            .unwrap();
    }
    writer.finish().unwrap();
}

/// Prepares the C test's inputs and compiles it; returns (executable, input directory,
/// number of conformance cases).
fn prepare_c_test(name: &str) -> (PathBuf, PathBuf, usize) {
    let dir = work_dir(name);
    let cases = conformance_fixture(&dir);
    workload_fixture(&dir, 300);
    let exe = dir.join("capi_test");
    compile_c(&["tests/c/capi_test.c", "examples/c/requests.c"], &exe);
    (exe, dir, cases)
}

fn run(cmd: &mut Command) -> (bool, String) {
    // The programs find the library by their run path. `cargo test` puts `target/<profile>`
    // on LD_LIBRARY_PATH, which is searched first, and a `libfastiam.so` there is from
    // whatever `cargo build` ran last, not the one these programs were linked with.
    let out = cmd
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run the C program");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn c_conformance_threads_and_errors() {
    let (exe, dir, cases) = prepare_c_test("c_test");
    let (ok, out) = run(Command::new(&exe).arg(&dir).args(["8", "3"]));
    assert!(ok, "the C test failed:\n{out}");
    for mode in ["memory-mapped", "from bytes"] {
        let want = format!(
            "conformance ({mode}): {cases} of {cases} cases agree with the Rust API, \
             {cases} through the builder"
        );
        assert!(out.contains(&want), "{want:?} not in:\n{out}");
    }
    assert!(cases >= 44 + 129 + 5 + 169, "{cases} cases");
    assert!(
        out.contains(
            "8 threads x 3 rounds x 300 requests on one program: 7200 evaluations, 0 wrong"
        ),
        "{out}"
    );
    assert!(out.contains(" 0 failed"), "{out}");
}

/// The same C test under valgrind's memcheck: no invalid access, no use of uninitialised
/// memory, no leak of any kind (every block freed at exit). Run by `.ci/run`
/// (`cargo test --test integration -- --ignored capi::c::c_test_under_valgrind`).
#[test]
#[ignore = "needs valgrind and a few minutes; .ci/run runs it"]
fn c_test_under_valgrind() {
    let (exe, dir, cases) = prepare_c_test("c_test_valgrind");
    let valgrind = Command::new("valgrind").arg("--version").output();
    assert!(
        valgrind.is_ok_and(|o| o.status.success()),
        "valgrind is not installed (apt-get install -y valgrind)"
    );
    let (ok, out) = run(Command::new("valgrind")
        .args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=all",
            "--errors-for-leak-kinds=all",
            "--track-origins=yes",
        ])
        .arg(&exe)
        .arg(&dir)
        .args(["8", "2"]));
    assert!(
        ok,
        "valgrind reported errors (or the C test failed):\n{out}"
    );
    assert!(out.contains("ERROR SUMMARY: 0 errors"), "{out}");
    assert!(
        out.contains(&format!("{cases} of {cases} cases agree")),
        "{out}"
    );
    eprintln!(
        "{}",
        out.lines()
            .filter(|l| l.contains("=="))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn c_minimal_example_prints_allow() {
    let dir = work_dir("minimal");
    let policy = std::fs::read_to_string(repo().join("examples/c/policy.json")).unwrap();
    let policy = fastiam::policy::parse_policy(
        &policy,
        "policy.json",
        &fastiam::policy::ParseOptions::new(fastiam::policy::PolicyKind::Identity),
    )
    .unwrap();
    let set = fastiam::request::PolicySet {
        identity: vec![policy],
        ..Default::default()
    };
    let program = dir.join("policy.fiam");
    std::fs::write(
        &program,
        fastiam::compile::compile(&set).unwrap().as_bytes(),
    )
    .unwrap();
    let exe = dir.join("minimal");
    compile_c(&["examples/c/minimal.c"], &exe);
    let (ok, out) = run(Command::new(&exe).arg(&program));
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "Allow (Allowed:Identity)");
    let (ok, out) = run(Command::new(&exe).arg(dir.join("missing.fiam")));
    assert!(!ok);
    assert!(out.contains("fastiam_program_open: `"), "{out}");
}
