"""What the policy is when there is none, and where policy files are found, without the policy model.

``infraleash check`` on a tree with no ``infraleash.yaml`` above it runs with the default policy; loading
:mod:`infraleash.policy` for that (pydantic and PyYAML) would cost more than the whole one-file check may
take (BENCHMARKS.md, One-file check).  So the check path asks :func:`policy_files_above` first and, with no
file, passes ``policy=None``, which every check reads as these defaults.  :mod:`infraleash.policy` takes its
field defaults from here, so there is one place for each (``tests/test_policy_defaults.py`` compares them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

DEFAULT_POLICY_FILE = "infraleash.yaml"

FAILING_SEVERITY: Final = "high"  # checks.failing_severity
MODULE_SOURCES = ("./", "../")  # modules.allowed_sources: local paths are allowed by default
REQUIRE_MODULE_VERSION_PIN = True  # modules.require_version_pin


def find_policy_file(start: Path) -> Path | None:
    """The nearest ``infraleash.yaml`` in ``start`` or above it."""
    found = policy_files_above(start)
    return found[-1] if found else None


def policy_files_above(start: Path) -> list[Path]:
    """Every ``infraleash.yaml`` in ``start`` and its parents, outermost first."""
    found = [d / DEFAULT_POLICY_FILE for d in [start.resolve(), *start.resolve().parents]
             if (d / DEFAULT_POLICY_FILE).is_file()]
    return found[::-1]
