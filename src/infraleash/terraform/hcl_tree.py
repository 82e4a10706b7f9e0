"""The expression trees the evaluator reads: small nodes with a kind, children and a position.

:mod:`infraleash.terraform.hcl_parse` builds them from the tree-sitter parse.  Their shape
is the one python-hcl2's grammar gives (``expr_term``, ``get_attr_expr_term``,
``binary_op``/``binary_term``, ``string``/``string_part``, ...), which the evaluator
(:mod:`infraleash.terraform.hcl_eval`) and the reference walk (:mod:`infraleash.terraform.hcl`)
were written against; ``tests/terraform/test_hcl_conformance.py`` compares the two
parsers' trees over a real-world corpus.

* :class:`Tree`: ``data`` (the kind), ``children`` (trees and tokens), ``meta`` (where it is);
* :class:`Token`: a ``str`` (its text) with ``type`` (``NAME``, ``INT_LITERAL``, ``STRING_CHARS``,
  ``LPAR``, ``ELLIPSIS``, ...).

Punctuation the evaluator never reads (quotes, commas, brackets) is not kept as tokens.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class Source:
    """One parsed text: byte offsets become lines and character offsets only when asked."""

    __slots__ = ("data", "text", "_line_starts", "_wide", "_extra", "line_map")

    def __init__(self, data: bytes, text: str, line_map: list[int] | None = None) -> None:
        self.data = data
        self.text = text
        self.line_map = line_map  # generated text (a .tf.json file's HCL): line -> the file's own line
        self._line_starts: list[int] | None = None
        self._wide: list[int] | None = None  # byte offset just after each multi-byte character
        self._extra: list[int] = []  # extra bytes (beyond one per character) up to that offset
        if len(data) != len(text):
            wide, extra, acc = [], [], 0
            for m in _NON_ASCII.finditer(text):  # only the multi-byte characters, not every character
                n = len(m.group().encode("utf-8", "surrogatepass"))
                acc += n - 1
                wide.append(m.end() + acc)  # the byte offset just after it
                extra.append(acc)
            self._wide, self._extra = wide, extra

    def pos(self, byte: int) -> int:
        """The character offset of a byte offset."""
        if self._wide is None:
            return byte
        i = bisect.bisect_right(self._wide, byte)
        return byte - (self._extra[i - 1] if i else 0)

    def line(self, byte: int) -> int:
        """The 1-based line of a byte offset."""
        starts = self._line_starts
        if starts is None:
            data, starts, i = self.data, [0], self.data.find(b"\n")
            while i >= 0:
                starts.append(i + 1)
                i = data.find(b"\n", i + 1)
            self._line_starts = starts
        line = bisect.bisect_right(starts, byte)
        return self.line_map[min(line, len(self.line_map)) - 1] if self.line_map else line

    def column(self, byte: int) -> int:
        self.line(byte)
        starts = self._line_starts or [0]
        line_start = starts[bisect.bisect_right(starts, byte) - 1]
        return self.pos(byte) - self.pos(line_start) + 1


class Meta:
    """Where a tree is: first line and column (1-based), last line, character offsets.

    Each is worked out from the byte offsets when first read: the reference walk reads ``line`` for every
    site, the column and offsets are rarely read (error messages, source text).
    """

    __slots__ = ("_source", "_start", "_end", "_line")

    empty = False

    def __init__(self, source: Source | None, start: int, end: int) -> None:
        self._source = source
        self._start = start
        self._end = end
        self._line = 0

    @property
    def line(self) -> int:
        line = self._line
        if not line:
            line = self._line = self._source.line(self._start) if self._source is not None else 1
        return line

    @property
    def column(self) -> int:
        return self._source.column(self._start) if self._source is not None else 1

    @property
    def end_line(self) -> int:
        src = self._source
        return src.line(max(self._start, self._end - 1)) if src is not None else 1

    @property
    def start_pos(self) -> int:
        return self._source.pos(self._start) if self._source is not None else self._start

    @property
    def end_pos(self) -> int:
        return self._source.pos(self._end) if self._source is not None else self._end


class Tree:
    """One node of an expression: ``data`` names the kind, ``children`` are trees and tokens.

    ``start``/``end`` are byte offsets into ``source``; :attr:`meta` turns them into lines and
    character offsets when first read (most nodes are never asked where they are).
    """

    __slots__ = ("data", "children", "start", "end", "source", "_meta", "flat")

    def __init__(self, data: str, children: list[Any], start: int, end: int, source: Source | None) -> None:
        self.data = data
        self.children = children
        self.start = start
        self.end = end
        self.source = source
        self._meta: Meta | None = None
        self.flat: Any = None  # the flattened traversal, once hcl_eval.flatten_traversal has worked it out

    @property
    def meta(self) -> Meta:
        m = self._meta
        if m is None:
            m = self._meta = Meta(self.source, self.start, self.end)
        return m

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


_new = object.__new__


def make_tree(data: str, children: list[Any], start: int, end: int, source: Source | None) -> Tree:
    """``Tree(data, children, start, end, source)``, ~20% cheaper: Python 3.11 calls a class's ``__init__``
    through a slot wrapper, a plain function that fills the slots is quicker (the builder makes every node)."""
    tree = _new(Tree)
    tree.data = data
    tree.children = children
    tree.start = start
    tree.end = end
    tree.source = source
    tree._meta = None
    tree.flat = None
    return tree


class Token(str):
    """A terminal: its text and its kind (``type``).

    ``Token(type_, text)`` is an instance of a subclass made once per kind, holding ``type`` as a class
    attribute: a token then needs no attribute dict of its own (one is made for every terminal of every file).
    """

    __slots__ = ()
    type: str

    def __new__(cls, type_: str, value: str) -> Token:
        kind = _TOKEN_KINDS.get(type_)
        if kind is None:
            kind = _TOKEN_KINDS[type_] = _token_kind(type_)
        return str.__new__(kind, value)

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {str(self)!r})"


def _token_kind(type_: str) -> type[Token]:
    return type("Token", (Token,), {"__slots__": (), "type": type_, "__module__": __name__})


_TOKEN_KINDS: dict[str, type[Token]] = {}


def name_of(node: Any) -> str:
    """An identifier, keyword, literal_value or string label as text."""
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(p.children[0]) for p in node.children if isinstance(p, Tree)
                       and p.data == "string_part" and isinstance(p.children[0], Token))
    child = node.children[0]
    return str(child) if isinstance(child, Token) else name_of(child)
