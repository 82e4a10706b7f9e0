"""Pre-flight scans for kubectl: the kubeconfig's credential plugins and kustomizations.

* kubeconfig (every kubectl call): a user's ``exec:`` plugin or an ``auth-provider`` with a
  ``cmd-path`` runs that program whenever kubectl needs a credential; its command must be listed in
  ``preflight.kube_exec_commands`` (exact string), else PRE-KUBE-EXEC.
* kustomization (``kubectl kustomize DIR``, ``-k DIR``): helm charts and KRM plugins run programs
  (PRE-KUBE-EXEC); generators reading ``files``/``envs`` outside the kustomization's directory and
  ``resources``/``components``/... that are URLs or outside the workspace read what the agent should
  not see (PRE-KUSTOMIZE).  Bases inside the workspace are followed recursively.

YAML is read with ``yaml.safe_load`` (no object construction); a document that does not parse is
PRE-UNPARSEABLE with its line.  Parsed files are cached by file identity.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import yaml

from infraleash.gate.preflight_rules import Hit, ScanContext

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_DEPTH = 16
_REMOTE = re.compile(r"^(https?://|git::|git@|ssh://|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|//.*\?")
_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge",
               "patchesJson6902", "patches", "replacements")
_cache: dict[tuple[int, int, int, int], tuple[list[Any], Hit | None]] = {}
_lock = threading.Lock()


def _load_yaml(path: Path, shown: str) -> tuple[list[Any], Hit | None]:
    try:
        st = path.stat()
    except OSError as e:
        return [], Hit("PRE-UNPARSEABLE", shown, None, shown, f"cannot read: {e.strerror}")
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    result: tuple[list[Any], Hit | None]
    if st.st_size > 5 * 1024 * 1024:
        result = [], Hit("PRE-UNPARSEABLE", shown, 1, shown, "file over 5 MB; not parsed")
    else:
        try:
            result = list(yaml.safe_load_all(path.read_text(encoding="utf-8"))), None
        except yaml.MarkedYAMLError as e:
            line = e.problem_mark.line + 1 if e.problem_mark else 1
            result = [], Hit("PRE-UNPARSEABLE", shown, line, shown, f"invalid YAML: {e.problem}")
        except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError) as e:
            result = [], Hit("PRE-UNPARSEABLE", shown, 1, shown, f"cannot read: {type(e).__name__}")
    with _lock:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = result
    return result


def _line_of(path: Path, needle: str) -> int | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else None


# --------------------------------------------------------------------------- kubeconfig


def scan_kubeconfig(kubeconfig: str, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    for part in [p for p in kubeconfig.split(os.pathsep) if p]:
        path = Path(part)
        if not path.is_file():
            continue
        docs, problem = _load_yaml(path, part)
        if problem is not None:
            hits.append(problem)
            continue
        for doc in docs:
            if isinstance(doc, dict):
                hits.extend(_kube_users(doc, path, part, ctx))
    return hits


def _kube_users(doc: dict[str, Any], path: Path, shown: str, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    allowed = set(ctx.preflight.kube_exec_commands)
    for entry in doc.get("users") or []:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("name", "?"))
        user: dict[str, Any] = entry["user"] if isinstance(entry.get("user"), dict) else {}
        exec_ = user.get("exec")
        if exec_ is not None:
            command = exec_.get("command") if isinstance(exec_, dict) else None
            if not isinstance(command, str) or command not in allowed:
                hits.append(Hit("PRE-KUBE-EXEC", shown, _line_of(path, "exec:"), f"users.{name}.exec",
                                f"user {name} has an exec credential plugin ({command!r}) that "
                                "preflight.kube_exec_commands does not list: kubectl runs it on every call"))
        provider = user.get("auth-provider")
        if isinstance(provider, dict):
            config: dict[str, Any] = provider["config"] if isinstance(provider.get("config"), dict) else {}
            command = config.get("cmd-path")
            if command is not None and (not isinstance(command, str) or command not in allowed):
                hits.append(Hit("PRE-KUBE-EXEC", shown, _line_of(path, "cmd-path"), f"users.{name}.auth-provider",
                                f"user {name}'s auth-provider {provider.get('name')!r} runs {command!r}, which "
                                "preflight.kube_exec_commands does not list"))
    return hits


# --------------------------------------------------------------------------- kustomization


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        p = directory / name
        if p.is_file():
            return p
    return None


def scan_kustomize_target(target: str, ctx: ScanContext) -> list[Hit]:
    """The kustomization a ``kustomize DIR`` / ``-k DIR`` would build."""
    if _REMOTE.search(target):
        return [Hit("PRE-KUSTOMIZE", target, None, target, f"{target} is a remote kustomization: it fetches "
                    "and builds code from outside the workspace")]
    directory = Path(os.path.normpath(ctx.root / target))
    if not ctx.inside(directory):
        return [Hit("PRE-KUSTOMIZE", ctx.rel(directory), None, target,
                    f"{target} is outside the workspace")]
    if directory.is_file():  # `-k FILE` is refused by kubectl itself; nothing to build
        return []
    hits: list[Hit] = []
    _scan_kustomization(directory, ctx, hits, set(), 0)
    return hits


def _scan_kustomization(directory: Path, ctx: ScanContext, hits: list[Hit], seen: set[str], depth: int) -> None:
    real = os.path.realpath(directory)
    if real in seen or depth > MAX_DEPTH:
        return
    seen.add(real)
    path = kustomization_file(directory)
    if path is None:
        return
    shown = ctx.rel(path)
    docs, problem = _load_yaml(path, shown)
    if problem is not None:
        hits.append(problem)
        return
    doc = docs[0] if docs else None
    if doc is None:
        return
    if not isinstance(doc, dict):
        hits.append(Hit("PRE-UNPARSEABLE", shown, 1, shown, "a kustomization must be a mapping"))
        return
    for key in ("helmCharts", "helmGlobals", "helmChartInflationGenerator"):
        if doc.get(key):
            hits.append(Hit("PRE-KUBE-EXEC", shown, _line_of(path, key), f"{shown}:{key}",
                            f"{key}: kustomize runs helm to render charts"))
    for key in ("generators", "transformers", "validators"):
        for entry in _as_list(doc.get(key)):
            why = _plugin_refused(entry, directory)
            if why:
                hits.append(Hit("PRE-KUBE-EXEC", shown, _line_of(path, key), f"{shown}:{key}",
                                f"{key}: {why}"))
    for key in ("secretGenerator", "configMapGenerator"):
        for gen in _as_list(doc.get(key)):
            if not isinstance(gen, dict):
                continue
            for field in ("files", "envs", "env"):
                for item in _as_list(gen.get(field)):
                    if not isinstance(item, str):
                        continue
                    file = item.split("=", 1)[1] if "=" in item and field == "files" else item
                    if not _below(directory / file, directory):
                        hits.append(Hit("PRE-KUSTOMIZE", shown, _line_of(path, item), f"{shown}:{key}.{field}",
                                        f"{key} {gen.get('name', '?')} reads {file}, outside the "
                                        "kustomization's directory"))
    for key in _PATH_LISTS:
        for item in _as_list(doc.get(key)):
            ref = item.get("path") if isinstance(item, dict) else item
            if not isinstance(ref, str):
                continue
            if _REMOTE.search(ref):
                hits.append(Hit("PRE-KUSTOMIZE", shown, _line_of(path, ref), f"{shown}:{key}",
                                f"{key} entry {ref} is remote: kustomize fetches it"))
                continue
            if "\n" in ref or ref.lstrip().startswith(("{", "[", "-")) or ":" in ref and " " in ref:
                continue  # an inline patch, not a path
            target = directory / ref
            if not ctx.inside(target):
                hits.append(Hit("PRE-KUSTOMIZE", shown, _line_of(path, ref), f"{shown}:{key}",
                                f"{key} entry {ref} is outside the workspace"))
            elif target.is_dir():
                _scan_kustomization(target, ctx, hits, seen, depth + 1)


def _below(path: Path, directory: Path) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(directory)
    return real == base or real.startswith(base + os.sep)


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [] if v is None else [v]


def _plugin_refused(entry: Any, directory: Path) -> str | None:
    """Why a generators/transformers/validators entry is (or may be) a plugin that runs code."""
    docs: list[Any]
    if isinstance(entry, dict):
        docs = [entry]
    elif isinstance(entry, str):
        if "\n" in entry:
            try:
                docs = list(yaml.safe_load_all(entry))
            except yaml.YAMLError:
                return "an inline entry that does not parse"
        else:
            target = directory / entry
            if not _below(target, directory):
                return f"{entry} is outside the kustomization's directory"
            if target.is_dir():
                return f"{entry} is a directory of plugin configs"
            if not target.is_file():
                return f"{entry} does not exist"
            docs, problem = _load_yaml(target, entry)
            if problem is not None:
                return f"{entry} does not parse"
    else:
        return "an entry that is not a file name or an object"
    for d in docs:
        if not isinstance(d, dict):
            continue
        api = str(d.get("apiVersion", ""))
        annotations = (d.get("metadata") or {}).get("annotations") or {} if isinstance(d.get("metadata"), dict) \
            else {}
        if api != "builtin" or any("function" in str(k) for k in annotations):
            return f"{d.get('kind', '?')} ({api or 'no apiVersion'}) is a plugin, not a builtin: it runs a program"
    return None
