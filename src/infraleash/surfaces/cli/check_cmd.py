"""``infraleash check [PATH...] [-r] [--workers N]`` and ``infraleash rules [show ID]``.

One PATH without ``-r``: that directory (or .tf file) is one Terraform root, checked in
this process.  Several PATHs, or ``--recursive`` (every directory under PATH holding
``.tf`` files is its own root, as Checkov's ``-d`` scans a tree; directories whose name
starts with a dot, such as ``.terraform``, are skipped): the roots are checked with
:func:`~infraleash.checks.engine.run_checks_many` (``--workers``, default one per core,
1 = in this process) and reported together, file paths relative to the given PATH
(with several PATHs: the PATH as given, then the path under it).  One policy for the
run: ``--policy``, else the infraleash.yaml nearest the first PATH.

Exit codes: 0 nothing at or above the failing severity, 1 there is (or, with ``--strict``,
something could not be checked: see :mod:`~infraleash.checks.coverage`), 2 usage or input
error (one directory without Terraform files, as ``review`` says it), 70 a rule crashed (a bug
in infraleash; the report is still written).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from pathlib import Path

import typer

from infraleash.checks.coverage import merge, require_configuration
from infraleash.checks.custom_rules import (
    documentation,
    load_rules_dir,
    load_rules_dirs,
    rules_for,
    verify_examples,
)
from infraleash.checks.engine import CheckReport, run_checks, run_checks_many
from infraleash.checks.registry import all_rules, get_rule
from infraleash.checks.report import FORMATS, render
from infraleash.errors import ExitCode, InputError, UsageError
from infraleash.findings import Severity
from infraleash.policy import Policy, load_policy
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json
from infraleash.surfaces.cli.progress import progress, progress_wanted

rules_app = typer.Typer(help="List the rules or show one rule's documentation.", invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.add_typer(rules_app, name="rules")


def check(
    paths: list[Path] = typer.Argument(None, help="directories (or .tf files) to check (default: .)",
                                       show_default=False),
    recursive: bool = typer.Option(False, "--recursive", "-r",
                                   help="check every directory under PATH holding .tf files as its own root"),
    workers: int = typer.Option(None, "--workers", min=1,
                                help="worker processes for several roots (default: one per core; 1 = in process)"),
    fmt: str = typer.Option("human", "--format", "-f", help="human | json | sarif | junit | markdown | gitlab-codequality"),
    output: Path = typer.Option(None, "--output", "-o", help="write the report to this file"),
    policy_file: Path = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)"),
    fail_on: str = typer.Option(None, "--fail-on", help="lowest severity that fails (default: the policy's)"),
    rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="a directory of the org's own rules "
                                          "(*.py, *.rego); repeatable; added to the policy's checks.rules_dirs"),
    sarif_root: Path = typer.Option(None, "--sarif-root", help="SARIF paths relative to this directory "
                                    "(default: the git repository root above PATH)"),
    strict: bool = typer.Option(False, "--strict", help="fail (exit 1) when anything could not be checked: "
                                "providers without schema or rules, modules not installed, unreadable files"),
) -> int:
    """Static checks of Terraform: hallucinations, provider pins, module sources, security, conventions."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if fail_on is not None and fail_on.lower() not in [s.value for s in Severity]:
        raise UsageError(f"--fail-on must be one of {', '.join(s.value for s in Severity)} (got {fail_on!r})")
    paths = list(paths or [Path(".")])
    for path in paths:
        if not path.exists():
            raise InputError("no such file or directory", file=str(path))
        if path.is_file() and path.suffix != ".tf":
            raise InputError("not a .tf file or a directory", file=str(path))
    if len(paths) == 1 and not recursive:
        require_configuration(paths[0])
    first = paths[0]
    policy = load_policy(policy_file, search_from=first if first.is_dir() else first.parent)
    policy = with_rules_dirs(policy, rules_dirs)
    threshold = Severity((fail_on or policy.checks.failing_severity).lower())
    if len(paths) == 1 and not recursive:
        report = run_checks(first, policy)
    else:
        report = _check_roots(paths, recursive, policy, workers, show_progress=progress_wanted(fmt, output))
        # At exit the collector need not scan the parse trees still cached here (with --workers 1 that took
        # ~1.2 s of a 5 s run on a 700-file tree); the interpreter still exits normally, atexit included.
        atexit.register(gc.freeze)
    rules = documentation()
    text = render(report.findings, report.summary(), fmt, rules=rules,
                  color=fmt == "human" and output is None and sys.stdout.isatty(), sarif_root=sarif_root)
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


def with_rules_dirs(policy: Policy, dirs: list[Path] | None) -> Policy:
    """The policy with ``--rules-dir`` directories added to ``checks.rules_dirs`` (loaded now: bad ones exit 2)."""
    if dirs:
        for d in dirs:
            load_rules_dir(d)
        extra = [str(d.resolve()) for d in dirs]
        checks = policy.checks.model_copy(update={"rules_dirs": [*policy.checks.rules_dirs, *extra]})
        policy = policy.model_copy(update={"checks": checks})
    rules_for(policy)  # the policy's own directories: a broken rule file is an input error before any check
    return policy


def _check_roots(paths: list[Path], recursive: bool, policy: Policy, workers: int | None, *,
                 show_progress: bool = False) -> CheckReport:
    """Check every root under ``paths`` with ``run_checks_many`` and merge the reports into one."""
    started = time.perf_counter()
    roots: list[tuple[Path, str]] = []  # (root, how its files are shown: prefix relative to the given PATH)
    for path in paths:
        found = terraform_roots(path) if recursive and path.is_dir() else [path]
        for root in found:
            rel = root.relative_to(path) if root != path else Path(".")
            shown = rel if len(paths) == 1 else path / rel
            roots.append((root, "" if str(shown) == "." else shown.as_posix()))
    with progress(f"checking {len(roots)} roots", total=len(roots), enabled=show_progress and len(roots) > 1,
                  refresh_thread=False) as advance:
        reports = run_checks_many([r for r, _ in roots], policy, workers=workers, on_done=advance)
    merged = CheckReport(root=str(paths[0]) if len(paths) == 1 else ".", rules_run=max(
        (r.rules_run for r in reports), default=0))
    if not roots:
        merged.notes.append(f"no directory under {', '.join(map(str, paths))} holds .tf files")
        merged.not_checked.append({"category": "roots", "provider": None, "count": 0, "names": [str(p) for p in paths],
                                   "missing": ["no configuration"], "text": "no Terraform root found"})
    gaps: list[dict] = []
    for (root, prefix), rep in zip(roots, reports, strict=True):
        merged.findings += [f.model_copy(update={"file": _under(prefix, f.file, root)}) for f in rep.findings]
        merged.files_checked += [_under(prefix, f, root) or f for f in rep.files_checked]
        merged.parse_problems += rep.parse_problems
        merged.errors += rep.errors
        merged.resources_checked += rep.resources_checked
        merged.notes += [n for n in rep.notes if n not in merged.notes]
        gaps += [{**e, "names": [f"{prefix}:{n}" if prefix else n for n in e["names"]]} for e in rep.not_checked]
    merged.not_checked += merge(gaps)
    merged.findings.sort(key=lambda f: (f.file or "", f.line or 0, f.rule))
    merged.duration_s = time.perf_counter() - started
    return merged


def terraform_roots(path: Path) -> list[Path]:
    """``path`` and every directory under it holding ``.tf`` files (dot-directories skipped), sorted."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if any(f.endswith(".tf") for f in filenames):
            found.append(Path(dirpath))
    return found


def _under(prefix: str, file: str | None, root: Path) -> str | None:
    """A file as reported for ``root`` (relative to it), shown under ``prefix``."""
    if file is None:
        return None
    if root.is_file():  # a single .tf file as root: its findings name the file itself
        base = Path(prefix).parent if prefix else Path(".")
        return os.path.normpath(base / Path(file).name) if Path(file).name == root.name else file
    return os.path.normpath(Path(prefix) / file) if prefix else file


@rules_app.callback()
def rules_list(ctx: typer.Context,
               fmt: str = format_option(), as_json: bool = json_alias(),
               rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="also list the rules of this "
                                                     "directory (repeatable)")) -> int:
    """List every rule (id, severity, kind, title)."""
    if ctx.invoked_subcommand is not None:
        return ExitCode.OK
    as_json = wants_json(fmt, as_json)
    rules = all_rules() + load_rules_dirs(list(rules_dirs or []))
    if as_json:
        import json

        sys.stdout.write(json.dumps([{"id": r.id, "title": r.title, "severity": r.severity.value,
                                      "kind": r.kind.value, "resource_types": list(r.resource_types)}
                                     for r in rules], indent=2) + "\n")
        return ExitCode.OK
    from rich.table import Table

    from infraleash.surfaces.cli.tables import keep_whole, table_console

    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("id", "severity", "kind", "title"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.severity.value, r.kind.value, r.title)
    keep_whole(table, "id", "severity")
    console = table_console()
    console.print(table)
    console.print(f"{len(rules)} rules; `infraleash rules show ID` prints one rule's documentation")
    return ExitCode.OK


@rules_app.command("test")
def rules_test(directory: Path = typer.Argument(..., help="a rules directory (*.py, *.rego)")) -> int:
    """Run every rule's own examples: the failing one must fire at `fail`, the passing one stay silent."""
    rules = load_rules_dir(directory)
    if not rules:
        raise InputError("no rules here (*.py defining RULES, *.rego)", file=str(directory))
    failed = 0
    for rule in rules:
        problems = verify_examples(rule)
        failed += bool(problems)
        print(f"{'FAIL' if problems else 'ok  '}  {rule.id}: {rule.title}")
        for p in problems:
            print(f"      {p}")
    print(f"{len(rules) - failed} of {len(rules)} rule(s) pass their examples")
    return ExitCode.FINDINGS if failed else ExitCode.OK


@rules_app.command("input")
def rules_input(path: Path = typer.Argument(Path("."), help="the Terraform configuration directory")) -> int:
    """Print the JSON view of a configuration that Rego rules read as `input` (for writing rules)."""
    import json

    from infraleash.checks.config_view import config_json
    from infraleash.terraform.hcl import load_config

    require_configuration(path)
    sys.stdout.write(json.dumps(config_json(load_config(path)), indent=2, default=str) + "\n")
    return ExitCode.OK


@rules_app.command("show")
def rules_show(rule_id: str = typer.Argument(..., help="the rule id, e.g. TF-UNKNOWN-ARGUMENT"),
               rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="also look in this rules directory")
               ) -> int:
    """Print one rule's documentation: what it checks, why it matters, failing and passing examples."""
    custom = {r.id.upper(): r for r in load_rules_dirs(list(rules_dirs or []))}
    rule = get_rule(rule_id) or custom.get(rule_id.upper())
    if rule is None:
        from infraleash.terraform.schema import suggest

        close = suggest(rule_id.upper(), [r.id for r in all_rules()])
        hint = f" (did you mean {close}?)" if close else "; `infraleash rules` lists them"
        raise UsageError(f"no rule {rule_id!r}{hint}")
    out = [f"{rule.id}: {rule.title}", "",
           f"severity: {rule.severity.value}    kind: {rule.kind.value}",
           f"checks:   {', '.join(rule.resource_types) or 'the whole configuration'}", "",
           "Why it matters", f"  {rule.why}", "", "Failing example", _indent(rule.fail_example), "",
           "Passing example", _indent(rule.pass_example)]
    if rule.unknown_example:
        out += ["", "Unknown (not decidable statically)", _indent(rule.unknown_example)]
    if rule.example_policy:
        out += ["", "With this policy (infraleash.yaml)", _indent(rule.example_policy)]
    if rule.checkov_ids:
        out += ["", f"Checkov equivalent: {', '.join(rule.checkov_ids)}"]
    if rule.references:
        out += ["", "References", *[f"  {r}" for r in rule.references]]
    sys.stdout.write("\n".join(out) + "\n")
    return ExitCode.OK


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())
