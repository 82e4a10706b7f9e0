"""infraleash: hard boundaries, validation and plan-risk review for LLM agents on infrastructure.

The stable Python API (documented in :mod:`infraleash.api`)::

    from infraleash import check, review, decide
    check("infra/").failing("high")                       # static checks -> CheckReport
    review("infra/", plan="plan.json").verdict            # one verdict   -> ReviewReport
    decide(["terraform", "apply", "-auto-approve"])       # the gate      -> Decision

``check``, ``decide`` and the report types are loaded on first use, so ``import infraleash``
(which every module does, for ``__version__``) stays cheap and lower layers never pull in the API.
``review`` shares its name with the :mod:`infraleash.review` package, which Python binds on the package
once it is imported: that package is callable and calling it is :func:`infraleash.api.review`.
"""

from __future__ import annotations

import importlib
from typing import Any

from infraleash.findings import Finding, Kind, Severity, Verdict

__all__ = ["CheckReport", "Decision", "Finding", "Kind", "ReviewReport", "Severity", "Verdict", "__version__",
           "check", "decide", "review"]

__version__ = "0.1.0"

_API = {"check", "review", "decide", "CheckReport", "ReviewReport", "Decision"}


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module("infraleash.api"), name)
    raise AttributeError(f"module 'infraleash' has no attribute {name!r}")
