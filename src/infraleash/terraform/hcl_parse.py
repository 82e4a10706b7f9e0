"""Parse ``.tf`` files into raw blocks with lines, never raising on bad input.

Uses python-hcl2's Lark grammar (LALR, positions on every node) directly, so that
blocks and attributes are told apart structurally and each has a line.  Results are
cached by (device, inode, mtime, size): the checks run after every agent edit.

Bad input becomes a :class:`~infraleash.terraform.config.ParseProblem` with file and
line: malformed HCL, binary content (NUL bytes), non-UTF-8 bytes, files over
``MAX_FILE_BYTES`` (``$INFRALEASH_MAX_TF_BYTES``, default 5 MB) and nesting deeper than
``MAX_NESTING`` levels.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from infraleash.terraform.config import ParseProblem

MAX_FILE_BYTES = int(os.environ.get("INFRALEASH_MAX_TF_BYTES", 5 * 1024 * 1024))
MAX_NESTING = 48  # blocks and expressions; real Terraform stays far below

# --------------------------------------------------------------------------- raw structure


@dataclass
class RawAttr:
    name: str
    expr: Any  # a Lark Tree
    line: int
    text: str
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived facts, see hcl.py


@dataclass
class RawBlock:
    type: str
    labels: list[str]
    line: int
    end_line: int
    attrs: dict[str, RawAttr] = field(default_factory=dict)
    blocks: list[RawBlock] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived facts, see hcl.py


@dataclass
class ParsedFile:
    rel: str
    text: str
    blocks: list[RawBlock] = field(default_factory=list)
    problem: ParseProblem | None = None
    attrs: dict[str, RawAttr] = field(default_factory=dict)  # top-level attributes (tfvars files)


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


_cache: dict[tuple[int, int, int, int], ParsedFile] = {}  # (device, inode, mtime, size)
_cache_lock = threading.Lock()
_CACHE_MAX = 4096


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """python-hcl2's LALR grammar, positions computed on demand (same trees, same positions).

    Lark's ``propagate_positions=True`` wraps every rule callback and fills a ``Meta`` on
    every node as the tree is built: ~40% of the parse time on real Terraform, for
    positions we read on a few nodes only (blocks, attributes, references).  python-hcl2's
    grammar names every terminal, so no token is filtered out of the tree and a node's
    position is that of the first and last token under it: :class:`_Tree` works it out
    when ``meta`` is first read.  ``tests/terraform/test_hcl_parse.py`` checks every node
    against python-hcl2's own parser.
    """
    import hcl2.parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    from infraleash.terraform.schema import cache_dir

    # The built tables are cached in our own cache directory, not in the shared temp directory where Lark
    # puts them by default (the cache is unpickled on load: a file there could be planted by another user).
    # Lark keys the cache by the grammar, the options and its version, and rebuilds when they change.
    cache: str | bool = False
    try:
        folder = cache_dir() / "parser"
        folder.mkdir(parents=True, exist_ok=True)
        cache = str(folder / "hcl2-lalr.lark-cache")
    except OSError:
        pass
    return Lark.open("hcl2.lark", parser="lalr", cache=cache, rel_to=hcl2.parser.__file__,
                     propagate_positions=False, postlex=PostLexer(), tree_class=_Tree)


class _Tree(Tree):
    """A Lark tree whose ``meta`` (line, column, start/end positions) is computed when read."""

    @property
    def meta(self) -> Any:
        m = self._meta
        if m is None:
            m = self._meta = _meta_of(self)
        return m


def _edge_token(node: Any, last: bool) -> Token | None:
    """The first (or last) token under ``node``, depth first; None when it holds no token."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Token):
            return cur
        if isinstance(cur, Tree):
            stack.extend(cur.children if last else reversed(cur.children))
    return None


def _meta_of(node: Any) -> Any:
    from lark.tree import Meta

    meta: Any = Meta()
    first = _edge_token(node, last=False)
    if first is None:
        return meta
    last = _edge_token(node, last=True) or first
    meta.line = meta.container_line = first.line
    meta.column = meta.container_column = first.column
    meta.start_pos = meta.container_start_pos = first.start_pos
    meta.end_line = meta.container_end_line = last.end_line
    meta.end_column = meta.container_end_column = last.end_column
    meta.end_pos = meta.container_end_pos = last.end_pos
    meta.empty = False
    return meta


@functools.lru_cache(maxsize=8192)
def parse_expression(source: str) -> Any | None:
    """The expression tree of ``source`` (an interpolation's text), None when it does not parse.

    Cached by text: the same interpolations recur in every module instance and every run.
    The tree is shared, so callers must not modify it.
    """
    try:
        tree = _parser().parse(f"__x = {source}\n")
    except (LarkError, RecursionError):
        return None
    attr = next(c for c in tree.children[0].children if isinstance(c, Tree) and c.data == "attribute")
    return attr.children[-1]


def _line_of(node: Any) -> int:
    if isinstance(node, Token):
        return node.line or 1
    meta = getattr(node, "meta", None)
    return getattr(meta, "line", 1) if meta is not None and not meta.empty else 1


def _end_line_of(node: Any) -> int:
    meta = getattr(node, "meta", None)
    return getattr(meta, "end_line", 1) if meta is not None and not meta.empty else _line_of(node)


def _name_of(node: Any) -> str:
    """An identifier, keyword, literal_value or string label as text."""
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(p.children[0]) for p in node.children if isinstance(p, Tree)
                       and p.data == "string_part" and isinstance(p.children[0], Token))
    child = node.children[0]
    return str(child) if isinstance(child, Token) else _name_of(child)


def _is_trivia(node: Any) -> bool:
    return isinstance(node, Token) or node.data == "new_line_or_comment"


def _convert_body(body: Tree, text: str, depth: int) -> tuple[dict[str, RawAttr], list[RawBlock]]:
    attrs: dict[str, RawAttr] = {}
    blocks: list[RawBlock] = []
    for child in body.children:
        if _is_trivia(child):
            continue
        if child.data == "attribute":
            name = _name_of(child.children[0])
            expr = child.children[-1]
            meta = expr.meta
            src = text[meta.start_pos:meta.end_pos] if not meta.empty else ""
            attrs[name] = RawAttr(name, expr, _line_of(child), src.strip())
        elif child.data == "block":
            blocks.append(_convert_block(child, text, depth + 1))
    return attrs, blocks


def _convert_block(node: Tree, text: str, depth: int) -> RawBlock:
    if depth > MAX_NESTING:
        raise _TooDeep(_line_of(node))
    names = [c for c in node.children if isinstance(c, Tree) and c.data in
             ("identifier", "keyword", "literal_value", "string")]
    body = next(c for c in node.children if isinstance(c, Tree) and c.data == "body")
    attrs, blocks = _convert_body(body, text, depth)
    return RawBlock(_name_of(names[0]), [_name_of(n) for n in names[1:]], _line_of(node),
                    _end_line_of(node), attrs, blocks)


def _decode(data: bytes, rel: str) -> tuple[str | None, ParseProblem | None]:
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return None, ParseProblem(rel, line, "binary content (NUL byte), not a Terraform text file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return None, ParseProblem(rel, line, f"not UTF-8 text ({e.reason} at byte {e.start})")


def parse_text(text: str, rel: str) -> ParsedFile:
    """Parse HCL text; problems are returned, never raised."""
    out = ParsedFile(rel, text)
    if _nesting_exceeds(text):
        out.problem = ParseProblem(rel, _nesting_line(text), f"nesting deeper than {MAX_NESTING} levels")
        return out
    try:
        tree = _parser().parse(text + "\n")
    except UnexpectedInput as e:
        line = e.line if isinstance(e.line, int) and e.line > 0 else text.count("\n") + 1
        out.problem = ParseProblem(rel, line, f"malformed HCL: {_short_lark_message(e)}")
        return out
    except (LarkError, RecursionError) as e:
        out.problem = ParseProblem(rel, 1, f"malformed HCL: {type(e).__name__}")
        return out
    try:
        body = tree.children[0]
        out.attrs, out.blocks = _convert_body(body, text, 0)
    except _TooDeep as e:
        out.problem = ParseProblem(rel, e.line, f"nesting deeper than {MAX_NESTING} levels")
    except RecursionError:
        out.problem = ParseProblem(rel, 1, "nesting too deep to read")
    return out


def _nesting_exceeds(text: str) -> bool:
    """A cheap scan for absurd bracket depth before handing the text to the parser."""
    if text.count("{") + text.count("[") + text.count("(") < MAX_NESTING:
        return False
    return _nesting_line(text) > 0


_NESTING_CHARS = re.compile(r'[\n"{}\[\]()]')


def _nesting_line(text: str) -> int:
    """The line where bracket depth (outside strings) first exceeds MAX_NESTING, else 0."""
    depth = 0
    line = 1
    in_str = False
    for m in _NESTING_CHARS.finditer(text):
        ch = m.group()
        if ch == "\n":
            line += 1
        elif ch == '"':
            i = m.start()
            if i == 0 or text[i - 1] != "\\":
                in_str = not in_str
        elif not in_str and ch in "{[(":
            depth += 1
            if depth > MAX_NESTING:
                return line
        elif not in_str:
            depth = max(0, depth - 1)
    return 0


def _short_lark_message(e: UnexpectedInput) -> str:
    token = getattr(e, "token", None)
    if token is not None and str(token):
        return f"unexpected {str(token)[:40]!r} at column {e.column}"
    char = getattr(e, "char", None)
    if char:
        return f"unexpected character {char!r} at column {e.column}"
    return f"unexpected input at column {getattr(e, 'column', '?')}"


def parse_file(path: Path, rel: str) -> ParsedFile:
    """Parse one ``.tf`` file (cached by file identity, mtime and size)."""
    try:
        st = path.stat()
    except OSError as e:
        return ParsedFile(rel, "", problem=ParseProblem(rel, 1, f"cannot read: {e.strerror}"))
    if st.st_size > MAX_FILE_BYTES:
        return ParsedFile(rel, "", problem=ParseProblem(
            rel, 1, f"file is {st.st_size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit; not parsed"))
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)  # the file itself, however it is reached
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit if hit.rel == rel else ParsedFile(rel, hit.text, hit.blocks, _with_file(hit.problem, rel),
                                                     hit.attrs)
    try:
        data = path.read_bytes()
    except OSError as e:
        return ParsedFile(rel, "", problem=ParseProblem(rel, 1, f"cannot read: {e.strerror}"))
    text, problem = _decode(data, rel)
    parsed = ParsedFile(rel, "", problem=problem) if text is None else parse_text(text, rel)
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = parsed
    return parsed


def _with_file(problem: ParseProblem | None, rel: str) -> ParseProblem | None:
    return ParseProblem(rel, problem.line, problem.message) if problem else None

