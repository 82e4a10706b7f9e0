"""Pre-flight scan of where providers come from: the mirror, the lock file, ``.terraform/providers``.

A provider is a program Terraform starts for ``validate``, ``plan``, ``show``, ``providers schema`` ...;
the only ones that may run are the runner's mirror's.  A mirror is a filesystem-mirror tree
(``HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/`` unpacked, or ``HOST/NAMESPACE/TYPE/terraform-provider-TYPE_
VERSION_OS_ARCH.zip`` packed).  An installed provider is trusted when its directory resolves into a
mirror (``init`` symlinks unpacked mirrors) or each of its files has the mirror file's size and
SHA-256 (a copy), or the packed archive member's size and CRC-32.  Hashes are cached by file identity
(device, inode, size, mtime, ctime) in memory and in infraleash's cache directory, so a 700 MB provider
is hashed once, not on every command.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infraleash.gate.preflight_rules import Hit, ScanContext
from infraleash.gate.preflight_tf_load import TfTree
from infraleash.terraform.hcl_eval import Evaluator, ModuleScope
from infraleash.terraform.hcl_parse import parse_file

LOCK_FILE = ".terraform.lock.hcl"
_BUILTIN = "terraform.io/builtin/terraform"
_hash_lock = threading.Lock()
_hashes: dict[str, str] = {}
_hashes_loaded = False


def normalize_source(source: str | None, local_name: str) -> str:
    """``hashicorp/aws`` -> ``registry.terraform.io/hashicorp/aws`` (the address Terraform installs)."""
    if not source:
        return _BUILTIN if local_name == "terraform" else f"registry.terraform.io/hashicorp/{local_name.lower()}"
    parts = source.strip().lower().split("/")
    if len(parts) == 1:
        return f"registry.terraform.io/hashicorp/{parts[0]}"
    if len(parts) == 2:
        return f"registry.terraform.io/{parts[0]}/{parts[1]}"
    return "/".join(parts[:3])


def required_sources(tree: TfTree) -> list[tuple[str, str, int]]:
    """(source, file, line) of every provider the configuration needs, declared or implied."""
    out: dict[str, tuple[str, str, int]] = {}
    declared: set[str] = set()
    for cfg in tree.configs:
        for key, entry in cfg.required_providers.items():
            local = key.rsplit(":", 1)[-1]
            declared.add(local)
            src = entry.get("source")
            source = normalize_source(src if isinstance(src, str) else None, local)
            file = os.path.relpath(os.path.normpath(cfg.root / str(entry.get("file", ""))), tree.root)
            out.setdefault(source, (source, file, int(entry.get("line") or 1)))
    for jt in tree.json_terraform:
        rp = jt.body.get("required_providers")
        for part in rp if isinstance(rp, list) else [rp]:
            if isinstance(part, dict):
                for local, spec in part.items():
                    declared.add(local)
                    src = spec.get("source") if isinstance(spec, dict) else None
                    source = normalize_source(src if isinstance(src, str) else None, local)
                    out.setdefault(source, (source, jt.file, jt.line))
    implied: list[tuple[str, str, int]] = []
    for cfg in tree.configs:
        for b in [*cfg.providers, *cfg.resources, *cfg.data]:
            local = b.type if b.kind == "provider" else b.type.split("_", 1)[0]
            if local not in declared:
                file = os.path.relpath(os.path.normpath(cfg.root / b.file), tree.root)
                implied.append((normalize_source(None, local), file, b.line))
    for b in tree.json_blocks:
        local = b.type if b.kind == "provider" else b.type.split("_", 1)[0]
        if local not in declared:
            implied.append((normalize_source(None, local), b.file, b.line))
    for source, file, line in implied:
        out.setdefault(source, (source, file, line))
    return [v for v in out.values() if v[0] != _BUILTIN]


def _in_mirror(source: str, mirrors: tuple[Path, ...], version: str | None = None) -> bool:
    for m in mirrors:
        d = m / source
        if not d.is_dir():
            continue
        if version is None:
            return True
        type_ = source.rsplit("/", 1)[-1]
        if (d / version).is_dir() or any(d.glob(f"terraform-provider-{type_}_{version}_*.zip")):
            return True
    return False


def lock_entries(root: Path) -> tuple[dict[str, tuple[str | None, int]], list[Hit]]:
    """source -> (version, line) of ``.terraform.lock.hcl``; problems as hits."""
    path = root / LOCK_FILE
    if not path.is_file():
        return {}, []
    pf = parse_file(path, LOCK_FILE)
    if pf.problem is not None:
        return {}, [Hit("PRE-UNPARSEABLE", LOCK_FILE, pf.problem.line, LOCK_FILE, pf.problem.message)]
    ev = Evaluator(ModuleScope(path="", directory=root), LOCK_FILE)
    out: dict[str, tuple[str | None, int]] = {}
    for rb in pf.blocks:
        if rb.type == "provider" and rb.labels:
            version = ev.eval(rb.attrs["version"].expr) if "version" in rb.attrs else None
            out[rb.labels[0].lower()] = (version if isinstance(version, str) else None, rb.line)
    return out, []


def scan_sources(tree: TfTree, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    required = required_sources(tree)
    if ctx.mirrors:
        for source, file, line in required:
            if not _in_mirror(source, ctx.mirrors):
                hits.append(Hit("PRE-PROVIDER-SOURCE", file, line, source, f"provider {source} is not in the "
                                f"plugin mirror ({', '.join(map(str, ctx.mirrors))})"))
    locked, problems = lock_entries(tree.root)
    hits.extend(problems)
    if (tree.root / LOCK_FILE).is_file() and ctx.subcommand != "init":
        for source, file, line in required:
            if source not in locked:
                hits.append(Hit("PRE-PROVIDER-SOURCE", file, line, source, f"provider {source} is not in "
                                f"{LOCK_FILE}; run `terraform init` to record it from the mirror"))
    if ctx.mirrors:
        for source, (version, line) in locked.items():
            if source != _BUILTIN and not _in_mirror(source, ctx.mirrors, version):
                hits.append(Hit("PRE-PROVIDER-SOURCE", LOCK_FILE, line, source,
                                f"{LOCK_FILE} pins {source} {version}, which the plugin mirror does not have"))
    return hits


def scan_installed(root: Path, ctx: ScanContext) -> list[Hit]:
    """Provider binaries in ``.terraform/providers`` and implicit local mirrors in the directory."""
    hits: list[Hit] = []
    for implicit in ("terraform.d/plugins", ".terraform/plugins"):
        if (root / implicit).exists():
            hits.append(Hit("PRE-PROVIDER-SOURCE", implicit, None, implicit, f"{implicit} is a local provider "
                            "directory Terraform may install from; providers come from the mirror"))
    base = root / ".terraform" / "providers"
    if not base.is_dir() or not ctx.mirrors:
        return hits
    for rel, entry in _installed_dirs(base):
        source = "/".join(rel.parts[:3])
        subject = "/".join(rel.parts)
        why = _installed_refused(rel, entry, ctx.mirrors)
        if why:
            hits.append(Hit("PRE-PROVIDER-SOURCE", f".terraform/providers/{subject}", None, source, why))
    return hits


def _installed_dirs(base: Path) -> Iterator[tuple[Path, Path]]:
    """(HOST/NS/TYPE/VERSION/OS_ARCH, path) of every installed provider package (and stray files)."""
    for host in _entries(base):
        for ns in _entries(host):
            for type_ in _entries(ns):
                for version in _entries(type_):
                    for arch in _entries(version):
                        yield arch.relative_to(base), arch
                    if not version.is_dir():
                        yield version.relative_to(base), version


def _entries(d: Path) -> list[Path]:
    try:
        return sorted(d.iterdir()) if d.is_dir() else []
    except OSError:
        return []


def _installed_refused(rel: Path, entry: Path, mirrors: tuple[Path, ...]) -> str | None:
    if len(rel.parts) != 5 or not entry.is_dir():
        return f"{rel} is not a provider package directory"
    real = os.path.realpath(entry)
    for m in mirrors:
        mreal = os.path.realpath(m)
        if real.startswith(mreal + os.sep):
            return None  # a link into the mirror itself
    host, ns, type_, version, arch = rel.parts
    for m in mirrors:
        unpacked = m / host / ns / type_ / version / arch
        if unpacked.is_dir():
            return _differs_from_dir(entry, unpacked)
        packed = m / host / ns / type_ / f"terraform-provider-{type_}_{version}_{arch}.zip"
        if packed.is_file():
            return _differs_from_zip(entry, packed)
    return f"{host}/{ns}/{type_} {version} ({arch}) is not in the plugin mirror"


def _files(d: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for dirpath, _dirs, names in os.walk(d):
        for n in names:
            p = Path(dirpath) / n
            out[p.relative_to(d).as_posix()] = p
    return out


def _differs_from_dir(installed: Path, mirror: Path) -> str | None:
    mine, theirs = _files(installed), _files(mirror)
    for name, path in sorted(mine.items()):
        other = theirs.get(name)
        if other is None:
            return f"{name} is not a file of the mirror's package"
        if os.path.islink(path) and os.path.realpath(path) == os.path.realpath(other):
            continue
        if os.path.getsize(path) != os.path.getsize(other) or file_sha256(path) != file_sha256(other):
            return f"{name} differs from the mirror's file (size or SHA-256): not the mirror's provider"
    return None


def _differs_from_zip(installed: Path, archive: Path) -> str | None:
    try:
        with zipfile.ZipFile(archive) as z:
            members = {i.filename: i for i in z.infolist() if not i.is_dir()}
    except (OSError, zipfile.BadZipFile) as e:
        return f"the mirror's archive {archive} cannot be read ({e})"
    for name, path in sorted(_files(installed).items()):
        info = members.get(name)
        if info is None:
            return f"{name} is not in the mirror's archive"
        if os.path.getsize(path) != info.file_size or file_crc32(path) != info.CRC:
            return f"{name} differs from the mirror's archive member (size or CRC-32): not the mirror's provider"
    return None


# --------------------------------------------------------------------------- hashing, cached


def _identity(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _cache_file() -> Path | None:
    try:
        from infraleash.terraform.schema import cache_dir

        return cache_dir() / "preflight-file-hashes.json"
    except OSError:
        return None


def _load_hashes() -> None:
    global _hashes_loaded
    if _hashes_loaded:
        return
    _hashes_loaded = True
    f = _cache_file()
    if f is not None and f.is_file():
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(f.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                _hashes.update({str(k): str(v) for k, v in data.items()})


def _save_hashes() -> None:
    f = _cache_file()
    if f is None:
        return
    with contextlib.suppress(OSError):
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(list(_hashes.items())[-2048:])), encoding="utf-8")
        os.replace(tmp, f)


def _digest(path: Path, kind: str) -> str:
    key = f"{kind}:{_identity(path)}"
    with _hash_lock:
        _load_hashes()
        hit = _hashes.get(key)
    if hit is not None:
        return hit
    value: Any
    if kind == "sha256":
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        value = h.hexdigest()
    else:
        crc = 0
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                crc = zlib.crc32(chunk, crc)
        value = str(crc)
    with _hash_lock:
        _hashes[key] = value
        _save_hashes()
    return value


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, cached by its identity (device, inode, size, mtime, ctime)."""
    return _digest(path, "sha256")


def file_crc32(path: Path) -> int:
    return int(_digest(path, "crc32"))
