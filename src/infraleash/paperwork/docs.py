"""terraform-docs' default ``markdown table`` output, from :class:`ModuleFacts`.

The format follows terraform-docs' templates (``format/templates/markdown_table_*.tmpl``)
with its default settings: anchors on, HTML on, escaping on, sorted by name, Type,
Default and Required columns, sections Header (main.tf's leading ``/** */`` comment),
Requirements, Providers, Modules, Resources, Inputs, Outputs, "No inputs." and friends
for empty ones.  Values are sanitized the way its ``sanitizeMarkdownTbl`` does: pipes
escaped outside code spans, underscores escaped outside code spans and URLs, line breaks
as ``<br/>``, multi-line types and defaults as ``<pre>`` blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from infraleash.paperwork.module_facts import NO_DEFAULT, Input, ModuleFacts, Resource

REGISTRY = "https://registry.terraform.io/providers"
_FENCE = "```"
_KEEP = "\x00KEEP\x00"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>`\"']+")
_SOFT_BREAK = re.compile(r"(\S*)(\r?\n)([ \t\n\f\r]*)(\w+)", re.ASCII)


def render(facts: ModuleFacts) -> str:
    """The markdown terraform-docs prints for the module (no trailing newline)."""
    sections = [
        _header(facts.header) if facts.header else None,
        _requirements(facts),
        _providers(facts),
        _modules(facts),
        _resources(facts),
        _inputs(facts),
        _outputs(facts),
    ]
    return "\n\n".join(s for s in sections if s is not None)


# --- sections ------------------------------------------------------------------------------------------------

def _table(title: str, empty: str, head: str, rule: str, rows: list[str]) -> str:
    if not rows:
        return f"## {title}\n\n{empty}"
    return "\n".join([f"## {title}", "", head, rule, *rows])


def _requirements(facts: ModuleFacts) -> str:
    rows = [f"| {anchor('requirement', r.name)} | {r.version or 'n/a'} |" for r in facts.requirements]
    return _table("Requirements", "No requirements.", "| Name | Version |", "| ---- | ------- |", rows)


def _providers(facts: ModuleFacts) -> str:
    providers = sorted(facts.providers, key=lambda p: (p.name, p.alias))
    rows = [f"| {anchor('provider', p.full_name)} | {p.version or 'n/a'} |" for p in providers]
    return _table("Providers", "No providers.", "| Name | Version |", "| ---- | ------- |", rows)


def _modules(facts: ModuleFacts) -> str:
    rows = [f"| {anchor('module', m.name)} | {m.source} | {m.version or 'n/a'} |"
            for m in sorted(facts.modules, key=lambda m: m.name)]
    return _table("Modules", "No modules.", "| Name | Source | Version |", "| ---- | ------ | ------- |", rows)


def resource_url(r: Resource) -> str:
    """The registry page of a resource type, or "" when the provider is not on the public registry."""
    parts = r.source.split("/")
    if len(parts) == 3:
        if parts[0] != "registry.terraform.io":
            return ""
        parts = parts[1:]
    if len(parts) != 2:
        return ""
    kind = "resources" if r.mode == "resource" else "data-sources"
    short = r.type.split("_", 1)[1] if "_" in r.type else r.type
    return f"{REGISTRY}/{parts[0]}/{parts[1]}/latest/docs/{kind}/{short}"


def _resources(facts: ModuleFacts) -> str:
    ordered = sorted(facts.resources, key=lambda r: (r.mode != "resource", r.spec))
    rows = []
    for r in ordered:
        url = resource_url(r)
        rows.append(f"| {f'[{r.spec}]({url})' if url else r.spec} | {r.mode} |")
    return _table("Resources", "No resources.", "| Name | Type |", "| ---- | ---- |", rows)


def _inputs(facts: ModuleFacts) -> str:
    rows = [f"| {anchor('input', i.name)} | {sanitize_table(i.description)} | {sanitize_table(fenced(i.type_text))}"
            f" | {sanitize_table(default_text(i))} | {'yes' if i.required else 'no'} |"
            for i in sorted(facts.inputs, key=lambda i: i.name)]
    return _table("Inputs", "No inputs.", "| Name | Description | Type | Default | Required |",
                  "| ---- | ----------- | ---- | ------- | :------: |", rows)


def _outputs(facts: ModuleFacts) -> str:
    rows = [f"| {anchor('output', o.name)} | {sanitize_table(o.description)} |"
            for o in sorted(facts.outputs, key=lambda o: o.name)]
    return _table("Outputs", "No outputs.", "| Name | Description |", "| ---- | ----------- |", rows)


def _header(text: str) -> str:
    def normal(seg: str, first: bool, last: bool) -> str:
        return normalize_urls(escape_characters(seg, pipe=False))

    def code(seg: str, first: bool, last: bool) -> str:
        tail = "" if seg.endswith("\n") or not seg.split("\n")[-1].strip() else "\n"
        return f"{_FENCE}{seg}{tail}{_FENCE}"

    return _segments(text, _FENCE, normal, code)


# --- values --------------------------------------------------------------------------------------------------

def value_text(value: Any) -> str:
    """A default value as terraform-docs prints it: JSON, keys sorted, two-space indent for non-empty lists/maps."""
    if isinstance(value, (dict, list)) and value:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def default_text(i: Input) -> str:
    return "n/a" if i.default is NO_DEFAULT else fenced(value_text(i.default))


def fenced(code: str) -> str:
    """terraform-docs' PrintFencedCodeBlock: a code span, or a fenced block when ``code`` spans lines."""
    return f"\n\n{_FENCE}\n{code}\n{_FENCE}\n" if "\n" in code else f"`{code}`"


def anchor(kind: str, name: str) -> str:
    return f'<a name="{kind}_{name}"></a> [{escape_name(name)}](#{escape_name(f"{kind}_{name}")})'


def escape_name(name: str) -> str:
    return name.replace("_", "\\_")


# --- terraform-docs' table sanitizer ---------------------------------------------------------------------------

Segment = Callable[[str, bool, bool], str]


def _segments(s: str, fence: str, normal: Segment, code: Segment) -> str:
    """Apply ``normal`` outside and ``code`` inside ``fence``-delimited segments (empty segments dropped)."""
    in_code = s.startswith(fence)
    parts = s.split(fence)
    out = []
    for i, seg in enumerate(parts):
        if not seg:
            continue
        first = i == 0 or not parts[i - 1].strip()
        last = i == len(parts) - 1 or not parts[i + 1].strip()
        out.append(code(seg, first, last) if in_code else normal(seg, first, last))
        in_code = not in_code
    return "".join(out)


def sanitize_table(s: str) -> str:
    """A cell's text: "n/a" when empty, else escaped, one line, code blocks as ``<pre>``."""
    if not s:
        return "n/a"

    def normal(seg: str, first: bool, last: bool) -> str:
        return normalize_urls(multiline_cell(escape_characters(seg, pipe=True)))

    def code(seg: str, first: bool, last: bool) -> str:
        return "<pre>" + seg.strip().replace("\n", "<br/>").replace("\r", "") + "</pre>"

    return _segments(s, _FENCE, normal, code)


def multiline_cell(s: str) -> str:
    s = s.strip()
    s = _SOFT_BREAK.sub(r"\1  \2\3\4", s)
    s = s.replace("    \n", "  \n").replace("  \n\n", "\n\n").replace("\n  \n", "\n\n")
    return s.replace("  \n", "<br/>").replace("\n", "<br/>")


def _code_span(seg: str, first: bool, last: bool) -> str:
    return f"`{seg}`"


def escape_characters(s: str, *, pipe: bool) -> str:
    """Escape ``|`` (tables) and ``_`` outside code spans, leaving ``_emphasis_`` and list markers alone."""
    if pipe:
        s = _segments(s, "`", lambda seg, f, la: seg.replace("|", "\\|"), _code_span)
    return _segments(s, "`", lambda seg, f, la: "\n".join(_escape_line(x) for x in seg.split("\n")), _code_span)


_LEADING = re.compile(r"^(\s*)(_+)(\s+)(.*)")
_EMPHASIS = re.compile(r"(\s+)(_+)([^\t\n\f\r _])(.*)([^\t\n\f\r _])(_+)(\s+)")


def _escape_line(line: str) -> str:
    line = _LEADING.sub(lambda m: m[1] + m[2].replace("_", _KEEP) + m[3] + m[4], line)
    line = _EMPHASIS.sub(lambda m: m[1] + m[2].replace("_", _KEEP) + m[3] + m[4] + m[5]
                         + m[6].replace("_", _KEEP) + m[7], line)
    return line.replace("_", "\\_").replace(_KEEP, "_")


def normalize_urls(s: str) -> str:
    """Undo the escaping inside URLs (terraform-docs' NormalizeURLs)."""
    return _URL.sub(lambda m: m[0].replace("\\", ""), s)
