"""The runner configuration: what the operator who runs infraleash trusts, never what the agent brings.

    runner = load_runner_config(args.runner_config)        # --runner-config F, $INFRALEASH_RUNNER_CONFIG,
                                                           # /etc/infraleash/runner.yaml, or built-in defaults
    env = runner.child_env(decision.env)                   # the child's whole environment
    RunnerConfig.for_tests(env={"AWS_ACCESS_KEY_ID": "test"}, cli_config=rc)   # in code, for tests

A YAML file the runner's operator owns names the org policy, the child's
environment (exact ``env`` values and ``pass_env`` names copied from the
runner's own environment, e.g. credentials), the Terraform CLI config and
plugin mirror, the kubeconfig, the workspace roots commands may run in and the
sandbox settings::

    policy: /etc/infraleash/org-policy.yaml
    workspaces: [/srv/agent-work]
    env: {AWS_REGION: eu-west-1}
    pass_env: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN]
    terraform: {cli_config: /etc/infraleash/terraformrc, plugin_mirrors: [/opt/tf-plugins]}
    kubeconfig: /etc/infraleash/kubeconfig-readonly
    sandbox:
      mode: bwrap                      # or: off, with a reason (audited on every run)
      network: {terraform init: true}  # per command class ("terraform SUB", "kubectl VERB", "commands")
      extra_readonly: [/opt/company-ca]

It is **never** found by walking up from the working directory (an agent can
write files there), and a file inside a workspace root or writable by group or
others is refused.  Absent everywhere, the built-in defaults hold: a fixed
system PATH, a private HOME, no CLI config, no kubeconfig, no credentials.

The child's environment (:meth:`RunnerConfig.child_env`) is the runner's
``env`` + ``pass_env`` + the CLI config / kubeconfig it names, then only the
allow-listed names of the action's environment (TF_VAR_*, TF_WORKSPACE,
TF_IN_AUTOMATION, TF_INPUT, NO_COLOR, CHECKPOINT_DISABLE), which never replace a
value the runner set.  Nothing else of the caller's environment reaches it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infraleash.errors import InputError
from infraleash.policy import _format_loc, _line_of

ENV_VAR = "INFRALEASH_RUNNER_CONFIG"
SYSTEM_FILE = Path("/etc/infraleash/runner.yaml")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANDBOX_HOME = "/tmp/home"  # HOME inside the sandbox: a directory of its private, empty /tmp
# what the action's own environment may still set (the runner's values always win)
ACTION_ENV_NAMES = frozenset({"TF_WORKSPACE", "TF_IN_AUTOMATION", "TF_INPUT", "NO_COLOR", "CHECKPOINT_DISABLE"})
ACTION_ENV_PREFIXES = ("TF_VAR_",)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RunnerConfigError(InputError):
    """The runner configuration is missing, malformed, misplaced or writable by others (exit 2)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TerraformSettings(_Strict):
    cli_config: str | None = Field(default=None, description="TF_CLI_CONFIG_FILE for every terraform command")
    plugin_mirrors: list[str] = Field(default_factory=list, description="provider mirrors (read-only in the sandbox)")


class SandboxSettings(_Strict):
    mode: Literal["bwrap", "off"] = "bwrap"
    reason: str | None = Field(default=None, description="why the sandbox is off (required with mode: off)")
    bwrap: str = Field(default="bwrap", description="the bubblewrap program (a name on the system PATH or a path)")
    network: dict[str, bool] = Field(
        default_factory=dict, description='network on/off per command class: "terraform init", "kubectl get", '
        '"commands" (commands.allow entries)')
    extra_readonly: list[str] = Field(default_factory=list, description="more host paths visible read-only")

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, v: object) -> object:
        return "off" if v is False else v  # YAML 1.1 reads an unquoted `mode: off` as false

    @model_validator(mode="after")
    def _off_needs_reason(self) -> SandboxSettings:
        if self.mode == "off" and not (self.reason or "").strip():
            raise ValueError("sandbox mode off needs a reason (it is written to the audit on every run)")
        return self


class RunnerConfig(_Strict):
    policy: str | None = Field(default=None, description="the org policy file")
    workspaces: list[str] = Field(default_factory=list, description="roots commands may run in (empty: anywhere)")
    env: dict[str, str] = Field(default_factory=dict, description="exact values in every child's environment")
    pass_env: list[str] = Field(default_factory=list, description="names copied from the runner's environment")
    terraform: TerraformSettings = Field(default_factory=TerraformSettings)
    kubeconfig: str | None = None
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    source: str | None = Field(default=None, exclude=True, description="the file it was loaded from")

    @field_validator("env")
    @classmethod
    def _env_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, value in v.items():
            if not _NAME.match(name) or "\x00" in value:
                raise ValueError(f"{name!r} is not an environment variable name (or its value has a NUL byte)")
        return v

    @field_validator("pass_env")
    @classmethod
    def _pass_names(cls, v: list[str]) -> list[str]:
        for name in v:
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return v

    @classmethod
    def for_tests(cls, *, env: Mapping[str, str] | None = None, cli_config: str | os.PathLike[str] | None = None,
                  pass_env: list[str] | None = None, **fields: object) -> RunnerConfig:
        """A configuration built in code (tests, embedding): ``env`` values, a CLI config path, anything else."""
        data: dict[str, object] = {"env": dict(env or {}), "pass_env": list(pass_env or []), **fields}
        if cli_config is not None:
            data["terraform"] = {**dict(data.get("terraform") or {}),  # type: ignore[call-overload]
                                 "cli_config": str(cli_config)}
        return cls.model_validate(data)

    # ------------------------------------------------------------------ the child's environment

    def runner_env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The runner's part of a child's environment (PATH, HOME, what it names and passes)."""
        source = os.environ if environ is None else environ
        out = {"PATH": DEFAULT_PATH, "HOME": SANDBOX_HOME}
        out.update({k: source[k] for k in self.pass_env if k in source})
        out.update(self.env)
        if self.terraform.cli_config:
            out["TF_CLI_CONFIG_FILE"] = self.terraform.cli_config
        if self.kubeconfig:
            out["KUBECONFIG"] = self.kubeconfig
        return out

    def child_env(self, action_env: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment of a child: the runner's, plus the action's allow-listed names it did not set."""
        out = self.runner_env(environ)
        for name, value in action_env.items():
            if name not in out and action_env_allowed(name):
                out[name] = value
        return out

    @property
    def path(self) -> str:
        return self.runner_env({}).get("PATH", DEFAULT_PATH)

    # ------------------------------------------------------------------ where commands may run

    def workspace_for(self, cwd: str | os.PathLike[str]) -> str | None:
        """The workspace root (resolved) that contains ``cwd``, or None."""
        real = os.path.realpath(cwd)
        for root in self.workspaces:
            r = os.path.realpath(root)
            if real == r or real.startswith(r.rstrip("/") + "/"):
                return r
        return None

    def outside_workspaces(self, cwd: str | os.PathLike[str]) -> str | None:
        """Why a command may not run in ``cwd`` (outside every workspace root), or None."""
        if not self.workspaces or self.workspace_for(cwd) is not None:
            return None
        return (f"{os.path.realpath(cwd)} is outside the runner's workspaces ({', '.join(self.workspaces)}); "
                "commands run only inside them")

    def check_not_inside(self, workspace: str | os.PathLike[str]) -> None:
        """Refuse a runner configuration (or the policy it names) that lives inside ``workspace``."""
        root = os.path.realpath(workspace)
        for what, p in (("runner configuration", self.source), ("org policy", self.policy)):
            if p and _inside(os.path.realpath(p), root):
                raise RunnerConfigError(f"the {what} is inside the workspace {root}, where the agent can write "
                                        "it; keep it in a directory only the operator can write", file=p)


def action_env_allowed(name: str) -> bool:
    """Whether the action's environment may pass ``name`` to the child."""
    return name in ACTION_ENV_NAMES or name.startswith(ACTION_ENV_PREFIXES)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


# ---------------------------------------------------------------------- loading


def find_runner_config(given: str | os.PathLike[str] | None = None,
                       environ: Mapping[str, str] | None = None) -> Path | None:
    """``--runner-config``, else ``$INFRALEASH_RUNNER_CONFIG``, else ``/etc/infraleash/runner.yaml`` when present."""
    source = os.environ if environ is None else environ
    if given:
        return Path(given)
    if source.get(ENV_VAR):
        return Path(source[ENV_VAR])
    return SYSTEM_FILE if SYSTEM_FILE.is_file() else None


def load_runner_config(given: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None,
                       workspace: str | os.PathLike[str] | None = None) -> RunnerConfig:
    """The runner configuration (see :func:`find_runner_config`); built-in defaults when there is none.

    ``workspace``: the tree the agent works in; a configuration inside it is refused.
    """
    path = find_runner_config(given, environ)
    if path is None:
        return RunnerConfig()
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunnerConfigError("runner configuration not found", file=str(path)) from None
    except UnicodeDecodeError as e:
        raise RunnerConfigError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=str(path)) from None
    except OSError as e:
        raise RunnerConfigError(f"cannot read the runner configuration: {e.strerror}", file=str(path)) from None
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RunnerConfigError(f"the runner configuration is writable by group or others (mode "
                                f"{stat.S_IMODE(st.st_mode):o}); only its owner may write it (chmod go-w)",
                                file=str(path))
    cfg = parse_runner_config(text, str(path))
    if workspace is not None:
        cfg.check_not_inside(workspace)
    for root in cfg.workspaces:
        cfg.check_not_inside(root)
    return cfg


def parse_runner_config(text: str, filename: str = "runner.yaml") -> RunnerConfig:
    """Validate a runner configuration's text; errors name the file, line and key."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise RunnerConfigError(f"invalid YAML: {e.problem}", file=filename, line=line) from None
    except yaml.YAMLError as e:
        raise RunnerConfigError(f"invalid YAML: {e}", file=filename) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RunnerConfigError("the runner configuration must be a mapping (policy, env, sandbox, ...)",
                                file=filename, line=1)
    if "source" in data:
        raise RunnerConfigError("source: Extra inputs are not permitted", file=filename,
                                line=_line_of(node, ("source",)))
    try:
        cfg = RunnerConfig.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(p for p in err["loc"] if p != "__root__")
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise RunnerConfigError(f"{_format_loc(loc)}: {msg}{more}", file=filename, line=_line_of(node, loc)) from None
    base = Path(filename).resolve().parent
    cfg.source = str(Path(filename).resolve())
    cfg.policy = _absolute(cfg.policy, base)
    cfg.kubeconfig = _absolute(cfg.kubeconfig, base)
    cfg.terraform.cli_config = _absolute(cfg.terraform.cli_config, base)
    cfg.terraform.plugin_mirrors = [str(_absolute(p, base)) for p in cfg.terraform.plugin_mirrors]
    cfg.workspaces = [str(_absolute(p, base)) for p in cfg.workspaces]
    cfg.sandbox.extra_readonly = [str(_absolute(p, base)) for p in cfg.sandbox.extra_readonly]
    return cfg


def _absolute(p: str | None, base: Path) -> str | None:
    if p is None:
        return None
    path = Path(p).expanduser()
    return str(path if path.is_absolute() else base / path)
