"""fastiam: is this IAM request — or this chain of forwarded requests — allowed, and why?

Compiles AWS IAM and Huawei Cloud IAM policies and evaluates requests and Forward Access
Session chains exactly (the engine of the ``fastiam`` command line and C ABI).

>>> import fastiam
>>> program = fastiam.Program.compile(identity=[{"Version": "2012-10-17", "Statement": [
...     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}])
>>> result = program.evaluate({"principal": "arn:aws:iam::111122223333:user/alice",
...                            "chain": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}]})
>>> result.decision, result.hops[0].matched[0].policy
('Allow', 'identity[0]')
"""

from ._native import (
    Chain,
    Evaluation,
    FastiamError,
    HopResult,
    MatchedStatement,
    PolicyError,
    Program,
    ProgramError,
    ReplayError,
    Replayer,
    ReplayReport,
    RequestError,
    plan_tasks,
)

__all__ = [
    "Chain",
    "Evaluation",
    "FastiamError",
    "HopResult",
    "MatchedStatement",
    "PolicyError",
    "Program",
    "ProgramError",
    "ReplayError",
    "Replayer",
    "ReplayReport",
    "RequestError",
    "plan_tasks",
]
