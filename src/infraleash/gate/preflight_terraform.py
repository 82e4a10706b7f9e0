"""Pre-flight scans of Terraform configuration: providers, data sources, provisioners, file reads, backends.

Each ``scan_*`` is a pure function of the loaded tree (:mod:`infraleash.gate.preflight_tf_load`) and the
:class:`~infraleash.gate.preflight_rules.ScanContext`; it returns hits, never raises on odd values.
A value set from a variable or a local (``profile = var.p``) is judged as unknown: ``-var`` and
``TF_VAR_*`` can change it at run time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infraleash.gate.preflight_rules import Hit, ScanContext
from infraleash.gate.preflight_tf_load import RawModule, TfTree
from infraleash.terraform.config import Block, Unknown
from infraleash.terraform.hcl_eval import Evaluator, ModuleScope
from infraleash.terraform.hcl_parse import RawBlock
from infraleash.terraform.hcl_tree import Tree

_FILE_SUFFIXES = ("_file", "_files", "_path", "_paths", "_command", "_commands")
_FILE_NAMES = {"credential_process", "custom_ca_bundle", "config_path", "config_paths"}
_AWS_FILE_NAMES = {"profile", "shared_config_files", "shared_credentials_files", "shared_credentials_file"}
_AWS_PROVIDERS = {"aws", "awscc"}
_GOOGLE_PROVIDERS = {"google", "google-beta"}
_FROM_VARIABLE = re.compile(r"\b(var|local)\.")
_FILE_FUNCTIONS = {"file", "templatefile", "fileset", "filebase64", "filemd5", "filesha1", "filesha256",
                   "filesha512", "filebase64sha256", "filebase64sha512"}
_LOCAL_FILE_TYPES = {"local_file": ("filename",), "local_sensitive_file": ("filename",),
                     "archive_file": ("source_file", "source_dir", "output_path")}
_NESTED = object()


# --------------------------------------------------------------------------- walking blocks


def _walk(block: Block, prefix: str) -> Iterator[tuple[str, Any, int, str]]:
    """(dotted name, value, line, source text) of every argument, nested blocks included (value _NESTED)."""
    for name, value in block.attrs.items():
        path = f"{prefix}.{name}"
        if isinstance(value, list) and value and all(isinstance(v, Block) for v in value):
            for nb in value:
                yield path, _NESTED, nb.line, ""
                yield from _walk(nb, path)
        else:
            yield path, value, block.line_of(name), str(block.raw.get(name, ""))
            if isinstance(value, dict):  # .tf.json nested blocks are plain objects
                yield from _walk_dict(value, path, block.line_of(name))


def _walk_dict(d: dict[str, Any], prefix: str, line: int) -> Iterator[tuple[str, Any, int, str]]:
    for k, v in d.items():
        for item in v if isinstance(v, list) else [v]:
            yield f"{prefix}.{k}", item, line, json.dumps(item, default=str) if not isinstance(item, Unknown) else ""
            if isinstance(item, dict):
                yield from _walk_dict(item, f"{prefix}.{k}", line)


def _unknown_why(value: Any, text: str) -> str | None:
    if isinstance(value, Unknown):
        return value.reason
    if _FROM_VARIABLE.search(text) or (isinstance(text, str) and "${var." in text):
        return "set from a variable or local, which -var / TF_VAR_* can change"
    return None


def _blocks(tree: TfTree, kind: str) -> list[tuple[Block, str]]:
    """(block, file relative to the command's directory) of every ``kind`` block, memoized on the tree."""
    key = f"blocks:{kind}"
    if key not in tree.memo:
        out: list[tuple[Block, str]] = []
        for cfg in tree.configs:
            for b in {"provider": cfg.providers, "data": cfg.data, "resource": cfg.resources}[kind]:
                out.append((b, os.path.relpath(os.path.normpath(cfg.root / b.file), tree.root)))
        out.extend((b, b.file) for b in tree.json_blocks if b.kind == kind)
        tree.memo[key] = out
    return tree.memo[key]


# --------------------------------------------------------------------------- PRE-PROVIDER-FILE


def scan_provider_files(tree: TfTree, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    for block, file in _blocks(tree, "provider"):
        name = block.type
        for path, value, line, text in _walk(block, f"provider.{name}"):
            leaf = path.rsplit(".", 1)[-1]
            why = _provider_arg_refused(name, path, leaf, value, text, ctx)
            if why:
                hits.append(Hit("PRE-PROVIDER-FILE", file, line, path, why))
    for hit in _backend_file_args(tree, ctx):
        hits.append(hit)
    return hits


def _provider_arg_refused(provider: str, path: str, leaf: str, value: Any, text: str, ctx: ScanContext) -> str | None:
    if value is _NESTED:
        if leaf == "exec":  # kubernetes, helm, kubectl ...: a credential plugin run on every call
            return f"provider {provider} has an exec block: it runs a credential plugin on every call"
        return None
    if value is None and not _FROM_VARIABLE.search(text):  # `= null` as written; a variable may be set
        return None
    if leaf in _FILE_NAMES or leaf.endswith(_FILE_SUFFIXES):
        return f"provider {provider} sets {leaf}: a file or command the configuration chooses"
    if provider in _AWS_PROVIDERS and leaf in _AWS_FILE_NAMES:
        return f"provider {provider} sets {leaf}: file-based AWS config, which can run credential_process"
    if provider in _GOOGLE_PROVIDERS and leaf == "credentials":
        if isinstance(value, str) and value.lstrip().startswith("{") and not _FROM_VARIABLE.search(text):
            return None
        return f"provider {provider} sets credentials (a key file path, or unknown)"
    if provider in _AWS_PROVIDERS and leaf == "role_arn" and ".assume_role" in path:
        unknown = _unknown_why(value, text)
        if unknown:
            return f"assume_role role_arn is not known statically ({unknown})"
        if not any(_glob(str(value), pat) for pat in ctx.preflight.assume_roles):
            return f"assume_role names {value}, which preflight.assume_roles does not list"
    return None


def _glob(value: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(value, pattern)


def _backend_file_args(tree: TfTree, ctx: ScanContext) -> Iterator[Hit]:
    """File and command arguments of backend blocks (an s3 backend's profile runs credential_process too)."""
    for file, line, type_, config, _ in _backends(tree):
        for key in config:
            if key in _FILE_NAMES or key.endswith(_FILE_SUFFIXES) or key in _AWS_FILE_NAMES:
                yield Hit("PRE-PROVIDER-FILE", file, line, f"backend.{type_}.{key}",
                          f"backend {type_} sets {key}: a file or command the configuration chooses")


# --------------------------------------------------------------------------- PRE-EXTERNAL-DATA


def scan_external(tree: TfTree, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = list(tree.outside_modules)
    for block, file in _blocks(tree, "data"):
        if block.type == "external":
            hits.append(Hit("PRE-EXTERNAL-DATA", file, block.line, block.address,
                            f"{block.address} runs a program during plan"))
        elif block.type == "http":
            hits.append(Hit("PRE-EXTERNAL-DATA", file, block.line, block.address,
                            f"{block.address} fetches a URL during plan"))
        hits.extend(_local_file_paths(block, file, ctx))
    for block, file in _blocks(tree, "resource"):
        for prov in block.blocks("provisioner"):
            hits.append(Hit("PRE-EXTERNAL-DATA", file, prov.line, f"{block.address}.provisioner.{prov.name}",
                            f"{block.address} has a {prov.name or 'provisioner'} provisioner: it runs at apply"))
        hits.extend(_local_file_paths(block, file, ctx))
    for raw in tree.raw:
        hits.extend(_file_function_calls(raw, tree, ctx))
    return hits


def _local_file_paths(block: Block, file: str, ctx: ScanContext) -> Iterator[Hit]:
    for arg in _LOCAL_FILE_TYPES.get(block.type, ()):
        if arg not in block.attrs:
            continue
        value, text = block.attrs[arg], str(block.raw.get(arg, ""))
        if isinstance(value, str) and not _FROM_VARIABLE.search(text):
            if ctx.inside(value):
                continue
            why = f"{value} is outside the workspace"
        else:
            why = f"the path is not known statically ({_unknown_why(value, text) or 'not a string'})"
        yield Hit("PRE-EXTERNAL-DATA", file, block.line_of(arg), f"{block.address}.{arg}",
                  f"{block.address} {arg}: {why}")


def _file_function_calls(raw: RawModule, tree: TfTree, ctx: ScanContext) -> Iterator[Hit]:
    key = f"filecalls:{raw.directory}"
    if key not in tree.memo:
        tree.memo[key] = list(_evaluated_file_calls(raw))
    verdicts: dict[tuple[str, Any, Any], tuple[str | None, str]] = {}
    for rel, line, name, value, pattern in tree.memo[key]:
        k = (name, value, pattern)
        if k not in verdicts:
            verdicts[k] = _file_arg_refused(name, value, pattern, ctx)
        why, shown = verdicts[k]
        if why:
            yield Hit("PRE-EXTERNAL-DATA", rel, line, f"{name}({shown})", f"{name}(): {why}")


def _evaluated_file_calls(raw: RawModule) -> Iterator[tuple[str, int, str, Any, Any]]:
    """(file, line, function, first argument's value, fileset's pattern) of every file-reading call."""
    scope = _scope(raw)
    for pf in raw.files:
        for node in _function_calls(pf.blocks):
            names = [str(c.children[0]) for c in node.children if isinstance(c, Tree) and c.data == "identifier"]
            name = names[-1] if names else ""
            if name not in _FILE_FUNCTIONS:
                continue
            args_node = next((c for c in node.children if isinstance(c, Tree) and c.data == "arguments"), None)
            args = [c for c in (args_node.children if args_node is not None else [])
                    if isinstance(c, Tree) and c.data != "new_line_or_comment"]
            if not args:
                continue
            ev = Evaluator(scope, pf.rel)
            value = ev.eval(args[0])
            pattern = ev.eval(args[1]) if name == "fileset" and len(args) > 1 else None
            line = node.meta.line if not node.meta.empty else 1
            yield pf.rel, line, name, value if isinstance(value, str | Unknown) else Unknown("not a string"), pattern


def _file_arg_refused(name: str, value: Any, pattern: Any, ctx: ScanContext) -> tuple[str | None, str]:
    """(why the call reads outside the workspace or None, the path as the subject shows it)."""
    if isinstance(value, Unknown) or not isinstance(value, str):
        reason = value.reason if isinstance(value, Unknown) else "not a string"
        return f"the path is not known statically ({reason}); the gate cannot tell what it reads", "?"
    if not ctx.inside(value):
        return f"{value} is outside the workspace", value
    if name == "fileset" and (not isinstance(pattern, str) or ".." in pattern or pattern.startswith("/")):
        return "the pattern is not known, or climbs out of the directory", value
    return None, value


def _function_calls(blocks: list[RawBlock]) -> Iterator[Tree]:
    stack: list[Any] = []
    for rb in blocks:
        stack.append(rb)
    while stack:
        cur = stack.pop()
        if isinstance(cur, RawBlock):
            stack.extend(a.expr for a in cur.attrs.values())
            stack.extend(cur.blocks)
        elif isinstance(cur, Tree):
            if cur.data == "function_call":
                yield cur
            stack.extend(c for c in cur.children if isinstance(c, Tree))


def _scope(raw: RawModule) -> ModuleScope:
    """A module's scope with its locals (variables unknown: -var can change them)."""
    scope = ModuleScope(path="", directory=raw.directory)
    for pf in raw.files:
        for rb in pf.blocks:
            if rb.type == "locals":
                for name, attr in rb.attrs.items():
                    scope.local_exprs[name] = (attr, pf.rel)
    return scope


# --------------------------------------------------------------------------- PRE-BACKEND / PRE-REMOTE-STATE


def _literal(attrs: dict[str, Any], scope: ModuleScope, rel: str) -> dict[str, Any]:
    ev = Evaluator(scope, rel)
    return {name: ev.eval(attr.expr) for name, attr in attrs.items()}


def _backends(tree: TfTree) -> Iterator[tuple[str, int, str, dict[str, Any], bool]]:
    """(file, line, type, config, is_cloud) of every backend/cloud block of the root module."""
    for raw in tree.raw:
        if not raw.root:
            continue
        scope = ModuleScope(path="", directory=raw.directory)
        for pf in raw.files:
            for rb in pf.blocks:
                if rb.type != "terraform":
                    continue
                for child in rb.blocks:
                    if child.type == "backend" and child.labels:
                        cfg = _literal(child.attrs, scope, pf.rel)
                        for nested in child.blocks:  # assume_role { ... } inside an s3 backend
                            cfg[nested.type] = _literal(nested.attrs, scope, pf.rel)
                        yield pf.rel, child.line, child.labels[0], cfg, False
                    elif child.type == "cloud":
                        yield pf.rel, child.line, "cloud", _literal(child.attrs, scope, pf.rel), True
    for jt in tree.json_terraform:
        if not jt.root:
            continue
        for type_, body in (jt.body.get("backend") or {}).items() if isinstance(jt.body.get("backend"), dict) \
                else []:
            yield jt.file, jt.line, str(type_), body if isinstance(body, dict) else {}, False
        if "cloud" in jt.body:
            yield jt.file, jt.line, "cloud", jt.body["cloud"] if isinstance(jt.body["cloud"], dict) else {}, True


def backend_refused(type_: str, config: dict[str, Any], ctx: ScanContext) -> str | None:
    """Why a backend (or a remote-state source) is not the environment's; None when it is."""
    env = ctx.environment or "the default environment"
    specs = ctx.preflight.backends_for(ctx.environment)
    if type_ == "local" and not specs:
        path = config.get("path")
        if path is None or (isinstance(path, str) and ctx.inside(path)):
            return None
        return f"local state at {path} is outside the workspace"
    if type_ == "cloud":
        if not any(s.type == "cloud" and s.mismatch("cloud", _plain(config)) is None for s in specs):
            return f"a cloud block (HCP Terraform) is not a backend of {env}"
        return None
    if not specs:
        return f"backend {type_} is not a backend of {env} (preflight.backends lists none for it)"
    plain = _plain(config)
    unknown = [k for k, v in plain.items() if isinstance(v, Unknown)]
    if unknown:
        return f"backend {type_}: {', '.join(unknown)} not known statically"
    reasons = [s.mismatch(type_, plain) for s in specs]
    if any(r is None for r in reasons):
        return None
    return f"backend {type_} is not a backend of {env}: {'; '.join(r for r in reasons if r)}"


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if v is not None}


def scan_backend(tree: TfTree, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    for file, line, type_, config, _cloud in _backends(tree):
        why = backend_refused(type_, config, ctx)
        if why:
            hits.append(Hit("PRE-BACKEND", file, line, f"backend.{type_}", why))
    hits.extend(_initialized_backend(tree.root, ctx))
    return hits


def _initialized_backend(root: Path, ctx: ScanContext) -> Iterator[Hit]:
    """The backend ``init`` saved in ``.terraform/terraform.tfstate`` (what later commands use)."""
    path = root / ".terraform" / "terraform.tfstate"
    rel = ".terraform/terraform.tfstate"
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        yield Hit("PRE-UNPARSEABLE", rel, e.lineno, rel, f"malformed JSON: {e.msg}")
        return
    except (OSError, UnicodeDecodeError) as e:
        yield Hit("PRE-UNPARSEABLE", rel, 1, rel, f"cannot read: {e}")
        return
    backend = data.get("backend") if isinstance(data, dict) else None
    if not isinstance(backend, dict):
        return
    type_ = str(backend.get("type") or "local")
    config: dict[str, Any] = backend["config"] if isinstance(backend.get("config"), dict) else {}
    why = backend_refused(type_, config, ctx)
    if why:
        yield Hit("PRE-BACKEND", rel, 1, f"backend.{type_}", f"the initialized backend: {why}")
    for key, value in config.items():
        if value is not None and (key in _FILE_NAMES or key.endswith(_FILE_SUFFIXES) or key in _AWS_FILE_NAMES):
            yield Hit("PRE-PROVIDER-FILE", rel, 1, f"backend.{type_}.{key}",
                      f"the initialized {type_} backend sets {key}")


def scan_remote_state(tree: TfTree, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    for block, file in _blocks(tree, "data"):
        if block.type != "terraform_remote_state":
            continue
        backend = block.get("backend")
        config = block.get("config")
        why: str | None
        if not isinstance(backend, str):
            why = "the backend is not known statically"
        elif config is not None and not isinstance(config, dict):
            why = f"the {backend} config is not known statically"
        elif _FROM_VARIABLE.search(str(block.raw.get("config", ""))) or \
                _FROM_VARIABLE.search(str(block.raw.get("backend", ""))):
            why = "the source is set from a variable or local, which -var / TF_VAR_* can change"
        else:
            why = backend_refused(backend, config or {}, ctx)
        if why:
            hits.append(Hit("PRE-REMOTE-STATE", file, block.line, block.address, why))
    return hits


# --------------------------------------------------------------------------- terraform test files


def scan_test_files(root: Path, test_directory: str, ctx: ScanContext) -> list[Hit]:
    """``terraform test`` files (``*.tftest.hcl`` in the directory and the test directory): their provider
    blocks (names judged as in PRE-PROVIDER-FILE) and ``run { module { source } }`` outside the workspace."""
    from infraleash.terraform.hcl_parse import parse_file

    hits: list[Hit] = []
    files = sorted({*root.glob("*.tftest.hcl"), *(root / test_directory).glob("*.tftest.hcl")})
    for path in files:
        rel = ctx.rel(path)
        pf = parse_file(path, rel)
        if pf.problem is not None:
            hits.append(Hit("PRE-UNPARSEABLE", rel, pf.problem.line, rel, pf.problem.message))
            continue
        for rb in pf.blocks:
            if rb.type == "provider" and rb.labels:
                hits.extend(_raw_provider_names(rb, rb.labels[0], f"provider.{rb.labels[0]}", rel))
            elif rb.type == "run":
                for child in rb.blocks:
                    if child.type == "module" and "source" in child.attrs:
                        source = child.attrs["source"].text.strip().strip('"')
                        if source.startswith(("./", "../", "/")) and not ctx.inside(source):
                            hits.append(Hit("PRE-EXTERNAL-DATA", rel, child.line, f"run.{' '.join(rb.labels)}.module",
                                            f"run {' '.join(rb.labels)} loads module code from {source}, "
                                            "outside the workspace"))
    return hits


def _raw_provider_names(rb: RawBlock, provider: str, prefix: str, rel: str) -> Iterator[Hit]:
    for name, attr in rb.attrs.items():
        if attr.text.strip() == "null":
            continue
        if name in _FILE_NAMES or name.endswith(_FILE_SUFFIXES) or \
                (provider in _AWS_PROVIDERS and name in _AWS_FILE_NAMES) or \
                (provider in _GOOGLE_PROVIDERS and name == "credentials") or \
                (provider in _AWS_PROVIDERS and name == "role_arn"):
            yield Hit("PRE-PROVIDER-FILE", rel, attr.line, f"{prefix}.{name}",
                      f"provider {provider} in a test file sets {name}")
    for child in rb.blocks:
        if child.type == "exec":
            yield Hit("PRE-PROVIDER-FILE", rel, child.line, f"{prefix}.exec",
                      f"provider {provider} in a test file has an exec block")
        yield from _raw_provider_names(child, provider, f"{prefix}.{child.type}", rel)
