"""Read ``.tf.json`` / ``.tofu.json`` files (Terraform's JSON syntax) into the same raw blocks as ``.tf``.

    parsed = parse_json_text(text, "main.tf.json")   # a ParsedFile, lines as in the JSON file

The JSON document is written out as the HCL it stands for and that text goes through the one HCL
reader (:func:`~infraleash.terraform.hcl_parse.parse_text`), so blocks, attributes and expression trees
have the same shape as a ``.tf`` file's; every line of the generated text remembers the JSON line it
came from and every line number (blocks, attributes, expressions) is mapped back to the JSON file.

What JSON cannot say on its own, decided as Terraform decides it:

* attribute or nested block: by the provider schema (the bundled AWS schema for ``aws_*`` types;
  ``lifecycle``, ``connection``, ``provisioner``, ``dynamic``, ``validation``, ``precondition``,
  ``postcondition``, ``required_providers``, ``backend`` and ``cloud`` always); an object value of an
  unknown type's key is an attribute (a map);
* strings are string templates (``"${var.x}"``), except where Terraform reads them as expressions:
  a variable's ``type``, ``depends_on``, ``provider``, ``providers``, ``ignore_changes`` and
  ``replace_triggered_by`` (``"aws.west"``, ``["aws_s3_bucket.logs"]``);
* keys named ``"//"`` are comments.

``.tfvars.json`` files (``terraform.tfvars.json``, ``*.auto.tfvars.json``) are variable values, one
top-level attribute per member.  Malformed JSON, or a document that is not an object, is a ``ParseProblem``
at the JSON's line.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from infraleash.terraform.config import ParseProblem

_ALWAYS_BLOCKS = frozenset({"lifecycle", "connection", "validation", "precondition", "postcondition"})
_LABELLED_BLOCKS = frozenset({"provisioner", "dynamic", "backend"})  # {"label": {body}}
_EXPRESSION_STRINGS = frozenset({"depends_on", "provider", "ignore_changes", "replace_triggered_by"})
_TRAVERSAL = re.compile(r"^[A-Za-z_][\w\-]*(\.[A-Za-z_][\w\-]*|\[[^\]]*\])*$")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass
class JNode:
    """A JSON value and where it starts (character offset); objects keep their members in order."""

    kind: str  # object | array | string | number | true | false | null
    start: int
    value: Any = None  # str for strings, the literal text for numbers
    members: list[tuple[str, int, JNode]] = field(default_factory=list)  # (key, key offset, value)
    items: list[JNode] = field(default_factory=list)
    end: int = 0


def _read(text: str, i: int) -> JNode:
    """The JSON value at ``i`` of a text ``json.loads`` accepted (whitespace skipped)."""
    while text[i] in " \t\r\n":
        i += 1
    ch = text[i]
    if ch == "{":
        node = JNode("object", i)
        i += 1
        while True:
            while text[i] in " \t\r\n,":
                i += 1
            if text[i] == "}":
                node.end = i + 1
                return node
            key_at = i
            key, i = scanstring(text, i + 1)
            while text[i] in " \t\r\n:":
                i += 1
            value = _read(text, i)
            node.members.append((key, key_at, value))
            i = value.end
    if ch == "[":
        node = JNode("array", i)
        i += 1
        while True:
            while text[i] in " \t\r\n,":
                i += 1
            if text[i] == "]":
                node.end = i + 1
                return node
            item = _read(text, i)
            node.items.append(item)
            i = item.end
    if ch == '"':
        value, end = scanstring(text, i + 1)
        return JNode("string", i, value, end=end)
    for word in ("true", "false", "null"):
        if text.startswith(word, i):
            return JNode(word, i, end=i + len(word))
    m = _NUMBER.match(text, i)
    assert m is not None, f"json.loads accepted a value the reader does not know at offset {i}"
    return JNode("number", i, m.group(), end=m.end())


class _Writer:
    """HCL text written line by line, each generated line tagged with the JSON line it stands for."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: list[str] = []
        self.origin: list[int] = []  # JSON line (1-based) of each generated line
        self._open: list[str] = []  # the current line's pieces

    def row(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def start(self, offset: int) -> None:
        """Start a new generated line standing for the JSON line of ``offset``."""
        self.flush()
        self.origin.append(self.row(offset))

    def put(self, piece: str) -> None:
        self._open.append(piece)

    def flush(self) -> None:
        if len(self.origin) > len(self.lines):
            self.lines.append("".join(self._open))
            self._open = []

    def text(self) -> str:
        self.flush()
        return "\n".join(self.lines) + "\n"


def _quote(s: str) -> str:
    """A JSON string's value as an HCL quoted template (``${``/``%{`` stay templates, as in JSON syntax).

    Literal text is escaped; an interpolation's expression is HCL code and is kept as written (its own
    quoted strings, ``"${format(\\"%s\\", x)}"`` in the JSON, must not become ``\\"`` in the HCL)."""
    out: list[str] = []
    i = 0
    while i < len(s):
        if s.startswith(("$${", "%%{"), i):  # escaped template openers stay literal, in JSON as in HCL
            out.append(s[i:i + 3])
            i += 3
            continue
        if s.startswith(("${", "%{"), i):
            end = _interpolation_end(s, i)
            if end is not None:
                out.append(s[i:end].replace("\n", " ").replace("\r", " ").replace("\t", " "))
                i = end
                continue
        out.append(_escape_literal(s[i]))
        i += 1
    return '"' + "".join(out) + '"'


_LITERAL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_literal(c: str) -> str:
    return _LITERAL_ESCAPES.get(c) or (c if c >= " " else f"\\u{ord(c):04x}")


def _interpolation_end(s: str, i: int) -> int | None:
    """The index just past the ``}`` closing the ``${``/``%{`` at ``i`` (quoted strings and nested templates
    inside it skipped), or None when it is never closed (then it is literal text and fails to parse as
    Terraform would fail)."""
    depth, j = 0, i + 1
    while j < len(s):
        c = s[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        elif c == '"':
            j += 1
            while j < len(s) and s[j] != '"':
                if s[j] == "\\":
                    j += 1
                elif s.startswith(("${", "%{"), j):
                    nested = _interpolation_end(s, j)
                    if nested is None:
                        return None
                    j = nested - 1
                j += 1
            if j >= len(s):
                return None
        j += 1
    return None


def _decimal(number: str) -> str:
    """A JSON number as an HCL literal: exponents written out (the HCL grammar reads ``1e3``, not ``1e+3``)."""
    if "e" not in number and "E" not in number:
        return number
    from decimal import Decimal

    return format(Decimal(number), "f")


def _block_types(schema: Any) -> dict[str, Any]:
    return dict(getattr(schema, "block_types", {}) or {})


class _Converter:
    def __init__(self, text: str) -> None:
        self.w = _Writer(text)

    # ------------------------------------------------------------------ expressions
    def expr(self, node: JNode, *, raw: bool = False) -> None:
        """``node`` as an HCL expression; elements on later JSON lines go on their own generated lines."""
        w = self.w
        if node.kind == "string":
            value = str(node.value)
            w.put(value if raw and _TRAVERSAL.match(value) else _quote(value))
        elif node.kind == "number":
            w.put(_decimal(node.value))
        elif node.kind in ("true", "false", "null"):
            w.put(node.kind)
        elif node.kind == "array":
            w.put("[")
            for n, item in enumerate(node.items):
                if n:
                    w.put(",")
                if w.row(item.start) > w.origin[-1]:
                    w.start(item.start)
                self.expr(item, raw=raw)
            w.put("]")
        else:
            w.put("{")
            for key, at, member in node.members:
                if key == "//":
                    continue
                if w.row(at) > w.origin[-1]:
                    w.start(at)
                else:
                    w.put(" ")
                w.put(f"{_quote(key)} = ")
                self.expr(member, raw=raw)
                w.put(",")
            w.put("}")

    # ------------------------------------------------------------------ bodies
    def attribute(self, name: str, at: int, value: JNode, *, raw: bool = False) -> None:
        self.w.start(at)
        self.w.put(f"{name} = ")
        self.expr(value, raw=raw or name in _EXPRESSION_STRINGS)

    def block(self, header: str, at: int, body: JNode, schema: Any, kind: str) -> None:
        w = self.w
        w.start(at)
        w.put(header + " {")
        if body.kind == "object":
            self.body(body, schema, kind)
        w.start(max(body.end - 1, at))
        w.put("}")

    def body(self, node: JNode, schema: Any, kind: str) -> None:
        nested = _block_types(schema)
        for key, at, value in node.members:
            if key == "//":
                continue
            if kind == "variable" and key == "type" and value.kind == "string":
                self.w.start(at)
                self.w.put(f"type = {value.value}")  # a type expression written as a string
            elif kind == "module" and key == "providers":
                self.attribute(key, at, value, raw=True)
            elif key in _LABELLED_BLOCKS and value.kind in ("object", "array"):
                for obj in _objects(value):
                    for label, label_at, inner in obj.members:
                        for one in _objects(inner):
                            sub = nested.get(label) if key == "dynamic" else None
                            self.labelled(key, label, label_at, one, getattr(sub, "block", None))
            elif (key in _ALWAYS_BLOCKS or key in nested or (kind == "terraform" and key in ("required_providers",
                                                                                             "cloud"))) \
                    and value.kind in ("object", "array") and all(o.kind == "object" for o in _items(value)):
                sub = getattr(nested.get(key), "block", None)
                for one in _objects(value):
                    self.block(key, at if one is value else one.start, one, sub,
                               "lifecycle" if key == "lifecycle" else "nested")
            else:
                self.attribute(_name(key), at, value)

    def labelled(self, key: str, label: str, at: int, body: JNode, schema: Any) -> None:
        if key != "dynamic":
            self.block(f"{key} {_quote(label)}", at, body, None, "nested")
            return
        # dynamic "label" { for_each = ..., iterator = ..., content { ... } }: content is the nested block's body
        w = self.w
        w.start(at)
        w.put(f"dynamic {_quote(label)} {{")
        for k, k_at, v in body.members:
            if k == "content" and v.kind == "object":
                self.block("content", k_at, v, schema, "nested")
            elif k == "iterator" and v.kind == "string":
                self.attribute(k, k_at, v, raw=True)
            elif k != "//":
                self.attribute(_name(k), k_at, v)
        w.start(max(body.end - 1, at))
        w.put("}")

    # ------------------------------------------------------------------ top level
    def document(self, root: JNode) -> None:
        for kind, at, value in root.members:
            if kind == "//":
                continue
            if kind in ("resource", "data") and value.kind == "object":
                for type_, _t_at, names in value.members:
                    schema = _schema_for(kind, type_)
                    for name, n_at, bodies in _members(names):
                        for body in _objects(bodies):
                            self.block(f"{kind} {_quote(type_)} {_quote(name)}", n_at if body is bodies else
                                       body.start, body, schema, kind)
            elif kind in ("module", "provider", "variable", "output") and value.kind == "object":
                for name, n_at, bodies in value.members:
                    schema = _schema_for("provider", name) if kind == "provider" else None
                    for body in _objects(bodies):
                        self.block(f"{kind} {_quote(name)}", n_at if body is bodies else body.start, body, schema,
                                   kind)
            elif kind in ("locals", "terraform"):
                for body in _objects(value):
                    self.block(kind, at if body is value else body.start, body, None, kind)
            elif kind in ("moved", "import", "removed", "check"):
                for body in _objects(value):
                    self.block(kind, at if body is value else body.start, body, None, "nested")


def _items(value: JNode) -> list[JNode]:
    return value.items if value.kind == "array" else [value]


def _objects(value: JNode) -> list[JNode]:
    return [v for v in _items(value) if v.kind == "object"]


def _members(value: JNode) -> list[tuple[str, int, JNode]]:
    return value.members if value.kind == "object" else []


def _name(key: str) -> str:
    """An attribute name as HCL writes it (JSON keys are arbitrary strings; Terraform's are identifiers)."""
    return key if re.fullmatch(r"[A-Za-z_][\w\-]*", key) else "_" + re.sub(r"\W", "_", key)


def _schema_for(kind: str, type_: str) -> Any:
    """The bundled schema of an ``aws_*`` resource/data source or of the aws provider; None otherwise."""
    if not (type_.startswith("aws_") or (kind == "provider" and type_ == "aws")):
        return None
    from infraleash.terraform.schema import bundled_aws

    schema = bundled_aws()
    if kind == "provider":
        return schema.provider_config()
    return schema.resource(type_) if kind == "resource" else schema.data_source(type_)


class _NotJson(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def _not_json(word: str) -> Any:
    """Python's json module accepts ``NaN``, ``Infinity`` and ``-Infinity``; JSON (and Terraform) do not."""
    raise _NotJson(word)


def to_hcl(text: str, rel: str, *, tfvars: bool = False) -> tuple[str, list[int]] | ParseProblem:
    """The HCL a JSON-syntax file stands for and, per generated line, its JSON line; or why it cannot be read.
    ``tfvars``: a ``.tfvars.json`` file, whose members are variable values (top-level attributes)."""
    try:
        json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as e:
        return ParseProblem(rel, e.lineno, f"malformed JSON: {e.msg} (line {e.lineno}, column {e.colno})")
    except _NotJson as e:
        line = text.count("\n", 0, max(text.find(e.word), 0)) + 1
        return ParseProblem(rel, line, f"malformed JSON: {e.word} is not a JSON value")
    except RecursionError:
        return ParseProblem(rel, 1, "nesting too deep to read")
    try:
        root = _read(text, 0)
    except RecursionError:
        return ParseProblem(rel, 1, "nesting too deep to read")
    if root.kind != "object":
        return ParseProblem(rel, 1, f"a Terraform JSON file holds one object, not {'an' if root.kind[0] in 'ao' else 'a'}"
                                    f" {root.kind}")
    conv = _Converter(text)
    if tfvars:
        for name, at, value in root.members:
            if name != "//":
                conv.attribute(_name(name), at, value)
    else:
        conv.document(root)
    return conv.w.text(), conv.w.origin
