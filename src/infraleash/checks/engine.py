"""Run the static checks over a directory of Terraform and report findings.

    report = run_checks(Path("infra/"), policy)
    report.findings            # Finding objects, suppressed ones marked (finding.suppressed = reason)
    report.failing("high")     # active findings at or above a severity

Order of work: load the configuration (:func:`~infraleash.terraform.hcl.load_config`),
turn unreadable files into INPUT findings, run the configuration-level checks
(hallucinations against the provider schema, provider constraints, module sources),
run each per-resource :class:`~infraleash.checks.rule.Rule` on the resources whose type
it names (``data.<type>`` in ``resource_types`` selects data sources; resources with a
known ``count = 0`` are skipped; a resource evaluated per instance is checked per instance),
attach module calls to findings inside modules (:mod:`~infraleash.checks.module_calls`), then
apply suppressions.

A rule that raises is a bug in that rule: it becomes an UNKNOWN finding naming the
exception and is listed in ``report.errors`` (the CLI exits 70), never swallowed.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infraleash.checks import (
    coverage,
    custom_rules,
    hallucination,
    module_calls,
    modules,
    providers,
    suppressions,
)
from infraleash.checks.registry import builtin_rules
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.errors import InputError
from infraleash.findings import Finding, Kind, Outcome, Severity
from infraleash.terraform import hcl_budget, path_facts
from infraleash.terraform.config import Block, Config, ParseProblem
from infraleash.terraform.hcl import load_config
from infraleash.terraform.hcl_parse import _parser
from infraleash.terraform.schema import SchemaSet, bundled_aws, load_schemas

if TYPE_CHECKING:  # the policy model (pydantic) is loaded only when a policy file is: see policy_defaults.py
    from infraleash.policy import Policy

PARSE_RULE = "TF-PARSE-ERROR"
RULE_ERROR = "IL-RULE-ERROR"
_INPUT_RULES = (hcl_budget.RULE_ID, hcl_budget.FILE_RULE_ID)  # what the evaluator refused (terraform/hcl_budget.py)


@dataclass
class CheckReport:
    root: str
    findings: list[Finding] = field(default_factory=list)
    files_checked: list[str] = field(default_factory=list)
    parse_problems: list[Any] = field(default_factory=list)  # ParseProblem
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)  # which schemas were used, what was not available
    errors: list[str] = field(default_factory=list)  # rules that crashed (bugs)
    not_checked: list[dict[str, Any]] = field(default_factory=list)  # what could not be evaluated (coverage.py)
    rules_run: int = 0
    resources_checked: int = 0
    config: Config | None = field(default=None, repr=False)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is None]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is not None]

    def failing(self, severity: Severity | str) -> list[Finding]:
        """Active, failed (not unknown) findings at or above ``severity``."""
        sev = Severity(severity)
        return [f for f in self.active if f.outcome is Outcome.FAIL and f.severity.at_least(sev)]

    def summary(self) -> dict[str, Any]:
        by_sev: dict[str, int] = defaultdict(int)
        by_kind: dict[str, int] = defaultdict(int)
        for f in self.active:
            if f.outcome is Outcome.FAIL:
                by_sev[f.severity.value] += 1
                by_kind[f.kind.value] += 1
        return {
            "root": self.root,
            "files_checked": len(self.files_checked),
            "resources_checked": self.resources_checked,
            "rules_run": self.rules_run,
            "findings": sum(by_sev.values()),
            "unknown": sum(1 for f in self.active if f.outcome is Outcome.UNKNOWN),
            "suppressed": len(self.suppressed),
            "parse_problems": len(self.parse_problems),
            "by_severity": {s.value: by_sev.get(s.value, 0) for s in reversed(list(Severity))},
            "by_kind": dict(sorted(by_kind.items())),
            "duration_s": round(self.duration_s, 3),
            "notes": self.notes,
            "errors": self.errors,
            "not_checked": self.not_checked,
        }


def run_checks(path: Path, policy: Policy | None, *, rules: Iterable[Rule] | None = None,
               schemas: SchemaSet | None = None, use_terraform: bool = True, defer: bool = False) -> CheckReport:
    """Check a directory (or one file) against the rules and the policy (``None``: the default policy, read
    from :mod:`infraleash.policy_defaults` without loading the policy model).

    ``defer``: the bodies no check reads (variables, outputs, and resources and data sources of a type with no
    rule and no schema: helm_release, kubernetes_*, random_* ...) are evaluated only if something reads them
    (:func:`~infraleash.terraform.hcl.load_config`'s ``defer``), for ``check``'s speed.  The findings are the
    same, but for a value past an evaluation limit in such a block: it is never computed, so never refused
    (``HCL-EVAL-BUDGET`` comes only where a value was needed; a file function's refusal always comes, as what
    calls one is evaluated at once).  ``report.config`` holds such blocks unevaluated until read.  Only with
    infraleash's own rules: the org's (Python, Rego) may read any block.
    """
    with relaxed_gc():
        return _run_checks(path, policy, rules, schemas, use_terraform, defer)


@contextlib.contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect cyclic garbage less often while parse trees are built (as mypy does).

    A parse allocates hundreds of thousands of long-lived nodes; with the default
    thresholds the collector re-scans them over and over (~20% of a check's time).
    Nothing here makes cycles worth collecting early.  The old thresholds are restored.
    """
    old = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _run_checks(path: Path, policy: Policy | None, rules: Iterable[Rule] | None, schemas: SchemaSet | None,
                use_terraform: bool, defer: bool = False) -> CheckReport:
    started = time.perf_counter()
    where = Path(path)  # once: each Path() of a Path parses it again (report.root stays str(path))
    selected = _selection(tuple(rules) if rules is not None else custom_rules.rules_for(policy))
    if schemas is None:
        if os.path.isdir(where):  # os.path: no Path made for the stat
            root = where
        elif os.path.exists(where):
            root = where.parent
        else:
            raise InputError("no such file or directory", file=str(where))
        schemas = load_schemas(root, use_terraform=use_terraform)
    unread = _unread_types(selected, schemas) if defer and rules is None and selected.rules is builtin_rules() \
        else None
    config = load_config(where, defer=unread)
    report = CheckReport(root=str(path), files_checked=list(config.files), parse_problems=list(config.problems),
                         notes=list(schemas.notes), rules_run=len(selected.rules), config=config,
                         resources_checked=len(config.resources) + len(config.data))
    findings = _input_findings(config.problems)
    config_level: list[Finding] = []
    config_level += hallucination.check(config, schemas)
    config_level += providers.check(config, policy, schemas)
    config_level += modules.check(config, policy)
    config_level += module_calls.not_evaluated(config)
    findings += [f for f in config_level if rules is None or f.rule in selected.ids]
    findings += _run_resource_rules(config, policy, selected.table, report)
    findings += _run_config_rules(config, policy, selected.config_rules, report)
    if len(config.problems) > len(report.parse_problems):  # a deferred block a check read refused something
        late = config.problems[len(report.parse_problems):]
        report.parse_problems += late
        findings += _input_findings(late)
    report.not_checked = coverage.not_checked(config, schemas, selected.rules) + \
        custom_rules.refused_python_rules(policy)
    findings = module_calls.locate(findings, config)
    third_party = [f for f in findings if f.kind is Kind.HALLUCINATION and "inside" in f.details]
    if third_party:  # schema findings inside a registry/git module are its maintainers', not the author's
        report.notes.append(f"{len(third_party)} schema finding(s) inside installed modules not reported: "
                            "third-party code, written against its own provider versions")
        findings = [f for f in findings if not (f.kind is Kind.HALLUCINATION and "inside" in f.details)]
    findings = suppressions.apply(findings, config, policy)
    if rules is not None:
        findings = [f for f in findings if f.rule in selected.ids or f.rule in (PARSE_RULE, RULE_ERROR, *_INPUT_RULES)]
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.rule))
    report.findings = findings
    report.duration_s = time.perf_counter() - started
    return report


def _input_findings(problems: Iterable[ParseProblem]) -> list[Finding]:
    """What the loader could not read or refused to evaluate, as findings."""
    return [Finding(rule=p.rule or PARSE_RULE, kind=Kind.INPUT, severity=Severity.HIGH, message=p.message,
                    file=p.file, line=p.line) for p in problems]


def _unread_types(selected: _Selection, schemas: SchemaSet) -> Callable[[str, str], bool]:
    """(kind, type) -> no check reads the body of such a block unless it needs it: a resource or data source with no
    rule for its type and no schema for its provider, a variable (a check reads the few it follows a value to), an
    output (the checks read their names)."""
    table, providers = selected.table, schemas.providers

    def unread(kind: str, type_: str) -> bool:
        if kind in ("variable", "output"):
            return True
        return (type_ if kind == "resource" else f"data.{type_}") not in table and \
            providers.get(type_.split("_", 1)[0]) is None
    return unread


MIN_ROOTS_PER_WORKER = 4  # below this a worker process costs more than it saves


def run_checks_many(paths: Sequence[Path], policy: Policy | None, *, workers: int | None = None,
                    use_terraform: bool = True, on_done: Callable[[int], None] | None = None,
                    idle: Callable[[], None] | None = None,
                    each: Callable[[int, CheckReport], CheckReport] | None = None,
                    defer: bool = False) -> list[CheckReport]:
    """Check several root modules (every directory of a monorepo), each as :func:`run_checks` would.

    With ``workers`` > 1 (default: one per core, ``$INFRALEASH_WORKERS`` overrides, and
    never more than one per ``MIN_ROOTS_PER_WORKER`` roots) the roots are shared out over
    forked worker processes in contiguous runs, and a worker done with its run takes over
    half of another's (:mod:`~infraleash.checks.workers`): neighbouring roots tend to call
    the same local modules, which a worker then parses once.  Each worker parses and
    evaluates its roots and sends back only the reports (without ``config``), so nothing
    large crosses a process boundary.  Reports come back in the order of ``paths``; findings are the same
    as in one process.  ``on_done(n)`` is told as each ``n`` more roots are checked (progress).  ``idle()`` is
    called once while the last workers finish (a core is free: the caller's next imports), never in one process.
    ``each(i, report)`` is applied to the report of ``paths[i]`` where it is made, in its worker (the caller's
    per-root rewriting then runs in parallel, not after every worker): its result is what is returned.
    ``defer`` as for :func:`run_checks`.
    """
    roots = [Path(p) for p in paths]
    n = _worker_count(workers, len(roots))
    # what survives a root (the parse cache later roots reuse, the reports) is frozen after it (gc.freeze), so the
    # collections during the next roots do not traverse it again: on the corpus a worker's one collection spent
    # 42 ms (6% of its time) walking it to find 29 objects of garbage.  Unfrozen at the end, unless this process
    # had frozen objects of its own (gc.unfreeze would release those too; then roots are not frozen here)
    own_freeze = gc.get_freeze_count() == 0
    with relaxed_gc(), path_facts.shared():  # the roots share resolved directories and git work trees
        if n <= 1:
            try:
                return _check_chunk(roots, policy, use_terraform, on_done, each, defer, settle=own_freeze)
            finally:
                if own_freeze:
                    gc.unfreeze()
        _parser()  # loaded once here, inherited by every worker: the grammar, the schema index, the rules
        bundled_aws()
        custom_rules.rules_for(policy)
        global _inherited
        _inherited = (policy, use_terraform, roots, each, defer)  # the workers inherit it with the fork: nothing to pickle
        gc.freeze()  # the inherited objects stay out of the workers' collections (no copy-on-write churn)
        try:
            # imported here: only several roots need them (the start-up of a one-root check does not pay for them)
            from infraleash.checks.root_order import for_workers
            from infraleash.checks.workers import share_out

            order, weights, cut_costs = for_workers(roots)
            done = share_out(_check_inherited, order, weights, n, on_done, cut_costs, idle)
            reports: list[CheckReport] = [None] * len(roots)  # type: ignore[list-item]  # all set below
            for report, i in zip(done, order, strict=True):
                reports[i] = report
            return reports
        finally:
            if own_freeze:
                gc.unfreeze()
            _inherited = None


_inherited: tuple[Policy | None, bool, list[Path], Callable[[int, CheckReport], CheckReport] | None, bool] | None = None


def _check_inherited(i: int) -> CheckReport:
    """The report of the ``i``-th root (in a worker forked by ``run_checks_many``)."""
    assert _inherited is not None, "run in a worker forked by run_checks_many"
    policy, use_terraform, roots, each, defer = _inherited
    report = _detached(run_checks(roots[i], policy, use_terraform=use_terraform, defer=defer))
    report = each(i, report) if each is not None else report
    gc.freeze()  # a worker's own process: what survived this root stays out of its next collections (it exits)
    return report


def _worker_count(requested: int | None, roots: int) -> int:
    if requested is None:
        env = os.environ.get("INFRALEASH_WORKERS", "")
        requested = int(env) if env.isdigit() else (os.cpu_count() or 1)
    if requested <= 1 or roots < 2 * MIN_ROOTS_PER_WORKER:
        return 1
    import threading

    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1  # forking a process that runs other threads can deadlock the child
    return max(1, min(requested, roots // MIN_ROOTS_PER_WORKER))


def _check_chunk(roots: list[Path], policy: Policy | None, use_terraform: bool,
                 on_done: Callable[[int], None] | None = None,
                 each: Callable[[int, CheckReport], CheckReport] | None = None,
                 defer: bool = False, *, settle: bool = False) -> list[CheckReport]:
    """The reports of ``roots`` in this process; ``settle``: freeze what survived each root (see run_checks_many)."""
    reports = []
    for i, root in enumerate(roots):
        report = _detached(run_checks(root, policy, use_terraform=use_terraform, defer=defer))
        reports.append(each(i, report) if each is not None else report)
        if settle:
            gc.freeze()
        if on_done is not None:
            on_done(1)
    return reports


def _detached(report: CheckReport) -> CheckReport:
    report.config = None
    return report


@dataclass(frozen=True)
class _Selection:
    """What the engine derives from a selection of rules: worked out once per selection, not per root."""

    rules: tuple[Rule, ...]
    ids: frozenset[str]
    table: dict[str, list[Rule]]  # resource type (``data.<type>`` for data sources) -> the rules that check it
    config_rules: tuple[Rule, ...]  # those with a ``config_check``


_last_selection: _Selection | None = None


def _selection(rules: tuple[Rule, ...]) -> _Selection:
    """The selection of ``rules``, remembered for the last tuple (recognised by identity).

    Every root of a run checks the same tuple (:func:`~infraleash.checks.registry.builtin_rules`);
    reading its ~80 rules again for each root cost tens of microseconds of cache misses after
    each configuration's parse.  A tuple (of frozen rules) cannot change, so identity is enough.
    """
    global _last_selection
    last = _last_selection
    if last is not None and last.rules is rules:
        return last
    table: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        for t in rule.resource_types:
            table[t].append(rule)
    last = _last_selection = _Selection(rules, frozenset(r.id for r in rules), dict(table),
                                        tuple(r for r in rules if r.config_check is not None))
    return last


def _crash(rule: Rule, e: Exception, where_checked: str, report: CheckReport) -> str:
    where = traceback.extract_tb(e.__traceback__)[-1]
    msg = f"{rule.id} crashed on {where_checked}: {type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno})"
    report.errors.append(msg)
    return msg


def _finding_of(rule: Rule, result: Result, block: Block | None) -> Finding:
    target = result.block or block
    if target is None:
        details = dict(result.details)
        return Finding(rule=rule.id, kind=rule.kind, severity=rule.severity, message=result.message,
                       outcome=result.outcome, file=details.pop("file", None), line=details.pop("line", None),
                       details=details)
    line = target.line_of(result.attribute) if result.attribute else target.line
    details = {"attribute": result.attribute, **result.details} if result.attribute else dict(result.details)
    return Finding(rule=rule.id, kind=rule.kind, severity=rule.severity, message=result.message,
                   file=target.file_of(result.attribute) if result.attribute else target.file, line=line,
                   address=target.instance_address, outcome=result.outcome,
                   details=details)


def _run_config_rules(config: Config, policy: Policy | None, rules: Sequence[Rule],
                      report: CheckReport) -> list[Finding]:
    """Rules over the whole configuration (``Rule.config_check``): Rego rules, an org's cross-resource rules."""
    ctx = CheckContext(config=config, policy=policy)
    out: list[Finding] = []
    for rule in rules:
        if rule.config_check is None:
            continue
        try:
            results = list(rule.config_check(ctx))
        except Exception as e:  # a bug in the rule: surface it, keep checking the rest
            msg = _crash(rule, e, "the configuration", report)
            out.append(Finding(rule=rule.id, kind=rule.kind, severity=rule.severity, outcome=Outcome.UNKNOWN,
                               message=f"rule error, result unknown: {type(e).__name__}: {e}",
                               details={"error": msg}))
            continue
        out += [_finding_of(rule, r, None) for r in results]
    return out


def _run_resource_rules(config: Config, policy: Policy | None, table: dict[str, list[Rule]],
                        report: CheckReport) -> list[Finding]:
    """Each rule of ``table`` (resource type -> rules) on each resource, data source or instance of its types."""
    if not table:
        return []
    ctx = CheckContext(config=config, policy=policy)
    out: list[Finding] = []
    targets = [(i, b.type) for b in config.resources for i in (b.instance_blocks or [b])] + \
        [(b, f"data.{b.type}") for b in config.data]
    for block, key in targets:
        if block.instances == 0:
            continue  # count = 0: never created
        for rule in table.get(key, ()):
            try:
                results = list(rule.check(block, ctx))
            except Exception as e:  # a bug in the rule: surface it, keep checking the rest
                msg = _crash(rule, e, block.address, report)
                out.append(Finding(rule=rule.id, kind=rule.kind, severity=rule.severity, outcome=Outcome.UNKNOWN,
                                   message=f"rule error, result unknown: {type(e).__name__}: {e}", file=block.file,
                                   line=block.line, address=block.address, details={"error": msg}))
                continue
            out += [_finding_of(rule, result, block) for result in results]
    return out


# --------------------------------------------------------------------------- rule examples

_FILE_MARKER = "# file: "


def example_files(text: str) -> dict[str, str]:
    """Split an example into files: lines ``# file: NAME`` start a new file (default ``main.tf``)."""
    files: dict[str, list[str]] = {}
    current = "main.tf"
    for line in text.splitlines(keepends=True):
        if line.startswith(_FILE_MARKER):
            current = line[len(_FILE_MARKER):].strip()
            files.setdefault(current, [])
            continue
        files.setdefault(current, []).append(line)
    return {name: "".join(lines) for name, lines in files.items()}


def check_example(rule: Rule, hcl_text: str, policy: Policy | None = None) -> list[Finding]:
    """Run one rule over an example (as files on disk, like a user's) and return its findings.

    The example's policy is ``policy``, else the rule's ``example_policy`` YAML when it has one.
    """
    import tempfile

    if policy is None:
        yaml_text = getattr(rule, "example_policy", None)
        if yaml_text:
            from infraleash.policy import parse_policy

            policy = parse_policy(yaml_text, f"{rule.id} example policy")
    with tempfile.TemporaryDirectory(prefix="infraleash-example-") as tmp:
        root = Path(tmp)
        for name, content in example_files(hcl_text).items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        report = run_checks(root, policy, rules=[rule], use_terraform=False)
    return [f for f in report.findings if f.rule == rule.id]
