"""Instructions per chain (callgrind), for BENCHMARKS.md's "Prebuilt chains" table: the load
of a shared machine does not move them.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python python/benches/evaluate_instructions.py MODE ROUNDS

Every mode first does the same set-up (compile the largest FAS policy set of
corpus/conformance/fas.jsonl, 2,000 chains, each read into a `fastiam.Chain`); run `setup 0`
too and subtract its count: per chain = (total − setup) / (2,000 × ROUNDS).

    py        program.evaluate(chain) on the prebuilt chains, one Python call each
    rust      Program._rust_seconds: the Rust API's loop over the same chains, outcome saved
    rustbare  the same, outcome only read
    read      fastiam.Chain(dict): walk, read, pack
    dict      program.evaluate(dict)
    dumps     json.dumps(dict), for scale
"""

import json
import pathlib
import sys

import fastiam

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python" / "tests"))
from cases import largest_policy_group  # noqa: E402


def main():
    mode, rounds = sys.argv[1], int(sys.argv[2])
    kwargs, requests = largest_policy_group(REPO / "corpus" / "conformance" / "fas.jsonl")
    program = fastiam.Program.compile(**kwargs)
    chains = (requests * (2000 // len(requests) + 1))[:2000]
    prebuilt = [fastiam.Chain(c) for c in chains]
    evaluate = program.evaluate
    if mode == "py":
        for _ in range(rounds):
            for c in prebuilt:
                evaluate(c)
    elif mode in ("rust", "rustbare"):
        program._rust_seconds(prebuilt, rounds, save=mode == "rust")
    elif mode == "read":
        for _ in range(rounds):
            for c in chains:
                fastiam.Chain(c)
    elif mode == "dict":
        for _ in range(rounds):
            for c in chains:
                evaluate(c)
    elif mode == "dumps":
        for _ in range(rounds):
            for c in chains:
                json.dumps(c)
    elif mode != "setup":
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
