"""Any command: shells, metacharacters, wrappers, the environment, the policy allow-list.

:func:`classify_command` is the single entry for argv actions.  In order:

1. An empty argv is CMD-EMPTY.
2. The environment is sanitized: TF_CLI_ARGS* are removed (and folded into a
   terraform argv, see ``terraform_argv``); variables that load code or put
   secrets into logs are removed (ENV-STRIPPED: LD_*, DYLD_*, GIT_SSH_COMMAND,
   GIT_CONFIG*, TF_LOG*, editors ..., list below).  PATH, HOME,
   TF_CLI_CONFIG_FILE, TERRAFORM_CONFIG and KUBECONFIG are dropped too: the
   executor takes them from its own (the runner's) environment, because each
   one decides which program or credential helper runs.  TF_WORKSPACE,
   TF_DATA_DIR, TF_PLUGIN_CACHE_DIR, TF_IN_AUTOMATION and TF_VAR_* stay: they
   are how operators configure runs; TF_WORKSPACE and the action's KUBECONFIG
   are used to match the environment.  An argv or environment with a NUL byte,
   or an argv over 4096 words / 256 KiB, is CMD-UNPARSEABLE.
3. argv[0] that is a shell (``sh -c``, ``bash``, ``pwsh`` ...) or a whole command
   line in one string is CMD-SHELL; a wrapper that runs another command
   (``env``, ``sudo``, ``xargs``, ``timeout`` ...) is CMD-WRAPPER.
4. Any element that is shell syntax (pipe, ``;``, ``&&``, redirection,
   ``$(...)``, backticks, process substitution) is CMD-SHELL-META.  For kubectl
   the container command after ``--`` (``exec pod -- sh -c 'a | b'``) is the
   workload's business and is not checked.
5. terraform/tofu and kubectl go to their classifiers.  They are recognised
   by name (found on PATH) or absolute path; a relative path (``./terraform``)
   may be a script the agent wrote and is CMD-UNKNOWN.
6. Anything else is CMD-UNKNOWN unless a ``commands.allow`` prefix matches
   (CMD-ALLOWED).  Its effect is unknown, so it is reported as a non-local WRITE:
   allowed at every trust level (the team listed it), refused in sev1/sev2.
   The prefix's first word matches argv[0] exactly, or by basename when the
   entry has no slash and argv[0] is an absolute path.
"""

from __future__ import annotations

import os
import re
import shlex

from infraleash.gate.kubectl_argv import classify_kubectl, command_part, is_kubectl
from infraleash.gate.model import Action, Effect
from infraleash.gate.rules import Classification, hit
from infraleash.gate.terraform_argv import classify_terraform, is_terraform

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "ash", "busybox",
                    "pwsh", "powershell", "cmd", "rbash"})
WRAPPERS = frozenset({"env", "sudo", "doas", "su", "xargs", "timeout", "nohup", "nice", "ionice", "time",
                      "exec", "eval", "command", "builtin", "watch", "stdbuf", "setsid", "chroot", "unshare",
                      "nsenter", "flock", "strace", "ltrace", "script", "parallel", "ssh", "docker", "podman"})
STRIPPED_ENV = frozenset({"TF_REATTACH_PROVIDERS", "KUBECTL_EXTERNAL_DIFF", "KUBE_EDITOR", "EDITOR", "VISUAL",
                          "TF_LOG", "TF_LOG_CORE", "TF_LOG_PROVIDER", "TF_LOG_PATH", "BASH_ENV", "ENV",
                          "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_PROXY_COMMAND",
                          "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_CONFIG", "GIT_CONFIG_GLOBAL",
                          "GIT_CONFIG_SYSTEM", "GIT_CONFIG_COUNT", "GIT_EXTERNAL_DIFF", "PYTHONPATH",
                          "PYTHONSTARTUP", "NODE_OPTIONS", "PERL5OPT", "RUBYOPT"})
# prefixes: the dynamic loader (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT ...), macOS dyld, git's
# GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n (any git config, core.sshCommand included)
STRIPPED_PREFIXES = ("LD_", "DYLD_", "GIT_CONFIG_")
# Taken from the runner's own environment by the executor, never from the action: where programs are
# found (PATH), which CLI config / kubeconfig is read (credential helpers, provider dev_overrides and
# kubeconfig exec plugins all run programs).  Removed here so that approvals never store them.
RUNNER_ENV = frozenset({"PATH", "HOME", "TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG", "KUBECONFIG"})
MAX_ARGS = 4096
MAX_ARGV_BYTES = 256 * 1024

_OPERATORS = frozenset({"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "<<<", ">|", "|&", "&>", "&>>",
                        ">&", "<&", "2>", "2>>", "2>&1", "1>&2", "!", "(", ")", "{", "}"})
_REDIRECT = re.compile(r"^(?:\d?(?:>>?|<<?|>&|<&|>\|)|&>>?)\S")
_SUBST = (("$(", "command substitution"), ("`", "backtick substitution"), ("<(", "process substitution"),
          (">(", "process substitution"))


def classify_command(action: Action, allow: list[list[str]], context_known: bool = False) -> Classification:
    """Classify ``action.argv`` with its environment; ``allow`` is ``policy.commands.allow``."""
    argv = list(action.argv)
    env, stripped, tf_cli_args = _sanitize_env(action.env)
    removed = sorted([*stripped, *tf_cli_args])
    if not argv or not argv[0].strip():
        return _refused("CMD-EMPTY", argv, env, removed)
    bad = _unrunnable(argv, action.env)
    if bad:
        return _refused("CMD-UNPARSEABLE", argv, env, removed, detail=bad)
    program = argv[0]
    base = os.path.basename(program).removesuffix(".exe")
    if base in SHELLS:
        detail = f"`{base} {argv[1]}`" if len(argv) > 1 and argv[1].startswith("-") else f"`{base}`"
        return _refused("CMD-SHELL", argv, env, removed, detail=f"{detail} is a shell")
    if "/" not in program and re.search(r"\s", program):
        return _refused("CMD-SHELL", argv, env, removed, detail=f"{program!r} is a whole command line")
    if base in WRAPPERS:
        return _refused("CMD-WRAPPER", argv, env, removed, program=base)
    kubectl = is_kubectl(program)
    meta = shell_meta(command_part(argv)[1:] if kubectl else argv[1:])
    if meta:
        return _refused("CMD-SHELL-META", argv, env, removed, arg=meta[0], what=meta[1])
    if (kubectl or is_terraform(program)) and "/" in program and not os.path.isabs(program):
        return _refused("CMD-UNKNOWN", argv, env, removed,
                        detail=f"{program} is a relative path, maybe a file the agent wrote; use {base}")
    if is_terraform(program):
        c = classify_terraform(argv, {**env, **tf_cli_args}, action.cwd)
        if c.directory is None:
            c.directory = action.cwd
    elif kubectl:
        c = classify_kubectl(argv, action.env, context_known)
    else:
        prefix = _allowed_prefix(argv, allow)
        if prefix is None:
            return _refused("CMD-UNKNOWN", argv, env, removed,
                            detail=f"{base} is not terraform, tofu or kubectl and no commands.allow entry matches")
        c = Classification(effect=Effect.WRITE, local=False, argv=argv, summary=shlex.join(argv[:2]),
                           notes=[hit("CMD-ALLOWED", prefix=shlex.join(prefix))], directory=action.cwd)
    c.env, c.stripped_env = env, removed
    if stripped:
        c.notes.append(hit("ENV-STRIPPED", names=", ".join(sorted(stripped))))
    if tf_cli_args and not is_terraform(program):
        c.notes.append(hit("ENV-STRIPPED", names=", ".join(sorted(tf_cli_args))))
    return c


def shell_meta(args: list[str]) -> tuple[str, str] | None:
    """The first element that is shell syntax, and what it is; None if there is none."""
    for arg in args:
        if arg in _OPERATORS:
            return arg, "a shell operator"
        for token, what in _SUBST:
            if token in arg:
                return arg, what
        if _REDIRECT.match(arg):
            return arg, "a redirection"
    return None


def _unrunnable(argv: list[str], env: dict[str, str]) -> str | None:
    """Why no program could receive this argv intact (NUL bytes, size), or None."""
    if len(argv) > MAX_ARGS or sum(len(a.encode("utf-8", "surrogatepass")) + 1 for a in argv) > MAX_ARGV_BYTES:
        return f"the command is too long ({len(argv)} arguments; at most {MAX_ARGS} and {MAX_ARGV_BYTES} bytes)"
    for i, arg in enumerate(argv):
        if "\x00" in arg:
            return f"argument {i} contains a NUL byte, which would cut it short"
    for name, value in env.items():
        if "\x00" in name or "\x00" in value or "=" in name:
            return f"environment variable {name!r} contains a NUL byte or '='"
    return None


def _sanitize_env(env: dict[str, str]) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """(kept environment, names stripped for safety, TF_CLI_ARGS* taken out for folding).

    RUNNER_ENV names are dropped silently from the kept environment: the executor
    sets them from its own environment.
    """
    kept: dict[str, str] = {}
    stripped: list[str] = []
    tf_cli_args: dict[str, str] = {}
    for name, value in env.items():
        if name == "TF_CLI_ARGS" or name.startswith("TF_CLI_ARGS_"):
            tf_cli_args[name] = value
        elif name in STRIPPED_ENV or name.startswith(STRIPPED_PREFIXES):
            stripped.append(name)
        elif name not in RUNNER_ENV:
            kept[name] = value
    return kept, stripped, tf_cli_args


def _allowed_prefix(argv: list[str], allow: list[list[str]]) -> list[str] | None:
    for prefix in allow:
        if not prefix or len(prefix) > len(argv) or argv[1:len(prefix)] != prefix[1:]:
            continue
        head, program = prefix[0], argv[0]
        if program == head or ("/" not in head and os.path.isabs(program) and os.path.basename(program) == head):
            return prefix
    return None


def _refused(rule_id: str, argv: list[str], env: dict[str, str], removed: list[str],
             **params: object) -> Classification:
    params.setdefault("detail", "")
    return Classification(effect=Effect.DESTRUCTIVE, hits=[hit(rule_id, **params)], argv=argv, env=env,
                          stripped_env=removed, summary=shlex.join(argv[:3]) if argv else "(empty)")
