"""Incident mode: ``infraleash incident --severity N "..."``.

At sev1/sev2 the agent may only read, analyze and draft: the toolset offers
only tools that declare the read effect plus ``draft_incident_report`` (which
writes into the run directory, never the workspace), and the gate context
carries the severity so the gate refuses anything else (INCIDENT-SEV12) even
if a tool slipped through.  Every action is for a human: the draft lists them.
At sev3 and below the policy decides (``incidents.sev3_and_below_trust_level``,
never above the environment's trust).

The severity and the gating are in every output: :meth:`IncidentMode.header`
lines for humans and :meth:`IncidentMode.as_json` in the trajectory and JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.function_tools import function_tool
from infraleash.agent.guarded import AgentTool
from infraleash.errors import UsageError
from infraleash.gate.model import Effect
from infraleash.policy import Policy
from infraleash.tools import tool

INCIDENT_FILE = "incident.md"


@dataclass(frozen=True)
class IncidentMode:
    severity: int

    def __post_init__(self) -> None:
        if not 1 <= self.severity <= 5:
            raise UsageError(f"--severity {self.severity}: expected 1 (worst) to 5")

    @property
    def read_only(self) -> bool:
        return self.severity <= 2

    def gating(self, policy: Policy) -> str:
        if self.read_only:
            return ("read-and-draft only: the agent reads, analyzes and drafts; every action is for a human "
                    "(toolset: read tools + draft; gate: INCIDENT-SEV12)")
        trust = policy.incidents.sev3_and_below_trust_level
        return f"policy decides: trust level {trust.value if trust else 'of the environment'} (never above it)"

    def header(self, policy: Policy) -> list[str]:
        return [f"INCIDENT sev{self.severity}", f"gating: {self.gating(policy)}"]

    def as_json(self, policy: Policy) -> dict[str, Any]:
        return {"severity": self.severity, "read_only": self.read_only, "gating": self.gating(policy)}

    def system_prompt(self, policy: Policy) -> str:
        rules = ("You may only read, analyze and draft. Do not attempt any change: every action is for a human, "
                 "and the gate refuses them anyway. " if self.read_only else
                 "The organisation's policy decides what you may do; prefer reading and analysis. ")
        return (f"\n\nINCIDENT MODE, severity {self.severity}. {rules}Work fast and from evidence: read logs "
                "(the logs tool), cluster state (kubectl get/describe/logs/events) and recent changes. When you "
                "know enough, call draft_incident_report with a timeline, ranked hypotheses with their evidence, "
                "the next checks, and the actions you recommend to the humans, then give a short final answer.")

    def draft_tool(self, run_dir: Path, policy: Policy) -> AgentTool:
        header = self.header(policy)

        @tool(effect=Effect.READ)

        def draft_incident_report(summary: str, timeline: list[str], hypotheses: list[str], next_checks: list[str],
                                  actions_for_humans: list[str]) -> str:
            """Draft the incident report (saved in the run directory for the humans handling the incident).

            Args:
                summary: two or three sentences: what is broken, since when, impact
                timeline: events in time order, each "TIME: what happened (source)"
                hypotheses: likely causes, most likely first, each with its evidence
                next_checks: what to look at next to confirm or rule out each hypothesis
                actions_for_humans: recommended actions, for a human to decide and carry out
            """
            if not summary.strip():
                raise ToolMistake("draft_incident_report: summary is empty")
            sections = [("Timeline", timeline), ("Hypotheses", hypotheses), ("Next checks", next_checks),
                        ("Actions for humans (the agent does not act)", actions_for_humans)]
            text = "\n".join(f"> {h}" for h in header) + f"\n\n# Incident draft\n\n{summary.strip()}\n"
            for title, items in sections:
                text += f"\n## {title}\n\n" + ("\n".join(f"- {i}" for i in items) or "- (none)") + "\n"
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / INCIDENT_FILE).write_text(text, encoding="utf-8")
            (run_dir / "incident.json").write_text(json.dumps({
                "incident": self.as_json(policy), "summary": summary, "timeline": timeline,
                "hypotheses": hypotheses, "next_checks": next_checks, "actions_for_humans": actions_for_humans},
                indent=1), encoding="utf-8")
            return f"draft saved to {run_dir / INCIDENT_FILE} ({' | '.join(header)})"

        # declared READ: it writes only into the run directory, never the workspace or infrastructure
        return function_tool(draft_incident_report)
