"""Model prose, fact-checked: a sentence survives only when every entity it names is in the facts.

    facts = FactSet.from_texts(draft_markdown, json.dumps(module_facts))
    checked = fact_check(model_text, facts)
    checked.kept          # sentences whose every address, number, time, host, service, name is known
    checked.unverified    # [Unverified(sentence, missing=["aws_s3_bucket.backups", "5"])]
    checked.markdown()    # the kept prose, marked as model prose, then the dropped sentences listed

What counts as a named entity (:func:`entities`):

* resource addresses (``module.db.aws_db_instance.main``, ``aws_s3_bucket.logs["a"]``) and
  resource types (``aws_db_instance``);
* IPv4 addresses, host names (``db-1.internal``, ``api.example.com``);
* times (``02:15``, ``02:15:07``, ``2026-12-03T02:15:07Z``) and dates;
* numbers (``3``, ``12.5``, ``40%``), compared as numbers (``5.0`` is ``5``);
* identifiers: anything in backticks, names with an underscore (``instance_class``) and
  lower-case hyphenated names (``checkout-api``), except a short list of English compounds.

Over-dropping is the failure mode chosen on purpose: a true sentence that names something
the facts do not is dropped and listed, never kept.  Nothing here calls a model: a surface
passes a :class:`ProseWriter` (one method) or the text it got.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

_ADDRESS = re.compile(r"(?:module\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?\.)*(?:data\.)?[a-z][a-z0-9]*_[a-z0-9_]+"
                      r"(?:\.[A-Za-z_][A-Za-z0-9_-]*(?:\[[^\]]*\])?)?")
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b")
_HOST = re.compile(r"\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
                   r"\.[a-z][a-z0-9-]*[a-z0-9]\b")  # the last label starts with a letter, 2+ chars (not 5.0, e.g.)
_CODE = re.compile(r"`([^`\n]+)`")
_HYPHENATED = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])%?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z0-9`*\"(\[])")

ENGLISH_COMPOUNDS = frozenset(["read-only", "in-place", "follow-up", "up-to-date", "end-to-end", "real-time", "long-running", "well-known", "built-in", "high-availability", "multi-az", "cross-region", "open-source", "day-to-day", "one-time", "per-request", "rate-limited", "non-zero", "zero-downtime", "re-create", "re-run", "so-called", "short-lived", "long-lived", "back-end", "front-end", "self-hosted", "user-facing", "customer-facing", "point-in-time", "write-ahead", "low-risk", "high-risk"])


def _number(text: str) -> str:
    raw = text.rstrip("%").replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return text
    canon = str(int(value)) if value.is_integer() else repr(value)
    return canon + ("%" if text.endswith("%") else "")


def entities(text: str) -> set[str]:
    """The named entities and numbers of ``text``, normalised (see the module docstring)."""
    found: set[str] = set()
    rest = text

    def take(pattern: re.Pattern[str], group: int = 0, norm: object = None) -> None:
        nonlocal rest
        for m in pattern.finditer(rest):
            value = m.group(group)
            found.add(norm(value) if callable(norm) else value)
        rest = pattern.sub(" ", rest)

    for m in _CODE.finditer(rest):  # a code span is one entity, and its parts are read as well
        found.add(m.group(1).strip())
    rest = _CODE.sub(lambda m: " " + m.group(1) + " ", rest)
    take(_ISO)
    take(_IP)
    take(_TIME)
    take(_ADDRESS)
    take(_HOST)
    for m in _HYPHENATED.finditer(rest):
        if m.group(0) not in ENGLISH_COMPOUNDS and not m.group(0).replace("-", "").isdigit():
            found.add(m.group(0))
    rest = _HYPHENATED.sub(" ", rest)
    take(_NUMBER, norm=_number)
    return found


@dataclass(frozen=True)
class FactSet:
    """Every entity the facts name (built with the same reader as the prose, so both sides agree)."""

    known: frozenset[str]

    @classmethod
    def from_texts(cls, *texts: str, extra: Iterable[str] = ()) -> FactSet:
        known: set[str] = set(extra)
        for t in texts:
            known |= entities(t)
        # an address also vouches for its type and its parts (aws_db_instance.main -> aws_db_instance, main)
        for k in list(known):
            if "." in k and _ADDRESS.fullmatch(k):
                known |= set(re.split(r"[.\[\]\"]+", k)) - {""}
        return cls(frozenset(known))

    def missing(self, sentence: str) -> list[str]:
        return sorted(e for e in entities(sentence) if e not in self.known)


@dataclass(frozen=True)
class Unverified:
    sentence: str
    missing: list[str]


@dataclass
class Checked:
    kept: list[str] = field(default_factory=list)
    unverified: list[Unverified] = field(default_factory=list)
    source: str = "model"  # which model wrote it (ModelConfig.describe())

    @property
    def text(self) -> str:
        return " ".join(self.kept)

    def markdown(self, title: str) -> str:
        """The kept prose under ``title``, said to be model prose, then what was dropped and why."""
        lines = [f"### {title}", "",
                 f"_Written by a model ({self.source}) and fact-checked: {len(self.kept)} sentence(s) kept, "
                 f"{len(self.unverified)} dropped because they name something the facts do not._", ""]
        lines.append(self.text or "_(nothing the facts support)_")
        if self.unverified:
            lines += ["", "Unverified (dropped):"]
            lines += [f"- {u.sentence} (not in the facts: {', '.join(u.missing)})" for u in self.unverified]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "kept": self.kept,
                "unverified": [{"sentence": u.sentence, "missing": u.missing} for u in self.unverified]}


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*] )", text.strip()):
        flat = " ".join(paragraph.split()).lstrip("-* ").strip()
        out += [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]
    return out


def fact_check(prose: str, facts: FactSet, *, source: str = "model") -> Checked:
    """Keep each sentence of ``prose`` whose every entity is in ``facts``; list the others as unverified."""
    checked = Checked(source=source)
    for s in sentences(prose):
        missing = facts.missing(s)
        if missing:
            checked.unverified.append(Unverified(s, missing))
        else:
            checked.kept.append(s)
    return checked


class ProseWriter(Protocol):
    """Whatever writes prose from facts (the CLI wraps a configured model in one)."""

    source: str

    def write(self, instructions: str, facts: str) -> str: ...


INSTRUCTIONS = ("Write plain prose only from the facts below. Name resources, hosts, services, numbers and times "
                "exactly as the facts write them, in backticks for names; do not add any you cannot see in "
                "the facts. Every sentence that names something absent from the facts will be deleted.")


def model_section(writer: ProseWriter | None, task: str, facts_text: str, facts: FactSet,
                  title: str) -> tuple[str, Checked | None]:
    """Ask ``writer`` for ``task`` over ``facts_text`` and fact-check it: (markdown, result); ("", None) without one."""
    if writer is None:
        return "", None
    prose = writer.write(f"{INSTRUCTIONS}\n\nTask: {task}", facts_text)
    checked = fact_check(prose, facts, source=writer.source)
    return checked.markdown(title), checked
