"""Maskers the executor runs over a command's stdout when the decision names one (``Decision.output_filter``).

    text = apply_filter("kubeconfig", stdout)   # `kubectl config view` output, credentials masked

``kubeconfig``: ``kubectl config view`` without ``--raw`` already hides
certificate data and static tokens, but still prints an auth-provider's
``refresh-token``, ``client-secret``, ``id-token`` and ``access-token``, an exec
plugin's ``env`` values and ``args``, and a basic-auth password.  The masker
parses the YAML or JSON kubectl printed and replaces every such value with
``REDACTED``; anything it cannot parse is withheld whole (fail closed).

The Terraform masker (``output``, ``show -json``) lives in
``terraform/sensitive_output.py`` and is applied from ``gate/output_masking.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from infraleash.gate.kubectl_argv import classify_kubectl, is_kubectl

REDACTED = "REDACTED"
WITHHELD = "[infraleash: kubeconfig output withheld: it could not be parsed, so its credentials cannot be masked]\n"
# user fields that are credentials whatever kubectl already did with them
_USER_SECRETS = ("token", "password", "client-key-data", "client-certificate-data")
# auth-provider config keys that are not secrets (everything else under config is masked)
_AUTH_PROVIDER_PUBLIC = {"client-id", "idp-issuer-url", "idp-certificate-authority", "cmd-path", "scopes",
                         "extra-scopes", "expiry-key", "token-key", "cmd-args"}


def mask_kubeconfig(text: str) -> str:
    """``text`` (a kubeconfig as YAML or JSON) with every credential value replaced by ``REDACTED``."""
    stripped = text.strip()
    if not stripped:
        return text
    as_json = stripped.startswith("{")
    try:
        doc = json.loads(stripped) if as_json else yaml.safe_load(stripped)
    except (ValueError, yaml.YAMLError):
        return WITHHELD
    if not isinstance(doc, dict):
        return WITHHELD
    for entry in doc.get("users") or []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if isinstance(user, dict):
            _mask_user(user)
    if as_json:
        return json.dumps(doc, indent=4) + "\n"
    return yaml.safe_dump(doc, default_flow_style=False, sort_keys=False)


def _mask_user(user: dict[str, Any]) -> None:
    for key in _USER_SECRETS:
        if user.get(key):
            user[key] = REDACTED
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and isinstance(provider.get("config"), dict):
        config = provider["config"]
        for key in config:
            if key not in _AUTH_PROVIDER_PUBLIC:
                config[key] = REDACTED
    plugin = user.get("exec")
    if isinstance(plugin, dict):
        for var in plugin.get("env") or []:
            if isinstance(var, dict) and "value" in var:
                var["value"] = REDACTED
        if isinstance(plugin.get("args"), list):
            plugin["args"] = [REDACTED for _ in plugin["args"]]


FILTERS: dict[str, Callable[[str], str]] = {"kubeconfig": mask_kubeconfig}


def filter_for(argv: list[str]) -> str | None:
    """The output filter the gate names for ``argv`` (what ``Decision.output_filter`` says), from the argv alone.

    The executor calls it on the argv it runs (an approved request's too), so no surface can skip it.
    """
    if argv and is_kubectl(argv[0]):
        return classify_kubectl(argv, {}).output_filter
    return None


def apply_filter(name: str | None, text: str) -> str:
    """``text`` through the filter ``name`` (None: unchanged); an unknown name withholds everything."""
    if name is None:
        return text
    masker = FILTERS.get(name)
    if masker is None:
        return f"[infraleash: output withheld: unknown output filter {name!r}]\n"
    return masker(text)
