"""CASES.md cases split into what `Program.compile` takes and what `Program.evaluate` takes.

A case carries its policies; the Python API compiles them once and evaluates requests
without them. Inline resource policies become `resource=[...]` entries named as the case
reader names them (`resource[HOP]`) and the hop refers to them by `resource_policy_slot`.
"""

import copy
import json
import pathlib
from typing import Any, Dict, List, Tuple


def read_cases(path: pathlib.Path) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_case(case: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(keyword arguments of Program.compile, the chain for Program.evaluate)."""
    request = copy.deepcopy(case)
    policies = request.pop("policies", {})
    request.pop("expect", None)
    options = request.get("options", {})
    kwargs: Dict[str, Any] = {
        "mode": options.get("mode", "strict"),
        "huawei_policy_variables": options.get("huawei_policy_variables", False),
    }
    for name in ("identity", "boundary", "session", "scp", "rcp", "vpce"):
        if name in policies:
            kwargs[name] = policies[name]
    resource = []
    for i, hop in enumerate(request["chain"]):
        doc = hop.pop("resource_policy", None)
        if doc is None:
            continue
        if not ("document" in doc and "Statement" not in doc):
            doc = {"id": f"resource[{i}]", "document": doc}
        hop["resource_policy_slot"] = len(resource)
        resource.append(doc)
    kwargs["resource"] = resource
    return kwargs, request


def largest_policy_group(path: pathlib.Path) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The policy set most cases of `path` share (compile keyword arguments), and their
    chains: one program, many requests."""
    groups: Dict[str, Tuple[Dict[str, Any], List[Dict[str, Any]]]] = {}
    for case in read_cases(path):
        kwargs, request = split_case(case)
        groups.setdefault(json.dumps(kwargs, sort_keys=True), (kwargs, []))[1].append(request)
    return max(groups.values(), key=lambda kv: len(kv[1]))
