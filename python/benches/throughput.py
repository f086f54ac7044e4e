"""Rough throughput of the Python package (BENCHMARKS.md, "Python package").

    python python/benches/throughput.py   # with the release wheel installed (python/ci.sh)

(Not in python/ itself: run from there, its `fastiam/` folder — with whatever
`maturin develop` left in it — would shadow the installed package.)

Times, on the bundled corpus: evaluate one chain at a time (dicts, and prebuilt
`fastiam.Chain`s) against the Rust API on the same packed chains in the same process,
evaluate_many, and replay_arrow over the bundled logs repeated; each the median of 5 runs.
evaluate_many is also timed against `fastiam eval --program` (one thread) over the same
chains written as JSON Lines (`--fastiam BIN`, default target/release/fastiam; alternated).
"""

import gzip
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow as pa

import fastiam

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python" / "tests"))
from cases import largest_policy_group  # noqa: E402


def median_seconds(fn, runs=5):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def evaluate_each(program, chains):
    """One call per chain, each result dropped (as the Rust loop drops its outcomes)."""
    evaluate = program.evaluate
    for chain in chains:
        evaluate(chain)


def main():
    print(f"fastiam from {pathlib.Path(fastiam.__file__).parent}")
    kwargs, requests = largest_policy_group(REPO / "corpus" / "conformance" / "fas.jsonl")
    program = fastiam.Program.compile(**kwargs)
    chains = (requests * (20000 // len(requests) + 1))[:20000]
    for i, c in enumerate(chains):
        chains[i] = dict(c, id=f"c{i}")
    n = len(chains)

    def line(what, seconds):
        print(f"{what:<44} {n / seconds:>10,.0f} chains/s ({seconds / n * 1e6:.2f} us/chain)")

    prebuilt = [fastiam.Chain(c) for c in chains]
    build = median_seconds(lambda: [fastiam.Chain(c) for c in chains])
    # Alternate Rust and Python so that both see the same machine load.
    rust, rust_bare, python = [], [], []
    for _ in range(5):
        rust.append(program._rust_seconds(prebuilt, 1))
        rust_bare.append(program._rust_seconds(prebuilt, 1, save=False))
        python.append(median_seconds(lambda: evaluate_each(program, prebuilt), runs=1))
    rust, rust_bare, python = (statistics.median(x) for x in (rust, rust_bare, python))
    line("Rust API, evaluate only (one thread)", rust_bare)
    line("Rust API, evaluate + outcome saved", rust)
    line("evaluate(fastiam.Chain), one call per chain", python)
    print(f"  ratio to the Rust API: {python / rust_bare:.2f}x (evaluate only), {python / rust:.2f}x (outcome saved)")
    decided = median_seconds(lambda: [program.evaluate(c).decision for c in prebuilt])
    kept = median_seconds(lambda: [program.evaluate(c) for c in prebuilt])
    line("  ... results kept in a list", kept)
    line("  ... and reading .decision", decided)
    full = median_seconds(lambda: [program.evaluate(c).to_dict() for c in prebuilt])
    line("  ... and .to_dict() (every hop detail)", full)
    line("fastiam.Chain(dict) (reading a chain)", build)
    one = median_seconds(lambda: [program.evaluate(c) for c in chains])
    line("evaluate(dict), one call per chain", one)
    many = median_seconds(lambda: program.evaluate_many(chains))
    line("evaluate_many(dicts)", many)
    many_prebuilt = median_seconds(lambda: program.evaluate_many(prebuilt))
    line("evaluate_many(fastiam.Chain)", many_prebuilt)

    binary = sys.argv[sys.argv.index("--fastiam") + 1] if "--fastiam" in sys.argv else str(
        REPO / "target" / "release" / "fastiam")
    with tempfile.TemporaryDirectory() as tmp:
        cases, compiled = pathlib.Path(tmp) / "chains.jsonl", pathlib.Path(tmp) / "program.fiam"
        cases.write_text("".join(json.dumps(c) + "\n" for c in chains))
        compiled.write_bytes(program.to_bytes())
        command = [binary, "eval", "--program", str(compiled), "--quiet", str(cases)]
        cli, many = [], []
        for _ in range(5):
            cli.append(median_seconds(lambda: subprocess.run(command, check=True, capture_output=True), runs=1))
            many.append(median_seconds(lambda: program.evaluate_many(chains), runs=1))
        line("fastiam eval --program (CLI, one thread)", statistics.median(cli))
        line("  evaluate_many(dicts), alternated with it", statistics.median(many))

    records = []
    for path in sorted((REPO / "corpus" / "replay" / "logs").rglob("*.json*")):
        data = path.read_bytes()
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        records.extend(json.dumps(r) for r in json.loads(data)["Records"])
    column = pa.array(records * 20)
    scp = REPO / "corpus" / "replay" / "policies" / "network-perimeter-iam-users-scp.json"
    replayer = fastiam.Replayer(scp=[[scp]])
    arrow = median_seconds(lambda: replayer.replay_arrow(column))
    print(f"replay_arrow:                 {len(column) / arrow:,.0f} records/s ({len(column)} records)")


if __name__ == "__main__":
    main()
