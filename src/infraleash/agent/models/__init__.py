"""Model adapters behind one small interface (:class:`~infraleash.agent.models.base.Model`).

The vendor SDKs are imported only by the adapter that needs them, so the rest of
infraleash works without the ``agent`` extra installed.
"""

from infraleash.agent.models.base import Model, ModelError, estimate_cost
from infraleash.agent.models.scripted import ScriptedModel, Turn, call

__all__ = ["Model", "ModelError", "ScriptedModel", "Turn", "call", "estimate_cost"]
