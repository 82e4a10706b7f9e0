"""Policy only tightens downward: a working-tree ``infraleash.yaml`` can add restrictions, never relax one.

    policy = effective_policy(org, cwd)    # the org policy, tightened by every infraleash.yaml above cwd
    policy.merged_from                     # [org, outer local, ..., nearest local]
    policy.merge_notes                     # each tightening, and each relaxation ignored, with file and line

The base is the org policy the runner configuration names (with none: the
outermost ``infraleash.yaml`` found walking up from the working directory), so
a file an agent writes in a subdirectory never replaces the one above it.
Each working-tree file is then merged in, outermost first, section by section:

==================  ===============================================================================
section             what a working-tree file may do
==================  ===============================================================================
trust_level         lower it (the minimum wins)
environments        an existing environment: lower its trust level, add protected resources (its
                    ``match`` stays the org's); a new environment: only where no org environment
                    matches (it is tried after them), at most the default trust level
incidents           lower ``sev3_and_below_trust_level``
protected           add addresses, ids and tags (a tag the org protects keeps the org's value)
modules             narrow ``allowed_sources`` (the intersection of the two prefix sets); require pins
providers           add pins; a provider both pin must satisfy both constraints
checks              lower ``failing_severity``, add required tags, set naming patterns the org left
                    unset, learn from code; its ``suppressions`` and ``disabled_rules`` are ignored
commands.allow      remove entries (the intersection)
overrides           add ``deny`` overrides only (``allow`` / ``needs_approval`` could loosen a rule)
approvals           narrow ``approvers`` (the intersection; an org list of anyone becomes the local
                    list), lower ``ttl_minutes``; ``store`` stays the org's
audit, model        the org's
preflight           remove entries from ``allow``, ``assume_roles``, ``kube_exec_commands``,
                    ``backends`` (never add one)
==================  ===============================================================================

Anything else a working-tree file sets (a section added later) stays the org's, with a note.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infraleash.policy import (
    Environment,
    MergeNote,
    Policy,
    ProtectedResources,
    line_of,
    load_policy_file,
    parse_policy_node,
    policy_files_above,
    read_policy_text,
)

_SEVERITY = ["info", "low", "medium", "high", "critical"]


@dataclass
class _Local:
    """A working-tree policy file: the parsed policy, the keys it sets and where they are."""

    file: str
    policy: Policy
    data: dict[str, Any]
    node: yaml.Node | None

    def sets(self, *loc: Any) -> bool:
        node: Any = self.data
        for part in loc:
            found = (isinstance(node, dict) and part in node) or \
                (isinstance(node, list) and isinstance(part, int) and part < len(node))
            if not found:
                return False
            node = node[part]
        return True

    def line(self, *loc: Any) -> int | None:
        return line_of(self.node, loc)


class _Merge:
    def __init__(self, base: Policy, local: _Local) -> None:
        self.out = base.model_copy(deep=True)
        self.local = local
        self.p = local.policy

    def note(self, kind: str, loc: tuple[Any, ...], message: str) -> None:
        section = ".".join(str(x) if not isinstance(x, int) else f"[{x}]" for x in loc).replace(".[", "[")
        self.out.merge_notes.append(MergeNote(file=self.local.file, line=self.local.line(*loc), section=section,
                                              kind=kind, message=message))  # type: ignore[arg-type]

    def ignored(self, loc: tuple[Any, ...], message: str) -> None:
        self.note("ignored", loc, message)

    def tightened(self, loc: tuple[Any, ...], message: str) -> None:
        self.note("tightened", loc, message)

    # ------------------------------------------------------------------ sections

    def run(self) -> Policy:
        handled = {"version", "trust_level", "environments", "incidents", "protected", "modules", "providers",
                   "checks", "commands", "overrides", "approvals", "audit", "model", "preflight", "review"}
        self.trust_level()
        self.environments()
        self.incidents()
        self.protected()
        self.modules()
        self.providers()
        self.checks()
        self.commands()
        self.overrides()
        self.approvals()
        self.org_only("audit")
        self.org_only("model")
        self.preflight()
        self.review()
        for key in sorted(set(self.local.data) - handled):
            self.org_only(key)
        self.out.merged_from = [*self.out.merged_from, self.local.file]
        return self.out

    def trust_level(self) -> None:
        if not self.local.sets("trust_level"):
            return
        want, have = self.p.trust_level, self.out.trust_level
        if want.rank > have.rank:
            self.ignored(("trust_level",), f"{want.value} would raise the trust level above {have.value}")
        elif want is not have:
            self.out.trust_level = want
            self.tightened(("trust_level",), f"lowered from {have.value} to {want.value}")

    def environments(self) -> None:
        by_name = {e.name: e for e in self.out.environments}
        for i, env in enumerate(self.p.environments if self.local.sets("environments") else []):
            loc: tuple[Any, ...] = ("environments", i)
            mine = by_name.get(env.name)
            if mine is None:
                self._new_environment(env, loc)
                continue
            if self.local.sets(*loc, "match") and env.match != mine.match:
                self.ignored((*loc, "match"), f"environment {env.name!r} keeps the org's match (a wider one could "
                             "pull other directories into a looser environment)")
            if env.trust_level is not None:
                have = self.out.trust_for(mine)
                if env.trust_level.rank > have.rank:
                    self.ignored((*loc, "trust_level"), f"environment {env.name!r}: {env.trust_level.value} would "
                                 f"raise it above {have.value}")
                elif env.trust_level is not have:
                    mine.trust_level = env.trust_level
                    self.tightened((*loc, "trust_level"), f"environment {env.name!r} lowered from {have.value} to "
                                   f"{env.trust_level.value}")
            mine.protected = self._union(mine.protected, env.protected, (*loc, "protected"))

    def _new_environment(self, env: Environment, loc: tuple[Any, ...]) -> None:
        default = self.out.trust_level
        env = env.model_copy(deep=True)
        if env.trust_level is not None and env.trust_level.rank > default.rank:
            self.ignored((*loc, "trust_level"), f"new environment {env.name!r}: {env.trust_level.value} is above "
                         f"the default {default.value}; it gets {default.value}")
            env.trust_level = default
        self.out.environments.append(env)  # tried after every org environment: it only narrows the default
        self.tightened(loc, f"new environment {env.name!r} (matched only where no org environment matches)")

    def incidents(self) -> None:
        if not self.local.sets("incidents", "sev3_and_below_trust_level"):
            return
        want = self.p.incidents.sev3_and_below_trust_level
        have = self.out.incidents.sev3_and_below_trust_level
        loc = ("incidents", "sev3_and_below_trust_level")
        if want is None:
            if have is not None:
                self.ignored(loc, f"cannot lift the org's sev3+ cap ({have.value})")
        elif have is None or want.rank < have.rank:
            self.out.incidents.sev3_and_below_trust_level = want
            self.tightened(loc, f"sev3+ incidents capped at {want.value}")
        elif want.rank > have.rank:
            self.ignored(loc, f"{want.value} would raise the org's sev3+ cap ({have.value})")

    def protected(self) -> None:
        if self.local.sets("protected"):
            self.out.protected = self._union(self.out.protected, self.p.protected, ("protected",))

    def _union(self, have: ProtectedResources, add: ProtectedResources, loc: tuple[Any, ...]) -> ProtectedResources:
        tags = dict(have.tags)
        for k, v in add.tags.items():
            if k in tags and tags[k] != v:
                self.ignored((*loc, "tags", k), f"tag {k} is protected with value {tags[k]!r} by the org; kept")
            else:
                tags[k] = v
        out = ProtectedResources(addresses=list(dict.fromkeys([*have.addresses, *add.addresses])),
                                 ids=list(dict.fromkeys([*have.ids, *add.ids])), tags=tags,
                                 reasons={**add.reasons, **have.reasons})  # the org's reason stays
        if out != have:
            self.tightened(loc, "protected resources added")
        return out

    def modules(self) -> None:
        if self.local.sets("modules", "allowed_sources"):
            have, want = self.out.modules.allowed_sources, self.p.modules.allowed_sources
            keep: list[str] = []
            for w in want:
                covering = [h for h in have if w.startswith(h) or h.startswith(w)]
                if not covering:
                    self.ignored(("modules", "allowed_sources"), f"{w!r} is not within the org's allowed sources")
                keep += [max(w, h, key=len) for h in covering]
            keep = list(dict.fromkeys(keep))
            if keep != have:
                self.out.modules.allowed_sources = keep
                self.tightened(("modules", "allowed_sources"), f"narrowed to {keep}")
        if self.local.sets("modules", "require_version_pin"):
            if self.p.modules.require_version_pin and not self.out.modules.require_version_pin:
                self.out.modules.require_version_pin = True
                self.tightened(("modules", "require_version_pin"), "module version pins required")
            elif not self.p.modules.require_version_pin and self.out.modules.require_version_pin:
                self.ignored(("modules", "require_version_pin"), "cannot drop the org's version-pin requirement")

    def providers(self) -> None:
        for name, pin in (self.p.providers.items() if self.local.sets("providers") else []):
            have = self.out.providers.get(name)
            if have is None:
                self.out.providers[name] = pin
            elif have != pin:
                self.out.providers[name] = f"{have}, {pin}"  # Terraform constraints separated by ',' all hold
            else:
                continue
            self.tightened(("providers", name), f"{name} pinned to {self.out.providers[name]}")

    def checks(self) -> None:
        c, o = self.p.checks, self.out.checks
        if self.local.sets("checks", "failing_severity"):
            if _SEVERITY.index(c.failing_severity) < _SEVERITY.index(o.failing_severity):
                self.tightened(("checks", "failing_severity"), f"lowered from {o.failing_severity} to "
                               f"{c.failing_severity}")
                o.failing_severity = c.failing_severity
            elif c.failing_severity != o.failing_severity:
                self.ignored(("checks", "failing_severity"), f"{c.failing_severity} would fail on fewer findings "
                             f"than the org's {o.failing_severity}")
        added = [t for t in c.required_tags if t not in o.required_tags]
        if added:
            o.required_tags = [*o.required_tags, *added]
            self.tightened(("checks", "required_tags"), f"also required: {', '.join(added)}")
        for key in ("resource_name_pattern", "name_tag_pattern"):
            want, have = getattr(c.naming, key), getattr(o.naming, key)
            if not self.local.sets("checks", "naming", key) or want == have:
                continue
            if have is None:
                setattr(o.naming, key, want)
                self.tightened(("checks", "naming", key), f"set to {want!r}")
            else:
                self.ignored(("checks", "naming", key), f"the org's pattern {have!r} stays")
        if self.local.sets("checks", "naming", "learn_from_code") and c.naming.learn_from_code \
                and not o.naming.learn_from_code:
            o.naming.learn_from_code = True
            self.tightened(("checks", "naming", "learn_from_code"), "conventions also learned from the code")
        for key in ("suppressions", "disabled_rules"):
            for i, s in enumerate(getattr(c, key)):
                self.ignored(("checks", key, i), f"{s.rule} ({s.reason}): only the org policy may suppress or "
                             "disable a check")

    def commands(self) -> None:
        if not self.local.sets("commands", "allow"):
            return
        have, want = self.out.commands.allow, self.p.commands.allow
        for i, entry in enumerate(want):
            if entry not in have:
                self.ignored(("commands", "allow", i), f"{entry} is not allowed by the org policy")
        keep = [e for e in have if e in want]
        if keep != have:
            self.out.commands.allow = keep
            removed = [" ".join(e) for e in have if e not in want]
            self.tightened(("commands", "allow"), f"removed {', '.join(removed)}")

    def overrides(self) -> None:
        for i, o in enumerate(self.p.overrides if self.local.sets("overrides") else []):
            if o.decision == "deny":
                self.out.overrides.append(o)
                self.tightened(("overrides", i), f"{o.rule} denied ({o.reason})")
            else:
                self.ignored(("overrides", i), f"{o.rule} -> {o.decision}: a working-tree policy may only add "
                             "`deny` overrides")

    def approvals(self) -> None:
        a, o = self.p.approvals, self.out.approvals
        if self.local.sets("approvals", "ttl_minutes"):
            if a.ttl_minutes < o.ttl_minutes:
                self.tightened(("approvals", "ttl_minutes"), f"lowered from {o.ttl_minutes} to {a.ttl_minutes}")
                o.ttl_minutes = a.ttl_minutes
            elif a.ttl_minutes > o.ttl_minutes:
                self.ignored(("approvals", "ttl_minutes"), f"{a.ttl_minutes} is longer than the org's {o.ttl_minutes}")
        if self.local.sets("approvals", "store") and a.store != o.store:
            self.ignored(("approvals", "store"), f"the approvals database stays the org's ({o.store})")
        if self.local.sets("approvals", "approvers"):
            self._approvers(a.approvers, o.approvers)

    def _approvers(self, want: list[str], have: list[str]) -> None:
        loc = ("approvals", "approvers")
        want = [w for w in want if w.strip()]
        if not want:
            if have:
                self.ignored(loc, "an empty list (anyone) would widen the org's approvers")
            return
        if not have:
            self.out.approvals.approvers = list(want)
            self.tightened(loc, f"only {', '.join(want)} may approve")
            return
        known = {_person(h): h for h in have}
        keep = [known[_person(w)] for w in want if _person(w) in known]
        for w in want:
            if _person(w) not in known:
                self.ignored(loc, f"{w!r} is not an approver in the org policy")
        if not keep:
            self.ignored(loc, "no name is in both lists; the org's approvers stay")
        elif keep != have:
            self.out.approvals.approvers = keep
            self.tightened(loc, f"only {', '.join(keep)} may approve")

    def review(self) -> None:
        """Replacement holds are added; whether state operations follow the gate is the org's to say."""
        if self.local.sets("review", "state_operations_follow_gate") and \
                self.p.review.state_operations_follow_gate != self.out.review.state_operations_follow_gate:
            self.ignored(("review", "state_operations_follow_gate"), "only the org policy sets this")
        added = [h for h in self.p.review.hold_replacements if h not in self.out.review.hold_replacements]
        if added and self.local.sets("review", "hold_replacements"):
            self.out.review.hold_replacements = [*self.out.review.hold_replacements, *added]
            self.tightened(("review", "hold_replacements"), f"{len(added)} replacement hold(s) added")

    def org_only(self, section: str) -> None:
        if self.local.sets(section) and getattr(self.p, section, None) != getattr(self.out, section, None):
            self.ignored((section,), f"only the org policy sets {section}")

    def preflight(self) -> None:
        if not self.local.sets("preflight"):
            return
        for key in ("allow", "assume_roles", "kube_exec_commands", "backends"):
            if not self.local.sets("preflight", key):
                continue
            have, want = getattr(self.out.preflight, key), getattr(self.p.preflight, key)
            for i, entry in enumerate(want):
                if entry not in have:
                    self.ignored(("preflight", key, i), "a working-tree policy cannot add pre-flight allowances")
            keep = [e for e in have if e in want]
            if keep != have:
                setattr(self.out.preflight, key, keep)
                self.tightened(("preflight", key), f"{len(have) - len(keep)} entr(y/ies) removed")
        for key in sorted(set(self.local.data.get("preflight") or {}) - {"allow", "assume_roles",
                                                                          "kube_exec_commands", "backends"}):
            self.ignored(("preflight", key), "only the org policy sets this")


def _person(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def tighten(base: Policy, file: str | Path) -> Policy:
    """``base`` with the restrictions of one more policy file added (and its relaxations ignored, noted)."""
    text = read_policy_text(file)
    policy, node, data = parse_policy_node(text, str(file))
    return _Merge(base, _Local(str(file), policy, data, node)).run()


def effective_policy(org: Path | None, cwd: Path) -> Policy:
    """The org policy (None: the outermost file above ``cwd``) tightened by every other one above ``cwd``."""
    found = policy_files_above(cwd)
    if org is not None:
        base = load_policy_file(org)
        org_real = org.resolve()
        local = [f for f in found if f.resolve() != org_real]
    elif found:
        base, local = load_policy_file(found[0]), found[1:]
    else:
        return Policy()
    for f in local:
        base = tighten(base, f)
    return base

