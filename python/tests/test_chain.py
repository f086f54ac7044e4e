"""The prebuilt path (`fastiam.Chain`) and the dict walk: the same decisions as the Rust
runner on the bundled corpus, lazy results, `evaluate_many` over prebuilt and mixed items,
and errors that name their place by JSON pointer."""

import json

import pytest

import fastiam
from cases import largest_policy_group, read_cases, split_case
from conftest import CORPUS
from test_program import ALICE, ALLOW_GET, CASE_FILES, chain, runner_lines


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_prebuilt_corpus_equals_the_rust_runner(path, fastiam_bin):
    expected = runner_lines(fastiam_bin, path)
    for case in read_cases(path):
        kwargs, request = split_case(case)
        program = fastiam.Program.compile(**kwargs)
        prebuilt = fastiam.Chain(request)
        assert prebuilt.id == case["id"] and len(prebuilt) == len(request["chain"])
        assert program.evaluate(prebuilt).to_dict() == expected[case["id"]], case["id"]
        # The JSON text path reads the same chain.
        assert program.evaluate(json.dumps(request)).to_dict() == expected[case["id"]]
        (many,) = program.evaluate_many([prebuilt])
        assert many.to_dict() == expected[case["id"]]


def test_a_chain_is_reusable_across_programs_and_calls():
    prebuilt = fastiam.Chain(chain())
    allow = fastiam.Program.compile(identity=[ALLOW_GET])
    nothing = fastiam.Program.compile(identity=[{"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}])
    for _ in range(3):
        assert allow.evaluate(prebuilt).decision == "Allow"
        assert nothing.evaluate(prebuilt).decision == "ImplicitDeny"


def test_result_is_lazy_but_complete():
    program = fastiam.Program.compile(identity=[ALLOW_GET])
    results = program.evaluate_many([fastiam.Chain(chain()), fastiam.Chain(chain(action="s3:PutObject"))])
    # Evaluated again since: the results kept their own outcome, not the scratch's.
    program.evaluate_many([fastiam.Chain(chain(action="iam:PassRole"))] * 10)
    allowed, denied = results
    assert (allowed.decision, allowed.denied_at, allowed.allowed) == ("Allow", None, True)
    assert allowed.hops[0].matched[0].sid == "Read"
    assert (denied.decision, denied.denied_at, denied.hops[0].reason) == ("ImplicitDeny", 0, "NoAllow")
    assert allowed.hops[0].matched[0].policy == allowed.hops[0].matched[0].policy


def test_dict_walk_takes_numbers_tuples_and_bools_as_json_does():
    scp = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                          "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": 3600}}}]}
    program = fastiam.Program.compile(identity=[ALLOW_GET], scp=[[{"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}, scp]])
    for age, want in [(60, "Allow"), (7200, "ExplicitDeny"), (60.5, "Allow"), (10**30, "ExplicitDeny")]:
        request = chain()
        request["context"] = {"aws:MultiFactorAuthAge": age, "aws:MultiFactorAuthPresent": True}
        got = program.evaluate(request)
        assert got.decision == want, age
        assert got.to_dict() == program.evaluate(json.dumps(request)).to_dict()
    request = chain()
    request["chain"] = tuple(request["chain"])
    request["id"] = 12
    assert program.evaluate(request).to_dict()["id"] == "12"


@pytest.mark.parametrize(
    "bad, pointer, message",
    [
        ({"context": {"aws:SourceIp": {1}}}, "/context/aws:SourceIp", "found set"),
        ({"context": {"aws:SourceIp": float("nan")}}, "/context/aws:SourceIp", "finite number"),
        ({"context": {7: "x"}}, "/context", "string keys"),
        ({"chain": [{"action": "s3:GetObject", "resource": "*"},
                    {"action": "kms:Decrypt", "resource": "*"}]}, "/chain/1", "missing required member `via`"),
        ({"chain": [{"action": "s3:GetObject", "resource": "*",
                     "context": {"aws:SourceIp": {"a": 1}}}]}, "/chain/0/context/aws:SourceIp", "found an object"),
        ({"principal": 5}, "/principal", "expected a principal"),
        ({"unknown": 1}, "/unknown", "unknown"),
    ],
)
def test_request_errors_carry_a_json_pointer(bad, pointer, message):
    program = fastiam.Program.compile(identity=[ALLOW_GET])
    request = {**chain(), **bad}
    for call in (program.evaluate, fastiam.Chain):
        with pytest.raises(fastiam.RequestError, match=message) as e:
            call(request)
        assert e.value.pointer == pointer, str(e.value)
        assert f"at {pointer}" in str(e.value)


def test_self_referencing_dict_is_an_error_not_a_crash():
    request = chain()
    request["context"] = {}
    request["context"]["aws:Loop"] = request["context"]
    with pytest.raises(fastiam.RequestError, match="nested deeper than"):
        fastiam.Chain(request)


def test_evaluate_many_errors_raise_or_return():
    bucket = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ALICE},
                             "Action": "s3:GetObject", "Resource": "*"}]}
    program = fastiam.Program.compile(identity=[ALLOW_GET], resource=[bucket])
    beyond = chain()
    beyond["chain"][0]["resource_policy_slot"] = 3
    items = [fastiam.Chain(chain()), chain(), {"principal": ALICE}, json.dumps(chain()),
             fastiam.Chain(beyond), "{not json"]
    with pytest.raises(fastiam.RequestError, match=r"chains\[2\]"):
        program.evaluate_many(items)
    got = program.evaluate_many(items, errors="return")
    assert [type(g).__name__ for g in got] == ["Evaluation", "Evaluation", "RequestError",
                                               "Evaluation", "RequestError", "RequestError"]
    assert "missing required member `chain`" in str(got[2])
    assert "chains[4]: hop 0: `resource_policy_slot` 3 is beyond" in str(got[4])
    assert str(got[5]).startswith("chains[5]:")
    assert [g.decision for g in got if isinstance(g, fastiam.Evaluation)] == ["Allow"] * 3
    with pytest.raises(ValueError, match="errors"):
        program.evaluate_many(items, errors="ignore")


def test_evaluate_many_over_prebuilt_chains_in_order():
    program = fastiam.Program.compile(identity=[ALLOW_GET])
    actions = ["s3:GetObject", "s3:PutObject"] * 5000
    chains = [fastiam.Chain(chain(action=a)) for a in actions]
    got = program.evaluate_many(chains)
    assert [r.decision for r in got] == ["Allow" if a == "s3:GetObject" else "ImplicitDeny" for a in actions]


def test_fas_corpus_chains_prebuilt_in_bulk():
    kwargs, requests = largest_policy_group(CORPUS / "conformance" / "fas.jsonl")
    program = fastiam.Program.compile(**kwargs)
    prebuilt = [fastiam.Chain(r) for r in requests] * 1000  # past one 4,096-chain chunk
    many = [r.to_dict() for r in program.evaluate_many(prebuilt)]
    assert many == [program.evaluate(r).to_dict() for r in requests] * 1000
