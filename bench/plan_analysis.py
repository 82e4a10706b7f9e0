"""Plan analysis on a generated 10,000-change plan: time and peak memory, side by side with peers.

    .venv/bin/python bench/plan_analysis.py [--changes 10000] [--no-checkov]

Generates a `terraform show -json`-shaped plan (a realistic mix of creates, in-place
updates, replacements with replace_paths, deletes, no-ops, moves and imports over
stateful and ordinary AWS types, sensitive values, drift, and a configuration section
with references), then measures, each in a fresh process on the same file:

* ``json.load``            the floor: only parsing the file (what any reader pays);
* ``infraleash``           load_plan + review_plan (classification, stateful costs,
                           protected resources, blast radius, drift, summary);
* ``checkov``              ``checkov -f plan.json --framework terraform_plan`` (a peer that
                           reads plan JSON; it runs security policies, not risk analysis,
                           so the ratio compares cost of reading a plan, not equal work).
                           Installed into bench/.venv-checkov on first use.

Prints seconds, peak RSS and ratios. Targets for infraleash: < 2 s and < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
CHECKOV_VENV = ROOT / "bench" / ".venv-checkov"

TYPES = ["aws_instance", "aws_s3_bucket", "aws_security_group", "aws_iam_role", "aws_iam_policy",
         "aws_db_instance", "aws_dynamodb_table", "aws_ebs_volume", "aws_lambda_function", "aws_sqs_queue",
         "aws_route53_record", "aws_cloudwatch_log_group", "aws_kms_key", "aws_subnet", "aws_eks_node_group"]
MIX = [("create", 40), ("update", 25), ("replace", 10), ("delete", 5), ("no-op", 14), ("move", 3), ("import", 2),
       ("tags", 1)]


def _values(rtype: str, i: int, rng: random.Random) -> dict[str, Any]:
    return {"id": f"{rtype[4:8]}-{i:08x}", "arn": f"arn:aws:{rtype[4:8]}:us-east-1:123456789012:{i}",
            "name": f"{rtype}-{i}", "instance_class": rng.choice(["db.t3.micro", "db.t3.small"]),
            "instance_type": rng.choice(["t3.micro", "t3.large"]), "size": rng.randint(8, 500),
            "type": rng.choice(["gp2", "gp3"]), "skip_final_snapshot": rng.random() < 0.5,
            "deletion_protection": rng.random() < 0.3, "force_destroy": rng.random() < 0.2,
            "password": f"secret-{i}", "tags": {"Owner": "team-" + str(i % 17), "CostCenter": "cc-1"},
            "tags_all": {"Owner": "team-" + str(i % 17), "CostCenter": "cc-1"},
            "ingress": [{"from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}],
            "policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*"}]})}


def generate(n: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    changes, drift, config_resources = [], [], []
    planned: dict[str, list[dict[str, Any]]] = {}  # module address ("" = root) -> planned_values resources
    for i in range(n):
        rtype = TYPES[i % len(TYPES)]
        name = f"r{i}"
        address = f"module.m{i % 50}.{rtype}.{name}" if i % 3 == 0 else f"{rtype}.{name}"
        kind = rng.choice(kinds)
        before = _values(rtype, i, rng)
        after = dict(before)
        sens = {"password": True}
        ch: dict[str, Any] = {"before_sensitive": sens, "after_sensitive": sens, "after_unknown": {}}
        entry: dict[str, Any] = {"address": address, "mode": "managed", "type": rtype, "name": name,
                                 "provider_name": "registry.terraform.io/hashicorp/aws"}
        if i % 3 == 0:
            entry["module_address"] = f"module.m{i % 50}"
        if kind == "create":
            ch.update(actions=["create"], before=None, after=after, after_unknown={"id": True, "arn": True},
                      before_sensitive=False)
        elif kind in ("update", "tags"):
            if kind == "tags":
                after["tags"] = {**before["tags"], "Env": "prod"}
            else:
                after["instance_class"] = "db.r6g.large"
                after["size"] = before["size"] + 10
            ch.update(actions=["update"], before=before, after=after)
        elif kind == "replace":
            after["name"] = f"{rtype}-{i}-v2"
            ch.update(actions=rng.choice([["delete", "create"], ["create", "delete"]]), before=before,
                      after=after, after_unknown={"id": True, "arn": True}, replace_paths=[["name"]])
            entry["action_reason"] = "replace_because_cannot_update"
        elif kind == "delete":
            ch.update(actions=["delete"], before=before, after=None, after_sensitive=False)
        else:
            ch.update(actions=["no-op"], before=before, after=after)
            if kind == "move":
                entry["previous_address"] = f"{rtype}.old_{name}"
            if kind == "import":
                ch["importing"] = {"id": before["id"]}
        entry["change"] = ch
        changes.append(entry)
        if ch["after"] is not None:  # what checkov reads: planned_values (known after values)
            known = {k: v for k, v in ch["after"].items() if not ch["after_unknown"].get(k)}
            planned.setdefault(entry.get("module_address", ""), []).append(
                {"address": address, "mode": "managed", "type": rtype, "name": name,
                 "provider_name": entry["provider_name"], "schema_version": 0, "values": known,
                 "sensitive_values": {"password": True}})
        if i % 40 == 0:
            drifted = {**before, "tags": {**before["tags"], "Hotfix": "yes"}}
            drift.append({**{k: v for k, v in entry.items() if k != "change"},
                          "change": {"actions": ["update"], "before": before, "after": drifted,
                                     "before_sensitive": sens, "after_sensitive": sens, "after_unknown": {}}})
        target = TYPES[(i + 1) % len(TYPES)]
        config_resources.append({"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
                                 "expressions": {"name": {"constant_value": name},
                                                 "subnet_id": {"references": [f"{target}.r{(i * 7 + 1) % n}.id",
                                                                              f"{target}.r{(i * 7 + 1) % n}"]}}})
    root = {"resources": planned.pop("", []),
            "child_modules": [{"address": m, "resources": r} for m, r in sorted(planned.items())]}
    return {"format_version": "1.2", "terraform_version": "1.11.4", "planned_values": {"root_module": root},
            "resource_drift": drift, "resource_changes": changes,
            "output_changes": {"db_password": {"actions": ["update"], "before": "a", "after": "b",
                                               "before_sensitive": True, "after_sensitive": True,
                                               "after_unknown": False}},
            "configuration": {"root_module": {"resources": config_resources}}, "applyable": True,
            "complete": True, "errored": False}


# --------------------------------------------------------------------------- measurements (child processes)


def _measure(what: str, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    if what == "json":
        with path.open("rb") as f:
            json.load(f)
        extra: dict[str, Any] = {}
    else:
        from infraleash.policy import Policy, ProtectedResources
        from infraleash.review import review_plan
        from infraleash.terraform.plan import load_plan

        policy = Policy(protected=ProtectedResources(addresses=["aws_security_group.r1*"], tags={"Protected": "1"}))
        report = review_plan(load_plan(path), policy)
        extra = {"findings": len(report.findings), "verdict": report.verdict.value}
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 3), "max_rss_mb": round(rss_mb, 1),
            **extra}


def _child(what: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--measure", what, str(path)], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_checkov() -> Path | None:
    exe = CHECKOV_VENV / "bin" / "checkov"
    if exe.exists():
        return exe
    print(f"installing checkov into {CHECKOV_VENV} (first run only) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "--quiet", "checkov"], check=True,
                       timeout=1200)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"checkov unavailable: {e}")
        return None
    return exe if exe.exists() else None


def _checkov(exe: Path, path: Path, timeout: float) -> dict[str, Any]:
    """Time checkov in a wrapper process that reports its peak RSS; count the resources it evaluated."""
    report = path.with_suffix(".checkov.json")
    wrapper = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
               "p=subprocess.run(sys.argv[2:],stdout=open(sys.argv[1],'wb'),stderr=subprocess.DEVNULL);"
               "print(json.dumps({'seconds':round(time.perf_counter()-t,3),'exit':p.returncode,"
               "'max_rss_mb':round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,1)}))")
    cmd = [sys.executable, "-c", wrapper, str(report), str(exe), "-f", str(path), "--framework", "terraform_plan",
           "--quiet", "--compact", "--skip-download", "-o", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "note": f"did not finish within {timeout:.0f}s"}
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    try:
        doc = json.loads(report.read_text(encoding="utf-8"))
        doc = doc[0] if isinstance(doc, list) else doc
        row["resources"] = int(doc.get("summary", doc).get("resource_count", 0))
    except (OSError, ValueError, AttributeError):
        row["resources"] = None
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--no-checkov", action="store_true")
    ap.add_argument("--checkov-timeout", type=float, default=900)
    ap.add_argument("--measure", nargs=2, metavar=("WHAT", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure[0], Path(args.measure[1]))))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"plan-{args.changes}.json"
    path.write_text(json.dumps(generate(args.changes)), encoding="utf-8")
    size_mb = path.stat().st_size / 2**20
    print(f"plan: {path} ({args.changes} resource changes, {size_mb:.1f} MB)")
    rows = {"json.load": _child("json", path), "infraleash": _child("infraleash", path)}
    exe = None if args.no_checkov else ensure_checkov()
    if exe is not None:
        rows["checkov"] = _checkov(exe, path, args.checkov_timeout)
    base = rows["json.load"]["seconds"]
    ours = rows["infraleash"]
    print(f"\n{'tool':<12} {'seconds':>9} {'peak RSS MB':>12} {'x json.load':>12} {'x infraleash':>13}")
    for name, r in rows.items():
        secs = r.get("seconds")
        if secs is None:
            print(f"{name:<12} {'-':>9} {'-':>12}   {r.get('note', '')}")
            continue
        print(f"{name:<12} {secs:>9.3f} {r['max_rss_mb']:>12.1f} {secs / base:>12.1f} {secs / ours['seconds']:>13.2f}")
    print(f"\ninfraleash: {ours['findings']} findings, verdict {ours['verdict']} "
          "(peak RSS includes the interpreter and imports: pydantic, infraleash)")
    if "checkov" in rows:
        c = rows["checkov"]
        print(f"checkov: exit {c.get('exit')}, {c.get('resources')} resources evaluated "
              "(security policies on planned values; no change classification, drift or blast radius)")
    ok = ours["seconds"] < 2 and ours["max_rss_mb"] < 500
    print(f"targets (< 2 s, < 500 MB): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
