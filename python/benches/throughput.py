"""Rough throughput of the Python package (BENCHMARKS.md, "Python package").

    python python/benches/throughput.py   # with the release wheel installed (python/ci.sh)

(Not in python/ itself: run from there, its `fastiam/` folder — with whatever
`maturin develop` left in it — would shadow the installed package.)

Times, on the bundled corpus: evaluate one chain at a time, evaluate_many, and replay_arrow
over the bundled logs repeated; each the median of 5 runs.
"""

import gzip
import json
import pathlib
import statistics
import sys
import time

import pyarrow as pa

import fastiam

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python" / "tests"))
from cases import read_cases, split_case  # noqa: E402


def median_seconds(fn, runs=5):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    print(f"fastiam from {pathlib.Path(fastiam.__file__).parent}")
    cases = read_cases(REPO / "corpus" / "conformance" / "fas.jsonl")
    groups = {}
    for case in cases:
        kwargs, request = split_case(case)
        groups.setdefault(json.dumps(kwargs, sort_keys=True), (kwargs, []))[1].append(request)
    kwargs, requests = max(groups.values(), key=lambda kv: len(kv[1]))
    program = fastiam.Program.compile(**kwargs)
    chains = (requests * (20000 // len(requests) + 1))[:20000]
    one = median_seconds(lambda: [program.evaluate(c) for c in chains])
    many = median_seconds(lambda: program.evaluate_many(chains))
    print(f"evaluate, one call per chain: {len(chains) / one:,.0f} chains/s ({one / len(chains) * 1e6:.1f} us/chain)")
    print(f"evaluate_many:                {len(chains) / many:,.0f} chains/s ({many / len(chains) * 1e6:.1f} us/chain)")

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
