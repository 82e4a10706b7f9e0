"""Every file a terraform command reads or writes stays inside the workspace.

    args = confine_terraform_args(ws, ws.root / "envs/prod", ["plan", "-var-file=../../../.aws/credentials"])
    # ToolMistake: -var-file=../../../.aws/credentials: outside the workspace ...

The gate decides *what* a command does (read, plan, apply); it does not check
*where* its path arguments point.  Through the agent's tools, without this:

* ``terraform_plan(out="../../.bashrc")`` overwrote a file outside the workspace
  with a binary plan (plan is allowed at trust level plan);
* ``plan -var-file=~/.aws/credentials`` (any path outside) made Terraform print
  the file's lines in its parse error, i.e. into the model's context;
* ``fmt ../other-repo`` rewrote files outside (a local write, allowed);
* ``show /elsewhere/terraform.tfstate`` printed another state.

So path-valued options (``-out``, ``-var-file``, ``-state*``, ``-backup``,
``-generate-config-out``, ``-plugin-dir``, ``-backend-config=FILE``, ...) and the
positional paths of ``show``, ``apply``, ``fmt``, ``providers mirror`` and ``init``
are resolved against the command's directory and must land inside the
workspace (same rules as the file tools: no ``..`` or symlink out, not our
files, not state).  ``-chdir`` is refused here: the tools' ``dir`` argument sets it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from infraleash.agent.exceptions import ToolMistake
from infraleash.gate.terraform_argv import _VALUED  # the gate's own list of options that take a value

if TYPE_CHECKING:
    from infraleash.agent.tools import Workspace

PATH_OPTIONS = frozenset({"out", "var-file", "state", "state-out", "backup", "generate-config-out", "plugin-dir",
                          "test-directory", "junit-xml", "fs-mirror", "config", "plan", "from-module",
                          "backend-config"})
PATH_POSITIONALS = frozenset({"show", "apply", "fmt", "providers mirror", "init", "validate", "plan", "graph"})
_NESTED = {"state", "workspace", "providers", "metadata"}


def _is_path_value(option: str, value: str) -> bool:
    if option == "backend-config":
        return "=" not in value  # KEY=VALUE pairs are not files
    if option == "from-module":
        return value.startswith(("./", "../", "/", "~"))  # registry/git sources are not local paths
    return bool(value)


def confine_path(ws: Workspace, directory: Path, value: str, what: str) -> None:
    """Refuse ``value`` (relative to ``directory``, as terraform reads it) unless it stays in the workspace."""
    if os.path.isabs(value):
        raise ToolMistake(f"{what}: use a path relative to the directory, not an absolute path; files outside "
                          f"the workspace {ws.root} are off limits")
    try:
        ws.resolve(os.path.relpath(directory / value, ws.root))
    except ToolMistake as e:
        raise ToolMistake(f"{what}: {e}") from None


def confine_terraform_args(ws: Workspace, directory: Path, args: list[str]) -> list[str]:
    """``args`` unchanged when every path in them stays in the workspace; else :class:`ToolMistake`."""
    words = list(args)
    if any(a.lstrip("-").startswith("chdir") for a in words):
        raise ToolMistake("-chdir: set the directory with the tool's `dir` argument (relative to the workspace)")
    i, sub = 0, ""
    while i < len(words) and words[i].startswith("-"):
        i += 1
    if i < len(words):
        sub, i = words[i], i + 1
        if sub in _NESTED and i < len(words) and not words[i].startswith("-"):
            sub, i = f"{sub} {words[i]}", i + 1
    positional_paths = sub in PATH_POSITIONALS
    while i < len(words):
        word = words[i]
        if word.startswith("-") and word not in ("-", "--"):
            name, eq, value = word.lstrip("-").partition("=")
            if not eq and name in _VALUED and i + 1 < len(words):
                i += 1
                value = words[i]
            if name in PATH_OPTIONS and _is_path_value(name, value):
                confine_path(ws, directory, value, f"-{name}={value}")
        elif positional_paths and word != "-":
            confine_path(ws, directory, word, f"`terraform {sub} {word}`")
        i += 1
    return words


# Terraform's functions that read files at plan time; a literal path out of the workspace puts that file's
# content into the plan output (`output "x" { value = file("~/.aws/credentials") }`), i.e. into the model's context.
_FILE_READ = re.compile(r'\b(file\w*|templatefile|pathexpand|abspath)\s*\(\s*\\?"(?P<path>(?:[^"\\]|\\[^"])*)\\?"')
_MODULE_PREFIX = re.compile(r"^\$\{path\.(?:module|root|cwd)\}/?")


def check_file_reads(ws: Workspace, target: Path, content: str) -> None:
    """Refuse Terraform that reads a file outside the workspace by a literal path (``file("/etc/x")``, ``../..``, ``~``).

    A partial defence, stated plainly: a path built from a variable or a data source is not seen here.
    """
    if not target.name.endswith((".tf", ".tf.json")):
        return
    for m in _FILE_READ.finditer(content):
        func, raw = m.group(1), m.group("path")
        if func == "pathexpand" or raw.startswith("~"):
            raise ToolMistake(f"{ws.rel(target)}: {func}(\"{raw}\") reads from the home directory, outside the "
                              "workspace; only files under the workspace may be read by the configuration")
        path = _MODULE_PREFIX.sub("", raw)
        if "${" in path or not path:
            continue
        confine_path(ws, target.parent, path, f"{ws.rel(target)}: {func}(\"{raw}\")")
