"""The configured model as a :class:`~infraleash.paperwork.factcheck.ProseWriter` for the paperwork commands.

Paperwork never imports the agent: this surface resolves the model the usual way
(``--model``, then INFRALEASH_MODEL_PROVIDER/INFRALEASH_MODEL/INFRALEASH_BASE_URL, then
infraleash.yaml's ``model:``) and hands paperwork an object with one method.  With no model
configured there is no writer and every command prints its deterministic draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from infraleash.agent.messages import Message
from infraleash.agent.models.base import Model
from infraleash.agent.models.config import ModelNotConfigured, build_model, resolve_model_config
from infraleash.policy import ModelPolicy


@dataclass
class ModelWriter:
    model: Model
    source: str

    def write(self, instructions: str, facts: str) -> str:
        response = self.model.complete([Message(role="system", content=instructions),
                                        Message(role="user", content=f"Facts:\n\n{facts}")], [])
        return response.text or ""


def configured_writer(policy: ModelPolicy | None, option: str | None) -> ModelWriter | None:
    """The configured model, or None when none is (a half-configured one is a usage error, exit 2)."""
    try:
        config = resolve_model_config(policy, option=option)
    except ModelNotConfigured:
        return None
    return ModelWriter(build_model(config), config.describe())
