"""Load a directory of Terraform into the evaluated model of :mod:`infraleash.terraform.config`.

    config = load_config(Path("infra/"))
    for block in config.of_type("aws_s3_bucket"): ...

1. every ``.tf`` file is parsed (:mod:`infraleash.terraform.hcl_parse`: tree-sitter, a
   line on every block and attribute, cached by file identity/mtime/size);
2. the root module and the modules it calls (recursively, ``module_path`` ``module.x``:
   local sources, and registry/git sources through the copies ``terraform init`` listed in
   ``.terraform/modules/modules.json``, :mod:`~infraleash.terraform.installed_modules`) are evaluated (:mod:`infraleash.terraform.hcl_eval`): variables
   (``terraform.tfvars``/``*.auto.tfvars`` in the root, module arguments, defaults,
   else unknown), locals, expressions, ``jsonencode``/heredoc JSON, references to
   statically known arguments, ``data "aws_iam_policy_document"``;
3. ``count``/``for_each`` are kept on one Block per resource (``Block.instances``,
   ``attrs["count"]``/``attrs["for_each"]``; ``count.index``/``each.*`` are unknown);
   ``dynamic`` blocks are expanded into nested Blocks (``Block.dynamic``), one per
   element when ``for_each`` is known, else one with unknown iterator values;
4. references (``aws_s3_bucket.logs`` from ``bucket = aws_s3_bucket.logs.id``, also
   through locals) go to ``Block.references``; each ``type.name.attr`` use, with file
   and line, to ``Config.ref_sites``.

Bad input never raises: every unreadable file becomes a ``ParseProblem`` and the rest
of the directory is still loaded.  Every file Terraform and OpenTofu read is read: ``.tf``, ``.tf.json``
(:mod:`~infraleash.terraform.hcl_json`), ``.tofu`` and ``.tofu.json`` (``x.tofu`` shadows ``x.tf``), override
files merged last (:mod:`~infraleash.terraform.hcl_override`).  Evaluation spends one
:class:`~infraleash.terraform.hcl_budget.Budget` per configuration; what it refused (a value past a limit, a
file outside the configuration) becomes a ``ParseProblem`` with its rule id (``HCL-EVAL-BUDGET``,
``HCL-FILE-REFUSED``).  ``load_config(path, defer=...)`` leaves the bodies of the blocks the predicate names
unevaluated until first read (:class:`~infraleash.terraform.config.DeferredBlock`; the check engine's, for what no
check reads), but for what would call a file function (:class:`_FileTaint`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from infraleash.errors import InputError
from infraleash.terraform import path_facts
from infraleash.terraform.config import (
    Block,
    Config,
    DeferredBlock,
    ModuleCall,
    ParseProblem,
    RefSite,
    Unknown,
)
from infraleash.terraform.hcl_budget import Budget
from infraleash.terraform.hcl_eval import (
    FILE_FUNCTIONS,
    Evaluator,
    ModuleScope,
    dynamic_envs,
    flatten_traversal,
)
from infraleash.terraform.hcl_override import (
    apply_overrides,
    choose_files,
    files_named,
    module_files,
    suffix_of,
)
from infraleash.terraform.hcl_parse import (
    MAX_NESTING,
    ParsedFile,
    RawAttr,
    RawBlock,
    parse_expression,
    parse_file,
)
from infraleash.terraform.hcl_tree import Tree
from infraleash.terraform.installed_modules import MANIFEST, InstalledModules, read_manifest

MAX_MODULE_DEPTH = 12
MAX_EXPANDED_INSTANCES = 16  # count/for_each instances evaluated one by one, at most
_NON_RESOURCE_ROOTS = {"var", "local", "each", "count", "path", "self", "terraform", "module", "data"}
_TRAVERSALS = ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term")

__all__ = ["DeferPredicate", "load_config", "load_text"]

DeferPredicate = Callable[[str, str], bool]  # (kind, type) -> evaluate the block's body only when first read
Lazy = tuple[str, ...] | None  # a block built eagerly (None), or deferred but for the arguments named
# a call of a function that reads a file (its refusals must not wait for a read of the block)
_FILE_CALL = re.compile(r"\b(?:" + "|".join(sorted(FILE_FUNCTIONS, key=len, reverse=True)) + r")\s*\(")


def load_config(path: Path, *, defer: DeferPredicate | None = None) -> Config:
    """Load a directory (or one ``.tf`` file) and the local modules it calls.

    ``defer(kind, type)`` names the blocks whose bodies are evaluated only when first read
    (:class:`~infraleash.terraform.config.DeferredBlock`); it is asked ``("resource", "aws_s3_bucket")``,
    ``("data", ...)``, ``("variable", "variable")`` and ``("output", "output")``: the check engine's names what
    no check reads.  What would call a file function (itself, or through a local, a resource or a module it
    reads) is evaluated at once all the same: such an argument of a deferred block, or the whole block when a
    nested block's does; what such a call refuses (``HCL-FILE-REFUSED``) is reported whether or not a check
    reads the value.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or directory", file=str(path))
    if path.is_file():
        root, only = path.parent, [path]
    else:
        root, only = path, None
    cfg = Config(root=root)
    loader = _Loader(cfg, defer)
    loader.load_module(root, "", inputs=None, depth=0, stack=(), only=only)
    loader.report_budget()
    loader.budget.pause()  # until a deferred block is read
    return cfg


def load_text(text: str, filename: str = "main.tf", root: Path | None = None) -> Config:
    """Load one file's text (rule examples, agent drafts) without touching the disk."""
    from infraleash.terraform.hcl_parse import parse_text

    cfg = Config(root=root or Path("."))
    loader = _Loader(cfg)
    loader.load_parsed(root or Path("."), "", [parse_text(text, filename)], inputs=None, depth=0, stack=())
    loader.report_budget()
    return cfg


def _rel(path: Path, root: Path) -> str:
    # on the strings first (a Path's is normalised): relative_to parses both paths, once per module loaded
    p, r = str(path), str(root)
    if p == r:
        return "."
    if r not in ("", ".", "/") and p.startswith(r) and p[len(r)] == "/":
        return p[len(r) + 1:]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def _rel_child(rel_dir: str, name: str) -> str:
    """``_rel(directory / name, root)`` from ``rel_dir = _rel(directory, root)``, for a file ``name``."""
    return name if rel_dir == "." else f"{rel_dir}/{name}"


class _Loader:
    def __init__(self, cfg: Config, defer: DeferPredicate | None = None) -> None:
        self.cfg = cfg
        self.defer = defer
        self.file_readers: set[str] = set()  # module paths whose blocks (or their modules') call a file function
        self.installed: InstalledModules | None = None  # read on the first non-local module call
        self.manifest_read = False
        self.budget = Budget()
        self.refusals = _Refusals(self.budget, cfg.problems)
        # a module's directory is resolved for the call, the stack and the confinement (the file functions read
        # inside the git work tree holding the root, and inside each module's own directory, only)
        self.paths = path_facts.for_configuration()
        self.resolve = self.paths.resolve
        self.confine_root = self.paths.repository_of(self.resolve(cfg.root))

    def report_budget(self) -> None:
        self.refusals.report()

    # ----------------------------------------------------------------- modules
    def load_module(self, directory: Path, module_path: str, inputs: dict[str, Any] | None, depth: int,
                    stack: tuple[Path, ...], only: list[Path] | None = None) -> ModuleScope:
        overrides: list[Path] = []
        tfvars: list[Path] = []  # the root's variable files
        if only is not None:
            base = only
            rel = {f: _rel(f, self.cfg.root) for f in only}
        else:
            if module_path == "":  # one listing of the directory for its files and its variable files
                listed = files_named(directory, _root_file)
                (base, overrides), tfvars = choose_files(listed), _tfvars_order(listed)
            else:
                base, overrides = module_files(directory)
            # the files are `directory / name`: one relative path for the directory, not one per file
            in_dir = _rel(directory, self.cfg.root)
            rel = {f: _rel_child(in_dir, f.name) for f in [*base, *overrides, *tfvars]}
        parsed = [parse_file(f, rel[f]) for f in base]
        if overrides:
            parsed, problems = apply_overrides(parsed, [parse_file(f, rel[f]) for f in overrides])
            self.cfg.problems += problems
        parsed_vars = [parse_file(f, rel[f]) for f in tfvars]
        return self.load_parsed(directory, module_path, parsed, inputs, depth, (*stack, self.resolve(directory)),
                                tfvars=parsed_vars)

    def load_parsed(self, directory: Path, module_path: str, parsed: list[ParsedFile],
                    inputs: dict[str, Any] | None, depth: int, stack: tuple[Path, ...],
                    tfvars: list[ParsedFile] | None = None) -> ModuleScope:
        cfg = self.cfg
        scope = ModuleScope(path=module_path, directory=directory, budget=self.budget,
                            confine=(self.confine_root, self.resolve(directory)), resolve=self.resolve)
        var_blocks: list[tuple[RawBlock, str]] = []
        module_blocks: list[tuple[RawBlock, str]] = []
        others: list[tuple[RawBlock, str]] = []
        for pf in [*parsed, *(tfvars or [])]:
            if pf.rel not in cfg.sources:
                cfg.files.append(pf.rel)
                cfg.sources[pf.rel] = pf.text
                if pf.problem is not None:
                    cfg.problems.append(pf.problem)
        for pf in parsed:
            for rb in pf.blocks:
                kind, labels = rb.type, rb.labels
                if kind == "resource" and len(labels) >= 2:
                    scope.resources[f"{labels[0]}.{labels[1]}"] = (rb, pf.rel)
                elif kind == "data" and len(labels) >= 2:
                    scope.data[f"{labels[0]}.{labels[1]}"] = (rb, pf.rel)
                elif kind == "locals":
                    for name, attr in rb.attrs.items():
                        scope.local_exprs[name] = (attr, pf.rel)
                elif kind == "variable" and labels:
                    var_blocks.append((rb, pf.rel))
                elif kind == "output" and labels and "value" in rb.attrs:
                    scope.outputs[labels[0]] = (rb.attrs["value"], pf.rel)
                if kind == "module" and labels:
                    module_blocks.append((rb, pf.rel))
                else:
                    others.append((rb, pf.rel))
        # variables: tfvars (root) > module arguments > default > unknown
        overrides: dict[str, Any] = dict(inputs or {})
        for pf in tfvars or []:
            ev = Evaluator(scope, pf.rel)
            for name, attr in pf.attrs.items():
                overrides[name] = ev.eval(attr.expr)
        for rb, file in var_blocks:
            name = rb.labels[0]
            ev = Evaluator(scope, file)
            if name in overrides:
                value = overrides[name]
            elif "default" in rb.attrs:
                value = ev.eval(rb.attrs["default"].expr)
            else:
                value = Unknown(f"var.{name}")
            scope.variables[name] = value
        if module_path == "":
            cfg.variables.update(scope.variables)
        # child modules first (their outputs may be read lazily by this module's expressions)
        for rb, file in module_blocks:
            self._module_call(scope, rb, file, depth, stack)
        taint = None
        if self.defer is not None and (any(c.path in self.file_readers for c in scope.children.values()) or
                                       any(_calls_files(rb) for pf in parsed for rb in pf.blocks)):
            self.file_readers.add(module_path)
            taint = _FileTaint(scope, self.file_readers)
        for rb, file in others:
            self._top_block(scope, rb, file, taint)
        return scope

    def _module_call(self, scope: ModuleScope, rb: RawBlock, file: str, depth: int,
                     stack: tuple[Path, ...]) -> None:
        name = rb.labels[0]
        block = self.build(scope, rb, "module", "module", name, file)
        source = block.get("source")
        version = block.get("version")
        call = ModuleCall(name=name, source=source if isinstance(source, str) else None,
                          version=version if isinstance(version, str) else None, file=file, line=rb.line,
                          block=block)
        self.cfg.modules.append(call)
        if not (isinstance(source, str) and source.startswith(("./", "../"))):
            target = self._installed_source(scope, name, source, call)
            if target is None:
                return
        else:
            target = self.resolve(scope.directory / source)
        call.local_path = target
        if not target.is_dir():
            self.cfg.problems.append(ParseProblem(file, rb.attrs["source"].line,
                                                  f"module {name}: local source {source} is not a directory"))
            return
        if target in stack or depth >= MAX_MODULE_DEPTH:
            self.cfg.problems.append(ParseProblem(file, rb.line, f"module {name}: recursive or too deeply "
                                                  f"nested module call ({source})"))
            return
        inputs: dict[str, Any] = {}
        if "count" in rb.attrs or "for_each" in rb.attrs:
            ev = Evaluator(scope, file, {"count": {"index": Unknown("count.index")},
                                         "each": {"key": Unknown("each.key"), "value": Unknown("each.value")}})
        else:
            ev = Evaluator(scope, file)
        for arg, attr in rb.attrs.items():
            if arg not in ("source", "version", "count", "for_each", "providers", "depends_on"):
                inputs[arg] = ev.eval(attr.expr)
        child_path = f"{scope.path}.module.{name}" if scope.path else f"module.{name}"
        scope.children[name] = self.load_module(target, child_path, inputs, depth + 1, stack)

    def _installed_source(self, scope: ModuleScope, name: str, source: Any, call: ModuleCall) -> Path | None:
        """The copy ``terraform init`` installed for a non-local call, or None (``call.not_evaluated`` says why)."""
        if not self.manifest_read:
            self.manifest_read = True
            self.installed = read_manifest(self.cfg.root)
            if self.installed is not None and self.installed.problem is not None:
                self.cfg.problems.append(self.installed.problem)
        installed = self.installed
        shown = f"`{source}`" if isinstance(source, str) else "(not known statically)"
        if installed is None:
            call.not_evaluated = f"source {shown} is not installed (no {MANIFEST.as_posix()}: run `terraform init`)"
            return None
        target = installed.dir_for(scope.path, name)
        if target is None:
            missing = "its directory is missing" if installed.recorded(scope.path, name) else "it is not listed"
            call.not_evaluated = f"source {shown} is not installed ({MANIFEST.as_posix()}: {missing}; " \
                                 "run `terraform init`)"
            return None
        call.installed = True
        return target

    def _top_block(self, scope: ModuleScope, rb: RawBlock, file: str, taint: _FileTaint | None = None) -> None:
        cfg, kind, labels = self.cfg, rb.type, rb.labels
        if kind == "resource" and len(labels) >= 2:
            lazy = self._lazy(kind, labels[0], rb, taint)
            cfg.resources.append(self.build_instances(scope, rb, labels[0], labels[1], file, lazy))
        elif kind == "data" and len(labels) >= 2:
            cfg.data.append(self.build(scope, rb, "data", labels[0], labels[1], file,
                                       self._lazy(kind, labels[0], rb, taint)))
        elif kind == "provider" and labels:
            cfg.providers.append(self.build(scope, rb, "provider", labels[0], "", file))
        elif kind == "variable" and labels:
            cfg.variable_blocks.append(self.build(scope, rb, "variable", "variable", labels[0], file,
                                                  self._lazy(kind, kind, rb, taint)))
        elif kind == "output" and labels:
            cfg.outputs.append(self.build(scope, rb, "output", "output", labels[0], file,
                                          self._lazy(kind, kind, rb, taint)))
        elif kind == "locals":
            self._ref_sites(scope, rb, file)
        elif kind == "terraform":
            self._terraform_block(scope, rb, file)

    def _lazy(self, kind: str, type_: str, rb: RawBlock, taint: _FileTaint | None) -> Lazy:
        """Whether to defer the body of ``rb`` (None: no; else the arguments to evaluate now all the same): the
        caller's ``defer`` says so, and no nested block's evaluation calls a file function (the arguments whose
        evaluation does are evaluated now, so that what they refuse is reported)."""
        if self.defer is None or not self.defer(kind, type_):
            return None
        return () if taint is None else taint.early_arguments(rb)

    def _terraform_block(self, scope: ModuleScope, rb: RawBlock, file: str) -> None:
        ev = Evaluator(scope, file)
        for child in rb.blocks:
            if child.type != "required_providers":
                continue
            for name, attr in child.attrs.items():
                value = ev.eval(attr.expr)
                entry: dict[str, Any] = {"file": file, "line": attr.line, "module_path": scope.path}
                if isinstance(value, dict):
                    entry["source"] = value.get("source")
                    entry["version"] = value.get("version")
                    entry["version_line"] = attr.line
                elif isinstance(value, str):  # legacy `aws = "~> 4.0"`
                    entry["source"] = None
                    entry["version"] = value
                if scope.path == "":
                    self.cfg.required_providers[name] = entry
                else:
                    self.cfg.required_providers.setdefault(f"{scope.path}:{name}", entry)

    # ----------------------------------------------------------------- blocks
    def build(self, scope: ModuleScope, rb: RawBlock, kind: str, type_: str, name: str, file: str,
              lazy: Lazy = None) -> Block:
        env: dict[str, Any] = {}
        instances: int | None = 1
        ev = Evaluator(scope, file)
        if kind in ("resource", "data", "module"):
            if "count" in rb.attrs:
                n = ev.eval(rb.attrs["count"].expr)
                instances = int(n) if isinstance(n, int | float) and not isinstance(n, bool) else None
                env["count"] = {"index": Unknown("count.index")}
            if "for_each" in rb.attrs:
                fe = ev.eval(rb.attrs["for_each"].expr)
                instances = len(fe) if isinstance(fe, dict | list) else None
                env["each"] = {"key": Unknown("each.key"), "value": Unknown("each.value")}
        block = self._block(scope, rb, ev.with_env(**env) if env else ev, kind, type_, name, file, lazy)
        block.instances = instances
        block.references = self._references(scope, rb, file, record=True)
        return block

    def build_instances(self, scope: ModuleScope, rb: RawBlock, type_: str, name: str, file: str,
                        lazy: Lazy = None) -> Block:
        """A resource Block; when it uses ``count.index``/``each.*`` and its ``count``/``for_each`` is known
        and small, also one evaluated Block per instance in ``instance_blocks`` (``key`` 0, 1 or ``"k"``):
        modules such as terraform-aws-modules/security-group build each rule from ``var.rules[count.index]``."""
        block = self.build(scope, rb, "resource", type_, name, file, lazy)
        envs = self._instance_envs(scope, rb, file) if block.instances and _uses_instance(rb) else None
        for key, env in envs or ():
            inst = self._block(scope, rb, Evaluator(scope, file, env), "resource", type_, name, file, lazy)
            inst.references, inst.key = block.references, key
            block.instance_blocks.append(inst)
        return block

    def _instance_envs(self, scope: ModuleScope, rb: RawBlock, file: str) -> list[tuple[str, dict[str, Any]]]:
        ev = Evaluator(scope, file)
        if "count" in rb.attrs:
            n = ev.eval(rb.attrs["count"].expr)
            if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_EXPANDED_INSTANCES:
                return [(str(i), {"count": {"index": i}}) for i in range(n)]
        elif "for_each" in rb.attrs:
            fe = ev.eval(rb.attrs["for_each"].expr)
            items = list(fe.items()) if isinstance(fe, dict) else \
                [(v, v) for v in fe] if isinstance(fe, list) and all(isinstance(v, str) for v in fe) else []
            if 0 < len(items) <= MAX_EXPANDED_INSTANCES:
                return [(f'"{k}"', {"each": {"key": k, "value": v}}) for k, v in items]
        return []

    def _block(self, scope: ModuleScope, rb: RawBlock, ev: Evaluator, kind: str, type_: str, name: str,
               file: str, lazy: Lazy) -> Block:
        """The Block of ``rb``, its body evaluated now or, when ``lazy`` is not None, when first read (but for the
        arguments ``lazy`` names: evaluated now, kept for then)."""
        if lazy is None:
            return _build_body(scope, rb, ev, kind, type_, name, file)
        block = _block_shell(DeferredBlock, scope, rb, kind, type_, name, file)
        early = {arg: ev.eval(rb.attrs[arg].expr) for arg in lazy}
        # what evaluates it holds the scope, the budget and the problems list, not the loader or the Config (no
        # cycle: a configuration nobody holds is freed at once, its unread blocks with it)
        return block.defer(functools.partial(_late_body, self.refusals, scope, rb, ev, file, early))

    # ----------------------------------------------------------------- references
    # The reference sites of a raw block or expression do not depend on the module
    # instance, only their address prefix and file do: they are found once per parsed
    # block (kept in ``RawBlock.memo`` / ``RawAttr.memo``, which live as long as the
    # parse cache) and re-addressed for each instance.
    def _references(self, scope: ModuleScope, rb: RawBlock, file: str, *, record: bool) -> set[str]:
        out: set[str] = set()
        for site in self._sites_in_block(scope, rb, file):
            out.add(site.address)
            if record:
                self.cfg.ref_sites.append(site)
        # through locals (transitively)
        prefix = f"{scope.path}." if scope.path else ""
        seen: set[str] = set()
        todo = list(_block_locals(rb))
        while todo:
            name = todo.pop()
            if name in seen or name not in scope.local_exprs:
                continue
            seen.add(name)
            attr, _lfile = scope.local_exprs[name]
            for site in _attr_sites(attr):
                out.add(prefix + site.address)
            todo.extend(_attr_locals(attr))
        return out

    def _ref_sites(self, scope: ModuleScope, rb: RawBlock, file: str) -> None:
        self.cfg.ref_sites.extend(self._sites_in_block(scope, rb, file))

    def _sites_in_block(self, scope: ModuleScope, rb: RawBlock, file: str) -> list[RefSite]:
        path = scope.path
        prefix = f"{path}." if path else ""
        return [RefSite(prefix + s.address, s.attribute, file, s.line, path, s.text) for s in _block_sites(rb)]


_B = TypeVar("_B", bound=Block)


def _block_shell(cls: type[_B], scope: ModuleScope, rb: RawBlock, kind: str, type_: str, name: str,
                 file: str) -> _B:
    """A Block of ``rb`` with what is known before evaluation: lines, source texts, files; no attributes yet."""
    _exprs, lines, texts, files, nested_files = _body_plan(rb)
    block = cls(kind=kind, type=type_, name=name, file=file, line=rb.line, module_path=scope.path,
                end_line=rb.end_line, raw=dict(texts), attr_lines=dict(lines))
    if files or nested_files:
        attr_files = block.attr_files
        for attr_name, attr_file in files:
            if attr_file != file:  # from an override file
                attr_files[attr_name] = attr_file
        for attr_name, attr_file in nested_files:
            if attr_file != file:
                attr_files.setdefault(attr_name, attr_file)
    return block


def _build_body(scope: ModuleScope, rb: RawBlock, ev: Evaluator, kind: str, type_: str, name: str, file: str) -> Block:
    """The Block of ``rb``, evaluated."""
    block = _block_shell(Block, scope, rb, kind, type_, name, file)
    _body(block, scope, rb, ev, file)
    return block


def _body(block: Block, scope: ModuleScope, rb: RawBlock, ev: Evaluator, file: str,
          early: dict[str, Any] | None = None) -> None:
    """Evaluate ``rb``'s attributes and nested blocks into ``block.attrs`` (the values of ``early``: evaluated
    already)."""
    attrs = block.attrs
    if early:
        for attr_name, expr in _body_plan(rb)[0]:
            attrs[attr_name] = early[attr_name] if attr_name in early else ev.eval(expr)
    else:
        for attr_name, expr in _body_plan(rb)[0]:
            attrs[attr_name] = ev.eval(expr)
    own: set[str] = set()  # the names whose list of nested blocks this call made
    for child in rb.blocks:
        if child.type == "dynamic" and child.labels:
            label = child.labels[0]
            content = next((b for b in child.blocks if b.type == "content"), None)
            if content is None:
                continue
            for bindings in dynamic_envs(child, ev):
                nb = _build_body(scope, content, ev.with_env(**bindings), "nested", label, "", file)
                nb.dynamic = True
                nb.line = child.line
                _add_nested(block, label, nb, own)
        else:
            nb = _build_body(scope, child, ev, "nested", child.type, " ".join(child.labels), child.file or file)
            _add_nested(block, child.type, nb, own)


def _late_body(refusals: _Refusals, scope: ModuleScope, rb: RawBlock, ev: Evaluator, file: str,
               early: dict[str, Any], block: Block) -> None:
    """Evaluate a deferred block when it is first read: on the configuration's budget (its clock running only
    meanwhile), what it refuses added to the configuration's problems."""
    refusals.budget.resume()
    try:
        _body(block, scope, rb, ev, file, early)
    finally:
        refusals.budget.pause()
        refusals.report()


class _Refusals:
    """Reports a configuration's budget events as its problems, each once (at the end of the load, and after
    each deferred block evaluated later)."""

    def __init__(self, budget: Budget, problems: list[ParseProblem]) -> None:
        self.budget = budget
        self.problems = problems  # the Config's list
        self.reported = 0

    def report(self) -> None:
        events = self.budget.events
        self.problems += [ParseProblem(e.file, e.line, e.message, rule=e.rule) for e in events[self.reported:]]
        self.reported = len(events)


class _FileTaint:
    """Which blocks of a module that calls a file function would call one when evaluated: their own arguments
    do, or a local, resource, data source or module (output) they read does, transitively.  A cycle counts as
    reading files (the block stays eager: never a refusal lost)."""

    def __init__(self, scope: ModuleScope, readers: set[str]) -> None:
        self.scope = scope
        self.readers = readers  # module paths that call a file function (their outputs may)
        self.memo: dict[object, bool] = {}  # id(raw block) or ("local", name) -> reads files

    def early_arguments(self, rb: RawBlock) -> tuple[str, ...] | None:
        """The top-level arguments of ``rb`` whose evaluation calls a file function (evaluated when the block is
        built, deferred or not); None when a nested block's does (the block is then built whole)."""
        if not self.reads_files(rb):
            return ()
        if any(self.reads_files(child) for child in rb.blocks):
            return None
        return tuple(name for name, attr in rb.attrs.items() if self._argument(attr))

    def reads_files(self, rb: RawBlock) -> bool:
        return self._memo(id(rb), lambda: _calls_files(rb) or self._reaches(*_block_facts(rb)))

    def _argument(self, attr: RawAttr) -> bool:
        return ("file" in attr.text and _FILE_CALL.search(attr.text) is not None) or self._reaches(*_attr_facts(attr))

    def _reaches(self, sites: list[RefSite], used: set[str]) -> bool:
        """Whether one of these locals or references reads files."""
        return any(self._local(n) for n in used) or any(self._site(s.address) for s in sites)

    def _local(self, name: str) -> bool:
        entry = self.scope.local_exprs.get(name)
        return entry is not None and self._memo(("local", name), lambda: self._argument(entry[0]))

    def _site(self, address: str) -> bool:
        if address.startswith("module."):
            child = self.scope.children.get(address.split(".")[1])
            return child is not None and child.path in self.readers
        entry = self.scope.data.get(address[5:]) if address.startswith("data.") else self.scope.resources.get(address)
        return entry is not None and self.reads_files(entry[0])

    def _memo(self, key: object, work: Callable[[], bool]) -> bool:
        hit = self.memo.get(key)
        if hit is None:
            self.memo[key] = True  # while being worked out: a cycle reads files
            hit = self.memo[key] = work()
        return hit


_BodyPlan = tuple[list[tuple[str, Any]], dict[str, int], dict[str, str], list[tuple[str, str]], list[tuple[str, str]]]


def _body_plan(rb: RawBlock) -> _BodyPlan:
    """What every Block built from ``rb`` starts from, worked out once per raw block (memoized on it, as it is
    shared by every module instance): (name, expression) of each attribute; the lines of the attributes and of
    the first nested block of each name; the attributes' source texts; the files of the attributes an override
    file set; the files of the nested blocks that name one (the first of each name counts)."""
    hit = rb.memo.get("body")
    if hit is None:
        attrs = rb.attrs.items()
        lines = {n: a.line for n, a in attrs}
        nested_files = []
        for child in rb.blocks:
            if child.type == "dynamic" and child.labels:
                if any(b.type == "content" for b in child.blocks):
                    lines.setdefault(child.labels[0], child.line)
            else:
                lines.setdefault(child.type, child.line)
                if child.file is not None:
                    nested_files.append((child.type, child.file))
        hit = rb.memo["body"] = ([(n, a.expr) for n, a in attrs], lines, {n: a.text for n, a in attrs},
                                 [(n, a.file) for n, a in attrs if a.file is not None], nested_files)
    return hit


def _calls_files(rb: RawBlock) -> bool:
    """The block's arguments call a file function (``file``, ``templatefile`` ...; memoized on the block)."""
    hit = rb.memo.get("calls_files")
    if hit is None:
        hit = rb.memo["calls_files"] = any(
            "file" in a.text and _FILE_CALL.search(a.text) is not None for a in rb.attrs.values()) or \
            any(_calls_files(c) for c in rb.blocks)
    return bool(hit)


def _add_nested(block: Block, name: str, nested: Block, own: set[str]) -> None:
    """Add a nested block under ``name``.  When an argument of the same name is there already (Terraform refuses
    both; the checks still see them), a list it evaluated to is copied first: it may be a variable's or a
    local's own value, shared with everything that reads it.  Any other value stays and the block is dropped."""
    if name not in block.attrs:
        block.attrs[name] = [nested]
        own.add(name)
        return
    existing = block.attrs[name]
    if isinstance(existing, list):
        if name not in own:
            block.attrs[name] = existing = list(existing)
            own.add(name)
        existing.append(nested)


def _block_sites(rb: RawBlock) -> list[RefSite]:
    """Reference sites in a raw block (root module addresses, no file)."""
    return _block_facts(rb)[0]


def _block_locals(rb: RawBlock) -> set[str]:
    """Names of the locals a raw block uses (``local.x``)."""
    return _block_facts(rb)[1]


def _block_facts(rb: RawBlock) -> _Facts:
    """(reference sites, locals used) of a raw block, found in one walk and memoized on the block."""
    hit = rb.memo.get("facts")
    if hit is None:
        sites: list[RefSite] = []
        used: set[str] = set()
        _raw_block_facts(rb, frozenset(), sites, used)
        hit = rb.memo["facts"] = (sites, used)
    return hit


def _raw_block_facts(rb: RawBlock, bound: frozenset[str], sites: list[RefSite], used: set[str]) -> None:
    """Add the block's reference sites (``bound``: iterator names of the ``dynamic`` blocks around it) and the
    locals it uses (whatever is bound) to ``sites`` and ``used``: its attributes in order, then its blocks."""
    for attr in rb.attrs.values():
        attr_sites, attr_used = _attr_facts(attr, bound)
        sites += attr_sites
        used |= attr_used
    for child in rb.blocks:
        inner = bound
        if child.type == "dynamic" and child.labels:
            inner = bound | {_iterator_name(child)}
        _raw_block_facts(child, inner, sites, used)


_Facts = tuple[list[RefSite], set[str]]


def _attr_facts(attr: RawAttr, bound: frozenset[str] = frozenset()) -> _Facts:
    """(reference sites, locals used) of an attribute's expression, memoized on it (by bound names)."""
    key = "facts " + " ".join(sorted(bound)) if bound else "facts"
    hit = attr.memo.get(key)
    if hit is None:
        # every reference and every `local.x` has a `.` after its root (`aws_x.y`, `data.a.b`, `module.m`), and the
        # tree is built from this text: without one there is nothing to find (half the attributes, a fifth of the walk)
        hit = attr.memo[key] = _expr_facts(attr.expr, bound) if "." in attr.text else ([], set())
    return hit


def _attr_sites(attr: RawAttr) -> list[RefSite]:
    return _attr_facts(attr)[0]


def _attr_locals(attr: RawAttr) -> set[str]:
    return _attr_facts(attr)[1]


def _uses_instance(rb: RawBlock) -> bool:
    """The block's arguments read ``count.index`` or ``each.*`` (memoized on the block)."""
    hit = rb.memo.get("uses_instance")
    if hit is None:
        hit = rb.memo["uses_instance"] = any(
            "count.index" in a.text or "each." in a.text for a in rb.attrs.values() if a.name not in
            ("count", "for_each")) or any(_uses_instance(c) for c in rb.blocks)
    return bool(hit)


_TFVARS = ("terraform.tfvars", "terraform.tfvars.json")
_AUTO_TFVARS = (".auto.tfvars", ".auto.tfvars.json")


def _is_tfvars(name: str) -> bool:
    return name in _TFVARS or name.endswith(_AUTO_TFVARS)


def _root_file(name: str) -> bool:
    """A file the root module reads: a configuration file or a variable file."""
    return suffix_of(name) is not None or _is_tfvars(name)


def _tfvars_order(listed: dict[str, Path]) -> list[Path]:
    """The variable files of a listing (``files_named``) in the order Terraform reads them (later ones win):
    terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars and *.auto.tfvars.json in lexical order."""
    out = [listed[n] for n in _TFVARS if n in listed]
    return out + sorted((p for n, p in listed.items() if n not in _TFVARS and _is_tfvars(n)), key=lambda p: p.name)


def _iterator_name(dyn: RawBlock) -> str:
    attr = dyn.attrs.get("iterator")
    if attr is not None:
        text = attr.text.strip()
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", text):
            return text
    return dyn.labels[0]


def _children(node: Tree) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


_HEREDOCS = ("heredoc_template", "heredoc_template_trim")
_MAX_WALK_DEPTH = MAX_NESTING * 4
# what the walk does with a node, by kind (one dict look-up per node instead of a chain of comparisons)
_TRAVERSAL, _IDENT_TERM, _HEREDOC, _FOR = 1, 2, 3, 4
_WALK_KIND = {**dict.fromkeys(_TRAVERSALS, _TRAVERSAL), "expr_term": _IDENT_TERM,
              **dict.fromkeys(_HEREDOCS, _HEREDOC), "for_tuple_expr": _FOR, "for_object_expr": _FOR}


def _expr_facts(expr: Any, bound: frozenset[str]) -> _Facts:
    """The reference sites (root module addresses, no file) and the names of the locals (``local.x``) an
    expression uses, in one walk; a site's root bound by a ``for`` or a ``dynamic`` iterator is not a reference,
    a ``local.x`` is counted whatever is bound.  Sites come in the walk's order (depth first, last child first)."""
    sites: list[RefSite] = []
    used: set[str] = set()
    if isinstance(expr, Tree):
        _walk(expr, bound, 0, sites, used)
    return sites, used


def _walk(node: Tree, names: frozenset[str], depth: int, sites: list[RefSite], used: set[str]) -> None:
    """Add what ``node`` (``depth`` nodes below the expression) refers to.  Recursive, as a node's children are
    visited whole one after the other, last first: one call per node instead of a tuple pushed on a stack and
    popped (the depth is capped far below the interpreter's recursion limit); a chain of nodes with one child
    each (a term around a string around its part) is followed in a loop."""
    while depth <= _MAX_WALK_DEPTH:
        depth += 1
        kind = _WALK_KIND.get(node.data)
        if kind is None or kind == _IDENT_TERM:
            children = node.children
            if len(children) != 1:
                for c in reversed(children):
                    if isinstance(c, Tree):
                        _walk(c, names, depth, sites, used)
                return
            only = children[0]
            # an identifier alone (`x` in a for, a type name) is neither a reference nor a local
            if not isinstance(only, Tree) or (kind == _IDENT_TERM and only.data == "identifier"):
                return
            node = only
        elif kind == _TRAVERSAL:
            _walk_traversal(node, names, depth, sites, used)
            return
        elif kind == _HEREDOC:
            _heredoc_facts(node, names, sites, used)
            return
        else:
            _walk_for(node, names, depth, sites, used)
            return


def _walk_traversal(node: Tree, names: frozenset[str], depth: int, sites: list[RefSite], used: set[str]) -> None:
    """``a.b[i].c``: what it refers to, then the expressions of its indexes (last first), then a base that is
    not a name (``f(x).y``)."""
    base, steps = flatten_traversal(node)
    is_name = base.data == "identifier"
    if is_name:
        _note_reference(node, base, steps, names, sites, used)
    for step in reversed(steps):
        if step[0] != "attr":
            _walk_step(step, names, depth, sites, used)
    if not is_name:
        _walk(base, names, depth, sites, used)


def _walk_step(step: tuple[str, Any], names: frozenset[str], depth: int, sites: list[RefSite],
               used: set[str]) -> None:
    """An index's expression; a splat's steps, last first."""
    op, arg = step
    if op == "index":
        if isinstance(arg, Tree):
            _walk(arg, names, depth, sites, used)
    elif op == "splat":
        for inner in reversed(arg):
            _walk_step(inner, names, depth, sites, used)


def _walk_for(node: Tree, names: frozenset[str], depth: int, sites: list[RefSite], used: set[str]) -> None:
    """A ``for`` expression: the rest (last first) with its own names bound too, then its collection with the
    names around it."""
    intro = next(c for c in node.children if isinstance(c, Tree) and c.data == "for_intro")
    idents = {str(c.children[0]) for c in intro.children if isinstance(c, Tree) and c.data == "identifier"}
    inner = names | idents
    for c in reversed(_children(node)):
        if c is not intro:
            _walk(c, inner, depth, sites, used)
    _walk(_children(intro)[-1], names, depth, sites, used)


def _heredoc_facts(node: Tree, names: frozenset[str], sites: list[RefSite], used: set[str]) -> None:
    """The references in a heredoc's interpolations, at the heredoc's first line."""
    line = node.meta.line if not node.meta.empty else 1
    for inner in _heredoc_exprs(node):
        inner_sites, inner_used = _expr_facts(inner, names)
        sites += [RefSite(s.address, s.attribute, "", line, "", s.text) for s in inner_sites]
        used |= inner_used


_HEREDOC_INTERP = re.compile(r"(?<!\$)\$\{([^}]*)\}")


def _heredoc_exprs(node: Tree) -> Iterator[Any]:
    text = str(node.children[0])
    for m in _HEREDOC_INTERP.finditer(text):
        expr = parse_expression(m.group(1))
        if expr is not None:
            yield expr


def _note_reference(node: Tree, base: Tree, steps: list[tuple[str, Any]], bound: frozenset[str],
                    sites: list[RefSite], used: set[str]) -> None:
    """Record what the traversal ``node`` (``base`` an identifier, then ``steps``) refers to: a local's name in
    ``used``, a resource, data source or module call (unless its root is ``bound``) in ``sites``."""
    root = str(base.children[0])
    first = steps[0] if steps else None
    if first is None or first[0] != "attr":
        return  # `x`, `x[0]`: neither a local's name nor an address
    if root == "local":
        used.add(str(first[1]))
        return
    if root in bound:
        return
    if root == "data":
        if len(steps) >= 2 and steps[1][0] == "attr":
            address, after = f"data.{first[1]}.{steps[1][1]}", 2
        else:
            return
    elif root == "module":
        address, after = f"module.{first[1]}", 1
    elif root in _NON_RESOURCE_ROOTS:
        return
    else:
        address, after = f"{root}.{first[1]}", 1
    line = node.meta.line if not node.meta.empty else 1
    sites.append(RefSite(address, _attr_after(steps, after), "", line, "", _text_of(root, steps)))


def _attr_after(steps: list[tuple[str, Any]], i: int) -> str | None:
    """The attribute read after the address (``arn`` in ``aws_x.y.arn``, ``aws_x.y[0].arn``), if any."""
    rest = steps[i:]
    if rest and rest[0][0] in ("index", "splat"):
        rest = rest[1:]
    return rest[0][1] if rest and rest[0][0] == "attr" else None


def _text_of(root: str, steps: list[tuple[str, Any]]) -> str:
    out = root
    for kind, arg in steps:
        if kind == "attr":
            out += f".{arg}"
        elif kind == "index":
            out += f"[{arg}]" if not isinstance(arg, Tree) else "[...]"
        else:
            out += "[*]"
    return out
