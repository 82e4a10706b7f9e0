"""Real plans against the local sandbox: apply a "production" state once, plan many changes of it.

    prod = Production.apply(workdir, {"main.tf": PROD_TF}, endpoint=moto.endpoint, env=env)
    scenario = prod.derive(tmp / "rename", {"main.tf": CHANGED_TF})   # state copied, .terraform shared
    plan_json = scenario.plan_json()                                   # terraform plan -out + show -json

Applies are slow (an RDS instance takes ~80 s against moto); plans are cheap.
So one production state is applied and every scenario is a separate working
directory holding a copy of that state and a link to the same ``.terraform``.
Used by the bundled demo, ``examples/review/record_plan.py`` and the sandbox tests.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from infraleash.errors import ExecutionError
from infraleash.terraform.runner import TerraformRunner
from infraleash.terraform.sandbox import provider_block

PLAN_FILE = "review.tfplan"
SANDBOX_REPLACES = frozenset({"versions.tf", "provider.tf"})


def _terraform(workdir: Path, env: dict[str, str], *args: str, timeout: float = 900) -> str:
    result = TerraformRunner(workdir, env, binary="terraform", timeout=timeout).run(*args, "-no-color")
    if not result.ok:
        lines = [ln.strip(" │╷╵") for ln in result.stderr.splitlines() if ln.strip(" │╷╵")]
        detail = " / ".join(lines[:6]) or "(no output)"
        raise ExecutionError(f"terraform {args[0]} failed in {workdir}: {detail}")
    return result.stdout


def write_config(workdir: Path, files: dict[str, str] | Path, endpoint: str) -> None:
    """The configuration's .tf files (a dict, or copied from a directory) plus a moto provider block.

    A directory's ``versions.tf``/``provider.tf`` are not copied: the sandbox provider block replaces them.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    for old in workdir.glob("*.tf"):
        old.unlink()
    if isinstance(files, Path):
        for src in sorted(files.glob("*.tf")):
            if src.name in SANDBOX_REPLACES:
                continue
            shutil.copyfile(src, workdir / src.name)
    else:
        for name, text in files.items():
            (workdir / name).write_text(text, encoding="utf-8")
    (workdir / "provider.tf").write_text(provider_block(endpoint), encoding="utf-8")


@dataclass
class Production:
    workdir: Path
    endpoint: str
    env: dict[str, str]

    @classmethod
    def apply(cls, workdir: Path, files: dict[str, str] | Path, *, endpoint: str, env: dict[str, str]) -> Production:
        write_config(workdir, files, endpoint)
        _terraform(workdir, env, "init", "-input=false")
        _terraform(workdir, env, "apply", "-auto-approve", "-input=false")
        return cls(workdir=workdir, endpoint=endpoint, env=env)

    def derive(self, workdir: Path, files: dict[str, str] | Path) -> Scenario:
        """A working directory with a copy of the production state and a changed configuration."""
        if workdir.exists():
            shutil.rmtree(workdir)
        write_config(workdir, files, self.endpoint)
        shutil.copyfile(self.workdir / "terraform.tfstate", workdir / "terraform.tfstate")
        lock = self.workdir / ".terraform.lock.hcl"
        if lock.exists():
            shutil.copyfile(lock, workdir / ".terraform.lock.hcl")
        (workdir / ".terraform").symlink_to((self.workdir / ".terraform").resolve(), target_is_directory=True)
        return Scenario(workdir=workdir, env=self.env)


@dataclass
class Scenario:
    workdir: Path
    env: dict[str, str]

    def plan_json(self, *extra: str) -> str:
        """``terraform plan -out`` then ``terraform show -json``: the plan document as text."""
        _terraform(self.workdir, self.env, "plan", "-input=false", "-lock=false", f"-out={PLAN_FILE}", *extra)
        return _terraform(self.workdir, self.env, "show", "-json", PLAN_FILE)
