"""What a terraform command in a directory would read, loaded for the pre-flight and cached.

    tree = load_tree(Path("envs/prod"))
    tree.configs      # the root module (with its local modules) and every module in .terraform/modules
    tree.raw          # every parsed .tf file: terraform blocks (backend, cloud), function calls
    tree.json_blocks  # providers, data sources and resources of .tf.json files
    tree.problems     # files that could not be parsed, as PRE-UNPARSEABLE hits

Uses the checks' loader (:func:`infraleash.terraform.hcl.load_config`, parse trees cached by file
identity).  ``.tf.json`` files, which that loader does not read, are read here with :mod:`json`.  A
whole tree is cached by the directory listings it depends on (name, inode, mtime, size of every
``.tf``/``.tf.json``/``.tfvars`` and of ``modules.json``): the pre-flight runs before every command.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.gate.preflight_rules import Hit
from infraleash.terraform.config import Block, Config, Unknown
from infraleash.terraform.hcl import load_config
from infraleash.terraform.hcl_parse import MAX_FILE_BYTES, ParsedFile, parse_file

MODULES_JSON = Path(".terraform/modules/modules.json")
_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tofu", ".tofu.json")


@dataclass
class RawModule:
    """One module directory's parsed ``.tf`` files (``rel`` relative to the command's directory)."""

    directory: Path
    files: list[ParsedFile]
    root: bool


@dataclass
class JsonTerraform:
    """A ``terraform`` object of a ``.tf.json`` file."""

    file: str
    line: int
    body: dict[str, Any]
    root: bool


@dataclass
class TfTree:
    root: Path
    configs: list[Config] = field(default_factory=list)
    raw: list[RawModule] = field(default_factory=list)
    json_blocks: list[Block] = field(default_factory=list)
    json_terraform: list[JsonTerraform] = field(default_factory=list)
    problems: list[Hit] = field(default_factory=list)
    outside_modules: list[Hit] = field(default_factory=list)  # module code loaded from outside the workspace
    directories: list[Path] = field(default_factory=list)  # what the cache entry depends on
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # facts the scans derive from the tree alone


_cache: dict[tuple[str, str], tuple[tuple[Any, ...], TfTree]] = {}
_lock = threading.Lock()


def load_tree(root: Path, workspace: Path | None = None) -> TfTree:
    """The configuration ``terraform`` would read in ``root`` (cached until a file there changes)."""
    root = Path(os.path.realpath(root))
    ws = Path(os.path.realpath(workspace)) if workspace else root
    key = (str(root), str(ws))
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == _fingerprint(hit[1].directories):
        return hit[1]
    tree = _load(root, ws)
    with _lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = (_fingerprint(tree.directories), tree)
    return tree


def _fingerprint(directories: list[Path]) -> tuple[Any, ...]:
    out: list[Any] = []
    for d in directories:
        entries: list[tuple[Any, ...]]
        try:
            with os.scandir(d) as it:
                entries = sorted((e.name, e.inode(), e.stat().st_mtime_ns, e.stat().st_size) for e in it
                                 if e.name.endswith(_SUFFIXES))
        except OSError:
            entries = [("<unreadable>",)]
        out.append((str(d), tuple(entries)))
        try:
            st = (d / MODULES_JSON).stat()
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _inside(path: Path, ws: Path) -> bool:
    real = os.path.realpath(path)
    return real == str(ws) or real.startswith(str(ws) + os.sep)


def _load(root: Path, ws: Path) -> TfTree:
    tree = TfTree(root=root)
    seen: set[Path] = set()
    dirs: list[Path] = []
    configs = [(load_config(root), True)]
    for d, source in _installed_modules(root, tree):
        if not d.is_dir():
            continue
        if not _inside(d, ws):
            tree.outside_modules.append(Hit("PRE-EXTERNAL-DATA", str(MODULES_JSON), None, f"module.{source}",
                                            f"module {source} is installed from {d}, outside the workspace"))
        configs.append((load_config(d), False))
    for cfg, is_root in configs:
        for call in cfg.modules:
            if call.local_path is not None and not _inside(call.local_path, ws):
                tree.outside_modules.append(Hit(
                    "PRE-EXTERNAL-DATA", _rel(cfg.root / call.file, root), call.line, f"module.{call.name}",
                    f"module {call.name} loads code from {call.source}, outside the workspace"))
        tree.configs.append(cfg)
        for p in cfg.problems:
            tree.problems.append(Hit("PRE-UNPARSEABLE", _rel(cfg.root / p.file, root), p.line, p.file, p.message))
        module_dirs = {Path(os.path.normpath(cfg.root))} | {Path(os.path.normpath(c.local_path))
                                                             for c in cfg.modules if c.local_path}
        for d in sorted(module_dirs):
            if d in seen:
                continue
            seen.add(d)
            dirs.append(d)
            is_root_dir = is_root and d == Path(os.path.normpath(cfg.root))
            # every file either tool reads, whichever runs: terraform reads x.tf where tofu reads the x.tofu
            # that shadows it, and override files are merged by both, so all of them are scanned
            hcl = sorted(f for f in [*d.glob("*.tf"), *d.glob("*.tofu")] if f.is_file())
            tree.raw.append(RawModule(d, [parse_file(f, _rel(f, root)) for f in hcl], is_root_dir))
            for jf in sorted([*d.glob("*.tf.json"), *d.glob("*.tofu.json")]):
                _load_json(jf, root, tree, is_root_dir)
            tree.problems += _shadowing(d, root)
    tree.directories = dirs
    return tree


def _shadowing(d: Path, root: Path) -> list[Hit]:
    """``x.tofu`` beside ``x.tf``: OpenTofu reads one and Terraform the other, so the configuration the scans
    judged (OpenTofu's) is not the one ``terraform`` would run.  Refused rather than guessed."""
    out = []
    for tofu in sorted([*d.glob("*.tofu"), *d.glob("*.tofu.json")]):
        twin = tofu.with_name(tofu.name.replace(".tofu", ".tf"))
        if twin.is_file():
            rel = _rel(tofu, root)
            out.append(Hit("PRE-UNPARSEABLE", rel, 1, rel,
                           f"{tofu.name} replaces {twin.name} under OpenTofu while terraform reads {twin.name}: "
                           "which file runs depends on the tool; keep one of them"))
    return out


def _installed_modules(root: Path, tree: TfTree) -> list[tuple[Path, str]]:
    """(directory, key) of every module ``terraform init`` installed (``.terraform/modules/modules.json``)."""
    path = root / MODULES_JSON
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for m in data.get("Modules", []):
            if not isinstance(m, dict) or not m.get("Key") or not isinstance(m.get("Dir"), str):
                continue
            out.append((Path(os.path.normpath(root / m["Dir"])), str(m["Key"])))
        return out
    except (OSError, ValueError, AttributeError) as e:
        line = getattr(e, "lineno", None)
        tree.problems.append(Hit("PRE-UNPARSEABLE", str(MODULES_JSON), line, str(MODULES_JSON),
                                 f"cannot read the installed modules list: {e}"))
        return []


# --------------------------------------------------------------------------- .tf.json


def _load_json(path: Path, root: Path, tree: TfTree, is_root: bool) -> None:
    rel = _rel(path, root)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            tree.problems.append(Hit("PRE-UNPARSEABLE", rel, 1, rel, "file over the size limit; not parsed"))
            return
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as e:
        tree.problems.append(Hit("PRE-UNPARSEABLE", rel, e.lineno, rel, f"malformed JSON: {e.msg}"))
        return
    except (OSError, UnicodeDecodeError) as e:
        tree.problems.append(Hit("PRE-UNPARSEABLE", rel, 1, rel, f"cannot read: {e}"))
        return
    if not isinstance(data, dict):
        tree.problems.append(Hit("PRE-UNPARSEABLE", rel, 1, rel, "a .tf.json file must hold an object"))
        return

    def line_of(*keys: str) -> int:
        pos = 0
        for k in keys:
            found = text.find(json.dumps(k), pos)
            if found < 0:
                break
            pos = found
        return text.count("\n", 0, pos) + 1

    for body in _as_list(data.get("terraform")):
        if isinstance(body, dict):
            tree.json_terraform.append(JsonTerraform(rel, line_of("terraform"), body, is_root))
    for name, bodies in _items(data.get("provider")):
        for body in _as_list(bodies):
            tree.json_blocks.append(_block("provider", name, "", rel, line_of("provider", name), body))
    for kind in ("data", "resource"):
        for type_, named in _items(data.get(kind)):
            for name, bodies in _items(named):
                for body in _as_list(bodies):
                    tree.json_blocks.append(_block(kind, type_, name, rel, line_of(kind, type_, name), body))


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [] if v is None else [v]


def _items(v: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for part in _as_list(v):
        if isinstance(part, dict):
            out.extend((str(k), val) for k, val in part.items())
    return out


def _value(v: Any) -> Any:
    if isinstance(v, str) and "${" in v:
        return Unknown(f"expression {v}")
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    return v


def _block(kind: str, type_: str, name: str, file: str, line: int, body: Any) -> Block:
    block = Block(kind=kind, type=type_, name=name, file=file, line=line)
    if not isinstance(body, dict):
        return block
    for key, value in body.items():
        if key == "provisioner":
            for prov_type, prov_body in _items(value):
                block.attrs.setdefault("provisioner", []).append(
                    _block("nested", "provisioner", prov_type, file, line, prov_body))
        else:
            block.attrs[key] = _value(value)
            block.raw[key] = json.dumps(value)
    return block
