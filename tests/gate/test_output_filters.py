"""The kubeconfig masker, on what the real `kubectl config view` prints (no cluster needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infraleash.gate import Action, decide
from infraleash.gate.output_filters import REDACTED, WITHHELD, apply_filter, mask_kubeconfig
from infraleash.policy import Policy

KUBECONFIG = Path(__file__).parent / "data" / "kubeconfig-with-secrets.yaml"
KUBECTL = shutil.which("kubectl")


def _config_view(*args: str) -> str:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine (the image has /usr/bin/kubectl)")
    env = {"KUBECONFIG": str(KUBECONFIG), "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    return subprocess.run([KUBECTL, "config", "view", *args], env=env, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("args", [(), ("-o", "json"), ("-o", "yaml"), ("--minify",)])
def test_config_view_without_raw_leaks_and_the_masker_hides_it(args: tuple[str, ...]) -> None:
    printed = _config_view(*args)
    if args != ("--minify",):  # --minify keeps only the current context's user (the auth-provider one)
        assert "s3cr3t-env" in printed and "s3cr3t-arg" in printed  # what kubectl itself leaves visible
    assert "s3cr3t-refresh" in printed and "s3cr3t-client" in printed
    masked = mask_kubeconfig(printed)
    assert "s3cr3t" not in masked
    assert REDACTED in masked and "https://idp.example" in masked and "client-id" in masked  # public fields stay


def test_the_decision_names_the_filter_for_config_view_only() -> None:
    policy = Policy()
    assert decide(Action(argv=["kubectl", "config", "view"]), policy).output_filter == "kubeconfig"
    assert decide(Action(argv=["kubectl", "config", "view", "-o", "json"]), policy).output_filter == "kubeconfig"
    assert decide(Action(argv=["kubectl", "get", "pods"]), policy).output_filter is None
    raw = decide(Action(argv=["kubectl", "config", "view", "--raw"]), policy)
    assert not raw.allowed and raw.rules[0].id == "K8S-KUBECONFIG-READ"


def test_what_cannot_be_parsed_is_withheld() -> None:
    assert mask_kubeconfig("users: [unclosed") == WITHHELD
    assert mask_kubeconfig("- just a list") == WITHHELD
    assert mask_kubeconfig("") == ""
    assert apply_filter(None, "x") == "x"
    assert "unknown output filter" in apply_filter("nope", "secret")
