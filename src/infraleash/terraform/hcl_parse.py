"""Parse ``.tf`` files into raw blocks with lines, never raising on bad input.

Parsed by tree-sitter-hcl (a compiled grammar, ``tree-sitter`` on PyPI); the blocks and
attributes come straight from its syntax tree, each expression is built into the tree
shape the evaluator reads (:mod:`infraleash.terraform.hcl_build`).  Results are cached
by (device, inode, mtime, size): the checks run after every agent edit.

Bad input becomes a :class:`~infraleash.terraform.config.ParseProblem` with file and
line: malformed HCL, binary content (NUL bytes), non-UTF-8 bytes, files over
``MAX_FILE_BYTES`` (``$INFRALEASH_MAX_TF_BYTES``, default 5 MB) and nesting deeper than
``MAX_NESTING`` levels.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.terraform.config import ParseProblem
from infraleash.terraform.hcl_tree import name_of

MAX_FILE_BYTES = int(os.environ.get("INFRALEASH_MAX_TF_BYTES", 5 * 1024 * 1024))
MAX_NESTING = 48  # blocks and expressions; real Terraform stays far below

# --------------------------------------------------------------------------- raw structure


@dataclass
class RawAttr:
    name: str
    expr: Any  # an hcl_tree.Tree
    line: int
    text: str
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived facts, see hcl.py
    file: str | None = None  # set when an override file replaced it (hcl_override.py); else its block's file


@dataclass
class RawBlock:
    type: str
    labels: list[str]
    line: int
    end_line: int
    attrs: dict[str, RawAttr] = field(default_factory=dict)
    blocks: list[RawBlock] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived facts, see hcl.py
    file: str | None = None  # set when an override file replaced it (hcl_override.py); else its parent's file


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
# The same bytes under another name (a `versions.tf` copied into every environment of a monorepo, a module vendored
# twice) are parsed once: (how it is read, the bytes) -> the parse.  The blocks are shared, as they are for one file
# reached by two paths; nothing mutates them (overrides copy, hcl_override.py).
_by_content: dict[tuple[str, bytes], ParsedFile] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 4096


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """The tree-sitter parser for HCL (the compiled grammar is loaded once per process)."""
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


_parse_lock = threading.Lock()  # a tree-sitter Parser is not safe to share between threads


def _syntax_tree(data: bytes) -> Any:
    with _parse_lock:
        return _parser().parse(data)


@functools.lru_cache(maxsize=8192)
def parse_expression(source: str) -> Any | None:
    """The expression tree of ``source`` (an interpolation's text), None when it does not parse.

    Cached by text: the same interpolations recur in every module instance and every run.
    The tree is shared, so callers must not modify it.
    """
    from infraleash.terraform.hcl_build import Builder, Unsupported

    text = f"__x = {source}\n"
    data = text.encode("utf-8", "surrogatepass")
    root = _syntax_tree(data).root_node
    if root.has_error:
        return None
    body = next((c for c in root.children if c.type == "body"), None)
    attrs = [c for c in body.children if c.type == "attribute"] if body is not None else []
    if len(attrs) != 1:
        return None
    expr = next((c for c in attrs[0].children if c.type == "expression"), None)
    if expr is None:
        return None
    try:
        return Builder(data, text).expression(expr)
    except (Unsupported, RecursionError):
        return None


def _name_of(node: Any) -> str:
    return name_of(node)


# tree-sitter-hcl's ids of the node kinds the conversion compares, set on the first parse (hcl_build, which loads
# the grammar, is imported only then)
_ATTRIBUTE = _BLOCK = _BODY = _BLOCK_END = _IDENTIFIER = _STRING_LIT = -1


def _kind_ids() -> None:
    global _ATTRIBUTE, _BLOCK, _BODY, _BLOCK_END, _IDENTIFIER, _STRING_LIT
    from infraleash.terraform.hcl_build import _IDS

    _ATTRIBUTE, _BLOCK, _BODY = _IDS["attribute", True], _IDS["block", True], _IDS["body", True]
    _BLOCK_END, _IDENTIFIER, _STRING_LIT = _IDS["block_end", True], _IDS["identifier", True], _IDS["string_lit", True]


def _convert_body(body: Any, build: Any, depth: int) -> tuple[dict[str, RawAttr], list[RawBlock]]:
    attrs: dict[str, RawAttr] = {}
    blocks: list[RawBlock] = []
    if body is None:
        return attrs, blocks
    for child in body.children:
        kind = child.kind_id  # an int: reading .type makes a str per node
        if kind == _ATTRIBUTE:
            attr = _convert_attribute(child, build)
            attrs[attr.name] = attr
        elif kind == _BLOCK:
            blocks.append(_convert_block(child, build, depth + 1))
    return attrs, blocks


def _convert_attribute(node: Any, build: Any) -> RawAttr:
    name_node = node.child(0)
    # identifier, "=", expression (the "=" is not made a node); a comment in between moves the expression
    expr_node = node.child(2) if node.child_count == 3 else next(c for c in node.children if c.type == "expression")
    expr = build.expression(expr_node)
    start, end = expr_node.start_byte, expr_node.end_byte
    text = build.text
    if build.ascii:  # byte offsets are character offsets: both texts sliced directly
        src = text[start:end]
        name = text[name_node.start_byte:name_node.end_byte]
    else:
        src = text[build.pos(start):build.pos(end)]
        name = build.src(name_node)
    return RawAttr(name, expr, name_node.start_point[0] + 1, src.strip())


def _convert_block(node: Any, build: Any, depth: int) -> RawBlock:
    if depth > MAX_NESTING:
        raise _TooDeep(node.start_point[0] + 1)
    names: list[str] = []
    body = None
    end = node
    for c in node.children:
        kind = c.kind_id
        if kind == _IDENTIFIER:
            names.append(build.src(c))
        elif kind == _STRING_LIT:  # "label": its quotes are one byte each, no need to make them nodes
            names.append(build.text_of(c.start_byte + 1, c.end_byte - 1))
        elif kind == _BODY:
            body = c
        elif kind == _BLOCK_END:
            end = c
    attrs, blocks = _convert_body(body, build, depth)
    return RawBlock(names[0], names[1:], node.start_point[0] + 1, end.end_point[0] + 1, attrs, blocks)


def _first_error(node: Any) -> Any | None:
    """Where a reader should look: the first MISSING node or innermost ERROR node; in an ERROR node
    with nothing wrong inside, its last token (the parser skipped everything up to there)."""
    if node.type == "ERROR":  # the root itself when nothing parsed
        return _in_error(node)
    for child in node.children:
        if child.is_missing:
            return child
        if child.type == "ERROR":
            return _in_error(child)
        if child.has_error:
            found = _first_error(child)
            if found is not None:
                return found
    return None


def _in_error(node: Any) -> Any:
    for child in node.children:
        if child.is_missing or child.type == "ERROR" or child.has_error:
            inner = _first_error(child) if child.type != "ERROR" else _in_error(child)
            if inner is not None:
                return inner
    tokens = [c for c in node.children if c.type != "comment"]
    return tokens[-1] if tokens else node


def _error_message(node: Any, build: Any) -> str:
    col = node.start_point[1] + 1
    if node.is_missing:
        return f"missing {node.type!r} at column {col}"
    snippet = build.src(node).strip().split("\n")[0]
    if snippet:
        return f"cannot read on from {snippet[:40]!r} at column {col}"
    return f"cannot read on at column {col}"


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


def parse_text(text: str, rel: str, line_map: list[int] | None = None) -> ParsedFile:
    """Parse HCL text; problems are returned, never raised.  ``line_map``: the text was generated (from a
    ``.tf.json`` file) and its line N stands for the file's line ``line_map[N - 1]``."""
    out = _parse_hcl(text, rel, line_map)
    if line_map is not None:
        _map_lines(out, line_map)
    return out


def _parse_hcl(text: str, rel: str, line_map: list[int] | None) -> ParsedFile:
    from infraleash.terraform.hcl_build import Builder, Unsupported

    out = ParsedFile(rel, text)
    if _ATTRIBUTE < 0:
        _kind_ids()
    if _nesting_exceeds(text):
        out.problem = ParseProblem(rel, _nesting_line(text), f"nesting deeper than {MAX_NESTING} levels")
        return out
    data = text.encode("utf-8", "surrogatepass")
    root = _syntax_tree(data).root_node
    build = Builder(data, text, line_map)
    if root.has_error:
        bad = _first_error(root) or root
        out.problem = ParseProblem(rel, bad.start_point[0] + 1, f"malformed HCL: {_error_message(bad, build)}")
        return out
    try:
        body = next((c for c in root.children if c.type == "body"), None)
        out.attrs, out.blocks = _convert_body(body, build, 0)
    except _TooDeep as e:
        out.problem = ParseProblem(rel, e.line, f"nesting deeper than {MAX_NESTING} levels")
    except Unsupported as e:
        out.problem = ParseProblem(rel, e.line, f"HCL construct not supported by this version ({e.kind})")
    except RecursionError:
        out.problem = ParseProblem(rel, 1, "nesting too deep to read")
    return out


def _map_lines(parsed: ParsedFile, line_map: list[int]) -> None:
    """Lines of the generated HCL text -> lines of the JSON file it was written from."""
    def to(line: int) -> int:
        return line_map[min(max(line, 1), len(line_map)) - 1]

    def block(rb: RawBlock) -> None:
        rb.line, rb.end_line = to(rb.line), to(rb.end_line)
        for a in rb.attrs.values():
            a.line = to(a.line)
        for child in rb.blocks:
            block(child)

    for rb in parsed.blocks:
        block(rb)
    for a in parsed.attrs.values():
        a.line = to(a.line)
    if parsed.problem is not None:
        parsed.problem = ParseProblem(parsed.rel, to(parsed.problem.line or 1),
                                      f"{parsed.problem.message} (in the HCL this JSON stands for)")


def parse_json_text(text: str, rel: str) -> ParsedFile:
    """Parse a ``.tf.json``/``.tofu.json`` file's text (:mod:`infraleash.terraform.hcl_json`), lines as in it."""
    from infraleash.terraform.hcl_json import to_hcl

    got = to_hcl(text, rel, tfvars=rel.endswith(".tfvars.json"))
    if isinstance(got, ParseProblem):
        return ParsedFile(rel, text, problem=got)
    hcl, line_map = got
    parsed = parse_text(hcl, rel, line_map)
    parsed.text = text
    return parsed


def is_json_syntax(name: str) -> bool:
    return name.endswith((".tf.json", ".tofu.json", ".tfvars.json"))


def _nesting_exceeds(text: str) -> bool:
    """A cheap scan for absurd bracket depth before handing the text to the parser.

    The same depth as :func:`_nesting_line` (brackets outside strings, a closer never below 0), worked out
    with C-level steps instead of a Python loop per bracket: quotes after a backslash never toggle, so they
    go first; then every other quote does, so the text outside strings is every second piece between
    quotes.  Its brackets become ``(`` and ``)``, and ``)`` are added at the end (``MAX_NESTING + 1``, more
    than the passes below can use up).  Then every deepest point is an adjacent ``()``, and removing every
    ``()`` leaves the depth of every other point as it was: each pass of ``replace(b"()", b"")`` lowers the
    greatest depth by exactly one.  The text is too deep when ``(`` is left after ``MAX_NESTING`` passes (real
    Terraform needs a handful, each over fewer bytes; a run of ``MAX_NESTING + 1`` openers ends the passes early).
    """
    if text.count("{") + text.count("[") + text.count("(") < MAX_NESTING:
        return False
    outside = "".join(text.replace('\\"', "").split('"')[::2])
    brackets = outside.encode("utf-8", "surrogatepass").translate(_TO_PARENS, _NOT_BRACKETS)
    brackets += b")" * (MAX_NESTING + 1)
    for _ in range(MAX_NESTING):
        if b"(" not in brackets:
            return False
        if _TOO_DEEP in brackets:  # deeper than the limit at its end, found without a pass per level
            return True
        brackets = brackets.replace(b"()", b"")
    return b"(" in brackets


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]()")
_TO_PARENS = bytes.maketrans(b"{[}]", b"(())")  # every opener one kind, every closer one kind
_TOO_DEEP = b"(" * (MAX_NESTING + 1)
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


def parse_file(path: Path, rel: str) -> ParsedFile:
    """Parse one ``.tf`` file (cached by file identity, mtime and size)."""
    try:
        st = path.stat()
    except OSError as e:
        return ParsedFile(rel, "", problem=ParseProblem(rel, 1, f"cannot read: {e.strerror}"))
    if st.st_size > MAX_FILE_BYTES:
        return ParsedFile(rel, "", problem=ParseProblem(
            rel, 1, f"file is {st.st_size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit; not parsed"))
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device named x.tf: reading would wait or never end
        return ParsedFile(rel, "", problem=ParseProblem(rel, 1, "not a regular file; not parsed"))
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)  # the file itself, however it is reached
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return _renamed(hit, rel)
    try:
        data = _read(path, st.st_size)
    except OSError as e:
        return ParsedFile(rel, "", problem=ParseProblem(rel, 1, f"cannot read: {e.strerror}"))
    if len(data) > MAX_FILE_BYTES:
        return ParsedFile(rel, "", problem=ParseProblem(
            rel, 1, f"file grew over the {MAX_FILE_BYTES / 1e6:.0f} MB limit while it was read; not parsed"))
    syntax = "hcl" if not is_json_syntax(path.name) else "tfvars.json" if rel.endswith(".tfvars.json") else "json"
    content = (syntax, data)
    with _cache_lock:
        same = _by_content.get(content)
    if same is not None:
        parsed = _renamed(same, rel)
    else:
        text, problem = _decode(data, rel)
        if text is None:
            parsed = ParsedFile(rel, "", problem=problem)
        else:
            parsed = parse_text(text, rel) if syntax == "hcl" else parse_json_text(text, rel)
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
            _by_content.clear()
        _cache[key] = parsed
        _by_content[content] = parsed
    return parsed


def _read(path: Path, size: int) -> bytes:
    """A regular file's bytes (at most ``MAX_FILE_BYTES`` and one more), with the fewest system calls: ``open``'s file
    object adds an ``fstat``, an ``ioctl``, an ``lseek`` and a second ``read`` per file, a sixth of the reading of
    a monorepo. ``size`` is what ``stat`` gave: one read asks for a byte more, and a short read is the end."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data
        chunks, total = [data], len(data)  # it grew since the stat
        while total <= MAX_FILE_BYTES and (chunk := os.read(fd, 1 << 20)):
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _renamed(parsed: ParsedFile, rel: str) -> ParsedFile:
    """A cached parse as the file ``rel`` (the blocks shared)."""
    if parsed.rel == rel:
        return parsed
    return ParsedFile(rel, parsed.text, parsed.blocks, _with_file(parsed.problem, rel), parsed.attrs)


def _with_file(problem: ParseProblem | None, rel: str) -> ParseProblem | None:
    return ParseProblem(rel, problem.line, problem.message) if problem else None

