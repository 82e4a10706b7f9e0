"""Positive controls: the end-to-end code-execution attacks, run *without* infraleash, do run their payload.

Each id below is a corpus attack.  Its workspace is built the same way, and its steps run directly (real
terraform, kubectl, make, git; no gate, no sandbox).  The marker must appear: so when the suite shows the
attack stopped through a surface, it was stopped by infraleash, not by an attack that never worked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from attacks._corpus import load_corpus
from attacks._world import Templates, World

LIVE = [
    "CE-TF-CREDPROC-PROVIDER-BLOCK",  # credential_process during terraform plan (real AWS provider)
    "CE-TF-FROM-MODULE-ZIP-PLUGIN-DIR",  # init -from-module=file://...zip -plugin-dir, then validate
    "CE-TF-PLUGIN-DIR-THEN-VALIDATE",
    "CE-TF-FAKE-PROVIDER-DOT-TERRAFORM-VALIDATE",  # a provider written straight into .terraform/providers
    "CE-TF-DEV-OVERRIDES-TF-CLI-CONFIG-FILE",
    "CE-K8S-KUSTOMIZE-HELM-UNDERSCORE",  # kubectl kustomize --enable_helm --helm_command=./evil.sh
    "CE-K8S-EXEC-PLUGIN-SET-CREDENTIALS",  # config set-credentials --exec-command, then get pods
    "CE-K8S-WORKSPACE-KUBECONFIG-GET",  # a workspace kubeconfig with an exec user
    "CE-MAKE-LINT-SHELL",
    "CE-GIT-STATUS-FSMONITOR",
]


@pytest.mark.parametrize("attack_id", LIVE)
def test_the_attack_runs_its_payload_without_infraleash(attack_id: str, tmp_path: Path,
                                                        templates: Templates) -> None:
    attack = next(a for a in load_corpus() if a.id == attack_id)
    world = World.build(tmp_path, attack, templates)
    env = {**world.runner_env, **{k: world.fill(v) for k, v in attack.env.items()}}
    env.pop("INFRALEASH_RUNNER_CONFIG", None)
    for step in attack.steps:
        subprocess.run([world.fill(a) for a in step.argv], cwd=world.ws / step.cwd, env=env,
                       capture_output=True, timeout=300, check=False)
    assert (world.markers / "pwned").exists(), f"{attack_id}: the payload did not run even without the gate"
