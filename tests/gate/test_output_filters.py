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


def test_the_executor_finds_the_filter_from_the_argv_alone() -> None:
    from infraleash.gate.output_filters import filter_for

    assert filter_for(["kubectl", "config", "view"]) == "kubeconfig"
    assert filter_for(["/usr/bin/kubectl", "--context=c", "config", "view", "--minify"]) == "kubeconfig"
    assert filter_for(["kubectl", "get", "pods"]) is None
    assert filter_for(["terraform", "output"]) is None
    assert filter_for([]) is None


def test_the_executor_masks_config_view_in_the_sandbox(tmp_path: Path) -> None:
    """`kubectl config view` run for real by the executor (bubblewrap), the runner's kubeconfig: masked."""
    from infraleash.gate.executor import run_command
    from infraleash.gate.runner_config import RunnerConfig

    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine (the image has /usr/bin/kubectl)")
    runner = RunnerConfig.for_tests(env={"PATH": "/usr/bin:/bin"}, kubeconfig=str(KUBECONFIG))
    result = run_command(["kubectl", "config", "view"], cwd=str(tmp_path), env={}, runner=runner,
                         workspace=str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "oidc" in result.stdout and REDACTED in result.stdout and "s3cr3t" not in result.stdout
