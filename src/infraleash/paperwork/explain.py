"""``infraleash explain``: a resource type, one of its arguments, or a rule, from facts only.

    explain("aws_db_instance.instance_class").facts["reboots"]   -> "changing the instance class restarts ..."
    explain("aws_s3_bucket.bucket").facts["replaces"]            -> True
    explain("AWS-S3-NO-VERSIONING").facts["kind"]              -> "security"

The facts come from the bundled AWS provider 5.100.0 schema (required/optional/computed,
type, sensitive, deprecated), :mod:`infraleash.terraform.replacement` (does a change
replace the resource), :mod:`infraleash.terraform.stateful` (does it reboot, fail over or
degrade; what a destroy loses; what protects it) and the rules registry (the rules
that concern the type).  Nothing is guessed: a fact that is not known is said to be unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infraleash.checks.registry import all_rules, get_rule
from infraleash.errors import UsageError
from infraleash.paperwork.example import minimal_example
from infraleash.terraform.replacement import FORCE_NEW, IN_PLACE, forces_replacement
from infraleash.terraform.schema import BlockSchema, ProviderSchema, bundled_aws, suggest
from infraleash.terraform.stateful import STATEFUL

_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


@dataclass(frozen=True)
class Explanation:
    subject: str
    facts: dict[str, Any]
    text: str  # markdown for a junior engineer


def docs_url(schema: ProviderSchema, resource_type: str) -> str:
    short = resource_type.split("_", 1)[1]
    return f"https://registry.terraform.io/providers/hashicorp/aws/{schema.version}/docs/resources/{short}"


def type_text(t: Any) -> str:
    """A schema type as HCL writes it: ``string``, ``list(string)``, ``map(number)``, ``object({...})``."""
    if isinstance(t, str):
        return t
    if isinstance(t, list) and len(t) == 2 and t[0] in ("list", "set", "map"):
        return f"{t[0]}({type_text(t[1])})"
    if isinstance(t, list) and t[:1] == ["object"]:
        return "object({" + ", ".join(f"{k} = {type_text(v)}" for k, v in sorted(t[1].items())) + "})"
    return str(t)


def explain(target: str) -> Explanation:
    """Explain ``TYPE``, ``TYPE.ATTRIBUTE`` or a rule id; unknown names raise :class:`UsageError` with a hint."""
    target = target.strip()
    if _RULE_ID.match(target):
        return explain_rule(target)
    resource_type, _, attribute = target.partition(".")
    schema = bundled_aws()
    block = schema.resource(resource_type)
    if block is None:
        hint = schema.suggest_type("r", resource_type)
        raise UsageError(f"{resource_type!r} is not a resource type of the AWS provider {schema.version}"
                         + (f"; did you mean {hint!r}?" if hint else ""))
    if not attribute:
        return explain_type(schema, resource_type, block)
    return explain_attribute(schema, resource_type, block, attribute)


def rules_for(resource_type: str) -> list[str]:
    return sorted(r.id for r in all_rules() if resource_type in r.resource_types)


def attribute_facts(schema: ProviderSchema, resource_type: str, block: BlockSchema, attribute: str) -> dict[str, Any]:
    """The facts of one argument or nested block (also the agent's ``provider_schema`` answer)."""
    facts: dict[str, Any] = {"type": resource_type, "attribute": attribute,
                             "provider": f"hashicorp/aws {schema.version}"}
    if attribute in block.attributes:
        a = block.attributes[attribute]
        facts.update(kind="argument" if (a.required or a.optional) else "read-only attribute",
                     required=a.required, optional=a.optional, computed=a.computed,
                     value_type=type_text(a.type), sensitive=a.sensitive, deprecated=a.deprecated)
    elif attribute in block.block_types:
        bt = block.block_types[attribute]
        facts.update(kind="nested block", nesting=bt.nesting, min_items=bt.min_items, max_items=bt.max_items,
                     required=bt.min_items > 0, deprecated=bt.block.deprecated,
                     arguments=sorted(bt.block.attributes))
    else:
        hint = suggest(attribute, block.exported())
        raise UsageError(f"{resource_type} has no argument or block {attribute!r} in the AWS provider "
                         f"{schema.version}" + (f"; did you mean {hint!r}?" if hint else ""))
    facts["replaces"] = forces_replacement(resource_type, attribute)
    entry = STATEFUL.get(resource_type)
    why = entry.disruptive.get(attribute) if entry else None
    facts["reboots"] = why if why and entry is not None and attribute not in entry.degrades else None
    facts["degrades"] = why if why and entry is not None and attribute in entry.degrades else None
    facts["waits_for_maintenance_window"] = bool(why and entry is not None and entry.apply_immediately)
    facts["protects_data"] = [p.means for p in entry.protections if p.attribute == attribute] if entry else []
    facts["rules"] = rules_for(resource_type)
    facts["docs"] = docs_url(schema, resource_type)
    return facts


def type_facts(schema: ProviderSchema, resource_type: str, block: BlockSchema) -> dict[str, Any]:
    entry = STATEFUL.get(resource_type)
    return {
        "type": resource_type, "provider": f"hashicorp/aws {schema.version}",
        "what": entry.what if entry else None,
        "holds_data": entry.holds_data if entry else None,
        "destroy_loses": entry.loss if entry else None,
        "required": sorted(block.required()),
        "arguments": sorted(n for n, a in block.attributes.items() if a.required or a.optional),
        "blocks": sorted(block.block_types),
        "deprecated": block.deprecated,
        "forces_replacement": sorted(FORCE_NEW.get(resource_type, ())),
        "in_place": sorted(IN_PLACE.get(resource_type, ())),
        "disruptive": dict(sorted(entry.disruptive.items())) if entry else {},
        "protections": [p.means for p in entry.protections] if entry else [],
        "rules": rules_for(resource_type),
        "docs": docs_url(schema, resource_type),
        "example": _example_facts(resource_type),
    }


def _example_facts(resource_type: str) -> dict[str, str] | None:
    example = minimal_example(resource_type)
    return {"hcl": example.hcl, "source": example.source} if example else None


def explain_type(schema: ProviderSchema, resource_type: str, block: BlockSchema) -> Explanation:
    f = type_facts(schema, resource_type, block)
    lines = [f"# {resource_type}", ""]
    if f["what"]:
        data = "holds data: destroying it loses " + f["destroy_loses"] if f["holds_data"] else \
            "serves traffic: destroying it loses " + f["destroy_loses"]
        lines += [f"{f['what'][0].upper()}{f['what'][1:]} ({data}).", ""]
    lines.append(f"- Required arguments: {', '.join(f['required']) or 'none'}")
    lines.append(f"- {len(f['arguments'])} arguments, nested blocks: {', '.join(f['blocks']) or 'none'}")
    if f["forces_replacement"]:
        lines.append(f"- Changing any of these replaces the resource: {', '.join(f['forces_replacement'])}")
    else:
        lines.append("- Which changes replace it is not known here: read the plan's replace_paths")
    for attr, why in f["disruptive"].items():
        lines.append(f"- {attr}: {why}")
    for means in f["protections"]:
        lines.append(f"- Protection: {means}")
    lines.append(f"- Rules: {', '.join(f['rules']) or 'none'} (`infraleash rules show ID`)")
    lines.append(f"- Documentation: {f['docs']}")
    if f["example"]:
        lines += ["", f"A minimal example that passes `infraleash check` (from {f['example']['source']}):", "",
                  "```hcl", f["example"]["hcl"].rstrip(), "```"]
    else:
        lines += ["", "No minimal example that passes `infraleash check` could be built from the schema "
                      "and the rules' examples."]
    return Explanation(resource_type, f, "\n".join(lines) + "\n")


def _yes(value: bool | None, yes: str, no: str, unknown: str) -> str:
    return unknown if value is None else (yes if value else no)


def explain_attribute(schema: ProviderSchema, resource_type: str, block: BlockSchema, attribute: str) -> Explanation:
    f = attribute_facts(schema, resource_type, block, attribute)
    lines = [f"# {resource_type}.{attribute}", ""]
    if f["kind"] == "nested block":
        lines.append(f"A nested block ({f['nesting']}, at least {f['min_items']}) with arguments "
                     f"{', '.join(f['arguments']) or 'none'}.")
    else:
        need = "required" if f["required"] else ("optional" if f["optional"] else "read-only (set by AWS)")
        computed = ", computed by the provider when not set" if f["computed"] and f["optional"] else ""
        lines.append(f"An argument of type `{f['value_type']}`: {need}{computed}."
                     if f["kind"] == "argument" else f"A {need} attribute of type `{f['value_type']}`.")
        if f["sensitive"]:
            lines.append("Sensitive: Terraform hides its value in plans and output.")
    if f["deprecated"]:
        lines.append("Deprecated in this provider version: see the documentation for what replaces it.")
    lines += ["", "- Changing it " + _yes(f["replaces"], "REPLACES the resource (destroy and create)",
                                           "updates the resource in place",
                                           "may or may not replace the resource: not known here, read the plan")]
    if f["reboots"]:
        window = " (waits for the maintenance window unless apply_immediately = true)" \
            if f["waits_for_maintenance_window"] else ""
        lines.append(f"- Interrupts service: {f['reboots']}{window}")
    if f["degrades"]:
        lines.append(f"- Online, degraded: {f['degrades']}")
    for means in f["protects_data"]:
        lines.append(f"- Protects data: {means}")
    lines.append(f"- Rules on {resource_type}: {', '.join(f['rules']) or 'none'}")
    lines.append(f"- Documentation ({f['provider']}): {f['docs']}")
    return Explanation(f"{resource_type}.{attribute}", f, "\n".join(lines) + "\n")


def explain_rule(rule_id: str) -> Explanation:
    rule = get_rule(rule_id)
    if rule is None:
        hint = suggest(rule_id, [r.id for r in all_rules()])
        raise UsageError(f"no rule {rule_id!r}" + (f"; did you mean {hint!r}?" if hint else "")
                         + " (`infraleash rules` lists them)")
    facts = {"rule": rule.id, "title": rule.title, "severity": rule.severity.value, "kind": rule.kind.value,
             "resource_types": list(rule.resource_types), "why": rule.why,
             "fail_example": rule.fail_example, "pass_example": rule.pass_example,
             "references": list(rule.references)}
    text = "\n".join([f"# {rule.id}: {rule.title}", "", f"Severity {facts['severity']}, {facts['kind']}; "
                      f"applies to {', '.join(rule.resource_types) or 'the configuration'}.", "", rule.why, "",
                      "Fails:", "```hcl", rule.fail_example.strip(), "```", "", "Passes:", "```hcl",
                      rule.pass_example.strip(), "```", *(f"- {r}" for r in rule.references)])
    return Explanation(rule.id, facts, text + "\n")
