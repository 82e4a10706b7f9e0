"""The enforcement point: every command and tool call an agent makes is decided here.

    decision = decide(Action(argv=["terraform", "apply", "plan.tfplan"]), policy, GateContext())
    decision.verdict   # allow / deny / needs_approval, with rule ids and reasons in decision.rules
"""

from infraleash.gate.decision import decide
from infraleash.gate.model import Action, Decision, Effect, GateContext, GateVerdict, RuleHit

__all__ = ["Action", "Decision", "Effect", "GateContext", "GateVerdict", "RuleHit", "decide"]
