"""Static pre-flight: refuse a configuration that would execute code or reach outside, before it runs.

Stub interface (filled in by the pre-flight work): the executor calls :func:`preflight` for every
command the gate allowed (and for every approved command before it runs), after the decision and
before the sandbox starts.  A non-empty result refuses the command with those rules.
"""

from __future__ import annotations

from infraleash.gate.model import RuleHit
from infraleash.policy import Policy


def preflight(argv: list[str], cwd: str, policy: Policy, *, environment: str | None = None,
              cli_config: str | None = None, plugin_mirrors: list[str] | None = None,
              kubeconfig: str | None = None) -> list[RuleHit]:
    """The rules that refuse running ``argv`` in ``cwd`` (empty: nothing found)."""
    return []
