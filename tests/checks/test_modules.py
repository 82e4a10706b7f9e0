"""Module sources: allowed prefixes, look-alike hosts, version pins, git refs, plain http."""

from __future__ import annotations

import pytest

from infraleash.checks import modules as m
from infraleash.policy import ModulePolicy, Policy
from infraleash.terraform.hcl import load_text

POLICY = Policy(modules=ModulePolicy(allowed_sources=["./", "terraform-aws-modules/", "git::https://github.com/acme/",
                                                      "git::https://git.example.com/platform/"]))


def rules_for(source: str, version: str | None = None) -> set[str]:
    ver = f'\n  version = "{version}"' if version else ""
    cfg = load_text(f'module "x" {{\n  source = "{source}"{ver}\n}}\n')
    found = m.check(cfg, POLICY)
    assert all(f.line == 2 and f.address == "module.x" for f in found)
    return {f.rule for f in found}


@pytest.mark.parametrize("source,version,expected", [
    ("terraform-aws-modules/vpc/aws", "5.8.1", set()),
    ("terraform-aws-modules/vpc/aws", None, {m.NO_VERSION}),
    ("./modules/vpc", None, set()),
    ("git::https://github.com/acme/vpc.git?ref=v1.2.0", None, set()),
    ("git::https://github.com/acme/vpc.git?ref=3f2a9c1d", None, set()),
    ("git::https://github.com/acme/vpc.git?ref=main", None, {m.GIT_UNPINNED}),
    ("git::https://github.com/acme/vpc.git?ref=feature-x", None, {m.GIT_UNPINNED}),
    ("git::https://github.com/acme/vpc.git", None, {m.GIT_UNPINNED}),
    ("git::https://github.com.evil.io/acme/vpc.git?ref=v1.0.0", None, {m.LOOKALIKE}),
    ("git::https://evil-github.com/acme/vpc.git?ref=v1.0.0", None, {m.LOOKALIKE}),
    ("git::https://git.example.com.attacker.net/platform/x.git?ref=v1", None, {m.LOOKALIKE}),
    ("git::https://githib.com/acme/vpc.git?ref=v1.0.0", None, {m.LOOKALIKE}),
    ("randomuser/vpc/aws", "1.0.0", {m.NOT_ALLOWED}),
    ("git::https://gitlab.com/other/vpc.git?ref=v1.0.0", None, {m.NOT_ALLOWED}),
    ("http://modules.example.com/vpc.zip", None, {m.INSECURE, m.NOT_ALLOWED}),
])
def test_module_sources(source: str, version: str | None, expected: set[str]) -> None:
    assert rules_for(source, version) == expected


def test_host_of() -> None:
    assert m.host_of("git@github.com:acme/x.git") == "github.com"
    assert m.host_of("terraform-aws-modules/vpc/aws") == "registry.terraform.io"
    assert m.host_of("app.terraform.io/acme/vpc/aws") == "app.terraform.io"
