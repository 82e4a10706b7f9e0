"""infraleash: hard boundaries, validation and plan-risk review for LLM agents on infrastructure."""

from infraleash.findings import Finding, Kind, Severity, Verdict

__all__ = ["Finding", "Kind", "Severity", "Verdict", "__version__"]

__version__ = "0.1.0"
