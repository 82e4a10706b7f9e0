"""``infraleash doctor kube-identity``: is the Kubernetes identity the agent runs with read-only, without Secrets?

Runs ``kubectl auth can-i --list`` through the gate (decided, audited, sandboxed, with the runner
configuration's kubeconfig) and flags every rule that grants get/list/watch on Secrets or any verb
beyond get/list/watch (:mod:`infraleash.gate.kube_identity`).

Exit codes: 0 read-only and no Secret access; 1 risky rules found (listed); 2 kubectl could not
answer (no cluster, no credentials: its message is shown) or its output was not the expected table;
4 the gate refused to run it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

from infraleash.errors import ExecutionError, ExitCode, InputError
from infraleash.gate.executor import Outcome, execute
from infraleash.gate.kube_identity import CanIParseError, parse_can_i_list, risky_rules
from infraleash.gate.model import Action, GateContext
from infraleash.surfaces.cli.exec_cmd import (
    RUNNER_CONFIG_HELP,
    default_actor,
    exec_workspace,
    gate_setup,
    print_result,
)
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json

doctor_app = typer.Typer(help="Check that the identities the agent runs with are as narrow as they should be.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(doctor_app, name="doctor")


@doctor_app.command("kube-identity")
def kube_identity(
    kube_context: str = typer.Option(None, "--kube-context", help="the context to check (default: the current one)"),
    namespace: str = typer.Option(None, "--namespace", "-n", help="the namespace to check (default: the context's)"),
    policy: Path = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)"),
    runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
) -> int:
    """Flag RBAC rules of the agent's Kubernetes identity that read Secrets or do more than get/list/watch."""
    as_json = wants_json(fmt, as_json)
    setup = gate_setup(policy, runner_config)
    argv = ["kubectl", "auth", "can-i", "--list"]
    if namespace:
        argv.append(f"--namespace={namespace}")
    action = Action(argv=argv, cwd=str(Path.cwd()), env=dict(os.environ), requester=default_actor(),
                    reason="infraleash doctor kube-identity")
    context = GateContext(kube_context=kube_context, workspace_dir=exec_workspace(setup.runner, Path.cwd()))
    result = execute(action, setup.policy, context, store=setup.store, audit=setup.audit, timeout=120,
                     runner=setup.runner)
    if result.outcome is not Outcome.RAN:
        return print_result(result, Console())
    if result.exit_code != 0:
        lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("E1")]
        detail = lines[-1] if lines else f"kubectl exited {result.exit_code}"
        raise ExecutionError(f"cannot check the Kubernetes identity: kubectl could not reach the cluster or "
                             f"authenticate: {detail}")
    try:
        rules = parse_can_i_list(result.stdout)
    except CanIParseError as e:
        raise InputError(f"kubectl auth can-i --list: {e}") from None
    risky = risky_rules(rules)
    console = Console(highlight=False, soft_wrap=True)
    if as_json:
        console.print_json(json.dumps({"rules": len(rules), "risky": [
            {"line": r.rule.line, "resource": r.rule.resource, "non_resource_urls": list(r.rule.non_resource_urls),
             "resource_names": list(r.rule.resource_names), "verbs": list(r.rule.verbs), "why": r.why}
            for r in risky]}))
    elif risky:
        console.print(f"[bold red]{len(risky)} of {len(rules)} rules go beyond a read-only identity without "
                      "Secret access[/]:")
        for r in risky:
            console.print(f"  {r.render()}", markup=False)
        console.print("Give the agent a role with get/list/watch on what it needs and no access to secrets.")
    else:
        console.print(f"[green]read-only[/]: {len(rules)} rules, none reads Secrets or does more than get/list/watch")
    return ExitCode.FINDINGS if risky else ExitCode.OK
