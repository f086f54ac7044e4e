#!/usr/bin/env python3
"""One case (a CASES.md JSON line) whose chain has N hops, for timing long chains (issue 17).

    python3 tools/long_chain.py N [plain|calledvia|keys|keysglob] > chainN.jsonl
    /usr/bin/time -f '%e %U' fastiam eval chainN.jsonl > /dev/null

Hop 0 reads an S3 object; every later hop is forwarded (`via`, alternately
athena.amazonaws.com, a CalledVia service, and s3.amazonaws.com) and decrypts a KMS key.
The chain is allowed at every hop, so every hop is evaluated.

- plain:     the identity policy allows both actions; no key policy is required
             (`resource_policy_required: false` on every KMS hop, as in all variants).
- calledvia: the identity policy also tests aws:CalledVia (ForAnyValue) and
             aws:CalledViaFirst at every KMS hop: reading a list that grows with the chain.
- keys:      every KMS hop carries its own key policy (N-1 resource policies in the
             program); the identity policy names kms:Decrypt exactly.
- keysglob:  as keys, the identity policy allowing kms:* (the action then has no
             tabulated candidates: each hop builds its list).
"""
import json
import sys

n = int(sys.argv[1])
variant = sys.argv[2] if len(sys.argv) > 2 else "keys"
kms_action = "kms:*" if variant == "keysglob" else "kms:Decrypt"
statements = [{"Effect": "Allow", "Action": ["s3:GetObject", kms_action], "Resource": "*"}]
if variant == "calledvia":
    statements += [
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": ["evil.amazonaws.com"]}}},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:CalledViaFirst": "athena.amazonaws.com"}}},
    ]
key_policy = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Key", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
     "Action": "kms:*", "Resource": "*"}]}
hops = [{"action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key"}]
for k in range(1, n):
    hop = {"via": "athena.amazonaws.com" if k % 2 else "s3.amazonaws.com",
           "action": "kms:Decrypt", "resource_policy_required": False,
           "resource": "arn:aws:kms:us-east-1:111122223333:key/1234"}
    if variant in ("keys", "keysglob"):
        hop["resource_policy"] = key_policy
        hop["context"] = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    hops.append(hop)
case = {"id": f"chain{n}", "principal": "arn:aws:iam::111122223333:user/alice",
        "policies": {"identity": [{"Version": "2012-10-17", "Statement": statements}]},
        "context": {"aws:SourceIp": "10.0.0.1"}, "chain": hops}
print(json.dumps(case))
