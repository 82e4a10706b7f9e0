"""kubectl argv: parsed the way cobra/pflag parses it, then classified.

Parsing follows cobra's command lookup and pflag, with kubectl 1.32's real flag
sets (``kubectl_flags.py``, checked against the binary by its test):

* The command path is found like cobra's ``Find``: at each level the first word
  that is not a flag or a flag's value names a sub-command (or an alias:
  ``create cm``) or ends the path; empty words are skipped.  A verb kubectl does
  not have (a plugin, ``"get secret"`` in one word) is CMD-UNKNOWN.
* Flags may appear anywhere, as ``--name=value``, ``--name value``, ``-n value``,
  ``-nvalue``, ``-n=value``; short booleans combine (``-it``); ``--`` ends the
  flags (after it: the container command of exec/run/debug, positionals for the
  other verbs, so ``get -o yaml -- secrets`` names secrets).  ``--dry-run``,
  ``--cascade`` and ``--validate`` take a value only with ``=``.  Long names are
  normalised like kubectl's ``WordSepNormalizeFunc`` (``--helm_command`` is
  ``--helm-command``).  pflag takes no abbreviations: ``--kubec`` is unknown.
* A flag the command does not have is CMD-UNPARSEABLE (kubectl would refuse it,
  and the gate cannot tell whether it swallows the next word); so is a flag
  given before a sub-verb that only the sub-verb has (``create --from-literal
  a=b secret generic x``: put it after the sub-verb), and a short-flag cluster
  ending in a valued flag before the verb (cobra and pflag read ``-An x`` apart).
* A flag the command has but the gate does not allow is ARG-NOT-ALLOWED:
  ``--insecure-skip-tls-verify``, ``--certificate-authority``,
  ``--tls-server-name``, ``--vmodule`` (raises verbosity per file: API bodies),
  and kustomize's ``--load-restrictor``, ``--mount``, ``--network*``, ``--env``,
  ``--as-current-user``, ``--helm-*``; ``--enable-helm``, ``--helm-command``,
  ``--enable-alpha-plugins``, ``config set-credentials --exec-*|--auth-provider*``
  and ``config set users.*.exec...`` are K8S-LOCAL-EXEC.  An argument that
  starts with a look-alike dash (``–n``) is ARG-NOT-ALLOWED; a remote
  kustomization (``-k https://...``, ``github.com/...``: kustomize runs git) too.

Classification:

* READ: get, describe, logs, events, top, explain, api-resources, api-versions,
  version, cluster-info (``dump`` too: it prints objects, not Secrets), wait,
  kustomize, completion, options, ``plugin list``, ``auth can-i|whoami``,
  ``rollout status|history``, ``apply view-last-applied``,
  ``config view|current-context|get-contexts|get-clusters|get-users``.
* PLAN: diff, and a mutating verb with ``--dry-run=client|server`` (or legacy
  ``--dry-run``) when the verb honours it (apply, create, delete, patch, replace,
  scale, autoscale, drain, cordon, uncordon, taint, label, annotate, run, expose,
  set, ``rollout undo``, ``auth reconcile``).  Everything else ignores it.
* WRITE (not local): ``config use-context|set-*|delete-*|rename-context|unset``.
* DESTRUCTIVE: every other verb (K8S-MUTATE, K8S-DELETE, K8S-EXEC).
* Never approvable: **Secret data on every verb that prints an object**
  (K8S-SECRET-READ): ``get``/``wait``/any mutation or dry run with an
  ``-o`` that prints data (yaml, json, jsonpath, templates, custom-columns) on a
  Secret (``secret``, ``secrets.v1.``, ``Secret``, ``secrets/x``, in a comma
  list) or on ``-f``/``-k`` files (they may name Secrets); ``create secret ...
  -o yaml``; ``set env --from=secret/x`` (copies the values into the workload, in plain text) and
  ``set env --list --resolve``;
  ``apply view-last-applied`` on a Secret or files; any template using
  ``base64decode``; ``--raw`` on a secrets path or a pods/services/nodes proxy
  path (percent-decoded, dot-resolved); ``-v`` >= 7 (client-go logs bodies).
  ``config view --raw|--flatten`` and ``config view`` with a jsonpath/template
  output (K8S-KUBECONFIG-READ); plain ``config view`` runs with
  ``output_filter="kubeconfig"`` (tokens, client secrets, exec env values
  masked by ``output_filters.py``).  ``create token``, ``certificate approve``,
  ``create|replace --raw .../token|.../approval`` (K8S-CREDENTIAL-ISSUE),
  impersonation and client certificates (``--as*``, ``--client-certificate|-key``),
  inline credentials (``--token``, ``--username``, ``--password``), a change whose
  cluster the policy cannot see (KUBECONFIG without a context, ``--cluster``,
  ``--user``), ``--server`` and ``--kubeconfig`` on every verb.
* Local paths (``gate/paths.py``): files kubectl reads and may print or send
  (``-f``, ``--from-file``, ``--from-env-file``, ``--patch-file``, template files,
  ``cp``'s local source) must be in the workspace and not owned; ``-k`` and
  ``proxy --www`` directories in the workspace; files it writes
  (``--profile-output``, ``--output-directory``, ``--cache-dir``, ``kustomize -o``,
  ``cp``'s local destination, ``proxy --unix-socket``) in the workspace or a scratch
  directory and not owned: K8S-PATH-OUTSIDE / K8S-PATH-OWNED.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from infraleash.gate.kubectl_flags import ALIASES, COMMANDS, GLOBAL
from infraleash.gate.model import Effect
from infraleash.gate.paths import PathJudge, PathProblem
from infraleash.gate.rules import Classification, hit

PROGRAM = "kubectl"


@dataclass(frozen=True, slots=True)
class _Spec:
    kinds: dict[str, str]  # long name -> "bool" | "value" | "optional"
    shorts: dict[str, str]  # shorthand letter -> long name


def _spec(text: str) -> _Spec:
    kinds: dict[str, str] = {}
    shorts: dict[str, str] = {}
    for token in text.split():
        short, _, name = token.rpartition("|")
        kind = "value" if name.endswith("=") else "optional" if name.endswith("?") else "bool"
        name = name.rstrip("=?")
        kinds[name] = kind
        if short:
            shorts[short] = name
    return _Spec(kinds, shorts)


_GLOBAL = _spec(GLOBAL)
_SPECS = {cmd: _spec(text) for cmd, text in COMMANDS.items()}
_CHILDREN: dict[str, set[str]] = {}
for _name in COMMANDS:
    _CHILDREN.setdefault(_name.rpartition(" ")[0], set()).add(_name.rpartition(" ")[2])
_NO_OPT_DEFAULT = {"dry-run": "unchanged", "cascade": "background", "validate": "strict"}
_PFLAG_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_PFLAG_FALSE = {"0", "f", "F", "FALSE", "false", "False"}

# Flags kubectl has and the gate refuses, with why (ARG-NOT-ALLOWED); "" = every command.
_NOT_ALLOWED: dict[str, dict[str, str]] = {
    "": {"insecure-skip-tls-verify": "turns off the server certificate check",
         "certificate-authority": "replaces the CA the runner's kubeconfig trusts",
         "tls-server-name": "changes which certificate name is accepted",
         "vmodule": "raises log verbosity per source file (client-go logs API bodies, Secret data included)"},
    "kustomize": {f: "changes what kustomize may load or run; the runner's defaults apply" for f in (
        "load-restrictor", "mount", "network", "network-name", "env", "as-current-user", "helm-api-versions",
        "helm-debug", "helm-kube-version")},
}
_LOCAL_EXEC_FLAGS = {"enable-helm", "helm-command", "enable-alpha-plugins", "enable-exec"}
_READ_VERBS = {"get", "describe", "logs", "events", "top", "explain", "api-resources", "api-versions",
               "version", "cluster-info", "wait", "kustomize", "completion", "options", "plugin"}
_EXEC_VERBS = {"exec", "attach", "cp", "debug", "port-forward", "proxy"}
_CONTAINER_COMMAND = {"exec", "run", "debug"}  # after `--`: a command for the container, not kubectl's
_MUTATING = {"apply", "create", "delete", "edit", "patch", "replace", "scale", "autoscale", "drain",
             "cordon", "uncordon", "taint", "label", "annotate", "set", "run", "expose", "rollout",
             "auth", "certificate", "config"}
_DRY_RUN_VERBS = {"apply", "create", "delete", "patch", "replace", "scale", "autoscale", "drain", "cordon",
                  "uncordon", "taint", "label", "annotate", "run", "expose", "set", "rollout undo",
                  "auth reconcile"}
_SUB_READ = {"rollout status", "rollout history", "auth can-i", "auth whoami", "apply view-last-applied",
             "config view", "config current-context", "config get-contexts", "config get-clusters",
             "config get-users", "plugin list"}
_SECRET_TYPES = {"secret", "secrets"}
# verbs whose -o prints something other than cluster objects (docs, versions, events, a kustomize file)
_NO_OBJECTS = {"explain", "kustomize", "api-resources", "api-versions", "version", "auth", "config", "events",
               "top", "cluster-info", "completion", "options", "plugin", "diff", "logs"}
_LOG_BODIES = 7  # -v level from which client-go logs request/response bodies or headers
_SAFE_OUTPUTS = {"", "name", "wide"}
_KUBECONFIG_OUTPUTS = {"", "yaml", "json"}  # structured: the kubeconfig masker can parse it
_PROXY_PATH = re.compile(r"/(pods|services|nodes)/[^/]+/proxy(/|$)")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad")
_REMOTE = re.compile(r"^(\w+://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")


class _Unparseable(Exception):
    pass


@dataclass(slots=True)
class _Parsed:
    path: list[str] = field(default_factory=list)  # the command path: ["create", "secret", "generic"]
    opts: dict[str, list[str]] = field(default_factory=dict)  # long name -> values
    words: list[str] = field(default_factory=list)  # positionals (before `--`, and after it unless exec/run/debug)
    dash: list[str] = field(default_factory=list)  # words after `--`
    unknown_verb: str | None = None


def is_kubectl(program: str) -> bool:
    return os.path.basename(program).removesuffix(".exe") == PROGRAM


def command_part(argv: list[str]) -> list[str]:
    """The part kubectl itself parses: everything before ``--`` (after it: a container command)."""
    return argv[: argv.index("--")] if "--" in argv else argv


def classify_kubectl(argv: list[str], env: dict[str, str], context_known: bool = False,
                     paths: PathJudge | None = None, cwd: str = ".") -> Classification:
    """Classify a kubectl argv run in ``cwd``; ``context_known`` says the caller already resolved the kube
    context; ``paths`` says where it may read and write (default: inside ``cwd``)."""
    try:
        p = _parse(argv[1:])
    except _Unparseable as e:
        return Classification(effect=Effect.DESTRUCTIVE, argv=list(argv),
                              hits=[hit("CMD-UNPARSEABLE", detail=str(e))], summary="kubectl")
    command = " ".join(p.path)
    c = Classification(effect=Effect.READ, argv=list(argv), summary=f"kubectl {command}".strip(),
                       kube_context=_last(p.opts, "context"))
    if p.unknown_verb is not None or not p.path:
        c.effect = Effect.DESTRUCTIVE
        what = f"unknown kubectl verb or plugin {p.unknown_verb!r}" if p.unknown_verb is not None else \
            "kubectl with no verb"
        c.hits.append(hit("CMD-UNKNOWN", detail=what))
        return c
    lookalike = next((w for w in [*p.words, *p.dash] if w[:1] in _DASHES), None)
    if lookalike is not None and p.path[0] not in _CONTAINER_COMMAND | {"attach"}:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("ARG-NOT-ALLOWED", program="kubectl", sub=command, arg=lookalike,
                          why=f": it starts with U+{ord(lookalike[0]):04X}, which looks like '-' but is not one"))
        return c
    _not_allowed(c, command, p)
    _classify_verb(c, p)
    _check_secret_read(c, p)
    _check_paths(c, paths or PathJudge.for_action(cwd), cwd, p)
    _classify_target(c, p.opts, env, context_known)
    return c


def _not_allowed(c: Classification, command: str, p: _Parsed) -> None:
    refused = {**_NOT_ALLOWED[""], **_NOT_ALLOWED.get(command, {})}
    for name in p.opts:
        if name in refused:
            c.hits.append(hit("ARG-NOT-ALLOWED", program="kubectl", sub=command, arg=f"--{name}",
                              why=f": it {refused[name]}"))
        elif name in _LOCAL_EXEC_FLAGS:
            c.hits.append(hit("K8S-LOCAL-EXEC", detail=f"--{name}"))
    if command == "config set-credentials":
        for name in p.opts:
            if name.startswith(("exec-", "auth-provider")):
                c.hits.append(hit("K8S-LOCAL-EXEC", detail=f"`config set-credentials --{name}` (an exec or "
                                                           "auth-provider plugin runs on the next command)"))
                break
    if command == "config set" and p.words:
        prop = p.words[0].lower()
        if prop.startswith("users") and re.search(r"\.(exec|auth-provider)(\.|$)", prop):
            c.hits.append(hit("K8S-LOCAL-EXEC", detail=f"`config set {p.words[0]}` (an exec or auth-provider "
                                                       "plugin runs on the next command)"))
    remote = [v for v in [*p.opts.get("kustomize", []), *(p.words if command == "kustomize" else [])]
              if _REMOTE.match(v)]
    if remote:
        c.hits.append(hit("ARG-NOT-ALLOWED", program="kubectl", sub=command, arg=remote[0],
                          why=": a remote kustomization makes kustomize run git and fetch code"))


def _classify_verb(c: Classification, p: _Parsed) -> None:
    verb = p.path[0]
    sub = " ".join(p.path[:2])
    if sub in _SUB_READ or verb in _READ_VERBS:
        if sub == "config view":
            _classify_config_view(c, p.opts)
    elif verb == "diff":
        c.effect = Effect.PLAN
    elif sub in ("create token", "certificate approve"):
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("K8S-CREDENTIAL-ISSUE", detail=sub))
    elif verb == "config":
        c.effect, c.local = Effect.WRITE, False
        c.hits.append(hit("K8S-CONFIG-WRITE", sub=p.path[1] if len(p.path) > 1 else "?"))
    elif verb in _MUTATING or verb in _EXEC_VERBS:
        _classify_mutation(c, verb, sub, p.opts)
    else:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("CMD-UNKNOWN", detail=f"unknown kubectl verb {verb!r}"))


def _classify_config_view(c: Classification, opts: dict[str, list[str]]) -> None:
    flag = next((f"--{f}" for f in ("raw", "flatten") if _bool(opts, f)), None)
    output = _output(opts)
    if flag:
        c.hits.append(hit("K8S-KUBECONFIG-READ", flag=flag))
    elif output not in _KUBECONFIG_OUTPUTS:
        c.hits.append(hit("K8S-KUBECONFIG-READ", flag=f"-o {output} (picks fields the masker cannot see)"))
    else:
        c.output_filter = "kubeconfig"


def _classify_mutation(c: Classification, verb: str, sub: str, opts: dict[str, list[str]]) -> None:
    raw = _last(opts, "raw")
    if raw is not None and re.search(r"/(token|approval)(/|$)", _raw_path(raw)):
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("K8S-CREDENTIAL-ISSUE", detail=f"{verb} --raw {raw}"))
        return
    mode = _dry_run(opts)
    if mode and (verb in _DRY_RUN_VERBS or sub in _DRY_RUN_VERBS) and sub != "apply edit-last-applied":
        c.effect = Effect.PLAN
        c.notes.append(hit("K8S-DRY-RUN", mode=mode))
        return
    c.effect = Effect.DESTRUCTIVE
    if verb == "delete":
        c.hits.append(hit("K8S-DELETE"))
    elif verb in _EXEC_VERBS:
        c.hits.append(hit("K8S-EXEC", verb=verb))
    else:
        c.hits.append(hit("K8S-MUTATE", verb=sub))


def _check_secret_read(c: Classification, p: _Parsed) -> None:
    """K8S-SECRET-READ: every way a command can print Secret data (see the module docstring)."""
    command = " ".join(p.path)
    opts = p.opts
    raw = _last(opts, "raw") if command != "config view" else None
    if raw is not None:
        path = _raw_path(raw)
        if "/secrets" in path:
            c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl {command} --raw {raw}`"))
            return
        if _PROXY_PATH.search(path):
            c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl {command} --raw {raw}` (a proxy path returns "
                                                        "whatever the workload or kubelet serves)"))
            return
    templates = [*opts.get("output", []), *opts.get("template", [])]
    if any("base64decode" in t.lower() for t in templates):
        c.hits.append(hit("K8S-SECRET-READ", detail="a template with base64decode (it decodes Secret data)"))
        return
    if command == "set env" and _bool(opts, "list") and _bool(opts, "resolve"):
        c.hits.append(hit("K8S-SECRET-READ", detail="`kubectl set env --list --resolve` (prints the values of "
                                                    "secretKeyRef variables)"))
        return
    if command == "set env" and _names_secret(opts.get("from", [])):
        c.hits.append(hit("K8S-SECRET-READ", detail="`kubectl set env --from=secret/...` (the Secret's values are "
                                                    "copied as plain text into the object, printed with -o, and "
                                                    "readable by anyone who can read the workload)"))
        return
    if p.path[0] in _NO_OBJECTS or "output" not in _SPECS[command].kinds:
        return
    output = _output(opts)
    prints = output not in _SAFE_OUTPUTS or command == "apply view-last-applied"
    if not prints:
        return
    files = "filename" in opts or "kustomize" in opts
    if command.startswith("create secret"):
        c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl {command} -o {output}` prints the Secret's data"))
    elif _names_secret(p.words if p.path[0] not in _CONTAINER_COMMAND else p.words[:1]):
        c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl {command} secret -o {output or 'yaml'}`"))
    elif files and p.path[0] not in ("diff", "kustomize"):
        c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl {command} -f|-k ... -o {output or 'yaml'}` (the "
                                                    "files may name Secrets; the gate cannot see which kinds)"))


def _check_paths(c: Classification, judge: PathJudge, cwd: str, p: _Parsed) -> None:
    command = " ".join(p.path)
    opts = p.opts
    reads = [("-f", v) for v in opts.get("filename", []) if v != "-" and "://" not in v]
    reads += [("--patch-file", v) for v in opts.get("patch-file", [])]
    reads += [("--custom", v) for v in opts.get("custom", [])] if command == "debug" else []
    for option in ("from-file", "from-env-file"):
        for value in opts.get(option, []):
            source = value.partition("=")[2] if option == "from-file" and "=" in value else value
            reads.append((f"--{option}", source))
    if command != "kustomize" and _output(opts).endswith("-file"):
        reads += [("--template", v) for v in opts.get("template", [])]
        reads += [("-o", v.partition("=")[2]) for v in opts.get("output", []) if "=" in v]
    dirs = [("-k", v) for v in opts.get("kustomize", []) if not _REMOTE.match(v)]
    dirs += [("--www", v) for v in opts.get("www", [])] if command == "proxy" else []
    if command == "kustomize":
        dirs += [("kustomization", w) for w in p.words if w and not _REMOTE.match(w)]
    writes = [(f"--{o}", v) for o in ("profile-output", "cache-dir") for v in opts.get(o, [])]
    writes += [("--output-directory", v) for v in opts.get("output-directory", []) if v != "-"]
    writes += [("--unix-socket", v) for v in opts.get("unix-socket", [])] if command == "proxy" else []
    if command == "kustomize":
        writes += [("-o", v) for v in opts.get("output", [])]
    if command == "cp" and len(p.words) >= 2:
        source, dest = p.words[0], p.words[1]
        if ":" not in source:
            reads.append(("cp source", source))
        if ":" not in dest:
            writes.append(("cp destination", dest))
    for what, value in reads:
        if value:
            _judge(c, judge.output(value, cwd), what, value, "read")
    for what, value in dirs:
        if value:
            _judge(c, judge.input(value, cwd), what, value, "read")
    for what, value in writes:
        if value:
            _judge(c, judge.output(value, cwd), what, value, "written")


def _judge(c: Classification, problem: PathProblem | None, what: str, value: str, how: str) -> None:
    if problem is None:
        return
    if problem.kind == "owned":
        c.hits.append(hit("K8S-PATH-OWNED", option=what, path=value, owner=f"{problem.what}: not {how} by kubectl"))
    else:
        c.hits.append(hit("K8S-PATH-OUTSIDE", option=what, path=value, where=problem.what))


def _classify_target(c: Classification, opts: dict[str, list[str]], env: dict[str, str],
                     context_known: bool) -> None:
    if "kubeconfig" in opts:
        c.hits.append(hit("K8S-LOCAL-EXEC", detail="--kubeconfig (its exec credential plugins run programs)"))
    if "server" in opts:
        c.hits.append(hit("K8S-TARGET-UNCLEAR", detail="--server sends this context's credentials to a server "
                                                       "the policy does not know"))
    level = _verbosity(opts)
    if level >= _LOG_BODIES:
        c.hits.append(hit("K8S-SECRET-READ", detail=f"-v={level} (client-go logs API request and response "
                                                    "bodies, Secret data included)"))
    for flag in ("as", "as-group", "as-uid", "client-certificate", "client-key"):
        if flag in opts:
            c.hits.append(hit("K8S-IMPERSONATE", flag=f"--{flag}"))
    for flag in ("token", "username", "password"):
        if flag in opts:
            c.hits.append(hit("K8S-INLINE-CREDENTIAL", flag=f"--{flag}"))
    if c.effect in (Effect.READ, Effect.PLAN):
        return
    switched = [f"--{f}" for f in ("cluster", "user") if f in opts]
    if "server" in opts:
        return
    if switched:
        c.hits.append(hit("K8S-TARGET-UNCLEAR", detail=f"{', '.join(switched)} picks the target"))
    elif c.kube_context is None:
        if "kubeconfig" in opts:
            return  # K8S-LOCAL-EXEC above
        if env.get("KUBECONFIG") and not context_known:
            c.hits.append(hit("K8S-TARGET-UNCLEAR", detail="KUBECONFIG without a known context"))


# --------------------------------------------------------------------------- parsing


def _parse(args: list[str]) -> _Parsed:
    """cobra's command lookup and pflag's parse, with kubectl's flag sets (see the module docstring)."""
    p = _Parsed()
    seen: list[tuple[str, str]] = []  # (flag name, the command it was parsed at)
    final = False  # the command path can no longer grow
    i = 0
    while i < len(args):
        arg = args[i]
        command = " ".join(p.path)
        spec = _SPECS.get(command) if p.path else None
        if arg == "--":
            p.dash = args[i + 1:]
            break
        if arg.startswith("-") and arg != "-":
            i = (_long if arg.startswith("--") else _short)(args, i, p, spec, final, seen)
            continue
        i += 1
        if final or arg == "":
            p.words.append(arg)
            continue
        child = _child(command, arg) if p.path else (arg if arg in _CHILDREN.get("", set()) else None)
        if child is not None:
            p.path = child.split()
            final = not _CHILDREN.get(child)
        elif not p.path:
            p.unknown_verb = arg
            return p
        else:
            final = True
            p.words.append(arg)
    command = " ".join(p.path)
    final_spec = _SPECS.get(command)
    for name, at in seen:
        if at != command and _kind(name, final_spec) != _kind(name, _SPECS.get(at) if at else None):
            raise _Unparseable(f"--{name} given before `{command}` is not a flag of `kubectl {at or '(root)'}` "
                               f"in the same way; put it after `{command}`")
    if p.path and p.path[0] not in _CONTAINER_COMMAND:
        p.words.extend(p.dash)
    return p


def _child(command: str, word: str) -> str | None:
    name = f"{command} {word}"
    name = ALIASES.get(name, name)
    return name if name in _SPECS else None


def _kind(name: str, spec: _Spec | None) -> str | None:
    if spec is not None and name in spec.kinds:
        return spec.kinds[name]
    return _GLOBAL.kinds.get(name)


def _long(args: list[str], i: int, p: _Parsed, spec: _Spec | None, final: bool,
          seen: list[tuple[str, str]]) -> int:
    raw, eq, value = args[i][2:].partition("=")
    name = raw.replace("_", "-")  # kubectl's WordSepNormalizeFunc
    kind = _kind(name, spec)
    command = " ".join(p.path)
    if kind is None:
        where = f"`kubectl {command}`" if p.path else "kubectl before the verb"
        raise _Unparseable(f"unknown flag --{raw} for {where} (pflag takes no abbreviations)")
    if kind == "value" and not eq:
        if i + 1 >= len(args):
            raise _Unparseable(f"flag --{name} needs a value")
        i += 1
        value = args[i]
    elif kind == "bool" and eq and value not in _PFLAG_TRUE | _PFLAG_FALSE:
        raise _Unparseable(f"flag --{name} takes true or false, got {value!r}")
    elif not eq:
        value = _NO_OPT_DEFAULT.get(name, "true")
    p.opts.setdefault(name, []).append(value)
    seen.append((name, command))
    return i + 1


def _short(args: list[str], i: int, p: _Parsed, spec: _Spec | None, final: bool,
           seen: list[tuple[str, str]]) -> int:
    body = args[i][1:]
    command = " ".join(p.path)
    shorts = {**_GLOBAL.shorts, **(spec.shorts if spec else {})}
    for j, ch in enumerate(body):
        name = shorts.get(ch)
        if name is None:
            where = f"`kubectl {command}`" if p.path else "kubectl before the verb"
            raise _Unparseable(f"unknown shorthand flag -{ch} in {args[i]!r} for {where}")
        kind = _kind(name, spec)
        seen.append((name, command))
        rest = body[j + 1:]
        if kind == "bool":
            if rest.startswith("="):
                p.opts.setdefault(name, []).append(rest[1:])
                return i + 1
            p.opts.setdefault(name, []).append("true")
            continue
        if rest:
            p.opts.setdefault(name, []).append(rest.removeprefix("="))
            return i + 1
        if i + 1 >= len(args):
            raise _Unparseable(f"flag -{ch} needs a value")
        if len(body) > 1 and not final:
            raise _Unparseable(f"{args[i]!r} before the verb: cobra and pflag disagree on whether -{ch} takes "
                               "the next word; write the flags separately")
        p.opts.setdefault(name, []).append(args[i + 1])
        return i + 2
    return i + 1


# --------------------------------------------------------------------------- helpers


def _names_secret(words: list[str]) -> bool:
    types = {t.split("/")[0].split(".")[0].strip().lower() for w in words for t in w.split(",")}
    return bool(types & _SECRET_TYPES)


def _raw_path(raw: str) -> str:
    """The API path the server sees: percent-decoded, dot segments resolved, lower-cased (conservative)."""
    path = raw
    for _ in range(3):
        path = unquote(path)
    return posixpath.normpath("/" + path.split("?", 1)[0]).lower()


def _output(opts: dict[str, list[str]]) -> str:
    """The output format in force: ``-o``'s name (before ``=``), or go-template for a bare ``--template``."""
    output = (_last(opts, "output") or "").split("=")[0].strip().lower()
    if not output and "template" in opts:
        return "go-template"
    return output


def _last(opts: dict[str, list[str]], name: str) -> str | None:
    values = opts.get(name)
    return values[-1] if values else None


def _bool(opts: dict[str, list[str]], name: str) -> bool:
    return (_last(opts, name) or "false") in _PFLAG_TRUE


def _verbosity(opts: dict[str, list[str]]) -> int:
    try:
        return max((int(v) for v in opts.get("v", [])), default=0)
    except ValueError:
        return 99  # not a number: kubectl refuses it, the gate assumes the worst


def _dry_run(opts: dict[str, list[str]]) -> str | None:
    """The dry-run mode in force, or None (kubectl's GetDryRunStrategy)."""
    value = (_last(opts, "dry-run") or "none").lower()
    if value in ("client", "server"):
        return value
    if value in ("true", "1", "t", "unchanged"):
        return "client"
    return None
