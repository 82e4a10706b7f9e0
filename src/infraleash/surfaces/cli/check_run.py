"""The ``check`` command's work, without typer: the typer command (``check_cmd.py``) and the fast path that
parses a plain ``infraleash check ...`` itself (``check_fast.py``) both call :func:`run_check`.

Nothing here imports typer, rich, pydantic or PyYAML unless the run needs them (a policy file, the human
format on a terminal): ``tests/surfaces/test_check_startup.py`` checks a one-file check's modules.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from infraleash.checks.coverage import TERRAFORM_SUFFIXES, merge, require_configuration
from infraleash.checks.custom_rules import documentation, guard_tree_policy, load_rules_dir, rules_for
from infraleash.checks.engine import CheckReport, run_checks, run_checks_many
from infraleash.checks.report import FORMATS, prepare, render
from infraleash.errors import ExitCode, InputError, UsageError
from infraleash.findings import Severity
from infraleash.policy_defaults import FAILING_SEVERITY, policy_files_above
from infraleash.surfaces.cli.progress import progress, progress_wanted

if TYPE_CHECKING:
    from infraleash.policy import Policy


def run_check(paths: list[Path] | None, *, recursive: bool = False, workers: int | None = None, fmt: str = "human",
              output: Path | None = None, policy_file: Path | None = None, fail_on: str | None = None,
              rules_dirs: list[Path] | None = None, sarif_root: Path | None = None, strict: bool = False,
              trust_policy_rules: bool = False) -> int:
    """``infraleash check``: the exit code (see ``check_cmd``'s module docstring)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if fail_on is not None and fail_on.lower() not in [s.value for s in Severity]:
        raise UsageError(f"--fail-on must be one of {', '.join(s.value for s in Severity)} (got {fail_on!r})")
    paths = list(paths or [Path(".")])
    for path in paths:
        if not path.exists():
            raise InputError("no such file or directory", file=str(path))
        if path.is_file() and not path.name.endswith(TERRAFORM_SUFFIXES):
            raise InputError(f"not a Terraform file ({', '.join(TERRAFORM_SUFFIXES)}) or a directory", file=str(path))
    if len(paths) == 1 and not recursive:
        require_configuration(paths[0])
    first = paths[0]
    policy = policy_for_check(policy_file, first if first.is_dir() else first.parent, rules_dirs,
                              trust_policy_rules=trust_policy_rules)
    threshold = Severity((fail_on or (policy.checks.failing_severity if policy else FAILING_SEVERITY)).lower())
    color = fmt == "human" and output is None and sys.stdout.isatty()
    if len(paths) == 1 and not recursive:
        report = run_checks(first, policy, defer=True)
    else:
        report = _check_roots(paths, recursive, policy, workers, show_progress=progress_wanted(fmt, output),
                              idle=lambda: prepare(fmt, color=color))
        # At exit the collector need not scan the parse trees still cached here (with --workers 1 that took
        # ~1.2 s of a 5 s run on a 700-file tree); the interpreter still exits normally, atexit included.
        atexit.register(gc.freeze)
    rules = documentation()
    text = render(report.findings, report.summary(), fmt, rules=rules, color=color, sarif_root=sarif_root)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write the report: {e.strerror}", file=str(output)) from None
        failing = report.failing(threshold)
        print(f"wrote {fmt} report to {output}: {len(failing)} finding(s) at or above {threshold.value}",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    if report.errors:
        for err in report.errors:
            print(f"error: bug: {err}", file=sys.stderr)
        return ExitCode.INTERNAL
    if strict and report.not_checked:
        print(f"error: --strict: {len(report.not_checked)} part(s) of the configuration could not be checked: "
              + "; ".join(e["text"] for e in report.not_checked), file=sys.stderr)
        return ExitCode.FINDINGS
    return ExitCode.FINDINGS if report.failing(threshold) else ExitCode.OK


def policy_for_check(policy_file: Path | None, search_from: Path, rules_dirs: list[Path] | None, *,
                     trust_policy_rules: bool = False) -> Policy | None:
    """``--policy``, else the effective policy above ``search_from``, with ``--rules-dir`` added; ``None`` (the
    default policy, without loading the policy model: :mod:`infraleash.policy_defaults`) when there is none.
    A policy found inside the checked tree loads no Python rules unless ``trust_policy_rules``
    (:func:`~infraleash.checks.custom_rules.guard_tree_policy`)."""
    if policy_file is None and not rules_dirs and not policy_files_above(search_from):
        return None
    from infraleash.policy import load_policy

    policy = load_policy(policy_file, search_from=search_from)
    if policy_file is None and not trust_policy_rules:
        policy = guard_tree_policy(policy, search_from)
    return with_rules_dirs(policy, rules_dirs)


def with_rules_dirs(policy: Policy, dirs: list[Path] | None) -> Policy:
    """The policy with ``--rules-dir`` directories added to ``checks.rules_dirs`` (loaded now: bad ones exit 2)."""
    if dirs:
        for d in dirs:
            load_rules_dir(d)
        extra = [str(d.resolve()) for d in dirs]
        checks = policy.checks.model_copy(update={"rules_dirs": [*policy.checks.rules_dirs, *extra]})
        refused = [d for d in policy.python_rules_refused if d not in extra]  # named on the command line: trusted
        policy = policy.model_copy(update={"checks": checks, "python_rules_refused": refused})
    rules_for(policy)  # the policy's own directories: a broken rule file is an input error before any check
    return policy


def _check_roots(paths: list[Path], recursive: bool, policy: Policy | None, workers: int | None, *,
                 show_progress: bool = False, idle: Callable[[], None] | None = None) -> CheckReport:
    """Check every root under ``paths`` with ``run_checks_many`` and merge the reports into one (``idle``: see
    ``run_checks_many``)."""
    started = time.perf_counter()
    roots: list[tuple[Path, str, bool]] = []  # (root, how its files are shown: prefix relative to the given PATH,
    # whether the root is one file)
    for path in paths:
        if not (recursive and path.is_dir()):
            roots.append((path, "" if len(paths) == 1 else path.as_posix(), path.is_file()))
            continue
        base = str(path)
        start = "" if base == "." else base if base.endswith("/") else base + "/"
        for root in terraform_roots(path):  # path itself, and directories under it
            r = str(root)
            # on the strings (relative_to parses both paths, once per root of a monorepo)
            rel = "" if root == path else r[len(start):] if r.startswith(start) else root.relative_to(path).as_posix()
            shown = rel if len(paths) == 1 else (path / rel).as_posix() if rel else path.as_posix()
            roots.append((root, shown, False))
    with progress(f"checking {len(roots)} roots", total=len(roots), enabled=show_progress and len(roots) > 1,
                  refresh_thread=False) as advance:
        reports = run_checks_many([r for r, _, _ in roots], policy, workers=workers, on_done=advance, idle=idle,
                                  each=lambda i, rep: _shown(rep, *roots[i]), defer=True)
    merged = CheckReport(root=str(paths[0]) if len(paths) == 1 else ".", rules_run=max(
        (r.rules_run for r in reports), default=0))
    if not roots:
        merged.notes.append(f"no directory under {', '.join(map(str, paths))} holds .tf files")
        merged.not_checked.append({"category": "roots", "provider": None, "count": 0, "names": [str(p) for p in paths],
                                   "missing": ["no configuration"], "text": "no Terraform root found"})
    gaps: list[dict] = []
    notes: dict[str, None] = {}
    for rep in reports:
        merged.findings += rep.findings
        merged.files_checked += rep.files_checked
        merged.parse_problems += rep.parse_problems
        merged.errors += rep.errors
        merged.resources_checked += rep.resources_checked
        notes.update(dict.fromkeys(rep.notes))
        gaps += rep.not_checked
    merged.notes += [n for n in notes if n not in merged.notes]
    merged.not_checked += merge(gaps)
    merged.findings.sort(key=lambda f: (f.file or "", f.line or 0, f.rule))
    merged.duration_s = time.perf_counter() - started
    return merged


def _shown(rep: CheckReport, root: Path, prefix: str, one_file: bool) -> CheckReport:
    """``rep``, of ``root``, with its files as the merged report shows them (under ``prefix``)."""
    rep.findings = [f.model_copy(update={"file": _under(prefix, f.file, root, one_file)}) for f in rep.findings]
    rep.files_checked = [_under(prefix, f, root, one_file) or f for f in rep.files_checked]
    rep.not_checked = [{**e, "names": [f"{prefix}:{n}" if prefix else n for n in e["names"]]} for e in rep.not_checked]
    return rep


def terraform_roots(path: Path) -> list[Path]:
    """``path`` and every directory under it holding ``.tf`` files (dot-directories skipped), sorted."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if any(f.endswith(TERRAFORM_SUFFIXES) for f in filenames):
            found.append(Path(dirpath))
    return found


def _under(prefix: str, file: str | None, root: Path, one_file: bool) -> str | None:
    """A file as reported for ``root`` (relative to it), shown under ``prefix``; ``one_file``: ``root`` is a file."""
    if file is None:
        return None
    if one_file:  # a single .tf file as root: its findings name the file itself
        base = Path(prefix).parent if prefix else Path(".")
        return os.path.normpath(base / Path(file).name) if Path(file).name == root.name else file
    # strings, not pathlib (the same path once normalised): this runs for every finding and file of a monorepo
    return os.path.normpath(file if file.startswith("/") else f"{prefix}/{file}") if prefix else file
