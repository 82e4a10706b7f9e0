"""The evaluated configuration as one JSON document: what Rego rules (and anything else) read.

    doc = config_json(config)

Shape (values evaluated as the Python rules see them; a value not known statically is
``{"unknown": "why"}``; a nested block is a list of objects, one per occurrence)::

    {"resource": {"aws_s3_bucket": {"logs": {...}}},        # root module, as conftest's HCL parser gives it
     "data":     {"aws_iam_policy_document": {"x": {...}}},
     "module":   {"vpc": {"source": "...", ...}},
     "resources": [{"address": "module.s3.aws_s3_bucket.this", "type": "aws_s3_bucket", "name": "this",
                    "mode": "managed", "module_path": "module.s3", "file": "...", "line": 8,
                    "values": {...}}, ...],                # every module, data sources with mode "data"
     "variables": {...}, "locals": {...}}

Conftest policies written against ``input.resource.TYPE.NAME`` keep working for the root
module; ``input.resources`` also reaches resources inside modules, with their addresses.
"""

from __future__ import annotations

from typing import Any

from infraleash.terraform.config import Block, Config, Unknown


def value_json(value: Any) -> Any:
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if isinstance(value, Block):
        return block_values(value)
    if isinstance(value, dict):
        return {str(k): value_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [value_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def block_values(block: Block) -> dict[str, Any]:
    return {name: value_json(v) for name, v in block.attrs.items()}


def _entry(block: Block, mode: str) -> dict[str, Any]:
    return {"address": block.instance_address, "type": block.type, "name": block.name, "mode": mode,
            "module_path": block.module_path, "file": block.file, "line": block.line, "values": block_values(block)}


def config_json(config: Config) -> dict[str, Any]:
    resource: dict[str, dict[str, Any]] = {}
    data: dict[str, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    for b in config.resources:
        for inst in b.instance_blocks or [b]:
            entries.append(_entry(inst, "managed"))
        if not b.module_path:
            resource.setdefault(b.type, {})[b.name] = block_values(b)
    for b in config.data:
        entries.append(_entry(b, "data"))
        if not b.module_path:
            data.setdefault(b.type, {})[b.name] = block_values(b)
    modules = {c.name: block_values(c.block) for c in config.modules if not c.block.module_path}
    return {"resource": resource, "data": data, "module": modules, "resources": entries,
            "variables": value_json(config.variables), "locals": value_json(config.locals)}
