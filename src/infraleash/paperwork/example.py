"""A minimal configuration of one resource type that passes ``infraleash check``, for ``explain TYPE``.

    minimal_example("aws_s3_bucket").hcl     -> a bucket with its encryption, versioning, public-access block ...
    minimal_example("aws_sqs_queue").source  -> "required arguments" or "rule AWS-...'s passing example"

Candidates, shortest first: the passing examples of the rules about the type (they already hold
what those rules ask for), then a skeleton of the type's required arguments and blocks from the
pinned provider schema.  Each candidate is written to a temporary directory and run through
every rule under the default policy; the first with no finding at or above the failing severity
is the example.  When none passes, there is no example (never one that would fail ``check``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infraleash.checks.engine import example_files, run_checks
from infraleash.checks.registry import all_rules
from infraleash.findings import Severity
from infraleash.policy import Policy
from infraleash.terraform.schema import BlockSchema, bundled_aws


@dataclass(frozen=True)
class Example:
    hcl: str
    source: str  # where it came from: "required arguments" or "rule ID's passing example"


def _placeholder(name: str, t: Any) -> str:
    if t == "string":
        return f'"example-{name.replace("_", "-")}"'
    if t == "number":
        return "1"
    if t == "bool":
        return "false"
    if isinstance(t, list) and t[:1] in (["list"], ["set"]):
        return f"[{_placeholder(name, t[1])}]"
    if isinstance(t, list) and t[:1] == ["map"]:
        return f"{{ key = {_placeholder(name, t[1])} }}"
    return "null"


def _skeleton_body(block: BlockSchema, indent: str) -> list[str]:
    lines = [f"{indent}{a.name} = {_placeholder(a.name, a.type)}"
             for a in sorted(block.attributes.values(), key=lambda a: a.name) if a.required]
    for bt in sorted(block.block_types.values(), key=lambda b: b.name):
        if bt.min_items > 0:
            lines += [f"{indent}{bt.name} {{", *_skeleton_body(bt.block, indent + "  "), f"{indent}}}"]
    return lines


def skeleton(resource_type: str, block: BlockSchema) -> str:
    """The type's required arguments and blocks with placeholder values."""
    return "\n".join([f'resource "{resource_type}" "example" {{', *_skeleton_body(block, "  "), "}"]) + "\n"


def passes_check(hcl_text: str, policy: Policy | None = None) -> bool:
    """Does this configuration pass ``infraleash check`` (no finding at or above the failing severity)?"""
    policy = policy or Policy()
    failing = Severity(policy.checks.failing_severity)
    with tempfile.TemporaryDirectory(prefix="infraleash-explain-") as tmp:
        root = Path(tmp)
        for name, content in example_files(hcl_text).items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        report = run_checks(root, policy, use_terraform=False)
    return not any(f.severity.at_least(failing) for f in report.findings)


@cache
def minimal_example(resource_type: str) -> Example | None:
    block = bundled_aws().resource(resource_type)
    if block is None:
        return None
    declares = f'resource "{resource_type}"'
    candidates = sorted(((r.pass_example, f"rule {r.id}'s passing example") for r in all_rules()
                         if resource_type in r.resource_types and declares in (r.pass_example or "")
                         and not getattr(r, "example_policy", None)),
                        key=lambda c: len(c[0]))
    candidates.append((skeleton(resource_type, block), "required arguments"))
    for hcl_text, source in candidates:
        if passes_check(hcl_text):
            return Example(hcl_text.strip() + "\n", source)
    return None
