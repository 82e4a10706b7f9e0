"""Static pre-flight: refuse a configuration that would execute code or reach outside, before it runs.

The executor calls :func:`preflight` for every command the gate allowed (and for every approved command
before it runs), after the decision and before the sandbox starts.  A non-empty result refuses the
command with those rules (audited ``execution_refused``); the rules are in
:mod:`infraleash.gate.preflight_rules`, each scan in its own module:

==========================  ===============================================================
module                      reads
==========================  ===============================================================
``preflight_tf_load``       the configuration (``.tf``, ``.tf.json``, local and installed modules)
``preflight_terraform``     providers, data sources, provisioners, file functions, backends
``preflight_providers``     plugin mirror, ``.terraform.lock.hcl``, ``.terraform/providers``
``preflight_cli_config``    the runner's CLI config, ``.terraformrc``/``terraform.rc`` in the tree
``preflight_aws_files``     AWS config files with ``credential_process`` in the workspace
``preflight_kube``          the kubeconfig, kustomizations
==========================  ===============================================================

Which command gets which scan:

* ``terraform fmt``, ``version``, ``help`` (and ``-help``/``-version``): the CLI config and the
  installed provider binaries only (cheap; they load no configuration).
* every other terraform subcommand (init, plan, validate, apply, import, console, test, refresh,
  providers *, state *, show, output, graph, get, workspace *, taint, force-unlock, ...): everything
  above plus the configuration, its backend, the lock file and the AWS config files.  ``show`` and
  ``output`` are in this group because they read state through the configured backend (whose
  credentials can run ``credential_process``) and ``show`` starts providers for their schemas.
* ``terraform test`` also reads ``*.tftest.hcl`` (the directory and ``-test-directory``, default ``tests``):
  provider blocks there and ``run { module { source } }`` outside the workspace are refused.
* ``*.tofu`` / ``*.tofu.json`` files are scanned beside the ``.tf`` files they shadow under OpenTofu, and
  override files too: whichever tool runs, everything it could read is scanned.
* ``-plugin-dir``, ``-from-module`` and ``-backend-config`` in a terraform argv are refused outright.
* kubectl: every verb gets the kubeconfig scan; ``kustomize [DIR]`` and ``-k DIR``/``--kustomize DIR``
  also the kustomization scan.
* anything else: no scan.

A finding the policy allows (``preflight.allow``: rule, environments, ``match`` glob on the subject
shown in the refusal, reason) is dropped.  The pre-flight never raises: a file it cannot parse is its
own refusal naming the file and line, and an unexpected error refuses with PRE-UNPARSEABLE.  Parsed
files are cached by (device, inode, mtime, size) and a loaded tree by its directory listings
(``bench/preflight_speed.py`` measures a cached and a cold run).
"""

from __future__ import annotations

import os
from pathlib import Path

from infraleash.gate.model import RuleHit
from infraleash.gate.preflight_rules import Hit, ScanContext
from infraleash.gate.rules import hit as rule_hit
from infraleash.policy import Policy

_TERRAFORM_CHEAP = {"fmt", "version", "help", ""}
_TF_NESTED = {"state", "workspace", "providers", "metadata"}
_TF_REFUSED_OPTIONS = {"plugin-dir": "PRE-PROVIDER-SOURCE", "from-module": "PRE-PROVIDER-SOURCE",
                       "backend-config": "PRE-BACKEND"}
_KUBECTL_VALUED = {"--context", "--namespace", "-n", "--kubeconfig", "--cluster", "--user", "--server", "-s",
                   "--request-timeout", "--token", "--as", "--as-group", "--as-uid", "--certificate-authority",
                   "--client-certificate", "--client-key", "--tls-server-name", "--cache-dir", "-v", "--v",
                   "--log-file", "--password", "--username", "--profile", "--profile-output"}


def preflight(argv: list[str], cwd: str, policy: Policy, *, environment: str | None = None,
              cli_config: str | None = None, plugin_mirrors: list[str] | None = None,
              kubeconfig: str | None = None, workspace_dir: str | None = None) -> list[RuleHit]:
    """The rules that refuse running ``argv`` in ``cwd`` (empty: nothing found).

    ``cwd`` is the directory the command starts in; a terraform ``-chdir=`` in ``argv`` is applied
    here.  ``workspace_dir`` bounds what the configuration may read (default: that directory).
    ``plugin_mirrors`` are the runner's provider mirrors (default: the ``filesystem_mirror`` paths of
    ``cli_config``).
    """
    try:
        hits = _scan(argv, cwd, policy, environment, cli_config, plugin_mirrors, kubeconfig, workspace_dir)
    except Exception as e:  # never raise: the gate cannot vouch for what it could not check
        hits = [Hit("PRE-UNPARSEABLE", cwd, None, "preflight", f"the pre-flight failed ({type(e).__name__}: "
                    f"{str(e)[:200]})")]
    out: list[RuleHit] = []
    seen: set[tuple[str, str, str]] = set()
    for h in hits:
        key = (h.rule, h.where, h.subject)
        if key in seen or policy.preflight.allowed_by(h.rule, h.subject, environment) is not None:
            continue
        seen.add(key)
        out.append(rule_hit(h.rule, where=h.where, detail=h.detail, subject=h.subject))
    return out


def _scan(argv: list[str], cwd: str, policy: Policy, environment: str | None, cli_config: str | None,
          plugin_mirrors: list[str] | None, kubeconfig: str | None, workspace_dir: str | None) -> list[Hit]:
    if not argv:
        return []
    from infraleash.gate.kubectl_argv import is_kubectl
    from infraleash.gate.terraform_argv import is_terraform

    if is_terraform(argv[0]):
        return _terraform(argv, cwd, policy, environment, cli_config, plugin_mirrors, workspace_dir)
    if is_kubectl(argv[0]):
        return _kubectl(argv, cwd, policy, environment, kubeconfig, workspace_dir)
    return []


def _context(root: Path, policy: Policy, environment: str | None, workspace_dir: str | None,
             mirrors: list[Path], sub: str) -> ScanContext:
    ws = Path(os.path.realpath(workspace_dir)) if workspace_dir else root
    return ScanContext(root=root, workspace=ws, preflight=policy.preflight, environment=environment,
                       mirrors=tuple(mirrors), subcommand=sub)


# --------------------------------------------------------------------------- terraform


def terraform_words(argv: list[str]) -> tuple[str | None, str, list[str]]:
    """(-chdir value, subcommand such as ``plan`` or ``state list``, the option names after it)."""
    chdir: str | None = None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, value = argv[i].lstrip("-").partition("=")
        if name == "chdir":
            if eq:
                chdir = value
            elif i + 1 < len(argv):
                chdir, i = argv[i + 1], i + 1
        elif name in ("help", "h", "version", "v"):
            return chdir, "help" if name.startswith("h") else "version", []
        i += 1
    sub = ""
    if i < len(argv):
        sub, i = argv[i], i + 1
        if sub in _TF_NESTED and i < len(argv) and not argv[i].startswith("-"):
            sub, i = f"{sub} {argv[i]}", i + 1
    options = [a.lstrip("-").split("=", 1)[0] for a in argv[i:] if a.startswith("-") and a not in ("-", "--")]
    return chdir, sub, options


def _terraform(argv: list[str], cwd: str, policy: Policy, environment: str | None, cli_config: str | None,
               plugin_mirrors: list[str] | None, workspace_dir: str | None) -> list[Hit]:
    from infraleash.gate import (
        preflight_aws_files,
        preflight_cli_config,
        preflight_providers,
        preflight_terraform,
    )
    from infraleash.gate.preflight_tf_load import load_tree

    chdir, sub, options = terraform_words(argv)
    root = Path(os.path.realpath(os.path.join(cwd, chdir) if chdir else cwd))
    mirrors = [Path(m) for m in plugin_mirrors or []] or preflight_cli_config.filesystem_mirrors(cli_config)
    ctx = _context(root, policy, environment, workspace_dir, mirrors, sub.split(" ")[0])
    hits: list[Hit] = []
    for option in options:
        if option in _TF_REFUSED_OPTIONS:
            hits.append(Hit(_TF_REFUSED_OPTIONS[option], "argv", None, f"-{option}",
                            f"-{option} makes Terraform load {'state settings' if option == 'backend-config' else 'providers or code'} "
                            "from a path the agent chooses"))
    if cli_config:
        hits.extend(preflight_cli_config.scan_cli_config(Path(cli_config), cli_config, ctx))
    hits.extend(preflight_cli_config.scan_workspace_rc(ctx))
    hits.extend(preflight_providers.scan_installed(root, ctx))
    if sub.split(" ")[0] in _TERRAFORM_CHEAP or not root.is_dir():
        return hits
    tree = load_tree(root, ctx.workspace)
    hits.extend(tree.problems)
    hits.extend(preflight_terraform.scan_provider_files(tree, ctx))
    hits.extend(preflight_terraform.scan_external(tree, ctx))
    hits.extend(preflight_terraform.scan_remote_state(tree, ctx))
    hits.extend(preflight_terraform.scan_backend(tree, ctx))
    hits.extend(preflight_providers.scan_sources(tree, ctx))
    hits.extend(preflight_aws_files.scan_aws_files(ctx))
    if sub == "test":
        hits.extend(preflight_terraform.scan_test_files(root, _option_value(argv, "test-directory") or "tests", ctx))
    return hits


def _option_value(argv: list[str], name: str) -> str | None:
    for i, a in enumerate(argv):
        key, eq, value = a.lstrip("-").partition("=")
        if a.startswith("-") and key == name:
            return value if eq else (argv[i + 1] if i + 1 < len(argv) else None)
    return None


# --------------------------------------------------------------------------- kubectl


def kustomize_targets(argv: list[str]) -> list[str]:
    """The directories a kubectl argv would build with kustomize (``kustomize [DIR]``, ``-k DIR``)."""
    targets: list[str] = []
    positionals: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            positionals.extend(argv[i + 1:])
            break
        name, eq, value = a.partition("=")
        if name in ("-k", "--kustomize"):
            if eq:
                targets.append(value)
            elif i + 1 < len(argv):
                targets.append(argv[i + 1])
                i += 1
        elif a.startswith("-k") and not a.startswith("--") and len(a) > 2:
            targets.append(a[2:])
        elif a.startswith("-"):
            if not eq and name.replace("_", "-") in _KUBECTL_VALUED and i + 1 < len(argv):
                i += 1
        else:
            positionals.append(a)
        i += 1
    if positionals and positionals[0] == "kustomize":
        targets.append(positionals[1] if len(positionals) > 1 else ".")
    return targets


def _kubectl(argv: list[str], cwd: str, policy: Policy, environment: str | None, kubeconfig: str | None,
             workspace_dir: str | None) -> list[Hit]:
    from infraleash.gate import preflight_kube

    root = Path(os.path.realpath(cwd))
    ctx = _context(root, policy, environment, workspace_dir, [], "kubectl")
    hits: list[Hit] = []
    if kubeconfig:
        hits.extend(preflight_kube.scan_kubeconfig(kubeconfig, ctx))
    for target in kustomize_targets(argv):
        hits.extend(preflight_kube.scan_kustomize_target(target, ctx))
    return hits
