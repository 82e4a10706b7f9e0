"""Exceptions for user errors and the exit codes every command shares.

    InfraleashError            a user-facing error: one line, no traceback
    ├── UsageError             bad arguments or an unknown subcommand      -> exit 2
    ├── InputError             a file we were given cannot be read/parsed  -> exit 2
    │   └── PolicyError        infraleash.yaml is invalid (file, line, key)
    └── ExecutionError         an external tool failed or timed out        -> exit 2

Anything else that escapes is a bug in infraleash and is reported as such.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (README, "Exit codes")."""

    OK = 0  # allowed / nothing at or above the failing severity
    FINDINGS = 1  # check: findings at or above the failing severity; review: block
    USAGE = 2  # usage or input error (bad arguments, malformed file, tool failure)
    NEEDS_APPROVAL = 3  # the gate held the action for a named human
    DENIED = 4  # the gate refused the action
    INTERNAL = 70  # a bug in infraleash (EX_SOFTWARE)


class InfraleashError(Exception):
    """An error whose message is meant for the user, printed on one line."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        msg = super().__str__()
        if self.file and self.line:
            return f"{self.file}:{self.line}: {msg}"
        if self.file:
            return f"{self.file}: {msg}"
        return msg

    def one_line(self) -> str:
        """``error: MESSAGE`` as the CLI prints it: one line whatever it quotes (a file name or a YAML key
        holding a newline)."""
        return "error: " + str(self).replace("\r", "\\r").replace("\n", "\\n")


class UsageError(InfraleashError):
    pass


class InputError(InfraleashError):
    pass


class PolicyError(InputError):
    pass


class ExecutionError(InfraleashError):
    pass
