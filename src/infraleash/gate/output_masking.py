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

from typing import Protocol

from infraleash.gate.terraform_argv import is_terraform, parse_terraform
from infraleash.terraform.sensitive_output import Masked, mask_output, masks

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


def mask_stdout(argv: list[str], env: dict[str, str] | None, stdout: str) -> Masked:
    """``stdout`` of ``argv`` masked (unchanged when :func:`must_mask` says there is nothing to mask)."""
    if not must_mask(argv, env):
        return Masked(stdout)
    parsed = parse_terraform(argv, env)
    if parsed is None:
        return Masked("(withheld: infraleash cannot parse this terraform command, so the values Terraform "
                      "marks sensitive in its output cannot be masked)", withheld=True)
    return mask_output(*parsed, stdout)


def mask_result(argv: list[str], env: dict[str, str] | None, result: _Result) -> Masked:
    """Mask ``result.stdout`` in place; say on stderr what was replaced or withheld."""
    masked = mask_stdout(argv, env, result.stdout)
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
