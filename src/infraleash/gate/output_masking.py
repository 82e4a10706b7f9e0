"""Sensitive values never leave the executor, whatever surface asked (CLI ``exec``, MCP, the agent's tools).

    if must_mask(argv, env):          # before running: a masked command is not streamed live
        ...run it buffered...
    mask_result(argv, env, result)    # stdout masked in place, a note on stderr

What to mask is decided from the gate's own parse of the argv
(:func:`infraleash.gate.terraform_argv.parse_terraform`: ``-chdir``, empty
words, ``=`` and ``--`` forms, TF_CLI_ARGS* folded), not from ``argv[1]``, so
``terraform "" output -raw pw`` or ``TF_CLI_ARGS_output=-json`` are read as
terraform reads them.  The masking itself is
:mod:`infraleash.terraform.sensitive_output`.  A terraform argv the parser
cannot read but that names ``output``, ``show`` or ``state`` is withheld whole.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Any, Protocol

from infraleash.gate.terraform_argv import is_terraform, parse_terraform
from infraleash.terraform.sensitive_output import (
    Masked,
    mask_output,
    masks,
    reads_state_as_text,
    state_secrets,
)

MAX_STATE_BYTES = 64 * 1024 * 1024

_SUSPECT = frozenset({"output", "show", "state", "pull"})


class _Result(Protocol):
    stdout: str
    stderr: str
    truncated: bool


def must_mask(argv: list[str], env: dict[str, str] | None = None) -> bool:
    """Whether this command's output may carry values Terraform marks sensitive."""
    if not argv or not is_terraform(argv[0]):
        return False
    parsed = parse_terraform(argv, env)
    if parsed is None:
        return any(a.strip() in _SUSPECT for a in argv[1:])
    return masks(*parsed)


def mask_stdout(argv: list[str], env: dict[str, str] | None, stdout: str, cwd: str | None = None) -> Masked:
    """``stdout`` of ``argv`` masked (unchanged when :func:`must_mask` says there is nothing to mask).

    The human forms (``show``, ``state show``) are masked with the strings the local state marks
    sensitive (read from ``cwd``, ``-chdir``, the workspace, ``-state`` or the file ``show`` reads).
    """
    if not must_mask(argv, env):
        return Masked(stdout)
    parsed = parse_terraform(argv, env)
    if parsed is None:
        return Masked("(withheld: infraleash cannot parse this terraform command, so the values Terraform "
                      "marks sensitive in its output cannot be masked)", withheld=True)
    sub, options, positionals = parsed
    secrets = _local_state_secrets(argv, env or {}, cwd, sub, options, positionals) \
        if cwd is not None and reads_state_as_text(sub, options) else set()
    return mask_output(sub, options, positionals, stdout, secrets)


def _local_state_secrets(argv: list[str], env: dict[str, str], cwd: str, sub: str, options: dict[str, list[str]],
                         positionals: list[str]) -> set[str]:
    """What the state the command reads marks sensitive (a local state file, or the prior state in a plan)."""
    chdir = next((a[len("-chdir="):] for a in argv[1:] if a.startswith("-chdir=")), None)
    base = Path(cwd) / chdir if chdir else Path(cwd)
    if sub == "show" and positionals:
        return _secrets_of(base / positionals[0])
    if options.get("state"):
        return _secrets_of(base / options["state"][-1])
    workspace = env.get("TF_WORKSPACE") or _read_small(base / ".terraform" / "environment").strip() or "default"
    if workspace == "default":
        return _secrets_of(base / "terraform.tfstate")
    return _secrets_of(base / "terraform.tfstate.d" / workspace / "terraform.tfstate")


def _secrets_of(path: Path) -> set[str]:
    data = _read_small(path, binary=True)
    if data[:2] == b"PK":  # a saved plan: a zip whose "tfstate" member is the prior state
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                data = z.read("tfstate") if "tfstate" in z.namelist() else b""
        except (zipfile.BadZipFile, OSError, KeyError):
            return set()
    return state_secrets(data.decode("utf-8", "replace")) if data else set()


def _read_small(path: Path, *, binary: bool = False) -> Any:
    """A regular file's bytes (at most MAX_STATE_BYTES; never a FIFO, device or symlink); empty otherwise."""
    empty: Any = b"" if binary else ""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_STATE_BYTES:
            return empty
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_STATE_BYTES + 1)
    except OSError:
        return empty
    return data if binary else data.decode("utf-8", "replace")


def mask_result(argv: list[str], env: dict[str, str] | None, result: _Result, cwd: str | None = None) -> Masked:
    """Mask ``result.stdout`` in place; say on stderr what was replaced or withheld."""
    masked = mask_stdout(argv, env, result.stdout, cwd)
    if result.truncated and must_mask(argv, env):
        masked = Masked("(withheld: the output was cut to its last bytes, so the values Terraform marks "
                        "sensitive in it cannot be masked; narrow the request)", withheld=True)
    ends = result.stdout.endswith("\n") or masked.withheld
    result.stdout = masked.text + ("\n" if ends and not masked.text.endswith("\n") else "")
    note = masked.note() if masked.count else ("[infraleash withheld the output: see stdout]"
                                               if masked.withheld else "")
    if note:
        result.stderr = (result.stderr.rstrip("\n") + "\n" if result.stderr.strip() else "") + \
            f"infraleash: {note}\n"
    return masked
