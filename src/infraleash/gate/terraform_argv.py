"""Terraform and OpenTofu argv: parsed the way the real CLI parses it, then classified.

What the parser reproduces from Terraform's ``main.go`` and ``mitchellh/cli``:

* ``-chdir=DIR`` is a global option before the subcommand (only the ``=`` form;
  ``-chdir DIR`` is an error), and ``-help`` / ``-version`` are the other ones.
  Any other option before the subcommand is refused.
* Nested subcommands (``state rm``, ``workspace select``, ``providers schema``)
  must follow their parent directly.
* ``TF_CLI_ARGS`` and ``TF_CLI_ARGS_<sub>`` (``state rm`` -> ``state_rm``) are
  parsed like shell words and inserted right after the subcommand, the specific
  variable's words first, exactly as ``mergeEnvArgs`` does; the gate then
  decides on that effective argv and strips the variables from the environment.
* Subcommand options follow Go's ``flag`` package: ``-x``, ``--x``, ``-x=v``,
  ``-x v`` for valued options, ``-x=false`` for booleans, parsing stops at the
  first positional or ``--``.  An option the gate does not know is refused:
  it cannot tell whether it swallows the next word (``apply -foo plan.tfplan``).

Effects (see ``rules.py`` for the rule ids each one reports):

* READ: version, show, output, console, graph, providers, ``providers schema``,
  ``state list|show``, ``workspace list|show``, ``metadata functions``, modules,
  ``fmt -check`` / ``fmt -write=false``, help.
* PLAN: plan (any options, ``-destroy`` included), validate, ``state rm|mv -dry-run``.
* WRITE, local to the working tree: init, get, fmt, ``providers lock|mirror``.
* WRITE, not local: ``workspace select|new`` (retargets the directory).
* DESTRUCTIVE: apply PLANFILE, import, ``state rm|mv|push|replace-provider``,
  force-unlock, taint, untaint, ``workspace delete``, ``init -migrate-state``,
  test (it applies real infrastructure), and the never-approvable ones: apply
  without a plan file, destroy (``apply -destroy`` too), refresh.

Known gaps, stated plainly: ``show -json`` and ``output -json|-raw`` print values
marked sensitive; they stay READ because plan review needs ``show -json``.
``-state``/``-state-out``/``-backup`` inside the working directory are left to
the approver (they are legacy local-backend paths, shown in the request).

Paths: an option naming a file or directory (``-out``, ``-state*``, ``-backup``,
``-var-file``, ``-generate-config-out``, ``-plugin-dir``, ``providers mirror
DIR`` ...) that is absolute or climbs out of the working directory (after
``-chdir``) is TF-PATH-OUTSIDE and at least a non-local WRITE: an agent keeps its
files in the tree, and ``-var-file=~/.aws/credentials`` would echo the file's
lines into the model's context through Terraform's error snippets.  Files
terraform *writes* (``-out``, ``-state-out``, ``-backup`` ...) may also go under
/tmp, /var/tmp or $TMPDIR (normalized: ``/tmp/../etc/x`` is outside).
"""

from __future__ import annotations

import os
import shlex

from infraleash.gate.model import Effect
from infraleash.gate.rules import Classification, hit

PROGRAMS = frozenset({"terraform", "tofu"})

# Go-flag options that take a value (anything else known is a boolean).
_VALUED = frozenset({
    "backend-config", "backup", "cloud-run", "config", "filter", "from-module", "fs-mirror",
    "generate-config-out", "id", "junit-xml", "lock-timeout", "lockfile", "module-depth", "net-mirror",
    "out", "parallelism", "plan", "platform", "plugin-dir", "provider", "replace", "state", "state-out",
    "target", "test-directory", "type", "var", "var-file",
})
_BOOLEAN = frozenset({
    "allow-missing", "allow-missing-config", "auto-approve", "backend", "check", "cloud", "compact-warnings",
    "destroy", "detailed-exitcode", "diff", "draw-cycles", "dry-run", "enable-plugin-cache", "force",
    "force-copy", "get", "h", "help", "ignore-remote-version", "input", "json", "list", "lock",
    "migrate-state", "no-color", "no-tests", "or-create", "raw", "reconfigure", "recursive", "refresh",
    "refresh-only", "upgrade", "verbose", "verify-plugins", "write",
})
# Options naming a file or directory terraform writes or reads: outside the working directory they are
# TF-PATH-OUTSIDE (``plan -out=/etc/x``; ``-var-file=~/.aws/credentials`` echoes lines in its errors).
_PATH_OPTIONS = ("out", "state", "state-out", "backup", "var-file", "generate-config-out", "plugin-dir",
                 "fs-mirror", "junit-xml", "test-directory", "from-module")
# Files terraform *writes* may also go to the shared scratch directories (infraleash review plans into
# one): overwriting there harms nobody's dotfiles, keys or kubeconfig.
_OUTPUTS = ("out", "state-out", "backup", "generate-config-out", "junit-xml")
_SCRATCH = tuple(dict.fromkeys(os.path.normpath(d) for d in ("/tmp", "/var/tmp", os.environ.get("TMPDIR") or "/tmp")
                               if d.startswith("/") and os.path.normpath(d) != "/"))
# Options that only mean something while planning: refused on `apply PLANFILE`.
_PLANNING = ("target", "replace", "var", "var-file", "destroy", "refresh-only", "refresh", "generate-config-out")

_NESTED = {
    "state": {"list", "show", "rm", "mv", "push", "pull", "replace-provider"},
    "workspace": {"list", "show", "select", "new", "delete"},
    "providers": {"lock", "mirror", "schema"},
    "metadata": {"functions"},
}
_READ = {"version", "show", "output", "console", "graph", "providers", "providers schema", "state list",
         "state show", "workspace list", "workspace show", "metadata functions", "modules", "state",
         "workspace", "metadata"}
_LOCAL_WRITE = {"init", "get", "providers lock", "providers mirror"}
_DESTRUCTIVE_RULES = {
    "import": "TF-IMPORT", "force-unlock": "TF-FORCE-UNLOCK", "taint": "TF-TAINT", "untaint": "TF-TAINT",
    "state rm": "TF-STATE-MUTATE", "state mv": "TF-STATE-MUTATE", "state push": "TF-STATE-MUTATE",
    "state replace-provider": "TF-STATE-MUTATE", "workspace delete": "TF-WORKSPACE-DELETE", "test": "TF-TEST",
}
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


class _Unparseable(Exception):
    pass


def is_terraform(program: str) -> bool:
    base = os.path.basename(program)
    return base.removesuffix(".exe") in PROGRAMS


def classify_terraform(argv: list[str], env: dict[str, str], cwd: str = ".") -> Classification:
    """Classify a terraform/tofu argv run in ``cwd`` with ``env`` (already free of TF_CLI_ARGS*).

    ``env`` must be the original environment: TF_CLI_ARGS* are read from it.
    """
    program, args = argv[0], argv[1:]
    try:
        return _classify(program, args, env, cwd)
    except _Unparseable as e:
        return Classification(effect=Effect.DESTRUCTIVE, argv=list(argv),
                              hits=[hit("CMD-UNPARSEABLE", detail=str(e))], summary=" ".join(argv[:3]))


def _classify(program: str, args: list[str], env: dict[str, str], cwd: str) -> Classification:
    chdir, args = _extract_chdir(args)
    sub, sub_len = _subcommand(args)
    name = os.path.basename(program).removesuffix(".exe")
    if sub is None:
        if any(a in ("-v", "-version", "--version", "-h", "-help", "--help") for a in args):
            return _done(Effect.READ, program, chdir, args, cwd, summary=f"{name} help/version")
        raise _Unparseable(f"`{name}` with no subcommand")
    args, folded = _merge_env_args(args, sub, env)
    start = _subcommand_end(args, sub, sub_len)
    opts, positionals = _parse_flags(args[start:], sub)
    c = _done(Effect.READ, program, chdir, args, cwd, summary=f"{name} {sub}")
    if folded:
        c.notes.append(hit("ENV-TF-CLI-ARGS", names=", ".join(folded)))
    c.workspace = env.get("TF_WORKSPACE") or None
    _classify_sub(c, sub, opts, positionals, chdir, cwd)
    _check_paths(c, sub, opts, positionals, chdir)
    if c.effect is Effect.DESTRUCTIVE and _flag(opts, "lock", default=True) is False:
        c.hits.append(hit("TF-LOCK-DISABLED", sub=sub))
    return c


def _classify_sub(c: Classification, sub: str, opts: dict[str, list[str]], positionals: list[str],
                  chdir: str | None, cwd: str) -> None:
    if sub in ("apply", "destroy", "refresh"):
        _classify_apply(c, sub, opts, positionals, chdir, cwd)
    elif sub in ("plan", "validate") or (sub in ("state rm", "state mv") and _flag(opts, "dry-run")):
        c.effect = Effect.PLAN
    elif sub == "state pull":
        c.hits.append(hit("TF-STATE-PULL"))
    elif sub == "fmt":
        reads_only = _flag(opts, "check") or _flag(opts, "write", default=True) is False or "-" in positionals
        c.effect = Effect.READ if reads_only else Effect.WRITE
    elif sub in ("workspace select", "workspace new"):
        c.effect, c.local = Effect.WRITE, False
        c.workspace_target = positionals[0] if positionals else None
        c.hits.append(hit("TF-WORKSPACE-SELECT", sub=sub.split()[1], name=c.workspace_target or "?"))
    elif sub in ("login", "logout"):
        c.effect = Effect.WRITE
        c.hits.append(hit("TF-LOGIN", sub=sub))
    elif sub == "init":
        _classify_init(c, opts)
    elif sub in _DESTRUCTIVE_RULES:
        c.effect = Effect.DESTRUCTIVE
        rule = _DESTRUCTIVE_RULES[sub]
        if rule == "TF-WORKSPACE-DELETE":
            c.workspace_target = positionals[0] if positionals else None
            c.hits.append(hit(rule, name=c.workspace_target or "?"))
        else:
            c.hits.append(hit(rule, sub=sub.removeprefix("state ")))
    elif sub in _LOCAL_WRITE:
        c.effect = Effect.WRITE
    elif sub not in _READ:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("CMD-UNKNOWN", detail=f"unknown terraform subcommand {sub!r}"))


def _classify_apply(c: Classification, sub: str, opts: dict[str, list[str]], positionals: list[str],
                    chdir: str | None, cwd: str) -> None:
    c.effect = Effect.DESTRUCTIVE
    if sub == "destroy" or (sub == "apply" and _flag(opts, "destroy")):
        c.hits.append(hit("TF-DESTROY"))
    elif sub == "refresh":
        c.hits.append(hit("TF-REFRESH"))
    elif not positionals:
        c.hits.append(hit("TF-APPLY-UNSAVED-PLAN"))
    elif len(positionals) > 1:
        raise _Unparseable(f"`apply` takes one plan file, got {len(positionals)} arguments")
    else:
        c.plan_file = os.path.normpath(os.path.join(cwd, chdir or "", positionals[0]))
        planning = [f"-{o}" for o in _PLANNING if o in opts]
        if planning:
            c.hits.append(hit("TF-APPLY-PLAN-OPTIONS", options=", ".join(planning)))
        else:
            c.hits.append(hit("TF-APPLY-SAVED-PLAN", plan_file=positionals[0]))


def _check_paths(c: Classification, sub: str, opts: dict[str, list[str]], positionals: list[str],
                 chdir: str | None) -> None:
    """Paths outside the working directory (absolute, or climbing out with ``..``) make it a non-local write."""
    named = [(f"-{o}", v) for o in _PATH_OPTIONS for v in opts.get(o, [])
             if not (o in _OUTPUTS and _in_scratch(v))]
    named += [("-backend-config", v) for v in opts.get("backend-config", []) if "=" not in v]
    if sub == "providers mirror" and positionals:
        named.append(("target directory", positionals[0]))
    for what, value in named:
        if what == "-from-module" and ("::" in value or "://" in value or not value.startswith((".", "/"))):
            continue  # a module address, not a local path
        if _outside(value):
            c.hits.append(hit("TF-PATH-OUTSIDE", option=what, path=value))
            if c.effect.rank < Effect.WRITE.rank or (c.effect is Effect.WRITE and c.local):
                c.effect, c.local = Effect.WRITE, False
            return


def _in_scratch(path: str) -> bool:
    norm = os.path.normpath(path)
    return any(norm.startswith(d + "/") for d in _SCRATCH)


def _outside(path: str) -> bool:
    if path.startswith(("/", "~", "\\")) or (len(path) > 1 and path[1] == ":"):
        return True
    norm = os.path.normpath(path)
    return norm == ".." or norm.startswith("../")


def _classify_init(c: Classification, opts: dict[str, list[str]]) -> None:
    migrate = [f"-{o}" for o in ("migrate-state", "force-copy") if _flag(opts, o)]
    if migrate:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("TF-INIT-MIGRATE", option=" ".join(migrate)))
        return
    c.effect = Effect.WRITE
    if _flag(opts, "upgrade"):
        c.notes.append(hit("TF-INIT-UPGRADE"))


def _done(effect: Effect, program: str, chdir: str | None, args: list[str], cwd: str,
          summary: str) -> Classification:
    argv = [program, *([f"-chdir={chdir}"] if chdir is not None else []), *args]
    directory = os.path.normpath(os.path.join(cwd, chdir)) if chdir else cwd
    return Classification(effect=effect, argv=argv, directory=directory, summary=summary)


# --------------------------------------------------------------------------- parsing


def _extract_chdir(args: list[str]) -> tuple[str | None, list[str]]:
    """``-chdir=DIR`` among the leading options, removed; as Terraform's extractChdirOption."""
    found: list[int] = []
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            break
        if arg in ("-chdir", "-chdir="):
            raise _Unparseable("-chdir needs an equals sign and a directory, like -chdir=example")
        if arg.startswith("-chdir="):
            found.append(i)
    if not found:
        return None, args
    if len(found) > 1:
        raise _Unparseable("-chdir given more than once")
    i = found[0]
    return args[i][len("-chdir="):], args[:i] + args[i + 1:]


def _subcommand(args: list[str]) -> tuple[str | None, int]:
    """The (possibly nested) subcommand and how many words it spans, as mitchellh/cli finds it."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("-h", "-help", "--help", "-v", "-version", "--version"):
            continue
        if arg.startswith("-"):
            raise _Unparseable(f"unknown global option {arg!r} (only -chdir=DIR, -help, -version)")
        if arg == "":
            continue
        nested = _NESTED.get(arg)
        if nested and i + 1 < len(args) and args[i + 1] in nested:
            return f"{arg} {args[i + 1]}", 2
        return arg, 1
    return None, 0


def _subcommand_end(args: list[str], sub: str, sub_len: int) -> int:
    """Index just after the subcommand words in ``args``."""
    first = sub.split()[0]
    i = args.index(first)
    return i + sub_len


def _merge_env_args(args: list[str], sub: str, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Fold TF_CLI_ARGS and TF_CLI_ARGS_<sub> into ``args`` like Terraform's mergeEnvArgs."""
    folded: list[str] = []
    suffix = sub.replace("-", "_").replace(" ", "_")
    search = sub.split()[-1]
    for name in ("TF_CLI_ARGS", f"TF_CLI_ARGS_{suffix}"):
        value = env.get(name, "")
        if not value:
            continue
        try:
            extra = shlex.split(value)
        except ValueError as e:
            raise _Unparseable(f"{name} is not valid shell words ({e})") from None
        idx = args.index(search) + 1 if search in args else 0
        args = args[:idx] + extra + args[idx:]
        folded.append(name)
    return args, folded


def _parse_flags(args: list[str], sub: str) -> tuple[dict[str, list[str]], list[str]]:
    """Go ``flag`` parsing: options until the first positional or ``--``; the rest is positional."""
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return opts, args[i + 1:]
        if not arg.startswith("-") or arg == "-":
            return opts, args[i:]
        body = arg[2:] if arg.startswith("--") else arg[1:]
        name, eq, value = body.partition("=")
        if name in _VALUED:
            if not eq:
                if i + 1 >= len(args):
                    raise _Unparseable(f"option -{name} of `{sub}` needs a value")
                i += 1
                value = args[i]
        elif name in _BOOLEAN:
            if eq and value not in _TRUE | _FALSE:
                raise _Unparseable(f"option -{name} of `{sub}` takes true or false, got {value!r}")
            value = value if eq else "true"
        else:
            raise _Unparseable(f"unknown option {arg!r} for `{sub}`")
        opts.setdefault(name, []).append(value)
        i += 1
    return opts, []


def _flag(opts: dict[str, list[str]], name: str, default: bool = False) -> bool:
    values = opts.get(name)
    if not values:
        return default
    return values[-1] in _TRUE


def parse_terraform(argv: list[str], env: dict[str, str] | None = None
                    ) -> tuple[str, dict[str, list[str]], list[str]] | None:
    """(subcommand, options, positionals) of a terraform/tofu argv, parsed as the gate parses it.

    ``-chdir`` removed, empty words skipped, TF_CLI_ARGS* from ``env`` folded in; None when it has no
    subcommand or cannot be parsed.  :mod:`infraleash.gate.output_masking` decides from it what to mask.
    """
    try:
        _, args = _extract_chdir(list(argv[1:]))
        sub, sub_len = _subcommand(args)
        if sub is None:
            return None
        args, _ = _merge_env_args(args, sub, env or {})
        opts, positionals = _parse_flags(args[_subcommand_end(args, sub, sub_len):], sub)
    except _Unparseable:
        return None
    return sub, opts, positionals
