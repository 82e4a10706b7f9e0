"""Which files of a module directory Terraform and OpenTofu read, and override files merged as they merge them.

    base, overrides = module_files(Path("infra/"))
    merged, problems = apply_overrides(parsed_base, parsed_overrides)

Files: ``*.tf``, ``*.tf.json``, ``*.tofu``, ``*.tofu.json``; OpenTofu's rule: ``x.tofu`` takes precedence
over ``x.tf`` (and ``x.tofu.json`` over ``x.tf.json``), the shadowed file is not read.  Override files
(``override.tf``, ``*_override.tf``, the same with the other suffixes) are merged after every other file,
in lexicographic order, as Terraform's "Override Files" documentation says:

* a top-level block is matched by its type and labels (a provider by name and ``alias``); each
  attribute of the override replaces the original's, each nested block type in the override replaces
  every nested block of that type in the original; a resource's ``lifecycle`` is merged attribute by
  attribute;
* ``locals``: each value replaces the original's definition of that name;
* ``terraform``: ``required_providers`` merged per provider, a ``backend`` or ``cloud`` replaces both;
* an override block with no original is an error in Terraform, a ``ParseProblem`` here.

What an override replaced remembers its file (``RawAttr.file`` / ``RawBlock.file``), so a finding on it
points at the override file's line.  The parsed blocks are shared with the parse cache: merging copies.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from infraleash.terraform.config import ParseProblem
from infraleash.terraform.hcl_parse import ParsedFile, RawAttr, RawBlock

SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")
_TOFU_FOR = {".tf": ".tofu", ".tf.json": ".tofu.json"}


def suffix_of(name: str) -> str | None:
    """The Terraform suffix of a file name (``.tf.json`` before ``.json``), None for other files."""
    return next((s for s in (".tofu.json", ".tf.json", ".tofu", ".tf") if name.endswith(s)), None)


def is_override(name: str) -> bool:
    suffix = suffix_of(name)
    stem = name[: -len(suffix)] if suffix else name
    return stem == "override" or stem.endswith("_override")


def module_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """(the files read, override files last in lexicographic order) of one module directory."""
    return choose_files(files_named(directory, lambda name: suffix_of(name) is not None))


def choose_files(names: dict[str, Path]) -> tuple[list[Path], list[Path]]:
    """:func:`module_files` of a directory's listing (``files_named``; names without a Terraform suffix are
    left out)."""
    chosen = []
    for name, path in names.items():
        suffix = suffix_of(name)
        if suffix is None:
            continue
        tofu = _TOFU_FOR.get(suffix)
        if tofu is not None and name[: -len(suffix)] + tofu in names:
            continue  # OpenTofu: x.tofu takes precedence over x.tf
        chosen.append(path)
    chosen.sort(key=lambda p: p.name)
    return [p for p in chosen if not is_override(p.name)], [p for p in chosen if is_override(p.name)]


def files_named(directory: Path, wanted: Callable[[str], bool]) -> dict[str, Path]:
    """name -> path of each file in ``directory`` whose name is ``wanted`` and that ``Path.is_file()`` (a regular
    file, or a link to one), in listing order.  One ``scandir``: the kind of an entry that is not a symbolic link
    comes with the listing, so only links cost a ``stat`` (a module is listed again for every root calling it)."""
    found: dict[str, Path] = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            if wanted(entry.name):
                path = directory / entry.name
                if _is_file(entry, path):
                    found[entry.name] = path
    return found


def _is_file(entry: os.DirEntry[str], path: Path) -> bool:
    """``path.is_file()`` for the entry ``scandir`` listed it as."""
    try:
        if not entry.is_symlink():
            return entry.is_file()
    except OSError:
        pass
    return path.is_file()  # a link (or an entry scandir could not tell): what pathlib says, errors included


def shadowed_by_tofu(path: Path) -> Path | None:
    """The ``.tofu`` file that takes precedence over ``path`` (a ``.tf``/``.tf.json`` file), if there is one."""
    suffix = suffix_of(path.name)
    tofu = _TOFU_FOR.get(suffix or "")
    if tofu is None or suffix is None:
        return None
    twin = path.with_name(path.name[: -len(suffix)] + tofu)
    return twin if twin.is_file() else None


def _key(rb: RawBlock) -> tuple[str, ...]:
    if rb.type == "provider":
        alias = rb.attrs.get("alias")
        return ("provider", *rb.labels, alias.text.strip('"') if alias else "")
    return (rb.type, *rb.labels)


def _from(rb: RawBlock, rel: str) -> RawBlock:
    """An override's block, every part of it marked as coming from ``rel``."""
    return dataclasses.replace(rb, file=rel, attrs={n: dataclasses.replace(a, file=rel) for n, a in rb.attrs.items()},
                               blocks=[_from(b, rel) for b in rb.blocks], memo={})


def _merge_body(base: RawBlock, over: RawBlock, rel: str, *, lifecycle_by_attr: bool) -> RawBlock:
    attrs: dict[str, RawAttr] = {**base.attrs, **{n: dataclasses.replace(a, file=rel) for n, a in over.attrs.items()}}
    blocks = list(base.blocks)
    for kind in dict.fromkeys(b.type for b in over.blocks):
        mine = [b for b in over.blocks if b.type == kind]
        if kind == "lifecycle" and lifecycle_by_attr:
            old = next((b for b in blocks if b.type == "lifecycle"), None)
            merged = _merge_body(old, mine[-1], rel, lifecycle_by_attr=False) if old else _from(mine[-1], rel)
            blocks = [b for b in blocks if b.type != "lifecycle"] + [merged]
        else:
            blocks = [b for b in blocks if b.type != kind] + [_from(b, rel) for b in mine]
    return dataclasses.replace(base, attrs=attrs, blocks=blocks, memo={})


def _merge_terraform(base: RawBlock, over: RawBlock, rel: str) -> RawBlock:
    attrs = {**base.attrs, **{n: dataclasses.replace(a, file=rel) for n, a in over.attrs.items()}}
    blocks = list(base.blocks)
    for ob in over.blocks:
        if ob.type == "required_providers":
            old = next((b for b in blocks if b.type == "required_providers"), None)
            merged = _merge_body(old, ob, rel, lifecycle_by_attr=False) if old else _from(ob, rel)
            blocks = [b for b in blocks if b.type != "required_providers"] + [merged]
        elif ob.type in ("backend", "cloud"):
            blocks = [b for b in blocks if b.type not in ("backend", "cloud")] + [_from(ob, rel)]
        else:
            blocks = [b for b in blocks if b.type != ob.type] + [_from(ob, rel)]
    return dataclasses.replace(base, attrs=attrs, blocks=blocks, memo={})


def apply_overrides(base: list[ParsedFile], overrides: list[ParsedFile]) -> tuple[list[ParsedFile], list[ParseProblem]]:
    """``base`` with every override file's blocks merged in (override files keep no blocks of their own)."""
    if not overrides:
        return base, []
    files = [dataclasses.replace(pf, blocks=list(pf.blocks)) for pf in base]
    problems: list[ParseProblem] = []
    for ov in overrides:
        for ob in ov.blocks:
            if not _merge_one(files, ob, ov.rel):
                what = " ".join([ob.type, *(f'"{label}"' for label in ob.labels)])
                problems.append(ParseProblem(ov.rel, ob.line, f"override of {what}: no such block in the "
                                             "module's other files to override (Terraform refuses this)"))
    return [*files, *(dataclasses.replace(ov, blocks=[]) for ov in overrides)], problems


def _merge_one(files: list[ParsedFile], ob: RawBlock, rel: str) -> bool:
    if ob.type == "locals":
        done = True
        for name, attr in ob.attrs.items():
            done = _override_local(files, name, dataclasses.replace(attr, file=rel)) and done
        return done
    key = _key(ob)
    for pf in files:
        for i, rb in enumerate(pf.blocks):
            if _key(rb) != key:
                continue
            if ob.type == "terraform":
                pf.blocks[i] = _merge_terraform(rb, ob, rel)
            else:
                pf.blocks[i] = _merge_body(rb, ob, rel, lifecycle_by_attr=ob.type in ("resource", "data"))
            return True
    return False


def _override_local(files: list[ParsedFile], name: str, attr: RawAttr) -> bool:
    for pf in files:
        for i, rb in enumerate(pf.blocks):
            if rb.type == "locals" and name in rb.attrs:
                pf.blocks[i] = dataclasses.replace(rb, attrs={**rb.attrs, name: attr}, memo={})
                return True
    return False
