"""Any command: shells, metacharacters, wrappers, the environment, the policy allow-list.

:func:`classify_command` is the single entry for argv actions.  In order:

1. An empty argv is CMD-EMPTY.
2. The environment is an **allow-list**: the action keeps only TF_VAR_*,
   TF_WORKSPACE, TF_IN_AUTOMATION, TF_INPUT, NO_COLOR and CHECKPOINT_DISABLE
   (``KEPT_ENV``); TF_CLI_ARGS* are removed and folded into a terraform argv
   (see ``terraform_argv``).  Everything else is removed: the child's
   environment is the runner configuration's plus these.  ENV-STRIPPED names
   the removed variables that load code, pick credentials or retarget state
   (``DANGEROUS_ENV`` and prefixes: LD_*, DYLD_*, GIT_*, AWS_*, KUBECTL_*, TF_*
   other than the kept ones, PATH, HOME, KUBECONFIG, TF_DATA_DIR,
   TF_PLUGIN_CACHE_DIR, TF_CLI_CONFIG_FILE, proxies, CA bundles ...) and only
   counts the ordinary rest (USER, LANG, TERM ...); ``Classification.stripped_env``
   lists every removed name.  An argv or environment with a NUL byte, or an
   argv over 4096 words / 256 KiB, is CMD-UNPARSEABLE.
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
6. Anything else is CMD-UNKNOWN unless a ``commands.allow`` entry matches
   (CMD-ALLOWED).  An entry matches the **whole** argv, word for word; an entry
   whose last element is ``"*"`` also matches any further arguments that do not
   start with ``-`` and contain no ``=`` (``[make, lint, "*"]`` matches ``make
   lint src`` but not ``make lint SHELL=/tmp/x`` or ``make lint -f x``).  The
   entry's first word matches argv[0] exactly, or by basename when the entry has
   no slash and argv[0] is an absolute path.  Its effect is unknown, so it is a
   non-local WRITE: allowed at every trust level (the team listed it), refused
   in sev1/sev2.  For ``git`` the child also gets ``GIT_CONFIG_COUNT/KEY_n/VALUE_n``
   (``Classification.extra_env``) overriding the repository's settings that run
   programs: core.fsmonitor, core.hooksPath, core.sshCommand, core.pager,
   core.editor, core.askPass, diff.external, credential.helper, protocol.ext.
   Per-driver ``diff.<name>.textconv`` and ``filter.<name>.*`` cannot be
   overridden this way: the sandbox is what contains them.
"""

from __future__ import annotations

import os
import re
import shlex

from infraleash.gate.kubectl_argv import classify_kubectl, command_part, is_kubectl
from infraleash.gate.model import Action, Effect
from infraleash.gate.paths import PathJudge
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
# The only variables an action may bring: how operators parameterise a Terraform run.
KEPT_ENV = frozenset({"TF_WORKSPACE", "TF_IN_AUTOMATION", "TF_INPUT", "NO_COLOR", "CHECKPOINT_DISABLE"})
KEPT_PREFIXES = ("TF_VAR_",)
# Removed variables worth naming in ENV-STRIPPED: they load code, pick credentials or endpoints, or
# retarget state and configuration.  The rest of a caller's shell (USER, LANG, TERM ...) is only counted.
DANGEROUS_ENV = STRIPPED_ENV | frozenset({
    "PATH", "HOME", "SHELL", "TMPDIR", "PYTHONHOME", "PERL5LIB", "RUBYLIB", "NODE_PATH", "GOFLAGS", "GODEBUG",
    "KUBECONFIG", "KUBECACHEDIR", "KUBERC", "HELM_PLUGINS", "TERRAFORM_CONFIG", "MAKEFLAGS", "MFLAGS",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GOOGLE_APPLICATION_CREDENTIALS",
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "SSH_AUTH_SOCK", "GNUPGHOME",
})
DANGEROUS_PREFIXES = ("LD_", "DYLD_", "GIT_", "AWS_", "TF_", "KUBECTL_", "ARM_", "AZURE_", "GOOGLE_", "CLOUDSDK_",
                      "VAULT_", "CONSUL_", "PYTHON", "NODE_", "DOCKER_", "SSH_")
# Kept for the executor's child_env until the runner configuration replaces it: names it takes from the
# runner's own environment, never from the action.
RUNNER_ENV = frozenset({"PATH", "HOME", "TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG", "KUBECONFIG"})
# git settings that run a program, overridden for an allow-listed git (GIT_CONFIG_COUNT/KEY_n/VALUE_n is
# command-line level configuration: it wins over the repository's .git/config).
GIT_SAFE_CONFIG = (
    ("core.fsmonitor", "false"), ("core.hooksPath", "/dev/null"), ("core.sshCommand", "false"),
    ("core.pager", "cat"), ("core.editor", "false"), ("core.askPass", ""), ("diff.external", ""),
    ("credential.helper", ""), ("protocol.ext.allow", "never"), ("core.gitProxy", ""),
    ("sequence.editor", "false"), ("gpg.program", "false"), ("uploadpack.packObjectsHook", ""),
)
MAX_ARGS = 4096
MAX_ARGV_BYTES = 256 * 1024

_OPERATORS = frozenset({"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "<<<", ">|", "|&", "&>", "&>>",
                        ">&", "<&", "2>", "2>>", "2>&1", "1>&2", "!", "(", ")", "{", "}"})
_REDIRECT = re.compile(r"^(?:\d?(?:>>?|<<?|>&|<&|>\|)|&>>?)\S")
_SUBST = (("$(", "command substitution"), ("`", "backtick substitution"), ("<(", "process substitution"),
          (">(", "process substitution"))


def classify_command(action: Action, allow: list[list[str]], context_known: bool = False,
                     paths: PathJudge | None = None) -> Classification:
    """Classify ``action.argv`` with its environment; ``allow`` is ``policy.commands.allow``.

    ``paths`` says where the command may read and write (default: inside ``action.cwd``).
    """
    argv = list(action.argv)
    env, stripped, tf_cli_args, dropped = _sanitize_env(action.env)
    removed = sorted([*stripped, *tf_cli_args, *dropped])
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
    judge = paths or PathJudge.for_action(action.cwd)
    if is_terraform(program):
        c = classify_terraform(argv, {**env, **tf_cli_args}, action.cwd, judge)
        if c.directory is None:
            c.directory = action.cwd
    elif kubectl:
        c = classify_kubectl(argv, action.env, context_known, paths=judge, cwd=action.cwd)
    else:
        entry = _allowed_entry(argv, allow)
        if entry is None:
            return _refused("CMD-UNKNOWN", argv, env, removed,
                            detail=f"{base} is not terraform, tofu or kubectl and no commands.allow entry matches "
                                   "the whole command")
        c = Classification(effect=Effect.WRITE, local=False, argv=argv, summary=shlex.join(argv[:2]),
                           notes=[hit("CMD-ALLOWED", prefix=shlex.join(entry))], directory=action.cwd)
        c.extra_env = extra_env_for(argv)
    c.env, c.stripped_env = env, removed
    named = sorted([*stripped, *([] if is_terraform(program) else tf_cli_args)])
    if named or dropped:
        others = f"; {len(dropped)} other variable{'s' if len(dropped) != 1 else ''} not on the allow-list " \
                 "dropped" if dropped else ""
        c.notes.append(hit("ENV-STRIPPED", names=(", ".join(named) or "nothing dangerous") + others))
    return c


def extra_env_for(argv: list[str]) -> dict[str, str]:
    """What the gate adds on top of the child's environment for ``argv`` (``Decision.extra_env``), from the
    argv alone, so the executor applies it to every command it runs (approved ones too)."""
    if argv and os.path.basename(argv[0]) == "git":
        return git_safe_env()
    return {}


def git_safe_env() -> dict[str, str]:
    """``GIT_CONFIG_COUNT/KEY_n/VALUE_n`` overriding the repository's settings that run programs."""
    env = {"GIT_CONFIG_COUNT": str(len(GIT_SAFE_CONFIG)), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_TERMINAL_PROMPT": "0"}
    for i, (key, value) in enumerate(GIT_SAFE_CONFIG):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


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


def _sanitize_env(env: dict[str, str]) -> tuple[dict[str, str], list[str], dict[str, str], list[str]]:
    """(kept environment, dangerous names removed, TF_CLI_ARGS* taken out for folding, other names dropped)."""
    kept: dict[str, str] = {}
    stripped: list[str] = []
    tf_cli_args: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in env.items():
        if name == "TF_CLI_ARGS" or name.startswith("TF_CLI_ARGS_"):
            tf_cli_args[name] = value
        elif name in KEPT_ENV or name.startswith(KEPT_PREFIXES):
            kept[name] = value
        elif name in DANGEROUS_ENV or name.startswith(DANGEROUS_PREFIXES):
            stripped.append(name)
        else:
            dropped.append(name)
    return kept, stripped, tf_cli_args, dropped


def _allowed_entry(argv: list[str], allow: list[list[str]]) -> list[str] | None:
    """The ``commands.allow`` entry matching the whole ``argv`` (see the module docstring), or None."""
    for entry in allow:
        if not entry or entry[0] == "*":
            continue
        fixed, rest = (entry[:-1], True) if entry[-1] == "*" else (entry, False)
        if len(argv) < len(fixed) or argv[1:len(fixed)] != fixed[1:]:
            continue
        extra = argv[len(fixed):]
        if extra and not (rest and all(a and not a.startswith("-") and "=" not in a for a in extra)):
            continue
        head, program = fixed[0], argv[0]
        if program == head or ("/" not in head and os.path.isabs(program) and os.path.basename(program) == head):
            return entry
    return None


def _refused(rule_id: str, argv: list[str], env: dict[str, str], removed: list[str],
             **params: object) -> Classification:
    params.setdefault("detail", "")
    return Classification(effect=Effect.DESTRUCTIVE, hits=[hit(rule_id, **params)], argv=argv, env=env,
                          stripped_env=removed, summary=shlex.join(argv[:3]) if argv else "(empty)")
