"""kubectl argv: parsed the way cobra/pflag parses it, then classified.

Parsing follows pflag: flags may appear anywhere (``kubectl -n prod get pods``),
as ``--name=value``, ``--name value``, ``-n value``, ``-nvalue``, ``-n=value``;
short booleans combine (``-it``); ``--`` ends the flags (what follows is the
container command of exec/run/debug).  ``--dry-run`` and ``--cascade`` take a
value only with ``=``.  Until the verb (and the sub-verb, for rollout, config,
auth, create, apply, certificate) is known, an unknown flag is refused: it
might swallow the next word and hide the real verb.

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
* Never approvable: Secret data (``get secret -o yaml|json|jsonpath|...``,
  ``get --raw .../secrets...``), ``config view --raw|--flatten``, ``create token``,
  ``certificate approve``, impersonation (``--as*``), inline credentials
  (``--token``, ``--username``, ``--password``), and a change whose cluster the
  policy cannot see (KUBECONFIG without a context, ``--cluster``, ``--user``).
  On every verb, reads included: ``--server`` (sends the context's credentials
  to an unknown server), ``--kubeconfig`` and kustomize's ``--enable-helm``,
  ``--helm-command``, ``--enable-exec``, ``--enable-alpha-plugins`` (they run
  local programs: K8S-LOCAL-EXEC), ``-v`` >= 7 (client-go logs API bodies),
  ``get -f|-k FILE -o yaml`` (the files may name Secrets), ``apply
  view-last-applied secret`` (the annotation holds the data).  ``get --raw``
  paths are percent-decoded and dot-resolved before the secrets check;
  ``create|replace --raw .../token|.../approval`` mints credentials like ``create
  token``.  ``--client-certificate`` / ``--client-key`` act as another identity
  (K8S-IMPERSONATE), like ``--as``.
  Unknown verbs and plugins are denied.

A positional naming a Secret anywhere in ``get`` counts (``get pods secret -o
yaml`` is refused): cheaper than a wrong guess about which flag took a value.
"""

from __future__ import annotations

import os
import posixpath
import re
from urllib.parse import unquote

from infraleash.gate.model import Effect
from infraleash.gate.rules import Classification, hit

PROGRAM = "kubectl"

_GLOBAL_VALUED = {
    "namespace", "context", "cluster", "user", "kubeconfig", "server", "token", "as", "as-group", "as-uid",
    "username", "password", "certificate-authority", "client-certificate", "client-key", "tls-server-name",
    "request-timeout", "cache-dir", "v", "vmodule", "log-file", "profile", "profile-output",
    "log-flush-frequency",
}
_GLOBAL_BOOLEAN = {"insecure-skip-tls-verify", "match-server-version", "disable-compression",
                   "warnings-as-errors", "help"}
_LOCAL_VALUED = {
    "output", "filename", "selector", "field-selector", "container", "template", "sort-by", "raw", "for",
    "timeout", "replicas", "image", "port", "patch", "patch-file", "type", "from-literal", "from-file",
    "from-env-file", "grace-period", "chunk-size", "label-columns", "since", "tail", "since-time",
    "field-manager", "overrides", "to-revision", "kustomize", "subresource", "prune-allowlist",
    "current-replicas", "resource-version", "max", "min", "cpu-percent", "name", "target-port", "protocol",
    "env", "limits", "requests", "revision", "output-directory", "namespaces", "pod-running-timeout",
    "restart", "labels", "max-log-requests", "limit-bytes", "profile", "target", "copy-to", "duration",
    "audience", "bound-object-kind", "bound-object-name", "l", "local-port",
    "address", "api-group", "as-user", "session-affinity", "external-ip", "load-balancer-ip",
}
_LOCAL_BOOLEAN = {
    "all", "all-namespaces", "server-side", "force-conflicts", "prune", "overwrite", "record", "recursive",
    "wait", "force", "now", "openapi-patch", "show-managed-fields", "allow-missing-template-keys", "watch",
    "watch-only", "no-headers", "show-labels", "show-kind", "ignore-not-found", "local", "stdin", "tty", "quiet",
    "follow", "previous", "timestamps", "prefix", "ignore-daemonsets", "delete-emptydir-data",
    "disable-eviction", "flatten", "minify", "list", "containers", "save-config", "rm", "expose",
    "attach", "leave-stdin-open", "keep-annotations", "check", "include-uninitialized",
}
_OPTIONAL_VALUE = {"dry-run", "cascade", "validate"}  # pflag NoOptDefVal: value only after '='
_SHORT = {"n": "namespace", "s": "server", "v": "v", "o": "output", "f": "filename", "l": "selector",
          "c": "container", "p": "patch", "k": "kustomize", "L": "label-columns", "e": "env"}
_SHORT_BOOLEAN = {"A", "R", "w", "i", "t", "q", "h", "a"}
_SHORT_PER_VERB = {"logs": {"f": None, "p": None}, "exec": {"p": None}, "port-forward": {"p": None}}

_READ_VERBS = {"get", "describe", "logs", "events", "top", "explain", "api-resources", "api-versions",
               "version", "cluster-info", "wait", "kustomize", "completion", "options", "plugin"}
_EXEC_VERBS = {"exec", "attach", "cp", "debug", "port-forward", "proxy"}
_MUTATING = {"apply", "create", "delete", "edit", "patch", "replace", "scale", "autoscale", "drain",
             "cordon", "uncordon", "taint", "label", "annotate", "set", "run", "expose", "rollout",
             "auth", "certificate", "config"}
_HAS_SUB = {"rollout", "config", "auth", "create", "apply", "certificate", "plugin", "set"}
# until these verbs' sub-verb is seen, an unknown flag could hide it (rollout X status restart)
_STRICT_SUB = {"rollout", "config", "auth", "apply", "certificate", "plugin"}
_BOOLEAN_PER_VERB = {"config": {"raw"}}  # `config view --raw` is a switch; `get --raw PATH` takes one
_DRY_RUN_VERBS = {"apply", "create", "delete", "patch", "replace", "scale", "autoscale", "drain", "cordon",
                  "uncordon", "taint", "label", "annotate", "run", "expose", "set", "rollout undo",
                  "auth reconcile"}
_SUB_READ = {"rollout status", "rollout history", "auth can-i", "auth whoami", "apply view-last-applied",
             "config view", "config current-context", "config get-contexts", "config get-clusters",
             "config get-users", "plugin list"}
_SECRET_TYPES = {"secret", "secrets"}
_KUSTOMIZE_EXEC = ("enable-helm", "helm-command", "enable-exec", "enable-alpha-plugins", "enable-star")
_LOG_BODIES = 7  # -v level from which client-go logs request/response bodies or headers
_SAFE_SECRET_OUTPUTS = {"", "name", "wide"}


class _Unparseable(Exception):
    pass


def is_kubectl(program: str) -> bool:
    return os.path.basename(program).removesuffix(".exe") == PROGRAM


def command_part(argv: list[str]) -> list[str]:
    """The part kubectl itself parses: everything before ``--`` (after it: a container command)."""
    return argv[: argv.index("--")] if "--" in argv else argv


def classify_kubectl(argv: list[str], env: dict[str, str], context_known: bool = False) -> Classification:
    """Classify a kubectl argv; ``context_known`` says the caller already resolved the kube context."""
    try:
        opts, words = _parse(argv[1:])
    except _Unparseable as e:
        return Classification(effect=Effect.DESTRUCTIVE, argv=list(argv),
                              hits=[hit("CMD-UNPARSEABLE", detail=str(e))], summary="kubectl")
    verb = words[0] if words else ""
    sub = f"{verb} {words[1]}" if verb in _HAS_SUB and len(words) > 1 else verb
    c = Classification(effect=Effect.READ, argv=list(argv), summary=f"kubectl {sub}".strip(),
                       kube_context=_last(opts, "context"))
    _classify_verb(c, verb, sub, words, opts)
    _classify_target(c, opts, env, context_known)
    return c


def _classify_verb(c: Classification, verb: str, sub: str, words: list[str], opts: dict[str, list[str]]) -> None:
    if not verb:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("CMD-UNKNOWN", detail="kubectl with no verb"))
    elif sub in _SUB_READ or (verb in _READ_VERBS and sub != "plugin" or sub == "plugin list"):
        if verb == "get":
            _check_secret_read(c, words[1:], opts)
        if sub == "apply view-last-applied" and _names_secret(words[2:]):
            c.hits.append(hit("K8S-SECRET-READ", detail="`kubectl apply view-last-applied secret`"))
        if sub == "config view":
            flag = next((f"--{f}" for f in ("raw", "flatten") if _bool(opts, f)), None)
            if flag:
                c.hits.append(hit("K8S-KUBECONFIG-READ", flag=flag))
    elif verb == "diff":
        c.effect = Effect.PLAN
    elif sub in ("create token", "certificate approve"):
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("K8S-CREDENTIAL-ISSUE", detail=sub))
    elif verb == "config":
        c.effect, c.local = Effect.WRITE, False
        c.hits.append(hit("K8S-CONFIG-WRITE", sub=words[1] if len(words) > 1 else "?"))
    elif verb in _MUTATING or verb in _EXEC_VERBS:
        _classify_mutation(c, verb, sub, opts)
    else:
        c.effect = Effect.DESTRUCTIVE
        c.hits.append(hit("CMD-UNKNOWN", detail=f"unknown kubectl verb or plugin {verb!r}"))


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


def _names_secret(words: list[str]) -> bool:
    types = {t.split("/")[0].split(".")[0].lower() for w in words for t in w.split(",")}
    return bool(types & _SECRET_TYPES)


def _raw_path(raw: str) -> str:
    """The API path the server sees: percent-decoded, dot segments resolved, lower-cased (conservative)."""
    path = raw
    for _ in range(3):
        path = unquote(path)
    return posixpath.normpath("/" + path.split("?", 1)[0]).lower()


def _check_secret_read(c: Classification, words: list[str], opts: dict[str, list[str]]) -> None:
    raw = _last(opts, "raw")
    if raw is not None and "/secrets" in _raw_path(raw):
        c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl get --raw {raw}`"))
        return
    output = (_last(opts, "output") or "").split("=")[0]
    if not output and "template" in opts:  # --template alone means -o go-template
        output = "go-template"
    if output in _SAFE_SECRET_OUTPUTS:
        return
    if _names_secret(words):
        c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl get secret -o {output}`"))
    elif "filename" in opts or "kustomize" in opts or "f" in opts or "k" in opts:
        c.hits.append(hit("K8S-SECRET-READ", detail=f"`kubectl get -f|-k ... -o {output}` (the files may name "
                                                        "Secrets; the gate cannot see which kinds)"))


def _classify_target(c: Classification, opts: dict[str, list[str]], env: dict[str, str],
                     context_known: bool) -> None:
    if "kubeconfig" in opts:
        c.hits.append(hit("K8S-LOCAL-EXEC", detail="--kubeconfig (its exec credential plugins run programs)"))
    for flag in _KUSTOMIZE_EXEC:
        if flag in opts:
            c.hits.append(hit("K8S-LOCAL-EXEC", detail=f"--{flag}"))
            break
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


def _parse(args: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """pflag-style: (long option name -> values, positional words before ``--``)."""
    opts: dict[str, list[str]] = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        strict = not words or (words[0] in _STRICT_SUB and len(words) < 2)
        verb = words[0] if words else ""
        if arg == "--":
            break
        if arg.startswith("--"):
            i = _long(args, i, opts, strict, verb)
        elif arg.startswith("-") and arg != "-":
            i = _short(args, i, opts, strict, verb)
        else:
            words.append(arg)
            i += 1
    return opts, words


def _long(args: list[str], i: int, opts: dict[str, list[str]], strict: bool, verb: str) -> int:
    name, eq, value = args[i][2:].partition("=")
    if name in _BOOLEAN_PER_VERB.get(verb, ()):
        opts.setdefault(name, []).append(value if eq else "true")
        return i + 1
    if name in _OPTIONAL_VALUE:
        opts.setdefault(name, []).append(value if eq else "unchanged")
        return i + 1
    if name in _GLOBAL_VALUED or name in _LOCAL_VALUED:
        if not eq:
            if i + 1 >= len(args):
                raise _Unparseable(f"flag --{name} needs a value")
            i += 1
            value = args[i]
        opts.setdefault(name, []).append(value)
        return i + 1
    if not eq and strict and name not in _GLOBAL_BOOLEAN and name not in _LOCAL_BOOLEAN:
        raise _Unparseable(f"unknown flag --{name} before the verb")
    opts.setdefault(name, []).append(value if eq else "true")
    return i + 1


def _short(args: list[str], i: int, opts: dict[str, list[str]], strict: bool, verb: str) -> int:
    body = args[i][1:]
    per_verb = _SHORT_PER_VERB.get(verb, {})
    for j, ch in enumerate(body):
        long = per_verb[ch] if ch in per_verb else _SHORT.get(ch)
        if long is None:
            if ch not in _SHORT_BOOLEAN and ch not in per_verb and strict:
                raise _Unparseable(f"unknown flag -{ch} before the verb")
            opts.setdefault(ch, []).append("true")
            continue
        rest = body[j + 1:]
        if rest:
            opts.setdefault(long, []).append(rest.removeprefix("="))
            return i + 1
        if i + 1 >= len(args):
            raise _Unparseable(f"flag -{ch} needs a value")
        opts.setdefault(long, []).append(args[i + 1])
        return i + 2
    return i + 1


def _last(opts: dict[str, list[str]], name: str) -> str | None:
    values = opts.get(name)
    return values[-1] if values else None


def _bool(opts: dict[str, list[str]], name: str) -> bool:
    return (_last(opts, name) or "false").lower() in ("true", "1", "t")


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
