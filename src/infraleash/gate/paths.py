"""Paths named in an argv, judged by what the file is: inside the workspace, and not ours.

    judge = PathJudge.for_action(cwd="/w/envs/dev", workspace_dir="/w", scratch_dirs=[], policy=policy)
    judge.output("../../.infraleash/audit.jsonl", base="/w/envs/dev")
    # PathProblem(kind='owned', path='/w/.infraleash/audit.jsonl', what='the gate's own state (.infraleash/)')

Both argv classifiers (terraform, kubectl) use one :class:`PathJudge`:

* **outputs** (``-out``, ``-state-out``, ``-backup``, ``fmt`` targets, kubectl
  ``--profile-output``, ``--output-directory``, ``--cache-dir``, ``cp``'s local
  destination ...) must resolve inside the workspace (``GateContext.workspace_dir``;
  None: the action's working directory) or one of ``GateContext.scratch_dirs``,
  and must not be a file the gate or Terraform owns (:func:`owned_by`);
* **inputs** (``-var-file``, ``-state``, ``-chdir``, kubectl ``-f``,
  ``--from-file`` ...) must resolve inside the workspace or a scratch directory.

"Resolve" means: joined to the directory the program resolves it in,
normalised (``a/../..``), then every existing part's symlinks followed
(``os.path.realpath``), so ``link -> /etc`` or ``x -> terraform.tfstate`` is
judged by where it lands.  Both the path as written and the resolved one must
pass.  A path starting with ``~`` is outside: some programs expand it.  This
touches the filesystem (``lstat`` of the path's existing parents) and nothing
else.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from infraleash.policy import Policy

# Files Terraform keeps: state, its backups and workspaces, the lock file, the provider/module cache.
_TERRAFORM_FILES = ("terraform.tfstate", "*.tfstate", "*.tfstate.backup", ".terraform.lock.hcl")
_TERRAFORM_DIRS = ("terraform.tfstate.d", ".terraform")
# Files infraleash keeps: any policy file, its state directory.
_GATE_FILES = ("infraleash.yaml", "infraleash.yml")
_GATE_DIRS = (".infraleash",)
# Configuration a plan file must not be written over (`plan -out=main.tf`).
CONFIG_FILES = ("*.tf", "*.tf.json", "*.tofu", "*.tofu.json", "*.tfvars", "*.tfvars.json", "*.tftest.hcl")


@dataclass(frozen=True, slots=True)
class PathProblem:
    """Why a path is refused: ``outside`` the workspace, or a file the gate or Terraform ``owned``."""

    kind: Literal["outside", "owned"]
    path: str  # the resolved path
    what: str  # plain words: "outside the workspace /w", "Terraform state (*.tfstate)"


@dataclass(frozen=True, slots=True)
class PathJudge:
    """Where an argv may read and write; built by trusted code (``decide``), never from model arguments."""

    workspace: str
    scratch: tuple[str, ...] = ()
    owned: tuple[str, ...] = ()  # the policy's own files (audit log, head file, approvals store, the policy)
    roots: tuple[str, ...] = ()  # workspace and scratch directories, as given and resolved

    @classmethod
    def for_action(cls, cwd: str, workspace_dir: str | None = None, scratch_dirs: Iterable[str] = (),
                   policy: Policy | None = None) -> PathJudge:
        given, roots = _roots(os.getcwd(), workspace_dir if workspace_dir is not None else cwd,
                              tuple(d for d in scratch_dirs if d))
        return cls(workspace=given[0], scratch=given[1:], roots=roots, owned=policy_files(policy) if policy else ())

    def output(self, path: str, base: str, *, config_too: bool = False) -> PathProblem | None:
        """Why ``path`` (relative to ``base``) may not be written, or None.

        ``config_too``: Terraform configuration (``*.tf``, ``*.tfvars`` ...) counts as owned
        (a plan file or a JUnit report written over ``main.tf``).
        """
        problem = self.input(path, base)
        if problem is not None:
            return problem
        written = os.path.normpath(os.path.join(os.path.abspath(base), path))
        for candidate in dict.fromkeys((written, _real(written))):
            what = self._owned(candidate, config_too)
            if what:
                return PathProblem("owned", candidate, what)
        return None

    def input(self, path: str, base: str) -> PathProblem | None:
        """Why ``path`` (relative to ``base``) may not be read or used as a directory, or None."""
        if path.startswith(("~", "\\")) or (len(path) > 1 and path[1] == ":"):
            return PathProblem("outside", path, f"outside the workspace {self.workspace} (a home or drive path)")
        written = os.path.normpath(os.path.join(os.path.abspath(base), path))
        for candidate in dict.fromkeys((written, _real(written))):
            if not self._inside(candidate):
                return PathProblem("outside", candidate, f"outside the workspace {self.workspace}")
        return None

    def _inside(self, path: str) -> bool:
        return any(_under(path, root) for root in self.roots or (self.workspace, *self.scratch))

    def _owned(self, path: str, config_too: bool) -> str | None:
        if path in self.owned:
            return "a file the policy names (audit log, head file, approvals store or the policy)"
        what = owned_by(path)
        if what:
            return what
        if config_too and any(fnmatch.fnmatchcase(os.path.basename(path), p) for p in CONFIG_FILES):
            return "Terraform configuration (*.tf, *.tf.json, *.tofu, *.tfvars ...)"
        return None


def owned_by(path: str) -> str | None:
    """What owns ``path`` by its name (Terraform state, lock file, cache, infraleash's files), or None."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if not parts:
        return None
    name = parts[-1]
    if any(fnmatch.fnmatchcase(name, p) for p in _TERRAFORM_FILES):
        return "Terraform's state or lock file (terraform.tfstate, *.tfstate, *.tfstate.backup, .terraform.lock.hcl)"
    if any(p in _TERRAFORM_DIRS for p in parts):
        return "Terraform's own directories (.terraform/, terraform.tfstate.d/)"
    if name in _GATE_FILES:
        return "an infraleash policy file (infraleash.yaml)"
    if any(p in _GATE_DIRS for p in parts):
        return "the gate's own state (.infraleash/)"
    return None


@functools.lru_cache(maxsize=256)
def _roots(process_cwd: str, workspace: str, scratch: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(workspace and scratch directories as given, made absolute; the same plus their resolved forms).

    Remembered (most of a decision's cost was resolving the same workspace again); the paths an argv
    names are resolved on every call.
    """
    given = tuple(os.path.normpath(os.path.join(process_cwd, d)) for d in (workspace, *scratch))
    return given, tuple(dict.fromkeys(r for g in given for r in (g, _real(g))))


_POLICY_FILES: dict[int, tuple[Policy, tuple[str, ...]]] = {}


def policy_files(policy: Policy) -> tuple[str, ...]:
    """The files ``policy`` names (audit log, its head file, approvals store, the policy itself), resolved.

    Remembered per Policy object (a Policy is not changed once in use, as ``decide`` assumes too).
    """
    cached = _POLICY_FILES.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    if len(_POLICY_FILES) > 16:
        _POLICY_FILES.clear()
    files = _policy_files(policy)
    _POLICY_FILES[id(policy)] = (policy, files)
    return files


def _policy_files(policy: Policy) -> tuple[str, ...]:
    log = str(policy.resolve_path(policy.audit.path))
    names = [log, str(policy.resolve_path(policy.audit.anchor)) if policy.audit.anchor else f"{log}.head",
             str(policy.resolve_path(policy.approvals.store))]
    if policy.source:
        names.append(policy.source)
    out: list[str] = []
    for name in names:
        absolute = os.path.normpath(os.path.abspath(name))
        out.extend(dict.fromkeys((absolute, _real(absolute))))
    return tuple(out)


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")
