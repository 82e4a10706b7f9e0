"""The agent's built-in tools, all behind the gate (see :mod:`infraleash.agent.guarded`).

    tools = builtin_tools(Workspace(Path("infra")), policy)
    toolset = GuardedToolset(tools, gate_session)

* workspace files: ``read_file``, ``list_files``, ``search_files`` (read) and
  ``write_file`` (write, only inside the workspace: absolute paths, ``..``
  and symlinks that lead out are refused, and so are ``.infraleash/`` (approvals,
  audit, runs), ``.git/``, ``.terraform/`` and Terraform state files);
* terraform: ``terraform_init``, ``terraform_fmt``, ``terraform_validate``,
  ``terraform_plan``, ``terraform_show`` and the generic ``terraform`` (any
  subcommand: the gate decides, e.g. ``apply tfplan`` is held for a human);
  every path argument must stay in the workspace
  (:mod:`infraleash.agent.terraform_paths`), and values Terraform marks
  sensitive are masked in the output (:mod:`infraleash.terraform.sensitive_output`);
* ``kubectl``: read verbs only, ``get`` always with ``-o json``;
* analysis: ``check`` (static checks), ``review`` (static checks + plan
  risk), ``logs`` (template mining, anomalies, timeline), ``provider_schema``.

Tools whose module is missing from this installation are left out rather than
offered broken.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.function_tools import command_tool, function_tool
from infraleash.agent.guarded import AgentTool
from infraleash.agent.terraform_paths import check_file_reads, confine_path, confine_terraform_args
from infraleash.gate.model import Effect, GateContext
from infraleash.policy import Policy
from infraleash.tools import tool

HIDDEN_DIRS = {".infraleash", ".git", ".terraform"}
STATE_FILE = re.compile(r"\.tfstate(\.backup)?$|^terraform\.tfstate\.d$")
MAX_READ_LINES = 2000
MAX_READ_CHARS = 200_000
MAX_LIST = 500
MAX_MATCHES = 200
KUBECTL_READ_VERBS = ("get", "describe", "logs", "events", "top", "explain", "api-resources")


@dataclass
class Workspace:
    """The directory the agent works in, and what it has written there (the planner's checkpoints read it)."""

    root: Path
    written: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    def resolve(self, rel: str, *, writing: bool = False) -> Path:
        """``rel`` inside the workspace, symlinks followed; refuse anything that leads out or into our files."""
        if not rel or "\x00" in rel:
            raise ToolMistake("a path is required")
        candidate = Path(rel)
        if candidate.is_absolute():
            raise ToolMistake(f"{rel}: use a path relative to the workspace root, not an absolute path")
        target = (self.root / candidate).resolve()
        if not target.is_relative_to(self.root):
            raise ToolMistake(f"{rel}: outside the workspace (it resolves to {target}); only files under "
                              f"{self.root} can be {'written' if writing else 'read'}")
        inner = target.relative_to(self.root).parts
        if any(part in HIDDEN_DIRS for part in inner):
            raise ToolMistake(f"{rel}: {'/'.join(p for p in inner if p in HIDDEN_DIRS)} is off limits to the "
                              "agent (approvals, audit, runs, git and provider internals)")
        if inner and STATE_FILE.search(inner[-1]):
            raise ToolMistake(f"{rel}: Terraform state is off limits (it holds secrets; state changes need a "
                              "human's approval through the gate)")
        if writing and inner and inner[-1] == ".terraform.lock.hcl":
            raise ToolMistake(f"{rel}: the provider lock file is Terraform's (its hashes decide which provider "
                              "binaries may run); change it with `terraform init -upgrade` through the gate")
        return target

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root)) or "."

    def walk(self, start: Path) -> list[Path]:
        out: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in HIDDEN_DIRS)
            out += [Path(dirpath) / f for f in sorted(filenames) if not STATE_FILE.search(f)]
        return out

    def chdir_arg(self, directory: str) -> str:
        target = self.resolve(directory or ".")
        if not target.is_dir():
            raise ToolMistake(f"{directory}: not a directory in the workspace")
        return f"-chdir={target}"


def file_tools(ws: Workspace) -> list[AgentTool]:
    @tool(effect=Effect.READ)
    def read_file(path: str, start_line: int = 1, end_line: int | None = None) -> str:
        """Read a text file in the workspace, with line numbers.

        Args:
            path: file path relative to the workspace root
            start_line: first line to return (1-based)
            end_line: last line to return, inclusive (default: up to 2000 lines)
        """
        target = ws.resolve(path)
        if not target.is_file():
            raise ToolMistake(f"{path}: no such file in the workspace")
        try:
            lines = target.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise ToolMistake(f"{path}: not a UTF-8 text file") from None
        first = max(start_line, 1)
        last = min(end_line or first + MAX_READ_LINES - 1, len(lines), first + MAX_READ_LINES - 1)
        body = "\n".join(f"{n:>5}  {lines[n - 1]}" for n in range(first, last + 1))
        if len(body) > MAX_READ_CHARS:
            body = body[:MAX_READ_CHARS]
            last = first + body.count("\n")
        note = f"\n[lines {first}-{last} of {len(lines)}; ask for start_line={last + 1} for more]" \
            if last < len(lines) else ""
        return body + note

    @tool(effect=Effect.READ)

    def list_files(path: str = ".", pattern: str = "*") -> str:
        """List files under a workspace directory (recursively), one relative path per line.

        Args:
            path: directory relative to the workspace root
            pattern: shell glob matched against each file name, e.g. *.tf
        """
        start = ws.resolve(path)
        if not start.is_dir():
            raise ToolMistake(f"{path}: not a directory in the workspace")
        files = [ws.rel(p) for p in ws.walk(start) if fnmatch.fnmatch(p.name, pattern)]
        more = f"\n[{len(files) - MAX_LIST} more not shown; narrow the path or pattern]" \
            if len(files) > MAX_LIST else ""
        return "\n".join(files[:MAX_LIST]) + more if files else "(no files)"

    @tool(effect=Effect.READ)

    def search_files(regex: str, path: str = ".", pattern: str = "*") -> str:
        """Search workspace files for a regular expression; answers file:line: text.

        Args:
            regex: Python regular expression searched in each line
            path: directory relative to the workspace root
            pattern: shell glob on file names, e.g. *.tf
        """
        try:
            rx = re.compile(regex)
        except re.error as e:
            raise ToolMistake(f"regex {regex!r}: {e}") from None
        hits: list[str] = []
        for p in ws.walk(ws.resolve(path)):
            if not fnmatch.fnmatch(p.name, pattern):
                continue
            try:
                text = p.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            hits += [f"{ws.rel(p)}:{n}: {line.strip()[:300]}"
                     for n, line in enumerate(text.splitlines(), 1) if rx.search(line)]
            if len(hits) > MAX_MATCHES:
                break
        more = f"\n[stopped at {MAX_MATCHES} matches]" if len(hits) > MAX_MATCHES else ""
        return "\n".join(hits[:MAX_MATCHES]) + more if hits else "(no matches)"

    @tool(effect=Effect.WRITE)

    def write_file(path: str, content: str) -> str:
        """Create or overwrite a text file inside the workspace.

        Args:
            path: file path relative to the workspace root (parent directories are created)
            content: the complete new content of the file
        """
        target = ws.resolve(path, writing=True)
        if target.is_dir():
            raise ToolMistake(f"{path}: is a directory")
        check_file_reads(ws, target, content)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        ws.written.append(ws.rel(target))
        return f"wrote {ws.rel(target)} ({len(content.encode())} bytes, {content.count(chr(10)) + 1} lines)"

    return [function_tool(read_file), function_tool(list_files),
            function_tool(search_files), function_tool(write_file)]


def terraform_tools(ws: Workspace) -> list[AgentTool]:
    @tool(effect=Effect.PLAN)
    def terraform_init(dir: str = ".") -> list[str]:
        """Run `terraform init` in a workspace directory (providers from the configured mirror).

        Args:
            dir: Terraform root module directory relative to the workspace
        """
        return ["terraform", ws.chdir_arg(dir), "init", "-input=false", "-no-color"]

    @tool(effect=Effect.WRITE)

    def terraform_fmt(dir: str = ".") -> list[str]:
        """Format the .tf files of a directory with `terraform fmt`.

        Args:
            dir: directory relative to the workspace
        """
        return ["terraform", ws.chdir_arg(dir), "fmt", "-no-color"]

    @tool(effect=Effect.PLAN)

    def terraform_validate(dir: str = ".") -> list[str]:
        """Run `terraform validate` (needs terraform_init first).

        Args:
            dir: Terraform root module directory relative to the workspace
        """
        return ["terraform", ws.chdir_arg(dir), "validate", "-no-color"]

    @tool(effect=Effect.PLAN)

    def terraform_plan(dir: str = ".", out: str = "tfplan") -> list[str]:
        """Run `terraform plan -out FILE`: shows what would change, changes nothing.

        Args:
            dir: Terraform root module directory relative to the workspace
            out: the saved plan file name, in that directory
        """
        chdir = ws.chdir_arg(dir)
        confine_path(ws, ws.resolve(dir or "."), out, f"out={out}")
        return ["terraform", chdir, "plan", "-input=false", "-no-color", f"-out={out}"]

    @tool(effect=Effect.READ)

    def terraform_show(dir: str = ".", plan_file: str = "tfplan") -> list[str]:
        """Show a saved plan in readable form with `terraform show`.

        Args:
            dir: Terraform root module directory relative to the workspace
            plan_file: the saved plan file, relative to dir
        """
        chdir = ws.chdir_arg(dir)
        confine_path(ws, ws.resolve(dir or "."), plan_file, f"plan_file={plan_file}")
        return ["terraform", chdir, "show", "-no-color", plan_file]

    @tool(effect=Effect.DESTRUCTIVE)

    def terraform(args: list[str], dir: str = ".") -> list[str]:
        """Run any other terraform subcommand; the gate decides (apply of a saved plan waits for a named human; destroy, state changes and unsaved applies are refused). Path arguments must stay in the workspace; values Terraform marks sensitive come back as "(sensitive)".

        Args:
            args: the arguments after `terraform`, e.g. ["apply", "tfplan"] or ["output", "-json"]
            dir: Terraform root module directory relative to the workspace
        """
        chdir = ws.chdir_arg(dir)
        return ["terraform", chdir, *confine_terraform_args(ws, ws.resolve(dir or "."), args)]

    return [command_tool(terraform_init), command_tool(terraform_fmt),
            command_tool(terraform_validate), command_tool(terraform_plan),
            command_tool(terraform_show), command_tool(terraform)]


def kubectl_tools() -> list[AgentTool]:
    @tool(effect=Effect.READ)
    def kubectl(verb: str, resource: str = "", name: str = "", namespace: str = "", all_namespaces: bool = False,
                context: str = "", extra: list[str] | None = None) -> list[str]:
        """Read from a Kubernetes cluster with kubectl (get, describe, logs, events, top, explain, api-resources); `get` returns JSON.

        Args:
            verb: one of get, describe, logs, events, top, explain, api-resources
            resource: resource type (pods, deployments, nodes, ...) or, for logs, the pod
            name: a resource name
            namespace: the namespace
            all_namespaces: all namespaces (-A)
            context: the kube context to use
            extra: further flags, e.g. ["--tail=200"] or ["-l", "app=web"]
        """
        if verb not in KUBECTL_READ_VERBS:
            raise ToolMistake(f"kubectl {verb}: this tool only reads ({', '.join(KUBECTL_READ_VERBS)}); "
                              "changes to a cluster are for a human")
        argv = ["kubectl", verb, *(x for x in (resource, name) if x)]
        if namespace:
            argv += ["-n", namespace]
        if all_namespaces:
            argv.append("-A")
        if context:
            argv += ["--context", context]
        argv += list(extra or [])
        if verb == "get" and not any(a in ("-o", "--output") or a.startswith(("-o=", "--output=")) for a in argv):
            argv += ["-o", "json"]
        return argv

    return [command_tool(kubectl)]


def analysis_tools(ws: Workspace, policy: Policy, context: GateContext,
                   env: dict[str, str] | None = None) -> list[AgentTool]:
    tools: list[AgentTool] = []

    def _available(module: str) -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    if _available("infraleash.checks.engine"):
        @tool(effect=Effect.READ)
        def check(dir: str = ".") -> Any:
            """Run infraleash's static checks (hallucinated resources/arguments, security, modules, pins, conventions) on a directory; answers the findings.

            Args:
                dir: directory relative to the workspace
            """
            from infraleash.checks.engine import run_checks

            report = run_checks(ws.resolve(dir), policy)
            return [f.model_dump(mode="json", exclude_defaults=True) for f in report.findings] or "no findings"

        tools.append(function_tool(check))

    if _available("infraleash.review"):
        @tool(effect=Effect.READ)
        def review(dir: str = ".", plan_json: str | None = None) -> Any:
            """Review a change: static checks plus, given `terraform show -json` output saved to a file, plan risk; answers a verdict with findings.

            Args:
                dir: Terraform directory relative to the workspace
                plan_json: a plan JSON file (from `terraform show -json`), relative to the workspace
            """
            from infraleash.review import review as run_review

            plan = ws.resolve(plan_json) if plan_json else None
            return run_review(ws.resolve(dir), policy, plan_file=plan, run_plan=False, env=env, context=context)

        tools.append(function_tool(review))

    if _available("infraleash.logs.analysis"):
        @tool(effect=Effect.READ)
        def logs(paths: list[str]) -> Any:
            """Analyze log files: templates with counts, anomalies (bursts, new templates, error rates), correlations and a timeline.

            Args:
                paths: log files relative to the workspace
            """
            from infraleash.logs.analysis import analyze

            return analyze([ws.resolve(p) for p in paths])

        tools.append(function_tool(logs))

    if _available("infraleash.terraform.schema"):
        tools.append(provider_schema_tool(ws))
    return tools


def describe_block(block: Any, depth: int = 0) -> dict[str, Any]:
    """A schema block as the model needs it: which arguments are required/optional, which are read-only."""
    attrs = block.attributes.values()
    out: dict[str, Any] = {
        "required": sorted(a.name for a in attrs if a.required),
        "optional": sorted(a.name for a in attrs if a.optional),
        "read_only": sorted(a.name for a in attrs if a.computed and not a.optional and not a.required),
    }
    deprecated = sorted(a.name for a in attrs if a.deprecated)
    if deprecated:
        out["deprecated"] = deprecated
    if block.block_types:
        out["blocks"] = {name: ({"nesting": bt.nesting, "min_items": bt.min_items, **describe_block(bt.block, depth + 1)}
                                if depth < 2 else {"nesting": bt.nesting})
                         for name, bt in sorted(block.block_types.items())}
    return out


def provider_schema_tool(ws: Workspace) -> AgentTool:
    @tool(effect=Effect.READ)
    def provider_schema(type_name: str, attribute: str = "", kind: str = "resource", dir: str = ".") -> Any:
        """What a resource or data source takes in the pinned provider, and for AWS resources the same facts as `infraleash explain` (does a change replace it, reboot it, which rules concern it); look it up instead of guessing.

        Args:
            type_name: e.g. aws_db_instance
            attribute: one argument or nested block, e.g. instance_class (default: the whole type)
            kind: resource or data
            dir: Terraform directory whose provider versions apply (default: the bundled AWS provider schema)
        """
        from infraleash.errors import UsageError
        from infraleash.paperwork.explain import attribute_facts, type_facts
        from infraleash.terraform.schema import AWS_SOURCE, load_schemas

        if kind not in ("resource", "data"):
            raise ToolMistake(f"kind {kind!r}: expected resource or data")
        schemas = load_schemas(ws.resolve(dir), use_terraform=False)
        block = schemas.resource(type_name) if kind == "resource" else schemas.data_source(type_name)
        if block is None:
            hint = schemas.suggest_resource(type_name) if kind == "resource" else schemas.suggest_data_source(type_name)
            raise ToolMistake(f"the provider has no {kind} type {type_name!r}" +
                              (f"; did you mean {hint!r}?" if hint else ""))
        provider = schemas.provider_for(type_name)
        explained = provider is not None and provider.source == AWS_SOURCE and kind == "resource"
        if attribute:
            if provider is None or not explained:
                nested = describe_block(block)
                raise ToolMistake(f"attribute facts are known for AWS resources only; {type_name} takes "
                                  f"{', '.join(nested['required'] + nested['optional'])}")
            try:
                return attribute_facts(provider, type_name, block, attribute)
            except UsageError as e:
                raise ToolMistake(str(e)) from None
        out: dict[str, Any] = {"type": type_name, "kind": kind,
                               "provider": f"{provider.name} {provider.version}" if provider else None,
                               **describe_block(block)}
        if provider is not None and explained:
            out["facts"] = type_facts(provider, type_name, block)
        return out

    return function_tool(provider_schema)


def builtin_tools(ws: Workspace, policy: Policy, context: GateContext | None = None,
                  env: dict[str, str] | None = None, *, read_only: bool = False) -> list[AgentTool]:
    """Every built-in tool; with ``read_only`` only those that declare the read effect."""
    tools = [*file_tools(ws), *terraform_tools(ws), *kubectl_tools(),
             *analysis_tools(ws, policy, context or GateContext(), env)]
    return [t for t in tools if t.effect is Effect.READ] if read_only else tools
