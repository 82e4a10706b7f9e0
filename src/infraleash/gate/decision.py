"""The one decision function every tool call and every command passes through.

``decide(action, policy, context)`` runs no subprocess and reads no clock; the
only filesystem access is resolving the symlinks of the paths an argv names
(``gate/paths.py``).  It runs in tens of microseconds (``bench/gate_decision.py``).

1. **Classify.**  A command (``action.argv``) goes through
   :func:`~infraleash.gate.commands.classify_command` with a
   :class:`~infraleash.gate.paths.PathJudge` built from the context's
   ``workspace_dir`` (None: the action's cwd) and ``scratch_dirs`` and the
   policy's own files (audit log, head file, approvals store, the policy): paths
   outside them, or onto a file the gate or Terraform owns, are floors
   (TF-PATH-OUTSIDE, TF-PATH-OWNED, K8S-PATH-OUTSIDE, K8S-PATH-OWNED); a tool call without argv
   is decided on its declared effect (TOOL-CALL; none declared: TOOL-NO-EFFECT).
   A tool that runs a command passes the argv and is decided on the command.
2. **Environment.**  Candidates: the workspace (TF_WORKSPACE, else the
   context's), the target of ``workspace select|new|delete``, the directory
   (cwd joined with ``-chdir``, made relative to the policy file's directory),
   the kube context (``--context``, else the context's, which is then pinned
   into the effective argv as ``--context=C`` so kubectl runs where it was
   decided, not on the kubeconfig's current-context).  Each is matched with
   ``policy.environment_for``; when they disagree the **strictest** environment
   (lowest trust) wins: a prod directory with a staging workspace is prod.
3. **Floors.**  A hard rule (``floor`` in ``rules.py``) denies at every trust
   level and makes the action not approvable.
4. **Incidents.**  Sev1/sev2: READ, PLAN and local WRITE (drafting files, fmt,
   init) only; everything else is INCIDENT-SEV12, which no override loosens.
   Sev3+: the trust level is ``incidents.sev3_and_below_trust_level`` but never
   above the environment's (an incident does not raise trust).
5. **Trust.**  observe: READ.  plan: READ, PLAN, local WRITE.
   act-with-approval: any WRITE; DESTRUCTIVE -> needs_approval.  Below
   act-with-approval DESTRUCTIVE is TRUST-LEVEL deny.  Commands listed in
   ``commands.allow`` skip the trust check (the team listed them).
6. **Overrides.**  Each ``overrides`` entry whose rule fired (and whose
   ``environments`` include this one, when given) sets the verdict; when several
   match, the strictest wins.  An override may tighten anything but never loosen
   a floor rule, TRUST-LEVEL itself, or a sev1/sev2 denial (POLICY-OVERRIDE-IGNORED).

``Decision.rules`` lists the deciding rule first, then the other rules that
fired, then notes (env folded, dry run ...).  ``Decision.approvable`` is False
when a floor rule or a sev1/sev2 incident denied it: no human approval can
make it run; change the command instead.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable

from infraleash.gate.commands import classify_command
from infraleash.gate.kubectl_argv import is_kubectl
from infraleash.gate.model import Action, Decision, Effect, GateContext, GateVerdict, RuleHit
from infraleash.gate.paths import PathJudge
from infraleash.gate.rules import Classification, hit, is_floor
from infraleash.policy import Environment, Policy, TrustLevel

_TRUST_RANK = {t: i for i, t in enumerate(TrustLevel)}
_STRICTNESS = {GateVerdict.ALLOW: 0, GateVerdict.NEEDS_APPROVAL: 1, GateVerdict.DENY: 2}
_ALLOWS = {
    TrustLevel.OBSERVE: "reads only",
    TrustLevel.PLAN: "reads, plans and local writes",
    TrustLevel.ACT_WITH_APPROVAL: "writes, and destructive actions with a named human's approval",
}


def decide(action: Action, policy: Policy, context: GateContext | None = None) -> Decision:
    """Allow, deny or hold ``action`` under ``policy``; see the module docstring for the order."""
    ctx = context or GateContext()
    if action.argv or action.tool is None:
        judge = PathJudge.for_action(action.cwd, ctx.workspace_dir, ctx.scratch_dirs, policy)
        c = classify_command(action, policy.commands.allow, context_known=ctx.kube_context is not None,
                             paths=judge)
    else:
        c = _classify_tool(action)
    _pin_kube_context(c, ctx)
    env = _environment(policy, c, ctx)
    env_name = env.name if env else None
    trust = policy.trust_for(env)
    severity = ctx.incident_severity
    if severity is not None and severity >= 3 and policy.incidents.sev3_and_below_trust_level:
        trust = min(trust, policy.incidents.sev3_and_below_trust_level, key=_TRUST_RANK.__getitem__)

    deciding: list[RuleHit] = []
    locked = False  # a floor or a sev1/sev2 denial: overrides cannot loosen it
    floors = c.floor_hits
    if floors:
        verdict, locked, deciding = GateVerdict.DENY, True, floors
    elif severity in (1, 2) and not _incident_allows(c):
        verdict, locked = GateVerdict.DENY, True
        deciding = [hit("INCIDENT-SEV12", severity=severity)]
    elif c.effect is Effect.DESTRUCTIVE and trust is TrustLevel.ACT_WITH_APPROVAL:
        verdict = GateVerdict.NEEDS_APPROVAL
    elif _trust_allows(trust, c) or _allow_listed(c):
        verdict = GateVerdict.ALLOW
    else:
        verdict = GateVerdict.DENY
        deciding = [hit("TRUST-LEVEL", effect=_effect_name(c), trust=trust.value,
                        environment=f"environment {env_name}" if env_name else "the default environment",
                        allows=_ALLOWS[trust])]

    rules = [*deciding, *(h for h in c.hits if h not in deciding), *c.notes]
    verdict, applied, ignored = _apply_overrides(policy, rules, verdict, locked, env_name)
    rules = [*applied, *rules, *ignored]
    approvable = not floors and not (locked and severity in (1, 2))
    return Decision(
        verdict=verdict, effect=c.effect, rules=rules, argv=c.argv, env=c.env, stripped_env=c.stripped_env,
        plan_file=c.plan_file, extra_env=c.extra_env, output_filter=c.output_filter, approvable=approvable,
        environment=env_name, trust_level=trust.value,
        summary=_summary(action, c, verdict, env_name, trust),
    )


def _classify_tool(action: Action) -> Classification:
    tool = action.tool or "?"
    if action.effect is None:
        return Classification(effect=Effect.DESTRUCTIVE, hits=[hit("TOOL-NO-EFFECT", tool=tool)],
                              env=dict(action.env), summary=f"tool {tool}")
    return Classification(effect=action.effect, hits=[hit("TOOL-CALL", tool=tool, effect=action.effect.value)],
                          env=dict(action.env), summary=f"tool {tool}", directory=action.cwd)


def _pin_kube_context(c: Classification, ctx: GateContext) -> None:
    """kubectl decided for the context's kube context runs on it: ``--context=C`` goes into the argv.

    Without it the decision would be for ``ctx.kube_context`` while kubectl talks to
    whatever the kubeconfig's current-context is.
    """
    if ctx.kube_context and c.kube_context is None and c.argv and is_kubectl(c.argv[0]) and not c.floor_hits:
        c.argv = [c.argv[0], f"--context={ctx.kube_context}", *c.argv[1:]]
        c.kube_context = ctx.kube_context


def _environment(policy: Policy, c: Classification, ctx: GateContext) -> Environment | None:
    if not policy.environments:
        return None
    match = _matcher(policy)
    found: list[Environment | None] = []
    for workspace in (c.workspace or ctx.workspace, c.workspace_target):
        if workspace:
            found.append(match("workspace", workspace))
    if c.directory:
        found.append(match("directory", c.directory))
    kube_context = c.kube_context or ctx.kube_context
    if kube_context:
        found.append(match("kube_context", kube_context))
    matched = [e for e in found if e is not None]
    if not matched:
        return None
    return min(matched, key=lambda e: (_TRUST_RANK[policy.trust_for(e)], policy.environments.index(e)))


_MatchFn = Callable[[str, str], "Environment | None"]
_MATCHERS: dict[int, tuple[Policy, int, _MatchFn]] = {}


def _matcher(policy: Policy) -> _MatchFn:
    """``policy.environment_for`` with its answers remembered (a Policy is not changed once in use).

    Matching globs against every parent directory is most of a decision's cost;
    the same workspaces, directories and contexts come back all the time.
    """
    cached = _MATCHERS.get(id(policy))
    if cached is not None and cached[0] is policy and cached[1] == id(policy.environments):
        return cached[2]
    answers: dict[tuple[str, str], Environment | None] = {}

    def match(kind: str, value: str) -> Environment | None:
        key = (kind, value)
        if key not in answers:
            if len(answers) > 4096:
                answers.clear()
            if kind == "directory":
                answers[key] = policy.environment_for(directory=_relative_to_policy(policy, value))
            else:
                answers[key] = policy.environment_for(**{kind: value})
        return answers[key]

    if len(_MATCHERS) > 16:
        _MATCHERS.clear()
    _MATCHERS[id(policy)] = (policy, id(policy.environments), match)
    return match


def _relative_to_policy(policy: Policy, directory: str) -> str:
    """Directory patterns in the policy are relative to the policy file's directory.

    Relative paths (the policy's source, the action's cwd) are taken from the
    process's working directory, as the executor will run them.
    """
    if policy.source:
        base = os.path.dirname(os.path.abspath(policy.source))
        absolute = os.path.abspath(directory)
        if absolute == base or absolute.startswith(base.rstrip("/") + "/"):
            return os.path.relpath(absolute, base)
    return os.path.normpath(directory)


def _trust_allows(trust: TrustLevel, c: Classification) -> bool:
    if c.effect is Effect.READ:
        return True
    if c.effect is Effect.PLAN:
        return trust is not TrustLevel.OBSERVE
    if c.effect is Effect.WRITE:
        return trust is TrustLevel.ACT_WITH_APPROVAL or (trust is TrustLevel.PLAN and c.local)
    return False


def _incident_allows(c: Classification) -> bool:
    return c.effect in (Effect.READ, Effect.PLAN) or (c.effect is Effect.WRITE and c.local)


def _allow_listed(c: Classification) -> bool:
    return any(n.id == "CMD-ALLOWED" for n in c.notes)


def _effect_name(c: Classification) -> str:
    if c.effect is Effect.WRITE and not c.local:
        return "write (beyond the working tree)"
    return c.effect.value


def _apply_overrides(policy: Policy, rules: list[RuleHit], verdict: GateVerdict, locked: bool,
                     env_name: str | None) -> tuple[GateVerdict, list[RuleHit], list[RuleHit]]:
    """(verdict, hits of the overrides applied, strictest first; hits of those ignored)."""
    if not policy.overrides:
        return verdict, [], []
    fired = {r.id for r in rules}
    applied: list[tuple[GateVerdict, RuleHit]] = []
    ignored: list[RuleHit] = []
    for o in policy.overrides:
        if o.rule not in fired or (o.environments and env_name not in o.environments):
            continue
        wanted = GateVerdict(o.decision)
        loosens = _STRICTNESS[wanted] < _STRICTNESS[verdict]
        if loosens and (locked or is_floor(o.rule)):
            why = f"{o.rule} is a hard rule" if is_floor(o.rule) else "a hard rule or incident decided it"
            ignored.append(hit("POLICY-OVERRIDE-IGNORED", rule=o.rule, decision=o.decision, why=why))
            continue
        applied.append((wanted, hit("POLICY-OVERRIDE", rule=o.rule, decision=o.decision, reason=o.reason)))
    if not applied:
        return verdict, [], ignored
    applied.sort(key=lambda a: -_STRICTNESS[a[0]])
    return applied[0][0], [h for _, h in applied], ignored


def _summary(action: Action, c: Classification, verdict: GateVerdict, env_name: str | None,
             trust: TrustLevel) -> str:
    what = shlex.join(c.argv) if c.argv else c.summary
    if action.tool and c.argv:
        what = f"tool {action.tool}: {what}"
    where = f"environment {env_name}" if env_name else "default environment"
    return f"{what}: {verdict.value} ({c.effect.value}; {where}, trust {trust.value})"

