"""Pre-flight scan of Terraform CLI configuration files (the runner's, and any left in the workspace).

``provider_installation { dev_overrides { ... } }`` makes Terraform start a binary from any directory
instead of the installed provider; a ``filesystem_mirror`` or ``plugin_cache_dir`` outside the runner's
mirrors installs providers from wherever it points; ``credentials_helper`` runs a program for every
registry host; ``host`` blocks redirect service discovery.  Both HCL (``.terraformrc``) and JSON
(``*.json``) forms are read.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from infraleash.gate.preflight_rules import Hit, ScanContext
from infraleash.terraform.config import ParseProblem, Unknown
from infraleash.terraform.hcl_eval import Evaluator, ModuleScope
from infraleash.terraform.hcl_parse import ParsedFile, RawBlock, parse_text

WORKSPACE_RC_FILES = (".terraformrc", "terraform.rc")
MAX_BYTES = 1024 * 1024
# CLI config allows quoted attribute names (dev_overrides { "hashicorp/aws" = "/dir" }), HCL2's grammar as
# python-hcl2 has it does not: they are renamed (same line) before parsing, the names are not needed.
_QUOTED_KEY = re.compile(r'((?:^|\{)[ \t]*)"[^"\n]*"([ \t]*=)', re.M)
_parsed: dict[tuple[str, int, int, int], ParsedFile] = {}


def _parse_cli_hcl(path: Path, shown: str) -> ParsedFile:
    try:
        st = path.stat()
        key = (shown, st.st_ino, st.st_mtime_ns, st.st_size)
        if key in _parsed:
            return _parsed[key]
        if st.st_size > MAX_BYTES:
            raise OSError(f"{st.st_size} bytes, over the {MAX_BYTES} limit")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return ParsedFile(shown, "", problem=ParseProblem(shown, 1, f"cannot read: {e}"))
    n = 0

    def rename(m: re.Match[str]) -> str:
        nonlocal n
        n += 1
        return f"{m.group(1)}quoted_key_{n}{m.group(2)}"

    pf = parse_text(_QUOTED_KEY.sub(rename, text), shown)
    if len(_parsed) > 256:
        _parsed.clear()
    _parsed[key] = pf
    return pf


def _read(path: Path, shown: str) -> tuple[dict[str, Any] | None, Hit | None]:
    """The CLI config as {attr: value, block: [(labels, body, line)]}; a parse problem as a hit."""
    if path.name.endswith(".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            return None, Hit("PRE-UNPARSEABLE", shown, e.lineno, shown, f"malformed JSON: {e.msg}")
        except (OSError, UnicodeDecodeError) as e:
            return None, Hit("PRE-UNPARSEABLE", shown, 1, shown, f"cannot read: {e}")
        return (data if isinstance(data, dict) else {}), None
    pf = _parse_cli_hcl(path, shown)
    if pf.problem is not None:
        return None, Hit("PRE-UNPARSEABLE", shown, pf.problem.line, shown, pf.problem.message)
    ev = Evaluator(ModuleScope(path="", directory=path.parent), shown)
    out: dict[str, Any] = {name: ev.eval(attr.expr) for name, attr in pf.attrs.items()}
    out["__lines__"] = {name: attr.line for name, attr in pf.attrs.items()}
    out["__blocks__"] = pf.blocks
    return out, None


def _json_blocks(data: dict[str, Any], name: str) -> list[Any]:
    v = data.get(name)
    return v if isinstance(v, list) else [] if v is None else [v]


def filesystem_mirrors(path: str | None) -> list[Path]:
    """The ``filesystem_mirror`` paths of a (trusted) CLI config: the runner's mirrors when none are given."""
    if not path or not os.path.isfile(path):
        return []
    text = _text(Path(path))
    quick = quick_mirrors(text) if text is not None else None
    if quick is not None:
        return [Path(p) for p in quick]
    data, _problem = _read(Path(path), path)
    if data is None:
        return []
    out: list[Path] = []
    for rb in data.get("__blocks__", []):
        if rb.type == "provider_installation":
            ev = Evaluator(ModuleScope(path="", directory=Path(path).parent), path)
            for child in rb.blocks:
                if child.type == "filesystem_mirror" and "path" in child.attrs:
                    value = ev.eval(child.attrs["path"].expr)
                    if isinstance(value, str):
                        out.append(Path(value))
    return out


# A CLI config with none of the risky names and only literal mirror paths needs no HCL parser (whose tables
# take ~1 s to load in a fresh process): `terraform version` / `fmt` and every kubectl call stay cheap.
# Any doubt (a risky word anywhere, even in a comment; an interpolation; a mirror block the pattern does
# not read) falls back to the full parse.
_RISKY = re.compile(r"\b(dev_overrides|credentials_helper|host|plugin_cache_dir)\b|\$\{|%\{")
_MIRROR_PATH = re.compile(r'filesystem_mirror\s*\{[^{}]*?\bpath\s*=\s*"([^"\\$%]*)"[^{}]*\}', re.S)


def quick_mirrors(text: str) -> list[str] | None:
    """The ``filesystem_mirror`` paths of a CLI config with nothing risky in it; None: parse it properly."""
    if _RISKY.search(text):
        return None
    paths = _MIRROR_PATH.findall(text)
    if len(paths) != len(re.findall(r"\bfilesystem_mirror\b", text)):
        return None
    return paths


def _text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES or path.name.endswith(".json"):
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def scan_cli_config(path: Path, shown: str, ctx: ScanContext) -> list[Hit]:
    if not path.is_file():
        return []
    text = _text(path)
    quick = quick_mirrors(text) if text is not None else None
    if quick is not None and (not ctx.mirrors or all(_in_mirrors(p, ctx) for p in quick)):
        return []
    data, problem = _read(path, shown)
    if problem is not None:
        return [problem]
    assert data is not None
    if "__blocks__" in data:
        return _scan_hcl(data, shown, path, ctx)
    return _scan_json(data, shown, ctx)


def _in_mirrors(value: Any, ctx: ScanContext) -> bool:
    if not isinstance(value, str) or isinstance(value, Unknown):
        return False
    real = os.path.realpath(value)
    return any(real == os.path.realpath(m) or real.startswith(os.path.realpath(m) + os.sep) for m in ctx.mirrors)


def _scan_hcl(data: dict[str, Any], shown: str, path: Path, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    lines: dict[str, int] = data["__lines__"]
    blocks: list[RawBlock] = data["__blocks__"]
    if "plugin_cache_dir" in data and not _in_mirrors(data["plugin_cache_dir"], ctx):
        hits.append(Hit("PRE-CLI-CONFIG", shown, lines.get("plugin_cache_dir"), "plugin_cache_dir",
                        f"plugin_cache_dir {data['plugin_cache_dir']} is outside the plugin mirrors: "
                        "providers found there would run"))
    ev = Evaluator(ModuleScope(path="", directory=path.parent), shown)
    for rb in blocks:
        if rb.type == "credentials_helper":
            hits.append(Hit("PRE-CLI-CONFIG", shown, rb.line, "credentials_helper",
                            f"credentials_helper {' '.join(rb.labels)} runs a program for registry credentials"))
        elif rb.type == "host":
            hits.append(Hit("PRE-CLI-CONFIG", shown, rb.line, f"host.{' '.join(rb.labels)}",
                            f"host {' '.join(rb.labels)} overrides service discovery (where modules and "
                            "providers come from)"))
        elif rb.type == "provider_installation":
            for child in rb.blocks:
                if child.type == "dev_overrides":
                    hits.append(Hit("PRE-CLI-CONFIG", shown, child.line, "provider_installation.dev_overrides",
                                    f"dev_overrides ({len(child.attrs)} provider(s)) make Terraform run a provider binary from any "
                                    "directory instead of the installed one"))
                elif child.type == "filesystem_mirror" and ctx.mirrors:
                    value = ev.eval(child.attrs["path"].expr) if "path" in child.attrs else None
                    if not _in_mirrors(value, ctx):
                        hits.append(Hit("PRE-CLI-CONFIG", shown, child.line,
                                        "provider_installation.filesystem_mirror",
                                        f"filesystem_mirror {value} is not one of the runner's plugin mirrors"))
    return hits


def _scan_json(data: dict[str, Any], shown: str, ctx: ScanContext) -> list[Hit]:
    hits: list[Hit] = []
    if "plugin_cache_dir" in data and not _in_mirrors(data["plugin_cache_dir"], ctx):
        hits.append(Hit("PRE-CLI-CONFIG", shown, 1, "plugin_cache_dir",
                        f"plugin_cache_dir {data['plugin_cache_dir']} is outside the plugin mirrors"))
    if data.get("credentials_helper"):
        hits.append(Hit("PRE-CLI-CONFIG", shown, 1, "credentials_helper", "credentials_helper runs a program"))
    if data.get("host"):
        hits.append(Hit("PRE-CLI-CONFIG", shown, 1, "host", "host blocks override service discovery"))
    for pi in _json_blocks(data, "provider_installation"):
        if not isinstance(pi, dict):
            continue
        if pi.get("dev_overrides"):
            hits.append(Hit("PRE-CLI-CONFIG", shown, 1, "provider_installation.dev_overrides",
                            "dev_overrides make Terraform run a provider binary from any directory"))
        for fm in _json_blocks(pi, "filesystem_mirror"):
            if ctx.mirrors and isinstance(fm, dict) and not _in_mirrors(fm.get("path"), ctx):
                hits.append(Hit("PRE-CLI-CONFIG", shown, 1, "provider_installation.filesystem_mirror",
                                f"filesystem_mirror {fm.get('path')} is not one of the runner's plugin mirrors"))
    return hits


def scan_workspace_rc(ctx: ScanContext) -> list[Hit]:
    """CLI config files left in the command's directory or the workspace root."""
    hits: list[Hit] = []
    seen: set[str] = set()
    for d in (ctx.root, ctx.workspace):
        for name in WORKSPACE_RC_FILES:
            p = d / name
            real = os.path.realpath(p)
            if real in seen:
                continue
            seen.add(real)
            hits.extend(scan_cli_config(p, ctx.rel(p), ctx))
    return hits
