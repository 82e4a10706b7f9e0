"""A Terraform module's interface, read from its ``.tf`` files: what ``infraleash docs`` documents.

    facts = read_module(Path("modules/vpc"))
    facts.inputs[0].name, facts.inputs[0].type_text, facts.inputs[0].default

The same facts terraform-docs reads (through terraform-config-inspect): a variable's
type is the *source text* of its ``type`` expression (``object({...})`` as written),
its default the evaluated constant; providers are the ones the module's resources,
data sources and ``provider`` blocks use; requirements are ``required_version`` and
``required_providers``; provider versions come from ``.terraform.lock.hcl`` when it
exists, else from the constraints.  Only ``.tf`` files of the directory itself are
read (a child module is its own module: ``docs -r``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.errors import InputError
from infraleash.terraform.config import Unknown
from infraleash.terraform.hcl_eval import Evaluator, ModuleScope
from infraleash.terraform.hcl_parse import ParsedFile, RawAttr, RawBlock, parse_file
from infraleash.terraform.schema import read_lock_file

NO_DEFAULT = object()  # a variable without ``default`` (required); ``None`` is ``default = null``


@dataclass(frozen=True)
class Input:
    name: str
    description: str
    type_text: str  # the type expression as written ("any" when there is none)
    default: Any  # NO_DEFAULT, or the evaluated default (None for null)
    sensitive: bool
    nullable: bool
    validations: tuple[str, ...]  # the error_message of each validation block
    file: str
    line: int

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool
    file: str
    line: int


@dataclass(frozen=True)
class Requirement:
    name: str  # "terraform" or a provider's local name
    version: str  # constraints joined with ", "; "" when none


@dataclass(frozen=True)
class Provider:
    name: str
    alias: str
    version: str  # "" when unconstrained and unlocked

    @property
    def full_name(self) -> str:
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass(frozen=True)
class ModuleCall:
    name: str
    source: str
    version: str


@dataclass(frozen=True)
class Resource:
    mode: str  # "resource" | "data source"
    type: str
    name: str
    provider: str  # local name
    source: str  # the provider's source address ("hashicorp/aws")

    @property
    def spec(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class ModuleFacts:
    directory: Path
    header: str = ""
    requirements: list[Requirement] = field(default_factory=list)
    providers: list[Provider] = field(default_factory=list)
    modules: list[ModuleCall] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)


def tf_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.tf") if p.is_file())


def read_module(directory: Path) -> ModuleFacts:
    """The interface of the module in ``directory``; a bad file raises :class:`InputError` with file:line."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("not a directory", file=str(directory))
    files = tf_files(directory)
    if not files:
        raise InputError("not a Terraform module (no .tf files)", file=str(directory))
    parsed: list[ParsedFile] = []
    for path in files:
        pf = parse_file(path, path.name)
        if pf.problem is not None:
            raise InputError(pf.problem.message, file=str(path), line=pf.problem.line)
        parsed.append(pf)
    return _Reader(directory, parsed).facts()


class _Reader:
    def __init__(self, directory: Path, parsed: list[ParsedFile]) -> None:
        self.directory = directory
        self.parsed = parsed
        self.scope = ModuleScope(path="", directory=directory)

    def value(self, attr: RawAttr, file: str) -> Any:
        value = Evaluator(self.scope, file).eval(attr.expr)
        return attr.text if isinstance(value, Unknown) else value

    def string(self, block: RawBlock, name: str, file: str) -> str:
        attr = block.attrs.get(name)
        if attr is None:
            return ""
        value = self.value(attr, file)
        return value if isinstance(value, str) else attr.text

    def flag(self, block: RawBlock, name: str, file: str, default: bool) -> bool:
        attr = block.attrs.get(name)
        if attr is None:
            return default
        value = self.value(attr, file)
        return value if isinstance(value, bool) else default

    def facts(self) -> ModuleFacts:
        facts = ModuleFacts(self.directory, header=_header(self.directory / "main.tf"))
        constraints: dict[str, list[str]] = {}
        sources: dict[str, str] = {}
        tf_version: list[str] = []
        used: dict[tuple[str, str], None] = {}
        for pf in self.parsed:
            for rb in pf.blocks:
                labels = rb.labels
                if rb.type == "variable" and labels:
                    facts.inputs.append(self.input(rb, pf))
                elif rb.type == "output" and labels:
                    description = self.string(rb, "description", pf.rel) or _comment_above(pf.text, rb.line)
                    facts.outputs.append(Output(labels[0], description,
                                                self.flag(rb, "sensitive", pf.rel, False), pf.rel, rb.line))
                elif rb.type == "module" and labels:
                    source, version = _split_ref(self.string(rb, "source", pf.rel), self.string(rb, "version", pf.rel))
                    facts.modules.append(ModuleCall(labels[0], source, version))
                elif rb.type in ("resource", "data") and len(labels) >= 2:
                    local = self.provider_of(rb, labels[0], pf.rel)
                    used[local] = None
                    facts.resources.append(Resource("resource" if rb.type == "resource" else "data source",
                                                    labels[0], labels[1], local[0], ""))
                elif rb.type == "provider" and labels:
                    used[(labels[0], self.string(rb, "alias", pf.rel))] = None
                elif rb.type == "terraform":
                    self.terraform_block(rb, pf.rel, tf_version, constraints, sources)
        locked = read_lock_file(self.directory) or {}
        facts.resources = [Resource(r.mode, r.type, r.name, r.provider,
                                    sources.get(r.provider, f"hashicorp/{r.provider}")) for r in facts.resources]
        if tf_version:
            facts.requirements.append(Requirement("terraform", ", ".join(tf_version)))
        for name in sorted(constraints):
            facts.requirements.append(Requirement(name, ", ".join(constraints[name])))
        for name, alias in used:
            lock = locked.get(_full_source(sources.get(name, f"hashicorp/{name}")))
            version = lock.version if lock is not None and lock.version else ", ".join(constraints.get(name, []))
            facts.providers.append(Provider(name, alias, version))
        return facts

    def input(self, rb: RawBlock, pf: ParsedFile) -> Input:
        file = pf.rel
        default: Any = NO_DEFAULT
        if "default" in rb.attrs:
            default = self.value(rb.attrs["default"], file)
        type_attr = rb.attrs.get("type")
        type_text = _type_of_default(default)
        if type_attr is not None:
            value = self.value(type_attr, file) if type_attr.text.startswith('"') else None
            type_text = value if isinstance(value, str) else type_attr.text
        validations = tuple(self.string(v, "error_message", file) for v in rb.blocks if v.type == "validation")
        description = self.string(rb, "description", file) or _comment_above(pf.text, rb.line)
        return Input(rb.labels[0], description, type_text, default,
                     self.flag(rb, "sensitive", file, False), self.flag(rb, "nullable", file, True),
                     validations, file, rb.line)

    def provider_of(self, rb: RawBlock, rtype: str, file: str) -> tuple[str, str]:
        attr = rb.attrs.get("provider")
        if attr is not None:
            name, _, alias = attr.text.strip('"').partition(".")
            return name, alias
        return rtype.split("_", 1)[0], ""

    def terraform_block(self, rb: RawBlock, file: str, tf_version: list[str],
                        constraints: dict[str, list[str]], sources: dict[str, str]) -> None:
        if "required_version" in rb.attrs:
            tf_version.append(self.string(rb, "required_version", file))
        for req in rb.blocks:
            if req.type != "required_providers":
                continue
            for name, attr in req.attrs.items():
                value = self.value(attr, file)
                entry = constraints.setdefault(name, [])
                if isinstance(value, str):  # legacy `aws = ">= 2.0"`
                    entry.append(value)
                elif isinstance(value, dict):
                    if isinstance(value.get("version"), str):
                        entry.append(value["version"])
                    if isinstance(value.get("source"), str):
                        sources[name] = value["source"]


def _type_of_default(default: Any) -> str:
    """terraform-docs' type for a variable without ``type``: inferred from the default, else ``any``."""
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, (int, float)):
        return "number"
    if isinstance(default, str) and default is not NO_DEFAULT:
        return "string"
    if isinstance(default, list):
        return "list"
    if isinstance(default, dict):
        return "map"
    return "any"


def _split_ref(source: str, version: str) -> tuple[str, str]:
    """A git source's ``?ref=`` is its version when the call has no ``version``."""
    if not version and "?ref=" in source:
        base, _, ref = source.partition("?ref=")
        return base, ref.split("&", 1)[0]
    return source, version


def _comment_above(text: str, line: int) -> str:
    """The ``#``/``//`` comment lines right above line ``line`` (terraform-docs' read-comments)."""
    lines = text.splitlines()
    out: list[str] = []
    i = line - 2
    while i >= 0:
        stripped = lines[i].strip()
        prefix = next((p for p in ("//", "#") if stripped.startswith(p)), None)
        if prefix is None:
            break
        out.insert(0, stripped[len(prefix):].strip())
        i -= 1
    return " ".join(out)


def _full_source(source: str) -> str:
    return source if source.count("/") == 2 else f"registry.terraform.io/{source}"


def _header(main_tf: Path) -> str:
    """The comment main.tf starts with (terraform-docs' default ``--header-from main.tf``)."""
    try:
        lines = main_tf.read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        return ""
    if not lines:
        return ""
    first = lines[0].strip()
    if first.startswith("/*"):
        body: list[str] = []
        for line in lines[1:] if first in ("/*", "/**") else [first[2:]] + lines[1:]:
            if line.strip().startswith("*/"):
                return "\n".join(body).strip("\n")
            text = line.strip()
            if text.startswith("* ") or text == "*":
                text = text[2:]
            body.append(text)
        return ""
    return ""  # terraform-docs reads the header from a leading /* ... */ comment only


def module_dirs(root: Path) -> list[Path]:
    """``root`` and every directory under it holding ``.tf`` files (dot-directories such as .terraform skipped)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError("not a directory", file=str(root))
    found = []
    for directory in sorted([root, *(p for p in root.rglob("*") if p.is_dir())]):
        rel = directory.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue
        if tf_files(directory):
            found.append(directory)
    if not found:
        raise InputError("no Terraform module under it (no .tf files)", file=str(root))
    return found
