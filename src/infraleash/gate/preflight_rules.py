"""The pre-flight's rules: configurations that would execute code or reach outside, refused before running.

The gate decides on argv; these rules look at what an allowed command would *load* (HCL, CLI config,
provider binaries, kubeconfig, kustomizations).  Every refusal reads ``FILE:LINE: what (subject: S)``;
``S`` is what a ``preflight.allow`` entry's ``match`` glob is tested against.  All are hard rules: an
approval does not lift them (the executor runs the pre-flight again before an approved command), only a
``preflight.allow`` entry with a reason does.  ``infraleash.gate.rules`` re-exports them, so the ids show
in decisions and the audit like every other rule.  Failing and passing examples of each rule are the
test data in ``tests/gate/test_preflight*.py``.

=====================  ======================================================================
id                     fires when
=====================  ======================================================================
PRE-PROVIDER-FILE      a provider block names a file or a command: aws ``shared_config_files``,
                       ``shared_credentials_files``, ``profile``, ``custom_ca_bundle``, web-identity
                       token files, an ``assume_role`` ARN not in ``preflight.assume_roles``;
                       kubernetes/helm ``exec {}`` and ``config_path(s)``; google ``credentials`` as a
                       path; any argument named ``*_file``, ``*_files``, ``*_path``, ``*_paths``,
                       ``*_command``, ``credential_process`` (also in a backend block); an AWS
                       shared config/credentials file with ``credential_process`` in the workspace.
                       Why: the AWS SDK runs ``credential_process`` during ``plan``; exec plugins
                       run on every call; files outside the workspace leak into the plan.
                       Fail: ``provider "aws" { shared_config_files = ["./aws.cfg"] }``.
                       Pass: ``provider "aws" { region = "eu-west-1" }`` (credentials from the runner).
PRE-EXTERNAL-DATA      ``data "external"`` (runs a program during plan), ``data "http"`` (fetches
                       a URL), any ``provisioner`` (local-exec/remote-exec/file run at apply),
                       ``local_file``/``local_sensitive_file``/``archive_file`` paths outside the
                       workspace, ``file()``/``templatefile()``/``fileset()``/``filebase64()``/...
                       of a path outside the workspace (or one the gate cannot work out).
                       Fail: ``data "external" "x" { program = ["./x.sh"] }``.
                       Pass: ``templatefile("${path.module}/user_data.tpl", {})``.
PRE-REMOTE-STATE       ``data "terraform_remote_state"`` whose backend is not one of the environment's
                       ``preflight.backends`` (a ``local`` state inside the workspace is fine).
PRE-BACKEND            a ``backend``/``cloud`` block, or the initialized backend in
                       ``.terraform/terraform.tfstate``, other than the environment's
                       ``preflight.backends``; ``-backend-config`` in the argv.  With no entry only
                       the local backend inside the workspace passes.
PRE-PROVIDER-SOURCE    a provider source (required_providers, or implied by a provider block) that is
                       not in the plugin mirror; a lock-file entry the mirror does not have; (not for
                       ``init``) a required source missing from ``.terraform.lock.hcl``; a binary in
                       ``.terraform/providers`` that is not the mirror's own file (size and SHA-256);
                       ``terraform.d/plugins`` or ``.terraform/plugins`` in the directory (implicit
                       local mirrors); ``-plugin-dir`` / ``-from-module`` in the argv.  The mirrors
                       are the runner's ``plugin_mirrors`` (else its CLI config's
                       ``filesystem_mirror`` paths); with none known the mirror checks are skipped.
PRE-CLI-CONFIG         the runner's CLI config, or a ``.terraformrc``/``terraform.rc`` in the
                       workspace, with ``provider_installation { dev_overrides }``, a
                       ``filesystem_mirror`` not among the plugin mirrors, ``plugin_cache_dir``
                       outside the mirrors, ``credentials_helper`` or ``host`` overrides.
PRE-KUBE-EXEC          the kubeconfig has a user ``exec:`` plugin or an ``auth-provider`` ``cmd-path``
                       whose command is not in ``preflight.kube_exec_commands``; a kustomization
                       with ``helmCharts``/``helmGlobals``/``helmChartInflationGenerator`` or
                       ``generators``/``transformers``/``validators`` that are not ``builtin``.
PRE-KUSTOMIZE          a kustomization reading outside the tree: ``secretGenerator``/
                       ``configMapGenerator`` ``files``/``envs`` outside the kustomization's
                       directory, ``resources``/``components``/``patches``/... that are remote URLs
                       or outside the workspace; a remote kustomize target.
PRE-UNPARSEABLE        a file the pre-flight must read (HCL, JSON, YAML, CLI config, kubeconfig,
                       lock file) cannot be parsed, or the pre-flight itself failed: the gate
                       cannot vouch for what it would do.
=====================  ======================================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from infraleash.preflight_policy import PreflightPolicy

# (id, title, reason template, floor): rows of infraleash.gate.rules.RULES
PREFLIGHT_ROWS: list[tuple[str, str, str, bool]] = [
    ("PRE-PROVIDER-FILE", "Provider names a file or command",
     "{where}: {detail}; credentials and config come from the runner, not from files the configuration "
     "names (subject: {subject})", True),
    ("PRE-EXTERNAL-DATA", "Configuration runs a program or reads outside",
     "{where}: {detail} (subject: {subject})", True),
    ("PRE-REMOTE-STATE", "Remote state outside the environment",
     "{where}: {detail}; only the environment's own backends may be read (subject: {subject})", True),
    ("PRE-BACKEND", "Backend other than the environment's",
     "{where}: {detail}; state stays in the environment's backend (subject: {subject})", True),
    ("PRE-PROVIDER-SOURCE", "Provider not from the mirror",
     "{where}: {detail}; providers come from the runner's plugin mirror only (subject: {subject})", True),
    ("PRE-CLI-CONFIG", "CLI config runs or installs programs",
     "{where}: {detail} (subject: {subject})", True),
    ("PRE-KUBE-EXEC", "kubectl would run a local program",
     "{where}: {detail} (subject: {subject})", True),
    ("PRE-KUSTOMIZE", "Kustomization reads outside the tree",
     "{where}: {detail} (subject: {subject})", True),
    ("PRE-UNPARSEABLE", "File the pre-flight cannot read",
     "{where}: {detail}; the gate cannot vouch for what it would run (subject: {subject})", True),
]

PREFLIGHT_RULE_IDS = frozenset(row[0] for row in PREFLIGHT_ROWS)


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing a scan found: ``rule`` at ``file:line``, ``subject`` for allow-matching."""

    rule: str
    file: str
    line: int | None
    subject: str
    detail: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What every scan needs: where the command runs, the workspace boundary, what the policy lets through."""

    root: Path  # the command's real working directory (after -chdir)
    workspace: Path  # reads and writes must stay inside it (the gate's workspace_dir, else root)
    preflight: PreflightPolicy
    environment: str | None = None
    mirrors: tuple[Path, ...] = ()  # the runner's provider plugin mirrors (filesystem layout)
    subcommand: str = ""  # terraform subcommand ("init", "plan", "state list") or kubectl verb

    def inside(self, path: str | Path, base: Path | None = None) -> bool:
        """``path`` (relative to ``base``, default the root) resolves inside the workspace."""
        real = os.path.realpath(os.path.join(base or self.root, path))
        ws = str(self.workspace)
        return real == ws or real.startswith(ws + os.sep)

    def rel(self, path: str | Path) -> str:
        """``path`` as shown in a refusal: relative to the command's directory when it is below it."""
        p = os.path.normpath(os.path.join(self.root, path))
        r = os.path.relpath(p, self.root)
        return p if r.startswith("..") else Path(r).as_posix()
