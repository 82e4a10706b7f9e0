"""Terraform and OpenTofu argv: parsed the way the real CLI parses it, then classified.

What the parser reproduces from Terraform's ``main.go`` and ``mitchellh/cli``:

* ``-chdir=DIR`` is a global option before the subcommand (only the ``=`` form;
  ``-chdir DIR`` and ``-chdir=`` are errors), and ``-help`` / ``-version`` are the
  other ones.  Any other option before the subcommand is refused.  Empty
  elements before the subcommand are skipped (and dropped from the effective argv).
* The subcommand is found like ``mitchellh/cli`` finds it: the longest command
  name that prefixes the remaining words joined by spaces, so ``"state rm" x``
  is ``state rm`` (Terraform then skips as many following elements as the name
  has spaces) and ``"plan -destroy"`` is ``plan``.  Nested subcommands must
  follow their parent directly.  ``-h``/``-help``/``--help`` anywhere before
  ``--`` prints help and runs nothing (READ).
* ``TF_CLI_ARGS`` and ``TF_CLI_ARGS_<sub>`` (``state rm`` -> ``state_rm``) are
  parsed like shell words and inserted right after the subcommand, the specific
  variable's words first, exactly as ``mergeEnvArgs`` does; the gate then
  decides on that effective argv and strips the variables from the environment.
* Subcommand options follow Go's ``flag`` package: ``-x``, ``--x``, ``-x=v``,
  ``-x v`` for valued options, ``-x=false`` for booleans, parsing stops at the
  first positional or ``--``; no abbreviations.

**Options are allow-listed per subcommand** (``_FLAGS``, read from ``terraform
<sub> -help`` of Terraform 1.11): an option that subcommand does not have is
CMD-UNPARSEABLE (the gate cannot tell whether it swallows the next word), and
one it has but the gate does not allow is ARG-NOT-ALLOWED: ``init
-from-module`` (copies any module, provider binaries included), ``-plugin-dir``
(providers from a directory the agent can write), ``-backend-config`` (retargets
state; backends are judged in the configuration by the pre-flight),
``-get-plugins``, and ``providers lock -fs-mirror|-net-mirror`` (hashes from a
mirror the runner did not configure).  An argument that starts with a
look-alike dash (``–out``, U+2013) is ARG-NOT-ALLOWED: Terraform would take it
as a positional.  A subcommand given more positionals than it takes is
CMD-UNPARSEABLE (``plan –out=x`` would otherwise hide an option).

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

Known gap, stated plainly: ``show -json`` and ``output -json|-raw`` print values
marked sensitive; they stay READ because plan review needs ``show -json``, and
the executor masks their output.

**Paths** are judged by :class:`~infraleash.gate.paths.PathJudge` against the
directory Terraform resolves them in (the cwd joined with ``-chdir``):

* outputs (``-out``, ``-state-out``, ``-backup``, ``-generate-config-out``,
  ``-junit-xml``, ``fmt`` targets unless ``-check``/``-write=false``, ``providers
  mirror DIR``) must be inside the workspace or a scratch directory and not a file
  the gate or Terraform owns (state, lock file, ``.terraform/``, policy, audit,
  approvals; ``-out``/``-junit-xml`` not configuration either): TF-PATH-OUTSIDE /
  TF-PATH-OWNED, both floors;
* inputs (``-chdir``, ``-var-file`` (also never an owned file: its parse errors
  echo lines), ``-state``, ``-config``, ``-plan``, ``-test-directory``, the plan
  file of ``apply``, ``show PATH``, ``state push PATH``) must be inside the
  workspace or a scratch directory: TF-PATH-OUTSIDE.
"""

from __future__ import annotations

import os
import shlex

from infraleash.gate.model import Effect
from infraleash.gate.paths import PathJudge, PathProblem
from infraleash.gate.rules import Classification, hit

PROGRAMS = frozenset({"terraform", "tofu"})

_APPLY = ("auto-approve backup= compact-warnings destroy input json lock lock-timeout= no-color parallelism= "
          "refresh refresh-only replace= state= state-out= target= var= var-file=")
_TAINT = "allow-missing backup= ignore-remote-version lock lock-timeout= state= state-out="
# Every subcommand and its options, from `terraform <sub> -help` (1.11) plus the legacy local-backend
# options it still parses: ``name`` is a boolean, ``name=`` takes a value.  Help flags are handled first.
_FLAGS: dict[str, str] = {
    "init": ("backend backend-config= force-copy from-module= get get-plugins ignore-remote-version input json "
             "lock lock-timeout= lockfile= migrate-state no-color plugin-dir= reconfigure test-directory= upgrade"),
    "plan": ("compact-warnings destroy detailed-exitcode generate-config-out= input json lock lock-timeout= "
             "no-color out= parallelism= refresh refresh-only replace= state= target= var= var-file="),
    "apply": _APPLY,
    "destroy": _APPLY,
    "refresh": ("backup= compact-warnings input lock lock-timeout= no-color parallelism= state= state-out= "
                "target= var= var-file="),
    "show": "json no-color",
    "output": "json no-color raw state=",
    "validate": "json no-color no-tests test-directory=",
    "fmt": "check diff list no-color recursive write",
    "graph": "draw-cycles module-depth= plan= type=",
    "console": "plan state= var= var-file=",
    "providers": "test-directory=",
    "providers schema": "json",
    "providers lock": "enable-plugin-cache fs-mirror= net-mirror= platform=",
    "providers mirror": "lock-file platform=",
    "state": "",
    "state list": "id= state=",
    "state show": "state=",
    "state rm": "backup= dry-run ignore-remote-version lock lock-timeout= state=",
    "state mv": "backup= backup-out= dry-run ignore-remote-version lock lock-timeout= state= state-out=",
    "state push": "force ignore-remote-version lock lock-timeout=",
    "state pull": "",
    "state replace-provider": "auto-approve backup= ignore-remote-version lock lock-timeout= state=",
    "import": ("allow-missing-config backup= config= ignore-remote-version input lock lock-timeout= no-color "
               "parallelism= state= state-out= var= var-file="),
    "get": "no-color test-directory= update",
    "taint": _TAINT,
    "untaint": _TAINT,
    "workspace": "",
    "workspace select": "or-create",
    "workspace new": "lock lock-timeout= state=",
    "workspace delete": "force lock lock-timeout=",
    "workspace list": "",
    "workspace show": "",
    "metadata": "",
    "metadata functions": "json",
    "force-unlock": "force",
    "test": "cloud-run= filter= json junit-xml= no-color test-directory= var= var-file= verbose",
    "modules": "json",
    "version": "json",
    "login": "",
    "logout": "",
}
# (sub, option) -> why it is refused (ARG-NOT-ALLOWED): parsed so the refusal names it.
_NOT_ALLOWED = {
    "from-module": "copies a module, and any provider binary in it, from anywhere into the working directory",
    "plugin-dir": "installs providers from a directory instead of the runner's mirror",
    "backend-config": "retargets the state backend; the backend is judged in the configuration",
    "get-plugins": "is a removed option that changed where providers come from",
    "fs-mirror": "takes provider hashes from a mirror the runner did not configure",
    "net-mirror": "takes provider hashes from a mirror the runner did not configure",
}
# How many positionals a subcommand takes (None: any number); more is CMD-UNPARSEABLE, as Terraform says.
_MAX_POSITIONALS: dict[str, int | None] = {
    "apply": 1, "show": 1, "output": 1, "providers": 1, "providers mirror": 1, "state show": 1,
    "state mv": 2, "state push": 1, "state replace-provider": 2, "import": 2, "taint": 1, "untaint": 1,
    "workspace select": 1, "workspace new": 1, "workspace delete": 1, "force-unlock": 1, "login": 1,
    "logout": 1, "fmt": None, "providers lock": None, "state list": None, "state rm": None,
    "state": None, "workspace": None, "metadata": None,
}
_SPEC = {sub: {tok.rstrip("="): tok.endswith("=") for tok in spec.split()} for sub, spec in _FLAGS.items()}
# Every option that takes a value somewhere (agent/terraform_paths.py reads this).
_VALUED = frozenset(name for spec in _SPEC.values() for name, valued in spec.items() if valued)

# Options naming a file terraform writes: (option, a plan/report also must not be written over configuration)
_OUTPUT_OPTIONS = {"out": True, "junit-xml": True, "state-out": False, "backup": False, "backup-out": False,
                   "generate-config-out": False}
# Options naming a file or directory terraform reads (or, for -state, reads and writes back in place)
_INPUT_OPTIONS = ("state", "var-file", "config", "plan", "test-directory")
_POSITIONAL_INPUT = {"apply", "show", "providers", "state push"}
# Options that only mean something while planning: refused on `apply PLANFILE`.
_PLANNING = ("target", "replace", "var", "var-file", "destroy", "refresh-only", "refresh", "generate-config-out")
_HELP = frozenset({"-h", "-help", "--help"})
_VERSION = frozenset({"-v", "-version", "--version"})
# Characters that look like '-' but are not (Terraform takes `–out=x` as a positional).
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad")

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
# command names by the first word they start with, longest first (the subcommand lookup)
_BY_FIRST_WORD: dict[str, list[str]] = {}
for _name in sorted(_FLAGS, key=len, reverse=True):
    _BY_FIRST_WORD.setdefault(_name.split(" ")[0], []).append(_name)


class _Unparseable(Exception):
    pass


def is_terraform(program: str) -> bool:
    base = os.path.basename(program)
    return base.removesuffix(".exe") in PROGRAMS


def classify_terraform(argv: list[str], env: dict[str, str], cwd: str = ".",
                       paths: PathJudge | None = None) -> Classification:
    """Classify a terraform/tofu argv run in ``cwd`` with ``env``.

    ``env`` must be the original environment: TF_CLI_ARGS* are read from it.
    ``paths`` says where the command may read and write (default: inside ``cwd``).
    """
    program, args = argv[0], argv[1:]
    judge = paths or PathJudge.for_action(cwd)
    try:
        return _classify(program, args, env, cwd, judge)
    except _Unparseable as e:
        return Classification(effect=Effect.DESTRUCTIVE, argv=list(argv),
                              hits=[hit("CMD-UNPARSEABLE", detail=str(e))], summary=shlex.join(argv[:3]))


def _classify(program: str, args: list[str], env: dict[str, str], cwd: str, judge: PathJudge) -> Classification:
    name = os.path.basename(program).removesuffix(".exe")
    chdir, args = _extract_chdir(args)
    found = _subcommand(args)
    if found is None:
        if any(a in _VERSION or a in _HELP for a in args):
            return _done(Effect.READ, program, chdir, args, cwd, summary=f"{name} help/version")
        raise _Unparseable(f"`{name}` with no subcommand")
    args, folded = _merge_env_args(args, found[0], env)
    found = _subcommand(args)  # Terraform parses the merged argv again
    if found is None:
        raise _Unparseable("TF_CLI_ARGS hid the subcommand")
    sub, at, start = found
    head = [a for a in args[:at] if a != ""]  # empty words before the subcommand mean nothing: dropped
    args, start = head + args[at:], start - (at - len(head))
    c = _done(Effect.READ, program, chdir, args, cwd, summary=f"{name} {sub}")
    if folded:
        c.notes.append(hit("ENV-TF-CLI-ARGS", names=", ".join(folded)))
    c.workspace = env.get("TF_WORKSPACE") or None
    base = c.directory or cwd
    if chdir is not None:
        _judge(c, judge.input(chdir, cwd), "-chdir", chdir)
    if sub not in _FLAGS:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("CMD-UNKNOWN", detail=f"unknown terraform subcommand {sub!r}"))
        return c
    rest = args[start:]
    if any(a in _HELP for a in _before_dashes(rest)):
        c.summary = f"{name} {sub} help"
        return c
    opts, positionals = _parse_flags(rest, sub)
    lookalike = next((a for a in positionals if a[:1] in _DASHES), None)
    if lookalike is not None:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("ARG-NOT-ALLOWED", program=name, sub=sub, arg=lookalike,
                          why=f": it starts with U+{ord(lookalike[0]):04X}, which looks like '-' but is not one"))
        return c
    limit = _MAX_POSITIONALS.get(sub, 0)
    if limit is not None and len(positionals) > limit:
        raise _Unparseable(f"`{sub}` takes {limit or 'no'} argument{'s' if limit != 1 else ''}, got "
                           f"{len(positionals)}: {shlex.join(positionals)}")
    for option in opts:
        if option in _NOT_ALLOWED:
            c.hits.append(hit("ARG-NOT-ALLOWED", program=name, sub=sub, arg=f"-{option}",
                              why=f": it {_NOT_ALLOWED[option]}"))
    _classify_sub(c, sub, opts, positionals, chdir, cwd)
    _check_paths(c, judge, base, sub, opts, positionals)
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


def _check_paths(c: Classification, judge: PathJudge, base: str, sub: str, opts: dict[str, list[str]],
                 positionals: list[str]) -> None:
    """Every path the command writes or reads, judged by what the file is (see ``paths.py``)."""
    for option, config_too in _OUTPUT_OPTIONS.items():
        for value in opts.get(option, []):
            if value and not (value == "-" and option == "backup"):
                _judge(c, judge.output(value, base, config_too=config_too), f"-{option}", value)
    for option in _INPUT_OPTIONS:
        for value in opts.get(option, []):
            if value:
                problem = judge.output(value, base) if option == "var-file" else judge.input(value, base)
                _judge(c, problem, f"-{option}", value)
    targets = [p for p in positionals if p and p != "-"]
    if sub == "fmt":
        writes = c.effect is Effect.WRITE
        for target in targets or ["."]:
            _judge(c, judge.output(target, base) if writes else judge.input(target, base), "fmt target", target)
    elif sub == "providers mirror":
        for target in targets:
            _judge(c, judge.output(target, base), "target directory", target)
    elif sub in _POSITIONAL_INPUT:
        for target in targets:
            _judge(c, judge.input(target, base), "path", target)


def _judge(c: Classification, problem: PathProblem | None, what: str, value: str) -> None:
    if problem is None:
        return
    if problem.kind == "owned":
        c.hits.append(hit("TF-PATH-OWNED", option=what, path=value, owner=problem.what))
    else:
        c.hits.append(hit("TF-PATH-OUTSIDE", option=what, path=value, where=problem.what))


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


def _subcommand(args: list[str]) -> tuple[str, int, int] | None:
    """(subcommand, index of its first word, index of its first argument), as ``mitchellh/cli`` finds it.

    The subcommand is the longest command name that prefixes the words from the first
    non-option onwards joined by spaces (``["state rm", "x"]`` is ``state rm``); its
    arguments start after as many more elements as the name has spaces.  An unknown first
    word is returned as it is (the caller refuses it).
    """
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in _HELP or arg in _VERSION or arg == "":
            continue
        if arg.startswith("-"):
            raise _Unparseable(f"unknown global option {arg!r} (only -chdir=DIR, -help, -version)")
        key = " ".join(args[i:i + 2])  # no command name has more than two words
        for name in _BY_FIRST_WORD.get(arg.split(" ")[0], ()):
            if key == name or key.startswith(name + " "):
                return name, i, i + 1 + name.count(" ")
        return arg, i, i + 1
    return None


def _before_dashes(args: list[str]) -> list[str]:
    return args[: args.index("--")] if "--" in args else args


def _merge_env_args(args: list[str], sub: str, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Fold TF_CLI_ARGS and TF_CLI_ARGS_<sub> into ``args`` like Terraform's mergeEnvArgs."""
    folded: list[str] = []
    suffix = sub.replace("-", "_").replace(" ", "_")
    search = sub[sub.rfind(" ") + 1:]  # the last word, as strings.LastIndex(cmd, " ") finds it
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
    """Go ``flag`` parsing with ``sub``'s options: until the first positional or ``--``; the rest is positional."""
    spec = _SPEC[sub]
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
        if name not in spec:
            raise _Unparseable(f"`{sub}` has no option {arg.partition('=')[0]!r}")
        if spec[name]:
            if not eq:
                if i + 1 >= len(args):
                    raise _Unparseable(f"option -{name} of `{sub}` needs a value")
                i += 1
                value = args[i]
        else:
            if eq and value not in _TRUE | _FALSE:
                raise _Unparseable(f"option -{name} of `{sub}` takes true or false, got {value!r}")
            value = value if eq else "true"
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
        found = _subcommand(args)
        if found is None:
            return None
        args, _ = _merge_env_args(args, found[0], env or {})
        found = _subcommand(args)
        if found is None or found[0] not in _SPEC:
            return None
        sub, _, start = found
        opts, positionals = _parse_flags(args[start:], sub)
    except _Unparseable:
        return None
    return sub, opts, positionals
