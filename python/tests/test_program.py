"""Program.compile / evaluate / evaluate_many / load / to_bytes, against the Rust runner.

Every case of corpus/conformance/{hand,fas}.jsonl is compiled through the Python API and
evaluated; its decision line must equal what `fastiam eval` prints for the same case
(decision, denied_at, and per hop the reason, matched statements and missing keys), and
agree with the case's own `expect`.
"""

import json
import pathlib
import subprocess
import threading
import time

import pytest

import fastiam
from cases import largest_policy_group, read_cases, split_case
from conftest import CORPUS

CASE_FILES = [CORPUS / "conformance" / "hand.jsonl", CORPUS / "conformance" / "fas.jsonl"]

ALLOW_GET = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
ALICE = "arn:aws:iam::111122223333:user/alice"


def chain(action: str = "s3:GetObject", resource: str = "arn:aws:s3:::b/k") -> dict:
    return {"principal": ALICE, "chain": [{"action": action, "resource": resource}]}


def runner_lines(fastiam_bin: str, path: pathlib.Path) -> dict:
    out = subprocess.run(
        [fastiam_bin, "eval", str(path)], check=True, capture_output=True, text=True
    ).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {line["id"]: line for line in lines}


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_corpus_equals_the_rust_runner(path, fastiam_bin):
    expected = runner_lines(fastiam_bin, path)
    cases = read_cases(path)
    assert len(cases) == len(expected) > 0
    for case in cases:
        kwargs, request = split_case(case)
        program = fastiam.Program.compile(**kwargs)
        got = program.evaluate(request).to_dict()
        assert got == expected[case["id"]], case["id"]
        want = case["expect"]
        assert got["decision"] == want["decision"], case["id"]
        assert got["denied_at"] == want.get("denied_at"), case["id"]


def test_evaluate_many_equals_evaluate_one_by_one():
    kwargs, requests = largest_policy_group(CASE_FILES[1])
    assert len(requests) >= 2
    program = fastiam.Program.compile(**kwargs)
    many = [r.to_dict() for r in program.evaluate_many(requests * 50)]
    one = [program.evaluate(r).to_dict() for r in requests] * 50
    assert many == one


def test_result_fields():
    program = fastiam.Program.compile(identity=[ALLOW_GET])
    r = program.evaluate(chain())
    assert (r.decision, r.denied_at, r.allowed) == ("Allow", None, True)
    (hop,) = r.hops
    assert (hop.decision, hop.reason, hop.missing) == ("Allow", "Allowed:Identity", [])
    (m,) = hop.matched
    assert (m.policy, m.kind, m.statement, m.sid, m.level) == ("identity[0]", "Identity", 0, "Read", None)
    denied = program.evaluate(chain(action="s3:PutObject"))
    assert (denied.decision, denied.denied_at, denied.allowed) == ("ImplicitDeny", 0, False)
    assert denied.hops[0].reason == "NoAllow"


def test_missing_keys_and_scp_levels():
    scp = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                          "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}]}
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    program = fastiam.Program.compile(identity=[ALLOW_GET], scp=[[allow_all], [allow_all, scp]])
    r = program.evaluate(chain())
    assert r.decision == "ExplicitDeny"
    assert r.hops[0].reason == "ExplicitDeny:Scp"
    deny = [m for m in r.hops[0].matched if m.kind == "Scp"]
    assert [(m.policy, m.level) for m in deny] == [("scp[1][1]", 1)]
    inside = chain()
    inside["context"] = {"aws:SourceVpc": "vpc-1"}
    assert program.evaluate(inside).decision == "Allow"


def test_policy_forms_text_dict_wrapped_path_directory(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "reader.json").write_text(json.dumps(ALLOW_GET))
    (tmp_path / "one.json").write_text(json.dumps(ALLOW_GET))
    forms = {
        "identity[0]": json.dumps(ALLOW_GET),
        "mine": {"id": "mine", "document": ALLOW_GET},
        "one": tmp_path / "one.json",
        "reader": tmp_path / "dir",
    }
    for name, form in forms.items():
        r = fastiam.Program.compile(identity=[form]).evaluate(chain())
        assert r.hops[0].matched[0].policy == name
    # A str is JSON text, never a path: a path must be a pathlib.Path (or os.PathLike).
    with pytest.raises(fastiam.PolicyError, match="invalid JSON"):
        fastiam.Program.compile(identity=[str(tmp_path / "one.json")])


def test_resource_policy_slots():
    bucket = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ALICE},
                             "Action": "s3:GetObject", "Resource": "*"}]}
    program = fastiam.Program.compile(resource=[bucket])
    assert program.resource_policies == 1
    request = chain()
    request["chain"][0]["resource_policy_slot"] = 0
    r = program.evaluate(request)
    assert (r.decision, r.hops[0].matched[0].policy) == ("Allow", "resource[0]")
    assert program.evaluate(chain()).decision == "ImplicitDeny"
    request["chain"][0]["resource_policy_slot"] = 1
    with pytest.raises(fastiam.RequestError, match="beyond the program's 1 resource policies"):
        program.evaluate(request)


def test_bytes_and_file_round_trip(tmp_path):
    program = fastiam.Program.compile(identity=[ALLOW_GET])
    data = program.to_bytes()
    assert len(data) == len(program) > 24
    again = fastiam.Program.from_bytes(data)
    assert again.to_bytes() == data
    path = tmp_path / "p.fiam"
    path.write_bytes(data)
    mapped = fastiam.Program.load(path)
    assert mapped.evaluate(chain()).to_dict() == program.evaluate(chain()).to_dict()
    assert fastiam.Program.load(str(path)).statements == 1


def test_compiled_by_the_cli_loads(tmp_path, fastiam_bin):
    policy = tmp_path / "reader.json"
    policy.write_text(json.dumps(ALLOW_GET))
    out = tmp_path / "p.fiam"
    subprocess.run([fastiam_bin, "compile", str(policy), "-o", str(out)], check=True, capture_output=True)
    r = fastiam.Program.load(out).evaluate(chain())
    assert (r.decision, r.hops[0].matched[0].policy) == ("Allow", "reader")


def test_gil_released_during_evaluate_many():
    """Two threads run evaluate_many while a Python thread keeps ticking. Each batch is
    read from a generator that notes when it is exhausted: after that the call only
    evaluates, and a Python thread can tick in that window only if the GIL was released.

    The 1,000 conditional statements (each a candidate of every hop, each failing on
    aws:PrincipalArn) only make the evaluation itself longer: with ALLOW_GET alone it was a
    few milliseconds of each window (the rest is turning results into Python objects, with
    the GIL), and a CI run counted 2 ticks; with them, 100-160 on this machine."""
    slow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalArn": f"{ALICE}-not-{i}"}},
            }
            for i in range(1000)
        ],
    }
    program = fastiam.Program.compile(identity=[ALLOW_GET, slow])
    ticks = []
    windows = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.0002)

    def chains(marks):
        for i in range(20000):
            yield chain(resource=f"arn:aws:s3:::b/{i}")
        marks.append(time.perf_counter())

    def work(results):
        marks = []
        batch = program.evaluate_many(chains(marks))
        windows.append((marks[0], time.perf_counter()))
        results.append(batch)

    results = []
    counter = threading.Thread(target=count)
    workers = [threading.Thread(target=work, args=(results,)) for _ in range(2)]
    counter.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    counter.join()
    assert [len(r) for r in results] == [20000, 20000]
    assert all(r.decision == "Allow" for batch in results for r in batch)
    during = [t for t in ticks if any(start < t < end for start, end in windows)]
    assert len(during) >= 3, (len(during), windows)
