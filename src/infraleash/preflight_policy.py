"""The ``preflight:`` section of ``infraleash.yaml``: what the gate's static pre-flight may let through.

Kept beside ``policy.py`` (same layer, no infraleash imports) so the policy can hold it and the gate
can read it; the rules themselves are in :mod:`infraleash.gate.preflight_rules`.

.. code-block:: yaml

    preflight:
      allow:                         # a rule let through where it matches, with a reason
        - rule: PRE-PROVIDER-FILE
          environments: [staging]    # empty: every environment
          match: "provider.aws.profile"   # glob on the refusal's subject (printed with every refusal)
          reason: staging plans use the runner's named profile
      assume_roles:                  # role ARNs (globs) an aws provider's assume_role may name
        - "arn:aws:iam::123456789012:role/plan-readonly"
      kube_exec_commands: [aws]      # kubeconfig exec / auth-provider commands allowed (exact strings)
      backends:                      # the backends (and terraform_remote_state sources) per environment
        - environments: [production]
          type: s3
          config: {bucket: acme-tfstate-prod, key: "prod/*", region: eu-west-1}

A backend block matches an entry when the type is the same and every argument it sets is listed in
``config`` with a matching value (string values are globs).  With no entry, only the default local
backend (or ``backend "local"`` inside the workspace) is accepted.

Only the org policy may add entries here: a policy file found in the working tree can tighten but
never allow (``policy.py`` merges the files).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PreflightAllow(_Strict):
    rule: str = Field(description="a PRE-* rule id")
    environments: list[str] = Field(default_factory=list, description="limit to these environments (empty: all)")
    match: str = Field(default="*", description="glob on the refusal's subject, e.g. provider.aws.profile")
    reason: str = Field(min_length=1)

    @field_validator("rule")
    @classmethod
    def _pre_rule(cls, v: str) -> str:
        if not v.startswith("PRE-"):
            raise ValueError("a preflight allow names a PRE-* rule (other rules go in overrides)")
        return v

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a preflight allow needs a reason")
        return v

    def applies(self, rule: str, subject: str, environment: str | None) -> bool:
        if rule != self.rule:
            return False
        if self.environments and (environment is None or environment not in self.environments):
            return False
        return fnmatch.fnmatchcase(subject, self.match)


class BackendSpec(_Strict):
    environments: list[str] = Field(default_factory=list, description="the environments it serves (empty: all)")
    type: str
    config: dict[str, Any] = Field(default_factory=dict, description="argument -> value (globs for strings)")

    def mismatch(self, type_: str, config: dict[str, Any]) -> str | None:
        """Why a backend ``type_`` with ``config`` is not this one (None: it is)."""
        if type_ != self.type:
            return f"type {type_} is not {self.type}"
        for key, value in config.items():
            if value is None:
                continue
            if key not in self.config:
                return f"argument {key} is not in the policy's {self.type} backend"
            want = self.config[key]
            if isinstance(want, str) and isinstance(value, str):
                if not fnmatch.fnmatchcase(value, want):
                    return f"{key} = {value!r} does not match {want!r}"
            elif value != want:
                return f"{key} = {value!r} is not {want!r}"
        return None


class PreflightPolicy(_Strict):
    allow: list[PreflightAllow] = Field(default_factory=list)
    assume_roles: list[str] = Field(default_factory=list, description="role ARN globs assume_role may name")
    kube_exec_commands: list[str] = Field(default_factory=list,
                                          description="kubeconfig exec/auth-provider commands allowed")
    backends: list[BackendSpec] = Field(default_factory=list)

    def backends_for(self, environment: str | None) -> list[BackendSpec]:
        return [b for b in self.backends if not b.environments or (environment in b.environments)]

    def allowed_by(self, rule: str, subject: str, environment: str | None) -> PreflightAllow | None:
        return next((a for a in self.allow if a.applies(rule, subject, environment)), None)
