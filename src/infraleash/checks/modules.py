"""Module sources: where the code an agent pulls in comes from.

* ``TF-MODULE-SOURCE-NOT-ALLOWED``: the source matches none of ``policy.modules.allowed_sources``;
* ``TF-MODULE-LOOKALIKE-HOST``: the host only looks like an allowed one
  (``github.com.evil.io``, ``evil-github.com``, ``githib.com``);
* ``TF-MODULE-NO-VERSION``: a registry module without ``version``;
* ``TF-MODULE-GIT-UNPINNED``: a git source without ``?ref=`` or pinned to a branch
  (main, master, develop...) instead of a tag or a commit;
* ``TF-MODULE-INSECURE-SOURCE``: a plain ``http://`` source.
"""

from __future__ import annotations

import difflib
import re
from urllib.parse import parse_qs, urlsplit

from infraleash.findings import Finding, Kind, Severity
from infraleash.policy_defaults import MODULE_SOURCES, REQUIRE_MODULE_VERSION_PIN
from infraleash.terraform.config import Config, ModuleCall

NOT_ALLOWED = "TF-MODULE-SOURCE-NOT-ALLOWED"
LOOKALIKE = "TF-MODULE-LOOKALIKE-HOST"
NO_VERSION = "TF-MODULE-NO-VERSION"
GIT_UNPINNED = "TF-MODULE-GIT-UNPINNED"
INSECURE = "TF-MODULE-INSECURE-SOURCE"

BRANCH_NAMES = frozenset({"main", "master", "develop", "development", "dev", "trunk", "head", "staging",
                          "production", "prod", "release", "next", "latest", "stable", "default"})
_TAG = re.compile(r"^(?:[\w.-]*[-/])?v?\d+(?:\.\d+)*(?:[-+.][\w.-]+)?$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_REGISTRY = re.compile(r"^(?:(?P<host>[a-z0-9.-]+\.[a-z]{2,})/)?[\w-]+/[\w-]+/[\w-]+(?://.*)?$", re.I)


def _f(rule: str, severity: Severity, message: str, call: ModuleCall, suggestion: str | None = None) -> Finding:
    line = call.block.line_of("source")
    return Finding(rule=rule, kind=Kind.MODULE_SOURCE, severity=severity, message=message, file=call.file,
                   line=line, address=call.block.address, suggestion=suggestion,
                   details={"source": call.source})


def is_local(source: str) -> bool:
    return source.startswith(("./", "../"))


def host_of(source: str) -> str | None:
    """The host a module source is fetched from (``registry.terraform.io`` for registry shorthand)."""
    s = re.sub(r"^[a-z0-9]+::", "", source)
    if s.startswith("git@"):
        return s[4:].split(":", 1)[0].lower()
    if "://" in s:
        netloc = urlsplit(s).netloc
        return netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower() or None
    m = _REGISTRY.match(s.split("?", 1)[0])
    if m:
        return (m.group("host") or "registry.terraform.io").lower()
    first = s.split("/", 1)[0]
    return first.lower() if "." in first else None


def is_registry(source: str) -> bool:
    return "::" not in source and "://" not in source and not source.startswith("git@") and \
        _REGISTRY.match(source) is not None and not source.lower().startswith(("github.com/", "bitbucket.org/"))


def is_git(source: str) -> bool:
    low = source.lower()
    return low.startswith(("git::", "git@", "github.com/", "bitbucket.org/")) or ".git" in low.split("?")[0][-5:]


def git_ref(source: str) -> str | None:
    query = source.split("?", 1)[1] if "?" in source else ""
    refs = parse_qs(query).get("ref")
    return refs[0] if refs else None


def is_lookalike(host: str, allowed: str) -> bool:
    if host == allowed or host.endswith("." + allowed):
        return False  # the same host or one of its subdomains
    if allowed in host:
        return True
    base = allowed.rsplit(".", 1)[0]
    return len(base) >= 4 and difflib.SequenceMatcher(None, host, allowed).ratio() >= 0.85


def check(config: Config, policy: object) -> list[Finding]:
    modules_policy = getattr(policy, "modules", None)
    allowed: list[str] = list(getattr(modules_policy, "allowed_sources", MODULE_SOURCES))
    require_version = bool(getattr(modules_policy, "require_version_pin", REQUIRE_MODULE_VERSION_PIN))
    allowed_hosts = {h for h in (host_of(a) for a in allowed if not is_local(a)) if h}
    out: list[Finding] = []
    for call in config.modules:
        source = call.source
        if source is None:
            continue
        if is_local(source):
            if not any(source.startswith(a) for a in allowed if is_local(a)):
                out.append(_f(NOT_ALLOWED, Severity.HIGH, f"module `{call.name}`: local source `{source}` is not "
                              "allowed by the policy", call))
            continue
        host = host_of(source)
        low = source.lower()
        if re.match(r"^(?:[a-z0-9]+::)?http://", low):
            out.append(_f(INSECURE, Severity.HIGH, f"module `{call.name}`: source `{source}` is fetched over "
                          "plain http (no TLS)", call, suggestion=source.replace("http://", "https://", 1)))
        if not any(source.startswith(a) for a in allowed):
            fake = next((a for a in sorted(allowed_hosts) if host and is_lookalike(host, a)), None)
            if fake:
                out.append(_f(LOOKALIKE, Severity.CRITICAL, f"module `{call.name}`: host `{host}` only looks like "
                              f"the allowed host `{fake}`", call))
            else:
                shown = ", ".join(allowed) or "(none)"
                out.append(_f(NOT_ALLOWED, Severity.HIGH, f"module `{call.name}`: source `{source}` is not under "
                              f"an allowed prefix ({shown})", call))
        if is_registry(source):
            if require_version and not call.version:
                out.append(_f(NO_VERSION, Severity.MEDIUM, f"module `{call.name}`: registry module `{source}` has "
                              "no `version`, so every init may pull a different release", call,
                              suggestion='version = "x.y.z"'))
        elif is_git(source):
            ref = git_ref(source)
            if ref is None:
                out.append(_f(GIT_UNPINNED, Severity.HIGH, f"module `{call.name}`: git source without `?ref=` "
                              "follows the default branch", call, suggestion=f"{source}?ref=v1.2.3"))
            elif ref.lower() in BRANCH_NAMES or not (_TAG.match(ref) or _COMMIT.match(ref)):
                out.append(_f(GIT_UNPINNED, Severity.HIGH, f"module `{call.name}`: `?ref={ref}` is a branch; pin "
                              "a tag or a commit", call))
    return out
