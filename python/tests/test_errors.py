"""Bad input raises a typed exception naming the place, never crashes."""

import json

import pytest

import fastiam

ALICE = "arn:aws:iam::111122223333:user/alice"
GOOD = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def test_policy_error_has_file_pointer_line_column():
    with pytest.raises(fastiam.PolicyError) as e:
        fastiam.Program.compile(identity=[GOOD, '{"Statement": [{"Effect": "allow"}]}'])
    err = e.value
    assert (err.file, err.pointer, err.line, err.column) == ("identity[1]", "/Statement/0/Effect", 1, 27)
    assert "expected `Allow` or `Deny`" in str(err)
    assert isinstance(err, fastiam.FastiamError)


def test_policy_error_in_a_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17",\n "Statement": [{"Effect": "Allow", "Action": 7}]}')
    with pytest.raises(fastiam.PolicyError) as e:
        fastiam.Program.compile(scp=[[GOOD], [bad]])
    assert e.value.file == str(bad)
    assert (e.value.pointer, e.value.line) == ("/Statement/0/Action", 2)


def test_missing_file_and_syntax_error(tmp_path):
    with pytest.raises(fastiam.PolicyError) as e:
        fastiam.Program.compile(identity=[tmp_path / "absent.json"])
    assert e.value.file == str(tmp_path / "absent.json") and e.value.line is None
    with pytest.raises(fastiam.PolicyError, match="invalid JSON"):
        fastiam.Program.compile(boundary="{not json")


def test_wrong_argument_types():
    with pytest.raises(TypeError, match="identity: expected a list of policies"):
        fastiam.Program.compile(identity=GOOD)
    with pytest.raises(TypeError, match=r"identity\[0\]: expected a policy"):
        fastiam.Program.compile(identity=[42])
    with pytest.raises(ValueError, match="mode"):
        fastiam.Program.compile(identity=[GOOD], mode="loose")


def test_lenient_mode_accepts_what_strict_refuses():
    odd = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                          "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "soon"}}}]}
    with pytest.raises(fastiam.PolicyError):
        fastiam.Program.compile(identity=[odd])
    assert fastiam.Program.compile(identity=[odd], mode="lenient").statements == 1


def test_program_errors(tmp_path):
    with pytest.raises(fastiam.ProgramError, match="not a fastiam program"):
        fastiam.Program.from_bytes(b"NOTFIAM!" + bytes(64))
    data = fastiam.Program.compile(identity=[GOOD]).to_bytes()
    with pytest.raises(fastiam.ProgramError, match="truncated|bad section|checksum"):
        fastiam.Program.from_bytes(data[: len(data) // 2])
    path = tmp_path / "corrupt.fiam"
    path.write_bytes(data[:-8])
    with pytest.raises(fastiam.ProgramError, match=str(path)):
        fastiam.Program.load(path)
    with pytest.raises(OSError):
        fastiam.Program.load(tmp_path / "absent.fiam")


def test_request_errors_name_the_place():
    program = fastiam.Program.compile(identity=[GOOD])
    with pytest.raises(fastiam.RequestError, match="missing required member `principal`"):
        program.evaluate({"chain": [{"action": "s3:GetObject", "resource": "*"}]})
    with pytest.raises(fastiam.RequestError, match=r"/chain/1.*missing required member `via`"):
        program.evaluate({"principal": ALICE, "chain": [{"action": "a:b", "resource": "*"},
                                                         {"action": "c:d", "resource": "*"}]})
    with pytest.raises(fastiam.RequestError, match="carries policies"):
        program.evaluate({"principal": ALICE, "policies": {"identity": [GOOD]},
                          "chain": [{"action": "a:b", "resource": "*"}]})
    with pytest.raises(fastiam.RequestError, match="chain:"):
        program.evaluate("{not json")
    with pytest.raises(fastiam.RequestError, match="expected a chain"):
        program.evaluate([1, 2])
    good = {"principal": ALICE, "chain": [{"action": "s3:GetObject", "resource": "*"}]}
    with pytest.raises(fastiam.RequestError, match=r"chains\[2\]"):
        program.evaluate_many([good, good, {"principal": ALICE, "chain": []}])


def test_text_chain_and_id_kept():
    program = fastiam.Program.compile(identity=[GOOD])
    text = json.dumps({"id": "c7", "principal": ALICE, "chain": [{"action": "s3:GetObject", "resource": "*"}]})
    assert program.evaluate(text).to_dict()["id"] == "c7"
