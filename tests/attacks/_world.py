"""One attack's world: its workspace, the files outside it, the runner's own files, and what must not change.

    world = World.build(tmp_path, attack, templates)
    before = world.snapshot()
    ...                                   # the attack runs on one surface
    world.check_nothing_ran(before, output)

Layout under the test's tmp dir::

    ws/        the workspace the agent works in (policy, .infraleash/, state, the attack's files)
    outside/   files next to the workspace that no command may touch
    markers/   where a payload that ran leaves its mark (outside the workspace)
    runner/    the runner's own kubeconfig and Terraform CLI config (credentials the agent must not see)
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from attacks._corpus import Attack
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog, HeadFile
from infraleash.terraform.sandbox import write_cli_config

SH_PAYLOAD = """#!/bin/sh
touch '{markers}/pwned' '{ws}/pwned' 2>/dev/null
echo "PWN""ED-{id}"
echo "PWN""ED-{id}" >&2
exit 0
"""
PY_PAYLOAD = """import pathlib
for p in ({markers!r}, {ws!r}):
    try:
        pathlib.Path(p, "pwned").touch()
    except OSError:
        pass
print("PWN" + "ED-{id}")
"""
POLICY = """\
version: 1
trust_level: {trust}
audit:
  path: {ws}/.infraleash/audit.jsonl
preflight:
  kube_exec_commands: [/bin/false]
approvals:
  store: {ws}/.infraleash/approvals.db
  ttl_minutes: 60
"""
# The runner's configuration (the operator's, outside the workspace): org policy, environment, CLI config.
RUNNER_CONFIG = """\
policy: {runner}/org-policy.yaml
workspaces: [{ws}]
env:
  AWS_ACCESS_KEY_ID: test
  AWS_SECRET_ACCESS_KEY: test
  AWS_DEFAULT_REGION: us-east-1
  TF_IN_AUTOMATION: "1"
  CHECKPOINT_DISABLE: "1"
terraform:
  cli_config: {runner}/terraformrc.hcl
  plugin_mirrors: [/opt/tf-plugins]
kubeconfig: {runner}/kubeconfig
"""
# The default configuration: plans without a provider, and its state holds two sensitive values (built
# with join() so that printing the configuration itself does not print them).
MAIN_TF = """\
resource "terraform_data" "x" {
  input = sensitive(join("-", ["tfsens", "BRAVO", "CANARY"]))
}

output "db_password" {
  value     = join("-", ["tfsens", "ALPHA", "CANARY"])
  sensitive = true
}

output "name" {
  value = "public-value"
}
"""
TF_SECRETS = ("tfsens-ALPHA-CANARY", "tfsens-BRAVO-CANARY")
# The runner's kubeconfig: credentials only the runner may use, never printed to the agent.
KUBE_SECRETS = ("kube-token-CANARY", "kube-refresh-CANARY", "kube-client-secret-CANARY", "kube-exec-env-CANARY")
RUNNER_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: ops
  user:
    token: kube-token-CANARY
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        client-id: infraleash
        client-secret: kube-client-secret-CANARY
        refresh-token: kube-refresh-CANARY
        idp-issuer-url: https://127.0.0.1:1
- name: helper
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /bin/false
      env: [{name: TOKEN, value: kube-exec-env-CANARY}]
contexts:
- name: prod
  context: {cluster: prod, user: ops}
- name: oidc
  context: {cluster: prod, user: oidc}
current-context: prod
"""
HOSTILE = {
    "binary": b"\x00\xff\xfe SQLite format 3\x00" + bytes(range(256)) * 4,
    "truncated": b'{"seq": 1, "time": "2026-12-02T00:00:00Z", "ev',
    "text": b"this is not a database nor a log\n",
    "huge-line": b'{"seq": 1, "data": "' + b"A" * (2 * 1024 * 1024) + b'"',
    "invalid-utf8": b'{"seq": 1, "event": "\xc3\x28"}\n',
}


@dataclass
class Templates:
    """Session-wide files the worlds copy from (built once: see conftest.py)."""

    state: Path  # terraform.tfstate of MAIN_TF, applied for real
    aws_init: Path  # a directory after `terraform init` of an AWS provider config (.terraform + lock file)


@dataclass
class Snapshot:
    hashes: dict[str, str]
    audit: bytes
    requests: int


@dataclass
class World:
    attack: Attack
    base: Path
    ws: Path
    outside: Path
    markers: Path
    runner: Path
    runner_env: dict[str, str] = field(default_factory=dict)
    owned: list[Path] = field(default_factory=list)

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, base: Path, attack: Attack, templates: Templates) -> World:
        w = cls(attack, base, base / "ws", base / "outside", base / "markers", base / "runner")
        for d in (w.ws, w.outside, w.markers, w.runner):
            d.mkdir(parents=True, exist_ok=True)
        kubeconfig = w.runner / "kubeconfig"
        kubeconfig.write_text(RUNNER_KUBECONFIG, encoding="utf-8")
        cli_config = write_cli_config(w.runner)
        runner_config = w.runner / "runner.yaml"
        runner_config.write_text(w.fill(RUNNER_CONFIG), encoding="utf-8")
        w.runner_env = {**os.environ, "KUBECONFIG": str(kubeconfig), "TF_CLI_CONFIG_FILE": str(cli_config),
                        "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "INFRALEASH_ACTOR": "agent-1",
                        "HOME": str(base / "home"), "INFRALEASH_RUNNER_CONFIG": str(runner_config)}
        (base / "home").mkdir()
        for k in [k for k in w.runner_env if k.startswith("TF_CLI_ARGS") or k in ("TF_WORKSPACE", "TF_DATA_DIR")]:
            del w.runner_env[k]
        policy = w.fill(POLICY.replace("{trust}", attack.trust)) + attack.policy_extra
        (w.runner / "org-policy.yaml").write_text(policy, encoding="utf-8")
        (w.ws / "infraleash.yaml").write_text(policy, encoding="utf-8")  # the tree's copy: may only tighten
        if not attack.no_state:
            (w.ws / "main.tf").write_text(MAIN_TF, encoding="utf-8")
            shutil.copy(templates.state, w.ws / "terraform.tfstate")
        if attack.init:
            shutil.copytree(templates.aws_init / ".terraform", w.ws / ".terraform", symlinks=True)
            shutil.copy(templates.aws_init / ".terraform.lock.hcl", w.ws / ".terraform.lock.hcl")
        for rel, text in attack.outside_files.items():
            _write(w.outside / rel, w.fill(text))
        for rel, text in attack.files.items():
            _write(w.ws / rel, w.fill(text))
        for rel in attack.payloads:
            _write(w.ws / rel, SH_PAYLOAD.format(markers=w.markers, ws=w.ws, id=attack.id), executable=True)
        for rel in attack.python_payloads:
            _write(w.ws / rel, PY_PAYLOAD.format(markers=str(w.markers), ws=str(w.ws), id=attack.id))
        for fp in attack.fake_providers:
            w._fake_provider(fp.dir, fp.name, fp.lock, fp.link_from)
        for name, src in attack.zips.items():
            _zip(w.ws / src, w.outside / name)
            shutil.rmtree(w.ws / src)
        for rel, target in attack.symlinks.items():
            link = w.ws / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(w.fill(target))
        for rel in attack.dirs:
            (w.ws / rel).mkdir(parents=True, exist_ok=True)
        if attack.git_config is not None:
            w._git(attack.git_config)
        w._seed_audit()
        for what, how in attack.hostile.items():
            target = w.ws / ".infraleash" / ("audit.jsonl" if what == "audit" else "approvals.db" if
                                             what == "approvals" else what)
            if how == "directory":
                target.unlink()
                target.mkdir()
            else:
                target.write_bytes(HOSTILE[how])
        w.owned = [p for p in (w.ws / "infraleash.yaml", w.ws / "terraform.tfstate", w.ws / ".terraform.lock.hcl",
                               w.ws / "main.tf") if p.is_file() and p.name not in attack.writes_ok]
        return w

    def fill(self, text: str) -> str:
        return (text.replace("{ws}", str(self.ws)).replace("{outside}", str(self.outside))
                .replace("{markers}", str(self.markers)).replace("{runner}", str(self.runner))
                .replace("{PATH}", self.runner_env.get("PATH", "")).replace("{id}", self.attack.id))

    def _fake_provider(self, directory: str, name: str, lock: str | None, link_from: str | None) -> None:
        pkg = self.ws / directory / "registry.terraform.io" / "hashicorp" / name / "1.0.0" / "linux_amd64"
        binary = pkg / f"terraform-provider-{name}_v1.0.0"
        _write(binary, SH_PAYLOAD.format(markers=self.markers, ws=self.ws, id=self.attack.id), executable=True)
        if link_from:
            link = self.ws / link_from / "registry.terraform.io" / "hashicorp" / name / "1.0.0" / "linux_amd64"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(pkg)
        if lock:
            _write(self.ws / lock, f'provider "registry.terraform.io/hashicorp/{name}" {{\n  version     = "1.0.0"\n'
                                   f'  constraints = "1.0.0"\n  hashes = [\n    "{h1(pkg)}",\n  ]\n}}\n')

    def _git(self, config: dict[str, str]) -> None:
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.base / "home")}
        for args in (["init", "-q"], ["add", "main.tf"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit",
                                                          "-qm", "base"],
                     *(["config", k, self.fill(v)] for k, v in config.items())):  # the attack's config last
            subprocess.run(["git", *args], cwd=self.ws, env=env, check=True, capture_output=True)
        with (self.ws / "main.tf").open("a", encoding="utf-8") as f:
            f.write("# changed\n")  # a modified tracked file, so status and diff have work to do

    def _seed_audit(self) -> None:
        """One record before the attack, so a log that lost records (or was wiped) is seen."""
        self.audit_log().append("note", "harness", {"attack": self.attack.id})

    def audit_log(self) -> AuditLog:
        """The audit log with both anchors, as the surfaces open it (POLICY names these paths)."""
        log = self.ws / ".infraleash" / "audit.jsonl"
        store = ApprovalStore(self.ws / ".infraleash" / "approvals.db", ttl_minutes=60)
        return AuditLog(log, [HeadFile(log.with_name(log.name + ".head")), store])

    # ------------------------------------------------------------------ checking

    @property
    def audit_path(self) -> Path:
        return self.ws / ".infraleash" / "audit.jsonl"

    def snapshot(self) -> Snapshot:
        files = [*self.owned, *_tree(self.outside), *_tree(self.runner)]
        hashes = {str(p): _sha(p) for p in files}
        audit = self.audit_path.read_bytes() if self.audit_path.is_file() else b""
        return Snapshot(hashes, audit, -1 if self.attack.hostile else self.request_count())

    def request_count(self) -> int:
        db = sqlite3.connect(f"file:{self.ws / '.infraleash' / 'approvals.db'}?mode=ro", uri=True)
        try:
            return int(db.execute("select count(*) from requests").fetchone()[0])
        finally:
            db.close()

    def audit_records(self) -> list[dict[str, object]]:
        return [r.model_dump() for r in AuditLog(self.audit_path).records()]

    def problems(self, before: Snapshot, output: str) -> list[str]:
        """Everything that shows the attack got through: empty when nothing ran and nothing changed."""
        found: list[str] = []
        for marker in (self.markers / "pwned", self.ws / "pwned"):
            if marker.exists():
                found.append(f"the payload ran: {marker} exists")
        if f"PWNED-{self.attack.id}" in output and not self.attack.runs_confined:
            found.append("the payload ran: its canary is in the output")
        for secret in self.attack.must_not_print:
            if secret in output:
                found.append(f"a secret was printed: {secret}")
        if "Traceback (most recent call last)" in output:
            found.append("a traceback reached the output")
        now = {str(p): _sha(p) for p in [*self.owned, *_tree(self.outside), *_tree(self.runner)]}
        for path, digest in before.hashes.items():
            if now.get(path) != digest:
                found.append(f"an owned file changed: {path}" if path in now else f"an owned file vanished: {path}")
        found += [f"a file appeared outside the workspace: {p}" for p in sorted(set(now) - set(before.hashes))
                  if not p.startswith(str(self.markers))]
        audit = self.audit_path.read_bytes() if self.audit_path.is_file() else b""
        if not audit.startswith(before.audit):
            found.append("the audit log lost or rewrote records")
        if not self.attack.hostile:
            report = self.audit_log().verify()
            if not report.ok:
                found.append(f"the audit log no longer verifies: {report.problem}")
        return found


def h1(package: Path) -> str:
    """Terraform's ``h1:`` package hash (Go dirhash Hash1) of an unpacked provider directory."""
    lines = "".join(f"{_sha(p)}  {p.relative_to(package).as_posix()}\n" for p in sorted(_tree(package)))
    return "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()


def _write(path: Path, text: str, *, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _zip(src: Path, dest: Path) -> None:
    with zipfile.ZipFile(dest, "w") as z:
        for p in sorted(_tree(src)):
            z.write(p, p.relative_to(src).as_posix())


def _tree(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, fs in os.walk(root) for f in fs if not os.path.islink(Path(d) / f)]


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"
