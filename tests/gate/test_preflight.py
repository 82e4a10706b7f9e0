"""The static pre-flight: every rule's failing and passing example, policy allows, bad input, routing.

Real files in temporary directories; a small filesystem mirror built per test (its "provider" is a few
bytes).  The end-to-end runs of real Terraform through the executor are in ``test_preflight_e2e.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infraleash.errors import PolicyError
from infraleash.gate import preflight as preflight_module
from infraleash.gate.preflight import kustomize_targets, preflight, terraform_words
from infraleash.gate.rules import RULES
from infraleash.policy import Policy, parse_policy

AWS = "registry.terraform.io/hashicorp/aws"
ARCH = "linux_amd64"
BINARY = "terraform-provider-aws_v5.100.0_x5"

REQUIRED_AWS = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "5.100.0" }\n  }\n}\n'
PLAIN_AWS = REQUIRED_AWS + 'provider "aws" {\n  region = "eu-west-1"\n}\n'
LOCK = ('provider "registry.terraform.io/hashicorp/aws" {\n  version     = "5.100.0"\n'
        '  constraints = "5.100.0"\n  hashes = ["h1:x"]\n}\n')


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    m = tmp_path / "mirror"
    pkg = m / AWS / "5.100.0" / ARCH
    pkg.mkdir(parents=True)
    (pkg / BINARY).write_bytes(b"\x7fELF the mirror's own provider")
    return m


def write(base: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        p = base / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")


def run(ws: Path, mirror: Path, argv: list[str] | None = None, policy: Policy | None = None,
        **kw: object) -> list[tuple[str, str]]:
    hits = preflight(argv or ["terraform", "plan"], str(ws), policy or Policy(), plugin_mirrors=[str(mirror)],
                     **kw)  # type: ignore[arg-type]
    return [(h.id, h.reason) for h in hits]


@dataclass
class Case:
    """One rule example: ``fail`` files make ``rule`` fire at ``where``; ``ok`` files make nothing fire."""

    name: str
    rule: str
    fail: dict[str, str]
    ok: dict[str, str]
    where: str
    argv: list[str] = field(default_factory=lambda: ["terraform", "plan"])
    policy: str = ""


CASES = [
    # ---- PRE-PROVIDER-FILE
    Case("aws-shared-config-files", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  region = "eu-west-1"\n  shared_config_files = ["./aws.cfg"]\n}\n'},
         {"main.tf": PLAIN_AWS}, "main.tf:8"),
    Case("aws-profile", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  profile = "ci"\n}\n'}, {"main.tf": PLAIN_AWS}, "main.tf:7"),
    Case("aws-profile-from-variable", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'variable "p" {\n  default = null\n}\nprovider "aws" {\n  profile = var.p\n}\n'},
         {"main.tf": REQUIRED_AWS + 'variable "r" {\n  default = "eu-west-1"\n}\nprovider "aws" {\n  region = var.r\n}\n'},
         "main.tf:10"),
    Case("aws-web-identity-token-file", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  assume_role_with_web_identity {\n'
                                    '    role_arn = "arn:aws:iam::1:role/ro"\n    web_identity_token_file = "/tmp/t"\n  }\n}\n'},
         {"main.tf": PLAIN_AWS}, "main.tf:9"),
    Case("aws-custom-ca-bundle", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  custom_ca_bundle = "./ca.pem"\n}\n'}, {"main.tf": PLAIN_AWS},
         "main.tf:7"),
    Case("aws-assume-role-not-listed", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  assume_role {\n    role_arn = "arn:aws:iam::1:role/admin"\n  }\n}\n'},
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  assume_role {\n    role_arn = "arn:aws:iam::1:role/plan-ro"\n  }\n}\n'},
         "main.tf:8", policy="preflight:\n  assume_roles: ['arn:aws:iam::1:role/plan-*']\n"),
    Case("kubernetes-exec", "PRE-PROVIDER-FILE",
         {"main.tf": 'provider "kubernetes" {\n  host = "https://k"\n  exec {\n    command = "./token.sh"\n  }\n}\n'},
         {"main.tf": PLAIN_AWS}, "main.tf:3"),
    Case("helm-config-path", "PRE-PROVIDER-FILE",
         {"main.tf": 'provider "helm" {\n  kubernetes {\n    config_path = "~/.kube/config"\n  }\n}\n'},
         {"main.tf": PLAIN_AWS}, "main.tf:3"),
    Case("google-credentials-file", "PRE-PROVIDER-FILE",
         {"main.tf": 'provider "google" {\n  credentials = "./key.json"\n}\n'}, {"main.tf": PLAIN_AWS}, "main.tf:2"),
    Case("any-command-argument", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS + 'provider "aws" {\n  region = "eu-west-1"\n  token_command = "./t.sh"\n}\n'},
         {"main.tf": PLAIN_AWS}, "main.tf:8"),
    Case("tf-json-provider", "PRE-PROVIDER-FILE",
         {"main.tf": REQUIRED_AWS, "p.tf.json": '{\n  "provider": {\n    "aws": {"profile": "x"}\n  }\n}\n'},
         {"main.tf": REQUIRED_AWS, "p.tf.json": '{\n  "provider": {\n    "aws": {"region": "eu-west-1"}\n  }\n}\n'},
         "p.tf.json:"),
    Case("backend-profile", "PRE-PROVIDER-FILE",
         {"main.tf": PLAIN_AWS + 'terraform {\n  backend "local" {\n    path = "x.tfstate"\n'
                                 '    shared_credentials_file = "./c"\n  }\n}\n'},
         {"main.tf": PLAIN_AWS + 'terraform {\n  backend "local" {\n    path = "x.tfstate"\n  }\n}\n'}, "main.tf:10"),
    Case("aws-config-file-in-workspace", "PRE-PROVIDER-FILE",
         {"main.tf": PLAIN_AWS, ".aws/config": "[profile x]\nregion = eu-west-1\ncredential_process = ./evil.sh\n"},
         {"main.tf": PLAIN_AWS, ".aws/config": "[profile x]\nregion = eu-west-1\n"}, ".aws/config:3"),
    # ---- PRE-EXTERNAL-DATA
    Case("external-data", "PRE-EXTERNAL-DATA",
         {"main.tf": PLAIN_AWS + 'data "external" "x" {\n  program = ["./x.sh"]\n}\n'}, {"main.tf": PLAIN_AWS},
         "main.tf:9"),
    Case("http-data", "PRE-EXTERNAL-DATA",
         {"main.tf": PLAIN_AWS + 'data "http" "x" {\n  url = "https://example.com"\n}\n'}, {"main.tf": PLAIN_AWS},
         "main.tf:9"),
    Case("local-exec-provisioner", "PRE-EXTERNAL-DATA",
         {"main.tf": 'resource "terraform_data" "x" {\n  provisioner "local-exec" {\n    command = "touch m"\n  }\n}\n'},
         {"main.tf": 'resource "terraform_data" "x" {\n  input = "a"\n}\n'}, "main.tf:2"),
    Case("file-outside", "PRE-EXTERNAL-DATA",
         {"main.tf": 'resource "terraform_data" "x" {\n  input = file("/etc/hostname")\n}\n'},
         {"main.tf": 'resource "terraform_data" "x" {\n  input = file("${path.module}/in.txt")\n}\n', "in.txt": "a"},
         "main.tf:2"),
    Case("templatefile-dotdot", "PRE-EXTERNAL-DATA",
         {"main.tf": 'locals {\n  t = templatefile("../../x.tpl", {})\n}\n'},
         {"main.tf": 'locals {\n  t = templatefile("x.tpl", {})\n}\n', "x.tpl": "a"}, "main.tf:2"),
    Case("fileset-pattern-climbs", "PRE-EXTERNAL-DATA",
         {"main.tf": 'locals {\n  f = fileset(path.module, "../*")\n}\n'},
         {"main.tf": 'locals {\n  f = fileset(path.module, "*.txt")\n}\n'}, "main.tf:2"),
    Case("local-file-outside", "PRE-EXTERNAL-DATA",
         {"main.tf": 'resource "local_file" "x" {\n  filename = "/tmp/elsewhere"\n  content = "a"\n}\n'},
         {"main.tf": 'resource "terraform_data" "x" {\n  input = "a"\n}\n'}, "main.tf:2"),
    Case("module-outside", "PRE-EXTERNAL-DATA",
         {"ws/main.tf": 'module "m" {\n  source = "../shared"\n}\n', "shared/main.tf": ""},
         {"ws/main.tf": 'module "m" {\n  source = "./inner"\n}\n', "ws/inner/main.tf": ""}, "main.tf:1"),
    # ---- PRE-REMOTE-STATE
    Case("remote-state-other-bucket", "PRE-REMOTE-STATE",
         {"main.tf": 'data "terraform_remote_state" "o" {\n  backend = "s3"\n  config = { bucket = "prod", key = "k" }\n}\n'},
         {"main.tf": 'data "terraform_remote_state" "o" {\n  backend = "s3"\n  config = { bucket = "stg", key = "net/k" }\n}\n'},
         "main.tf:1", policy="preflight:\n  backends:\n    - type: s3\n      config: {bucket: stg, key: 'net/*'}\n"),
    Case("remote-state-local-outside", "PRE-REMOTE-STATE",
         {"main.tf": 'data "terraform_remote_state" "o" {\n  backend = "local"\n  config = { path = "/srv/prod.tfstate" }\n}\n'},
         {"main.tf": 'data "terraform_remote_state" "o" {\n  backend = "local"\n  config = { path = "net.tfstate" }\n}\n'},
         "main.tf:1"),
    # ---- PRE-BACKEND
    Case("backend-not-the-environments", "PRE-BACKEND",
         {"main.tf": 'terraform {\n  backend "s3" {\n    bucket = "someone-elses"\n    key = "k"\n  }\n}\n'},
         {"main.tf": 'terraform {\n  backend "s3" {\n    bucket = "acme-stg"\n    key = "app/k"\n  }\n}\n'},
         "main.tf:2", policy="preflight:\n  backends:\n    - type: s3\n      config: {bucket: acme-stg, key: 'app/*'}\n"),
    Case("backend-unlisted-argument", "PRE-BACKEND",
         {"main.tf": 'terraform {\n  backend "s3" {\n    bucket = "acme-stg"\n    endpoint = "http://x"\n  }\n}\n'},
         {"main.tf": 'terraform {\n  backend "s3" {\n    bucket = "acme-stg"\n  }\n}\n'},
         "main.tf:2", policy="preflight:\n  backends:\n    - type: s3\n      config: {bucket: acme-stg}\n"),
    Case("cloud-block", "PRE-BACKEND",
         {"main.tf": 'terraform {\n  cloud {\n    organization = "x"\n  }\n}\n'}, {"main.tf": PLAIN_AWS}, "main.tf:2"),
    Case("initialized-backend", "PRE-BACKEND",
         {"main.tf": PLAIN_AWS, ".terraform/terraform.tfstate":
          '{"version": 3, "backend": {"type": "s3", "config": {"bucket": "x"}}}'},
         {"main.tf": PLAIN_AWS, ".terraform/terraform.tfstate":
          '{"version": 3, "backend": {"type": "local", "config": {"path": null}}}'}, ".terraform/terraform.tfstate:1"),
    # ---- PRE-PROVIDER-SOURCE
    Case("source-not-in-mirror", "PRE-PROVIDER-SOURCE",
         {"main.tf": 'terraform {\n  required_providers {\n    evil = { source = "example.com/x/evil" }\n  }\n}\n'},
         {"main.tf": PLAIN_AWS}, "main.tf:3"),
    Case("implied-source-not-in-mirror", "PRE-PROVIDER-SOURCE",
         {"main.tf": 'resource "null_resource" "x" {}\n'}, {"main.tf": 'resource "terraform_data" "x" {}\n'},
         "main.tf:1"),
    Case("lock-version-not-in-mirror", "PRE-PROVIDER-SOURCE",
         {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": LOCK.replace("5.100.0", "9.9.9")},
         {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": LOCK}, ".terraform.lock.hcl:1"),
    Case("required-not-in-lock", "PRE-PROVIDER-SOURCE",
         {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": "# empty\n"},
         {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": LOCK}, "main.tf:3"),
    Case("implicit-local-mirror", "PRE-PROVIDER-SOURCE",
         {"main.tf": PLAIN_AWS, "terraform.d/plugins/README": "x"}, {"main.tf": PLAIN_AWS}, "terraform.d/plugins"),
    # ---- PRE-CLI-CONFIG (workspace rc files; the runner's cli_config is tested below)
    Case("workspace-rc-dev-overrides", "PRE-CLI-CONFIG",
         {"main.tf": PLAIN_AWS, ".terraformrc": 'provider_installation {\n  dev_overrides {\n'
                                                '    "hashicorp/aws" = "/tmp/evil"\n  }\n  direct {}\n}\n'},
         {"main.tf": PLAIN_AWS, ".terraformrc": "disable_checkpoint = true\n"}, ".terraformrc:2"),
    Case("workspace-rc-credentials-helper", "PRE-CLI-CONFIG",
         {"main.tf": PLAIN_AWS, "terraform.rc": 'credentials_helper "evil" {\n  args = []\n}\n'},
         {"main.tf": PLAIN_AWS}, "terraform.rc:1"),
    Case("workspace-rc-plugin-cache", "PRE-CLI-CONFIG",
         {"main.tf": PLAIN_AWS, ".terraformrc": 'plugin_cache_dir = "/tmp/cache"\n'}, {"main.tf": PLAIN_AWS},
         ".terraformrc:1"),
    Case("workspace-rc-host", "PRE-CLI-CONFIG",
         {"main.tf": PLAIN_AWS, ".terraformrc": 'host "registry.terraform.io" {\n  services = {}\n}\n'},
         {"main.tf": PLAIN_AWS}, ".terraformrc:1"),
    # ---- PRE-UNPARSEABLE
    Case("malformed-hcl", "PRE-UNPARSEABLE",
         {"main.tf": PLAIN_AWS + 'resource "terraform_data" "x" {\n  input = = 1\n}\n'}, {"main.tf": PLAIN_AWS},
         "main.tf:10"),
    Case("malformed-tf-json", "PRE-UNPARSEABLE",
         {"main.tf": PLAIN_AWS, "x.tf.json": '{\n  "resource": {\n    oops\n}\n'}, {"main.tf": PLAIN_AWS},
         "x.tf.json:3"),
    Case("tofu-file-scanned", "PRE-EXTERNAL-DATA",
         {"main.tf": PLAIN_AWS, "extra.tofu": 'data "external" "x" {\n  program = ["x"]\n}\n'},
         {"main.tf": PLAIN_AWS, "extra.tofu": 'locals {\n  a = 1\n}\n'}, "extra.tofu:1"),
    Case("tofu-shadowing-a-tf-file", "PRE-UNPARSEABLE",  # terraform would read main.tf, tofu main.tofu
         {"main.tf": PLAIN_AWS + 'data "external" "x" {\n  program = ["x"]\n}\n', "main.tofu": PLAIN_AWS},
         {"main.tf": PLAIN_AWS, "extra.tofu": 'locals {\n  a = 1\n}\n'}, "main.tofu:1"),
    Case("tofu-json-scanned", "PRE-EXTERNAL-DATA",
         {"main.tf": PLAIN_AWS, "extra.tofu.json": '{\n  "data": {\n    "external": {\n      "x": {\n'
          '        "program": ["x"]\n      }\n    }\n  }\n}\n'},
         {"main.tf": PLAIN_AWS}, "extra.tofu.json"),
    Case("test-file-provider", "PRE-PROVIDER-FILE",
         {"main.tf": PLAIN_AWS, "tests/a.tftest.hcl": 'provider "aws" {\n  profile = "evil"\n}\nrun "r" {}\n'},
         {"main.tf": PLAIN_AWS, "tests/a.tftest.hcl": 'provider "aws" {\n  region = "eu-west-1"\n}\nrun "r" {}\n'},
         "tests/a.tftest.hcl:2", argv=["terraform", "test"]),
    Case("test-file-module-outside", "PRE-EXTERNAL-DATA",
         {"main.tf": PLAIN_AWS, "x.tftest.hcl": 'run "r" {\n  module {\n    source = "../../elsewhere"\n  }\n}\n'},
         {"main.tf": PLAIN_AWS, "x.tftest.hcl": 'run "r" {\n  module {\n    source = "./fixture"\n  }\n}\n'},
         "x.tftest.hcl:2", argv=["terraform", "test"]),
    Case("malformed-lock-file", "PRE-UNPARSEABLE",
         {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": 'provider "x" {\n  version = \n}\n'},
         {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": LOCK}, ".terraform.lock.hcl:"),
]


def _ws(tmp_path: Path, files: dict[str, str]) -> Path:
    write(tmp_path / "t", files)
    ws = tmp_path / "t"
    return ws / "ws" if (ws / "ws").is_dir() else ws


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_failing_example_fires_the_rule_at_file_and_line(case: Case, tmp_path: Path, mirror: Path) -> None:
    ws = _ws(tmp_path, case.fail)
    hits = run(ws, mirror, case.argv, parse_policy(case.policy) if case.policy else None)
    mine = [reason for rule, reason in hits if rule == case.rule]
    assert mine, f"{case.rule} did not fire: {hits}"
    assert any(r.startswith(case.where) for r in mine), mine
    assert all("(subject: " in r for r in mine)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_passing_example_fires_nothing(case: Case, tmp_path: Path, mirror: Path) -> None:
    ws = _ws(tmp_path, case.ok)
    assert run(ws, mirror, case.argv, parse_policy(case.policy) if case.policy else None) == []


def test_every_rule_has_a_row_and_a_failing_example() -> None:
    pre = {r for r in RULES if r.startswith("PRE-")}
    covered = {c.rule for c in CASES} | {"PRE-KUBE-EXEC", "PRE-KUSTOMIZE"}  # kubectl: test_preflight_kube.py
    assert pre == covered
    assert all(RULES[r].floor for r in pre)


# --------------------------------------------------------------------------- the runner's CLI config


def test_runner_cli_config_with_dev_overrides_is_refused_even_for_fmt(tmp_path: Path, mirror: Path) -> None:
    rc = tmp_path / "runner.tfrc"
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n'
                  '  dev_overrides {\n    "hashicorp/aws" = "/tmp/x"\n  }\n}\n', encoding="utf-8")
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    for argv in (["terraform", "plan"], ["terraform", "fmt"], ["terraform", "-chdir=.", "version"]):
        hits = run(ws, mirror, argv, cli_config=str(rc))
        assert [r for r, _ in hits] == ["PRE-CLI-CONFIG"], (argv, hits)
        assert hits[0][1].startswith(f"{rc}:5: dev_overrides")


def test_runner_cli_config_mirror_is_the_default_mirror(tmp_path: Path, mirror: Path) -> None:
    rc = tmp_path / "runner.tfrc"
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n', encoding="utf-8")
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS + 'resource "null_resource" "x" {}\n'})
    hits = preflight(["terraform", "plan"], str(ws), Policy(), cli_config=str(rc))
    assert [h.id for h in hits] == ["PRE-PROVIDER-SOURCE"] and "hashicorp/null" in hits[0].reason


def test_cli_config_filesystem_mirror_elsewhere_is_refused(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS, ".terraformrc": 'provider_installation {\n  filesystem_mirror {\n'
                                                     '    path = "./plugins"\n  }\n}\n'})
    hits = run(ws, mirror)
    assert [r for r, _ in hits] == ["PRE-CLI-CONFIG"] and "not one of the runner's plugin mirrors" in hits[0][1]


# --------------------------------------------------------------------------- installed provider binaries


def _install(ws: Path, content: bytes | None = None, link_to: Path | None = None) -> Path:
    pkg = ws / ".terraform" / "providers" / AWS / "5.100.0" / ARCH
    pkg.parent.mkdir(parents=True, exist_ok=True)
    if link_to is not None:
        pkg.symlink_to(link_to, target_is_directory=True)
    else:
        pkg.mkdir()
        (pkg / BINARY).write_bytes(content or b"")
    return pkg


def test_installed_provider_linked_into_the_mirror_passes(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    _install(ws, link_to=mirror / AWS / "5.100.0" / ARCH)
    assert run(ws, mirror) == []


def test_installed_provider_copied_from_the_mirror_passes(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    _install(ws, (mirror / AWS / "5.100.0" / ARCH / BINARY).read_bytes())
    assert run(ws, mirror) == []
    assert run(ws, mirror, ["terraform", "fmt"]) == []


@pytest.mark.parametrize("content", [b"#!/bin/sh\ntouch /tmp/pwned\n", b"\x7fELF the mirror's own providex"],
                         ids=["script", "same-size"])
def test_fake_provider_binary_is_refused_for_every_command(tmp_path: Path, mirror: Path, content: bytes) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    _install(ws, content)
    for argv in (["terraform", "plan"], ["terraform", "show", "p.tfplan"], ["terraform", "fmt"]):
        hits = run(ws, mirror, argv)
        assert [r for r, _ in hits] == ["PRE-PROVIDER-SOURCE"], hits
        assert "differs from the mirror's file" in hits[0][1]


def test_provider_version_the_mirror_lacks_is_refused(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    pkg = ws / ".terraform" / "providers" / AWS / "6.0.0" / ARCH
    pkg.mkdir(parents=True)
    (pkg / "terraform-provider-aws").write_bytes(b"x")
    assert [r for r, _ in run(ws, mirror)] == ["PRE-PROVIDER-SOURCE"]


def test_init_may_add_a_provider_the_lock_file_lacks(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS, ".terraform.lock.hcl": "# nothing yet\n"})
    assert run(ws, mirror, ["terraform", "init", "-input=false"]) == []
    assert [r for r, _ in run(ws, mirror)] == ["PRE-PROVIDER-SOURCE"]


@pytest.mark.parametrize("argv,rule", [
    (["terraform", "init", "-plugin-dir=/tmp/p"], "PRE-PROVIDER-SOURCE"),
    (["terraform", "init", "-from-module=file:///tmp/x.zip"], "PRE-PROVIDER-SOURCE"),
    (["terraform", "init", "-backend-config", "bucket=x"], "PRE-BACKEND"),
])
def test_argv_options_that_load_from_agent_paths(tmp_path: Path, mirror: Path, argv: list[str], rule: str) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    hits = run(ws, mirror, argv)
    assert [r for r, _ in hits] == [rule] and hits[0][1].startswith("argv: ")


# --------------------------------------------------------------------------- which command gets which scan


@pytest.mark.parametrize("argv,scanned", [
    (["terraform", "plan"], True), (["terraform", "init"], True), (["terraform", "validate"], True),
    (["terraform", "providers", "schema", "-json"], True), (["terraform", "state", "list"], True),
    (["terraform", "output"], True), (["terraform", "show"], True), (["terraform", "console"], True),
    (["tofu", "plan"], True), (["terraform", "fmt"], False), (["terraform", "version"], False),
    (["terraform", "-help"], False), (["kubectl", "get", "pods"], False), (["make", "lint"], False),
])
def test_configuration_is_scanned_by_commands_that_load_it(tmp_path: Path, mirror: Path, argv: list[str],
                                                           scanned: bool) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS + 'data "external" "x" {\n  program = ["./x.sh"]\n}\n'})
    assert bool(run(ws, mirror, argv)) is scanned


def test_chdir_is_applied_to_the_starting_directory(tmp_path: Path, mirror: Path) -> None:
    write(tmp_path / "repo", {"envs/prod/main.tf": 'data "external" "x" {\n  program = ["x"]\n}\n'})
    hits = preflight(["terraform", "-chdir=envs/prod", "plan"], str(tmp_path / "repo"), Policy(),
                     plugin_mirrors=[str(mirror)], workspace_dir=str(tmp_path / "repo"))
    assert [h.id for h in hits] == ["PRE-EXTERNAL-DATA", "PRE-PROVIDER-SOURCE"]  # hashicorp/external: not mirrored
    assert hits[0].reason.startswith("main.tf:1: data.external.x runs a program")
    assert terraform_words(["terraform", "-chdir", "a", "state", "list", "-state=x"]) == ("a", "state list", ["state"])


def test_a_module_in_the_workspace_above_the_directory_is_fine(tmp_path: Path, mirror: Path) -> None:
    write(tmp_path / "repo", {"envs/prod/main.tf": 'module "m" {\n  source = "../../modules/m"\n}\n',
                              "modules/m/main.tf": 'data "http" "x" {\n  url = "https://e"\n}\n'})
    hits = preflight(["terraform", "plan"], str(tmp_path / "repo/envs/prod"), Policy(),
                     plugin_mirrors=[str(mirror)], workspace_dir=str(tmp_path / "repo"))
    assert [h.id for h in hits] == ["PRE-EXTERNAL-DATA", "PRE-PROVIDER-SOURCE"]  # the module's http data is seen
    assert hits[0].reason.startswith("../../modules/m/main.tf:1:")


def test_installed_modules_are_scanned(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n  version = "5.0.0"\n}\n',
               ".terraform/modules/modules.json":
                   '{"Modules":[{"Key":"","Source":"","Dir":"."},'
                   '{"Key":"vpc","Source":"registry.terraform.io/terraform-aws-modules/vpc/aws","Dir":".terraform/modules/vpc"}]}',
               ".terraform/modules/vpc/main.tf": 'data "external" "x" {\n  program = ["./x"]\n}\n'})
    hits = run(ws, mirror)
    assert any(h[0] == "PRE-EXTERNAL-DATA" and h[1].startswith(".terraform/modules/vpc/main.tf:1:") for h in hits)


def test_a_change_after_a_cached_scan_is_seen(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": PLAIN_AWS})
    assert run(ws, mirror) == []
    write(ws, {"extra.tf": 'data "external" "x" {\n  program = ["./x"]\n}\n'})
    assert [r for r, _ in run(ws, mirror)] == ["PRE-EXTERNAL-DATA", "PRE-PROVIDER-SOURCE"]
    write(ws, {"extra.tf": "# gone\n"})
    assert run(ws, mirror) == []


# --------------------------------------------------------------------------- policy allows


ALLOW = """\
environments:
  - name: staging
    match: {workspaces: [staging]}
preflight:
  allow:
    - rule: PRE-EXTERNAL-DATA
      environments: [staging]
      match: data.external.version
      reason: the version probe is reviewed and pinned
"""


def test_policy_allows_a_rule_per_environment_and_subject(tmp_path: Path, mirror: Path) -> None:
    ws = tmp_path / "ws"
    write(ws, {"main.tf": 'data "external" "version" {\n  program = ["./v.sh"]\n}\n'
                          'data "external" "other" {\n  program = ["./o.sh"]\n}\n'})
    policy = parse_policy(ALLOW)

    def external(environment: str | None) -> list[str]:
        return [reason.split(" ")[0] for rule, reason in run(ws, mirror, policy=policy, environment=environment)
                if rule == "PRE-EXTERNAL-DATA"]

    assert external("staging") == ["main.tf:4:"]
    assert external("production") == ["main.tf:1:", "main.tf:4:"]
    assert external(None) == ["main.tf:1:", "main.tf:4:"]  # the default environment is not staging


@pytest.mark.parametrize("text,line,words", [
    ("preflight:\n  allow:\n    - rule: PRE-BACKEND\n      reason: '  '\n", 4, "needs a reason"),
    ("preflight:\n  allow:\n    - rule: TF-DESTROY\n      reason: because\n", 3, "PRE-* rule"),
    ("preflight:\n  backends:\n    - config: {bucket: x}\n", 3, "type"),
])
def test_bad_preflight_policy_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(PolicyError) as e:
        parse_policy(text)
    assert e.value.line == line and words in str(e.value)


# --------------------------------------------------------------------------- never raises


def test_an_internal_error_refuses_instead_of_raising(tmp_path: Path, mirror: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object, **k: object) -> list[object]:
        raise RuntimeError("bug")

    monkeypatch.setattr(preflight_module, "_terraform", boom)
    hits = preflight(["terraform", "plan"], str(tmp_path), Policy())
    assert [h.id for h in hits] == ["PRE-UNPARSEABLE"] and "RuntimeError: bug" in hits[0].reason


@pytest.mark.parametrize("content", [b"\x00\x01binary", b"\xff\xfe not utf-8", b"{" * 5000, b""])
def test_hostile_files_never_raise(tmp_path: Path, mirror: Path, content: bytes) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("main.tf", "x.tf.json", ".terraform.lock.hcl", ".terraformrc", "kustomization.yaml"):
        (ws / name).write_bytes(content)
    os.mkfifo(ws / "pipe.tf")
    for argv in (["terraform", "plan"], ["kubectl", "apply", "-k", "."]):
        hits = run(ws, mirror, argv, kubeconfig=str(ws / "kustomization.yaml"))
        assert all(h[0].startswith("PRE-") for h in hits)
        if content:
            assert any(h[0] == "PRE-UNPARSEABLE" for h in hits), hits


def test_kustomize_targets() -> None:
    assert kustomize_targets(["kubectl", "kustomize"]) == ["."]
    assert kustomize_targets(["kubectl", "--context", "x", "kustomize", "overlays/dev"]) == ["overlays/dev"]
    assert kustomize_targets(["kubectl", "apply", "-k", "a"]) == ["a"]
    assert kustomize_targets(["kubectl", "diff", "--kustomize=b"]) == ["b"]
    assert kustomize_targets(["kubectl", "get", "-kc", "-o", "yaml"]) == ["c"]
    assert kustomize_targets(["kubectl", "get", "pods", "-n", "kustomize"]) == []


def test_a_clean_cli_config_is_judged_without_loading_the_hcl_parser(tmp_path: Path, mirror: Path) -> None:
    """`terraform version` and kubectl calls stay cheap in a fresh process (the parser's tables take ~1 s)."""
    import subprocess
    import sys

    rc = tmp_path / "runner.tfrc"
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n'
                  '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n  direct {}\n}\n', encoding="utf-8")
    code = ("import sys\nfrom infraleash.gate.preflight import preflight\nfrom infraleash.policy import Policy\n"
            "from infraleash.terraform import hcl_parse\n"
            "hits = preflight(['terraform', 'version'], sys.argv[1], Policy(), cli_config=sys.argv[2])\n"
            "print(len(hits), hcl_parse._parser.cache_info().currsize)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(rc)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "0"]


def test_a_risky_word_in_a_comment_falls_back_to_the_full_parse(tmp_path: Path, mirror: Path) -> None:
    rc = tmp_path / "runner.tfrc"
    rc.write_text(f'# no dev_overrides here\nprovider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n'
                  '  }\n}\n', encoding="utf-8")
    assert run(tmp_path, mirror, ["terraform", "version"], cli_config=str(rc)) == []
    rc.write_text(rc.read_text() + 'plugin_cache_dir = "/tmp/c"\n', encoding="utf-8")
    assert [r for r, _ in run(tmp_path, mirror, ["terraform", "version"], cli_config=str(rc))] == ["PRE-CLI-CONFIG"]
