"""Hallucination checks: what the configuration uses that the provider does not have.

Against the provider schema (:mod:`infraleash.terraform.schema`):

* ``TF-UNKNOWN-RESOURCE-TYPE`` / ``TF-UNKNOWN-DATA-SOURCE``: a type the provider lacks;
* ``TF-UNKNOWN-ARGUMENT``: an argument or nested block the type lacks (also read-only
  attributes set as arguments, and module arguments the local module has no variable for);
* ``TF-BLOCK-ATTRIBUTE-MISMATCH``: an argument written as a block or a block as an argument
  (list/set-of-object arguments may use block syntax, as Terraform allows);
* ``TF-MISSING-REQUIRED-ARGUMENT``: a required argument or nested block is absent;
* ``TF-DEPRECATED-ARGUMENT``: the schema marks the argument or block deprecated;
* ``TF-UNKNOWN-ATTRIBUTE-REFERENCE``: ``aws_vpc.main.arn_xyz``, an attribute the referenced
  type does not export (or an output a local module does not have);
* ``TF-UNDECLARED-REFERENCE``: a reference to a resource or data source not declared.

Every finding names the closest real name when there is one ("did you mean `aws_vpc`?").
Types of providers we have no schema for (``random_id``...) are not judged.
Meta-arguments (count, for_each, provider, depends_on, lifecycle, provisioner,
connection) are never unknown.
"""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.findings import Finding, Kind, Severity
from infraleash.terraform.config import Block, Config, RefSite
from infraleash.terraform.schema import BlockSchema, SchemaSet, suggest

UNKNOWN_RESOURCE = "TF-UNKNOWN-RESOURCE-TYPE"
UNKNOWN_DATA = "TF-UNKNOWN-DATA-SOURCE"
UNKNOWN_ARGUMENT = "TF-UNKNOWN-ARGUMENT"
MISMATCH = "TF-BLOCK-ATTRIBUTE-MISMATCH"
MISSING_REQUIRED = "TF-MISSING-REQUIRED-ARGUMENT"
DEPRECATED = "TF-DEPRECATED-ARGUMENT"
UNKNOWN_REFERENCE = "TF-UNKNOWN-ATTRIBUTE-REFERENCE"
UNDECLARED = "TF-UNDECLARED-REFERENCE"

SEVERITY = {UNKNOWN_RESOURCE: Severity.HIGH, UNKNOWN_DATA: Severity.HIGH, UNKNOWN_ARGUMENT: Severity.HIGH,
            MISMATCH: Severity.HIGH, MISSING_REQUIRED: Severity.HIGH, DEPRECATED: Severity.LOW,
            UNKNOWN_REFERENCE: Severity.HIGH, UNDECLARED: Severity.HIGH}

META_ARGS = frozenset({"count", "for_each", "provider", "depends_on"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
BUILTIN_TYPES = frozenset({"terraform_data", "terraform_remote_state"})
MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
PROVIDER_META = frozenset({"alias", "version"})


def _finding(rule: str, message: str, block: Block, line: int | None = None, suggestion: str | None = None,
             **details: object) -> Finding:
    if suggestion:
        message = f"{message} (did you mean `{suggestion}`?)"
    file = block.file
    if block.attr_files and line:  # an attribute an override file wrote: its file (hcl_override.py)
        file = next((block.attr_files[n] for n, at in block.attr_lines.items() if at == line and n in block.attr_files),
                    file)
    return Finding(rule=rule, kind=Kind.HALLUCINATION, severity=SEVERITY[rule], message=message, file=file,
                   line=line or block.line, address=block.address, suggestion=suggestion, details=dict(details))


def check(config: Config, schemas: SchemaSet) -> list[Finding]:
    out: list[Finding] = []
    for block in config.resources:
        out += _check_typed(block, schemas, data=False)
    for block in config.data:
        out += _check_typed(block, schemas, data=True)
    for block in config.providers:
        out += _check_provider(block, schemas)
    out += _check_module_arguments(config)
    out += _check_references(config, schemas)
    return out


def _check_typed(block: Block, schemas: SchemaSet, *, data: bool) -> list[Finding]:
    if block.type in BUILTIN_TYPES or schemas.provider_for(block.type) is None:
        return []
    schema = schemas.data_source(block.type) if data else schemas.resource(block.type)
    if schema is None:
        if data:
            return [_finding(UNKNOWN_DATA, f"data source type `{block.type}` does not exist in the "
                             f"{_provider_label(block.type, schemas)}", block,
                             suggestion=schemas.suggest_data_source(block.type))]
        return [_finding(UNKNOWN_RESOURCE, f"resource type `{block.type}` does not exist in the "
                         f"{_provider_label(block.type, schemas)}", block,
                         suggestion=schemas.suggest_resource(block.type))]
    out: list[Finding] = []
    if schema.deprecated:
        out.append(_finding(DEPRECATED, f"`{block.type}` is deprecated in the provider", block))
    out += list(_check_body(block, block, schema, top=True))
    return out


def _provider_label(type_name: str, schemas: SchemaSet) -> str:
    p = schemas.provider_for(type_name)
    return f"{p.name} provider {p.version}" if p else "provider"


def _check_body(owner: Block, block: Block, schema: BlockSchema, *, top: bool,
                meta_args: frozenset[str] = META_ARGS, where: str = "") -> Iterator[Finding]:
    """Arguments and nested blocks of ``block`` against ``schema``; findings are on ``owner``."""
    label = f"`{owner.type}`" + (f" block `{where}`" if where else "")
    line_of = block.line_of  # a line is looked up only for a finding (most arguments have none)
    for name, value in block.attrs.items():
        is_blocks = isinstance(value, list) and bool(value) and all(isinstance(v, Block) for v in value)
        if is_blocks:
            if top and name in META_BLOCKS:
                continue
            nested: list[Block] = value
            if name in schema.block_types:
                bt = schema.block_types[name]
                if bt.block.deprecated:
                    yield _finding(DEPRECATED, f"{label}: block `{name}` is deprecated", owner, line_of(name))
                for nb in nested:
                    yield from _check_body(owner, nb, bt.block, top=False, meta_args=frozenset(),
                                           where=f"{where}.{name}" if where else name)
            elif name in schema.attributes:
                attr = schema.attributes[name]
                fields = attr.object_fields
                if attr.deprecated:
                    yield _finding(DEPRECATED, f"{label}: `{name}` is deprecated", owner, line_of(name))
                if fields is None:
                    yield _finding(MISMATCH, f"{label}: `{name}` is an argument, not a block; write "
                                   f"`{name} = ...`", owner, line_of(name))
                    continue
                for nb in nested:
                    for field_name in nb.attrs:
                        if field_name not in fields:
                            yield _finding(UNKNOWN_ARGUMENT, f"{label}: `{name}` has no field `{field_name}`",
                                           owner, nb.line_of(field_name), suggest(field_name, fields))
            else:
                candidates = set(schema.block_types) | {a for a, s in schema.attributes.items()
                                                        if s.object_fields is not None}
                yield _finding(UNKNOWN_ARGUMENT, f"{label}: unknown block `{name}`", owner, line_of(name),
                               suggest(name, candidates or schema.exported()))
            continue
        if name in meta_args:
            continue
        if name in schema.attributes:
            attr = schema.attributes[name]
            if not attr.optional and not attr.required:
                yield _finding(UNKNOWN_ARGUMENT, f"{label}: `{name}` is read-only (computed by the provider) "
                               "and cannot be set", owner, line_of(name))
            elif attr.deprecated:
                yield _finding(DEPRECATED, f"{label}: argument `{name}` is deprecated", owner, line_of(name))
        elif name in schema.block_types:
            yield _finding(MISMATCH, f"{label}: `{name}` is a block, not an argument; write `{name} {{ ... }}`",
                           owner, line_of(name))
        else:
            settable = {a for a, s in schema.attributes.items() if s.optional or s.required}
            yield _finding(UNKNOWN_ARGUMENT, f"{label}: unknown argument `{name}`", owner, line_of(name),
                           suggest(name, settable | set(schema.block_types)))
    for attr in schema.required_attributes:
        if attr.name not in block.attrs:
            yield _finding(MISSING_REQUIRED, f"{label}: required argument `{attr.name}` is missing", owner,
                           block.line)
    for bt in schema.required_blocks:
        if bt.name not in block.attrs and bt.name not in block.attr_lines:  # in attr_lines: dynamic, 0 items
            yield _finding(MISSING_REQUIRED, f"{label}: required block `{bt.name}` is missing", owner, block.line)


def _check_provider(block: Block, schemas: SchemaSet) -> list[Finding]:
    p = schemas.providers.get(block.type)
    if p is None:
        return []
    return [f for f in _check_body(block, block, p.provider_config(), top=False, meta_args=PROVIDER_META)
            if f.rule != MISSING_REQUIRED]


def _check_module_arguments(config: Config) -> list[Finding]:
    out: list[Finding] = []
    for call in config.modules:
        if call.local_path is None:
            continue
        child = f"{call.block.module_path}.module.{call.name}" if call.block.module_path else f"module.{call.name}"
        variables = {v.name: v for v in config.variable_blocks if v.module_path == child}
        if not variables and not any(b.module_path == child for b in config.resources):
            continue  # the module was not loaded (a problem is already reported)
        for arg in call.block.attrs:
            if arg not in MODULE_META and arg not in variables:
                out.append(_finding(UNKNOWN_ARGUMENT, f"module `{call.name}` has no variable `{arg}`", call.block,
                                    call.block.line_of(arg), suggest(arg, set(variables))))
        for name, var in variables.items():
            if "default" not in var.raw and name not in call.block.attrs:  # raw: the names, no evaluation
                out.append(_finding(MISSING_REQUIRED, f"module `{call.name}`: required variable `{name}` "
                                    "is not set", call.block))
    return out


def _check_references(config: Config, schemas: SchemaSet) -> list[Finding]:
    out: list[Finding] = []
    declared = {b.address: b for b in [*config.resources, *config.data]}
    modules: list[tuple[set[tuple[str, str]], set[str]]] = []  # filled on the first module reference (in ~1 root of 5)
    seen: set[tuple[str, str | None, str, int]] = set()
    schema_of: dict[tuple[bool, str], BlockSchema | None] = {}
    spans: dict[str, list[tuple[int, int, str]]] = {}  # filled on the first finding (most roots have none)

    def finding(rule: str, message: str, site: RefSite, suggestion: str | None) -> Finding:
        if not spans:
            spans.update(_enclosing(config))
        anchor = Block(kind="reference", type=site.text or site.address, name="", file=site.file, line=site.line,
                       module_path="")
        return _ref_finding(rule, message, anchor, site.text, suggestion, _address_at(spans, site.file, site.line))

    for site in config.ref_sites:
        key = (site.address, site.attribute, site.file, site.line)
        if key in seen:
            continue
        seen.add(key)
        local = site.address[len(site.module_path) + 1:] if site.module_path else site.address
        if local.startswith("module."):
            if not modules:
                modules.append(_module_outputs(config))
            outputs, loaded_modules = modules[0]
            name = local.split(".", 1)[1]
            child = f"{site.address}"
            if site.attribute and child in loaded_modules and (child, site.attribute) not in outputs:
                names = {n for (mp, n) in outputs if mp == child}
                out.append(finding(UNKNOWN_REFERENCE, f"module `{name}` has no output `{site.attribute}`", site,
                                   suggest(site.attribute, names)))
            continue
        target = declared.get(site.address)
        if target is not None and site.attribute is None:
            continue  # the whole object of a declared block
        is_data = local.startswith("data.")
        type_name = local.split(".")[1] if is_data else local.split(".")[0]
        if target is None:
            if schemas.provider_for(type_name) is None and not is_data and "_" not in type_name:
                continue
            candidates = {a[len(site.module_path) + 1:] if site.module_path else a for a in declared
                          if (a.startswith(site.module_path + ".") if site.module_path else "." in a)}
            out.append(finding(UNDECLARED, f"`{local}` is not declared in this module", site,
                               suggest(local, candidates)))
            continue
        if (is_data, type_name) not in schema_of:  # one look-up per type and root, not per reference
            schema_of[(is_data, type_name)] = schemas.data_source(type_name) if is_data else schemas.resource(type_name)
        schema = schema_of[(is_data, type_name)]
        if schema is None or site.attribute is None:
            continue
        if site.attribute not in schema.attributes and site.attribute not in schema.block_types:  # not exported
            out.append(finding(UNKNOWN_REFERENCE, f"`{type_name}` does not export an attribute "
                               f"`{site.attribute}`", site, suggest(site.attribute, schema.exported())))
    return out


def _module_outputs(config: Config) -> tuple[set[tuple[str, str]], set[str]]:
    """The outputs (module path, name) and the module paths of which something was loaded."""
    outputs = {(o.module_path, o.name) for o in config.outputs}
    loaded = {b.module_path for b in [*config.resources, *config.data, *config.outputs, *config.variable_blocks]}
    return outputs, loaded


def _ref_finding(rule: str, message: str, anchor: Block, text: str, suggestion: str | None,
                 address: str | None) -> Finding:
    f = _finding(rule, f"reference `{text}`: {message}", anchor, anchor.line, suggestion)
    return f.model_copy(update={"address": address})


def _enclosing(config: Config) -> dict[str, list[tuple[int, int, str]]]:
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for b in [*config.resources, *config.data, *config.outputs, *(m.block for m in config.modules),
              *config.providers]:
        spans.setdefault(b.file, []).append((b.line, b.end_line or b.line, b.address))
    return spans


def _address_at(spans: dict[str, list[tuple[int, int, str]]], file: str, line: int) -> str | None:
    for start, end, address in spans.get(file, ()):
        if start <= line <= end:
            return address
    return None
