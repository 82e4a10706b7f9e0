"""An evaluated Terraform configuration: the model the static checks read.

``infraleash.terraform.hcl.load_config(path)`` builds a :class:`Config` from a
directory of ``.tf`` files (tree-sitter-hcl), resolving variables (defaults),
locals, ``count``/``for_each`` and ``dynamic`` blocks where the value is known.
A value that is not known statically is an :class:`Unknown` carrying why, so a
rule can answer *unknown* instead of guessing.

Value shapes in :attr:`Block.attrs`:

* attributes: ``str``, ``int``, ``float``, ``bool``, ``None``, ``list``, ``dict``
  (``jsonencode(...)`` and heredoc JSON are decoded into dict/list where possible;
  the original string is kept in ``Block.raw``), or :class:`Unknown`;
* nested blocks: ``attrs[name]`` is a ``list[Block]`` (one per occurrence,
  ``kind="nested"``), so ``ingress { ... }`` twice gives two Blocks.
  Use :meth:`Block.blocks` to read them and :meth:`Block.get` for attributes.

Additions by the HCL loader (additive, all optional): ``Block.dynamic`` (the nested
block came from a ``dynamic`` block; its iterator values may be unknown),
``Block.count`` (evaluated ``count``/``for_each`` knowledge, see the field),
:class:`RefSite` and ``Config.ref_sites`` (every ``type.name.attr`` reference with file
and line), ``Config.variable_blocks`` / ``Config.outputs`` (with lines), :class:`DeferredBlock` (a Block whose
attributes are evaluated on first read, when the loader was asked to defer it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, SupportsIndex


@dataclass(frozen=True)
class Unknown:
    """A value not known statically, and why (``var.cidr``, ``known after apply``)."""

    reason: str
    # a string template with unknown parts: the literal text with ``${…}`` for each unknown part
    # ("arn:${…}:iam::aws:policy/ReadOnlyAccess", "${…}/32"), so a rule can see what is certain
    template: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"<unknown: {self.reason}>"


@dataclass
class Block:
    """A resource, data source, module call, provider or nested block."""

    kind: str  # "resource" | "data" | "module" | "provider" | "nested" | "variable" | "output"
    type: str  # resource/data type (aws_s3_bucket), nested block name, module name...
    name: str  # resource name ("main"); "" for nested blocks
    file: str  # path relative to the checked root
    line: int  # first line of the block
    attrs: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # each attribute's source text
    references: set[str] = field(default_factory=set)  # addresses this block refers to
    module_path: str = ""  # "" for the root module, "module.vpc" for a child
    end_line: int | None = None
    attr_lines: dict[str, int] = field(default_factory=dict)  # attribute/nested block -> line
    attr_files: dict[str, str] = field(default_factory=dict)  # attribute/nested block -> file, when an override's
    dynamic: bool = False  # expanded from a `dynamic` block (nested blocks only)
    # number of instances when statically known: count's value, len(for_each); None when not known,
    # 1 when the block has neither (so `instances == 0` means `count = 0`)
    instances: int | None = 1
    # resources that use count.index/each.* with a small known count/for_each: one evaluated Block per
    # instance (same address, ``key`` set: ``0``, ``"k"``); the rules run on these instead (see hcl.py)
    instance_blocks: list[Block] = field(default_factory=list, repr=False)
    key: str | None = None

    @property
    def instance_address(self) -> str:
        """The address with the instance key (``aws_x.y[0]``) for an instance Block, else ``address``."""
        return f"{self.address}[{self.key}]" if self.key is not None else self.address

    @property
    def address(self) -> str:
        kind = self.kind  # a chain of tests, not a dict of every form built on each call: rules ask often
        if kind == "resource":
            base = f"{self.type}.{self.name}"
        elif kind == "data":
            base = f"data.{self.type}.{self.name}"
        elif kind == "module":
            base = f"module.{self.name}"
        else:
            base = f"{self.type}.{self.name}" if self.name else self.type
        return f"{self.module_path}.{base}" if self.module_path else base

    def get(self, name: str, default: Any = None) -> Any:
        """An attribute's evaluated value (nested blocks are not attributes)."""
        value = self.attrs.get(name, default)
        if isinstance(value, list) and value and all(isinstance(v, Block) for v in value):
            return default
        return value

    def blocks(self, name: str) -> list[Block]:
        """The nested blocks called ``name`` (empty when there are none)."""
        value = self.attrs.get(name)
        if isinstance(value, list) and all(isinstance(v, Block) for v in value):
            return value
        return []

    def line_of(self, name: str) -> int:
        return self.attr_lines.get(name, self.line)

    def file_of(self, name: str) -> str:
        """The file an attribute or nested block is written in: the block's, unless an override file set it."""
        return self.attr_files.get(name, self.file)

    def refers_to(self, other: Block) -> bool:
        return other.address in self.references or \
            any(r.startswith(other.address + ".") for r in self.references)


class DeferredBlock(Block):
    """A :class:`Block` whose ``attrs`` are evaluated when first read (the loader's ``defer``, see hcl.py).

    Everything else (lines, source texts, references, instances) is there from the start.  The first read of
    ``attrs`` evaluates them and turns the object into a plain :class:`Block`, so from then on it is one in
    every respect; comparing, copying or pickling one evaluates it first.
    """

    _fill: Callable[[Block], None]  # evaluates the body into block.attrs

    def defer(self, fill: Callable[[Block], None]) -> DeferredBlock:
        """Leave ``attrs`` unset until first read; ``fill(block)`` evaluates them into ``block.attrs`` then."""
        self.__dict__.pop("attrs", None)
        self._fill = fill
        return self

    def __getattr__(self, name: str) -> Any:  # only for names not set: `attrs` until it is evaluated
        if name != "attrs" or "_fill" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.evaluate().attrs

    def evaluate(self) -> Block:
        """Evaluate the body now (once); the object is a plain Block afterwards."""
        fill = self.__dict__.pop("_fill", None)
        if fill is not None:
            self.__dict__["attrs"] = {}
            self.__class__ = Block  # type: ignore[assignment]  # same layout: a plain Block from now on
            fill(self)
        return self

    def __eq__(self, other: object) -> bool:
        return self.evaluate() == other

    __hash__ = None  # type: ignore[assignment]  # as Block's (a mutable dataclass)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return self.evaluate().__reduce_ex__(protocol)

    def __repr__(self) -> str:
        return repr(self.evaluate())


@dataclass
class ModuleCall:
    name: str
    source: str | None
    version: str | None
    file: str
    line: int
    block: Block
    local_path: Path | None = None  # the directory evaluated: a local source, or the copy `terraform init` installed
    installed: bool = False  # evaluated through .terraform/modules (a registry, git ... source)
    not_evaluated: str | None = None  # why the call's module was not evaluated (no installed source ...)


@dataclass(frozen=True)
class RefSite:
    """One reference an expression makes: ``aws_vpc.main.arn`` at file:line."""

    address: str  # "aws_vpc.main", "data.aws_ami.ubuntu", "module.vpc" (with module_path prefix)
    attribute: str | None  # first attribute after the address ("arn"), None when the whole object
    file: str
    line: int
    module_path: str = ""
    text: str = ""  # the expression as written, for messages


@dataclass
class ParseProblem:
    """A file that could not be read or parsed; it becomes an INPUT finding."""

    file: str
    line: int | None
    message: str
    rule: str | None = None  # the finding's rule id when not TF-PARSE-ERROR (HCL-EVAL-BUDGET, HCL-FILE-REFUSED)


@dataclass
class Config:
    """All blocks of a root module and the local modules it calls."""

    root: Path
    resources: list[Block] = field(default_factory=list)
    data: list[Block] = field(default_factory=list)
    modules: list[ModuleCall] = field(default_factory=list)
    providers: list[Block] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)  # name -> default (or Unknown)
    locals: dict[str, Any] = field(default_factory=dict)
    required_providers: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {source, version, file, line}
    files: list[str] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # file -> text (for inline suppressions)
    ref_sites: list[RefSite] = field(default_factory=list)
    variable_blocks: list[Block] = field(default_factory=list)  # kind="variable", attrs: default, type...
    outputs: list[Block] = field(default_factory=list)  # kind="output"

    def of_type(self, *types: str) -> list[Block]:
        return [b for b in self.resources if b.type in types]

    def referencing(self, target: Block, *types: str) -> list[Block]:
        """Resources of ``types`` whose arguments refer to ``target`` (v4+ split S3 resources etc.)."""
        return [b for b in self.resources if (not types or b.type in types) and b.refers_to(target)]

    def by_address(self, address: str) -> Block | None:
        for b in [*self.resources, *self.data]:
            if b.address == address:
                return b
        return None
