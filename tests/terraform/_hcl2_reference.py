"""The reference side of the parser conformance test: python-hcl2's own Lark parser.

infraleash parsed with python-hcl2's LALR grammar until the switch to tree-sitter; this
module keeps that conversion (Lark tree -> blocks, attributes, expressions) for the test
only, and reduces both parsers' results to one comparable shape, :func:`model_of`.

What the reduction leaves out, and why (each is a difference of the grammars, not of the
configuration; the evaluator treats both sides alike):

* comments and newlines (``new_line_or_comment``) and punctuation tokens (quotes, commas,
  brackets, ``=``, ``.``, ``${``, ``for``/``in``/``if``): the evaluator reads neither;
* ``keyword`` vs ``identifier`` (python-hcl2 lexes ``in``, ``for``, ``for_each`` ... as
  keywords in some positions) and ``literal_value`` after a ``.`` (``x.null``): all names;
* binary operators are kept by their text (python-hcl2 names them ``PLUS``, ``MINUS``, ...);
* a string holding a template directive (``%{ if }``, ``%{ for }``) is reduced to the
  expressions inside it in source order: python-hcl2 keeps directives as flat start/end
  markers with the literal text between them as string parts, tree-sitter nests them; the
  evaluator answers "unknown: template directive" for both and the reference walk finds the
  same references;
* an attribute's source text: python-hcl2 counts a comment that follows a binary operation
  or conditional on the same line as part of the expression (its grammar lets them end in
  ``new_line_or_comment``); the text is compared with trailing comments cut on both sides.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_KEEP_TOKENS = {"NAME", "INT_LITERAL", "FLOAT_LITERAL", "STRING_CHARS", "ESCAPED_INTERPOLATION",
                "ESCAPED_DIRECTIVE", "HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM", "ELLIPSIS", "LPAR",
                "TRUE", "FALSE", "NULL"}
_DIRECTIVES = {"template_if_start", "template_else", "template_endif", "template_for_start", "template_endfor"}


@functools.lru_cache(maxsize=1)
def hcl2_parser() -> Any:
    from hcl2.parser import parser

    return parser()


# --------------------------------------------------------------------------- python-hcl2 -> model
def reference_model(text: str) -> tuple[str, Any]:
    """("ok", model) or ("error", line) for python-hcl2's parse of ``text``."""
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = hcl2_parser().parse(text + "\n")
    except UnexpectedInput as e:
        return "error", e.line if isinstance(e.line, int) and e.line > 0 else None
    except (LarkError, RecursionError):
        return "error", None
    return "ok", _ref_body(tree.children[0], text)


def _is_tree(node: Any) -> bool:
    from lark import Tree

    return isinstance(node, Tree)


def _ref_name(node: Any) -> str:
    from lark import Token

    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(p.children[0]) for p in node.children if _is_tree(p)
                       and p.data == "string_part" and isinstance(p.children[0], Token))
    child = node.children[0]
    return str(child) if isinstance(child, Token) else _ref_name(child)


def _ref_body(body: Any, text: str) -> Any:
    attrs: dict[str, Any] = {}
    blocks: list[Any] = []
    for child in body.children:
        if not _is_tree(child) or child.data == "new_line_or_comment":
            continue
        if child.data == "attribute":
            name = _ref_name(child.children[0])
            expr = child.children[-1]
            src = text[expr.meta.start_pos:expr.meta.end_pos]
            attrs[name] = (child.meta.line, cut_comments(src), _ref_expr(expr))
        elif child.data == "block":
            names = [c for c in child.children if _is_tree(c) and c.data in
                     ("identifier", "keyword", "literal_value", "string")]
            inner = next(c for c in child.children if _is_tree(c) and c.data == "body")
            rbrace = child.children[-1]
            blocks.append((_ref_name(names[0]), [_ref_name(n) for n in names[1:]], child.meta.line,
                           rbrace.line, _ref_body(inner, text)))
    return attrs, blocks


def _ref_expr(node: Any) -> Any:
    from lark import Token

    if isinstance(node, Token):
        return (node.type, str(node)) if node.type in _KEEP_TOKENS else None
    data = node.data
    if data == "string" and any(_is_tree(p) and _is_tree(p.children[0]) and p.children[0].data in _DIRECTIVES
                                for p in node.children):
        found = []
        for p in node.children:
            if not _is_tree(p):
                continue
            inner = p.children[0]
            if _is_tree(inner) and inner.data == "interpolation":
                found.append(_ref_expr(_subtrees(inner)[0]))
            elif _is_tree(inner) and inner.data in ("template_if_start", "template_for_start"):
                found.append(_ref_expr([c for c in _subtrees(inner) if c.data != "identifier"][-1]))
        return ("string-with-directive", node.meta.line, tuple(found))
    if data == "keyword":
        return ("identifier", node.meta.line, (("NAME", str(node.children[0])),))
    if data == "object_elem_key" and _subtrees(node) and _subtrees(node)[0].data == "keyword":
        return ("object_elem_key", node.meta.line, (("expr_term", node.meta.line, (_ref_expr(_subtrees(node)[0]),)),))
    if data == "function_call":
        return (data, node.meta.line, tuple(_ref_expr(c) for c in _subtrees(node)))
    if data == "get_attr":
        return ("get_attr", node.meta.line, (("identifier", node.children[-1].meta.line,
                                              (("NAME", _ref_name(node.children[-1])),)),))
    if data == "binary_operator":
        return ("binary_operator", node.meta.line, (("OP", str(node.children[0])),))
    if data == "unary_op":
        op = node.children[0]
        return ("unary_op", node.meta.line, (("OP", str(op)), _ref_expr(node.children[1])))
    kids = tuple(k for k in (_ref_expr(c) for c in node.children
                             if not (_is_tree(c) and c.data == "new_line_or_comment")) if k is not None)
    if data in ("identifier",):
        kids = tuple(("NAME", v) for _t, v in kids)
    return (data, node.meta.line, kids)


def _subtrees(node: Any) -> list[Any]:
    return [c for c in node.children if _is_tree(c) and c.data != "new_line_or_comment"]


# --------------------------------------------------------------------------- infraleash -> model
def our_model(parsed: Any) -> tuple[str, Any]:
    """("ok", model) or ("error", line) for infraleash's ParsedFile."""
    if parsed.problem is not None:
        return "error", parsed.problem.line
    return "ok", _our_body(parsed.attrs, parsed.blocks)


def _our_body(attrs: dict[str, Any], blocks: list[Any]) -> Any:
    return ({name: (a.line, cut_comments(a.text), _our_expr(a.expr)) for name, a in attrs.items()},
            [(b.type, b.labels, b.line, b.end_line, _our_body(b.attrs, b.blocks)) for b in blocks])


def _our_expr(node: Any) -> Any:
    from infraleash.terraform.hcl_tree import Token

    if isinstance(node, Token):
        if node.type in ("MINUS", "NOT"):
            return ("OP", str(node))
        return (node.type, str(node)) if node.type in _KEEP_TOKENS or node.type == "OP" else None
    data = node.data
    if data == "string" and any(p.children and not isinstance(p.children[0], Token)
                                and p.children[0].data == "template_directive" for p in node.children):
        found = []
        for p in node.children:
            inner = p.children[0]
            if isinstance(inner, Token):
                continue
            if inner.data == "interpolation":
                found.append(_our_expr(inner.children[0]))
            else:
                found.extend(_our_expr(c) for c in inner.children)
        return ("string-with-directive", node.meta.line, tuple(found))
    kids = tuple(k for k in (_our_expr(c) for c in node.children) if k is not None)
    return (data, node.meta.line, kids)


_TRAILING_COMMENT = re.compile(r"(?:\s*(?:#[^\n]*|//[^\n]*|/\*.*?\*/))+\s*\Z", re.S)


def cut_comments(src: str) -> str:
    """An expression's text without comments after it (see the module docstring)."""
    src = src.strip()
    if "#" in src or "//" in src or "/*" in src:
        src = _TRAILING_COMMENT.sub("", src)
    return src.strip()
