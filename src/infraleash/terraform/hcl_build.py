"""Build the evaluator's trees (:mod:`infraleash.terraform.hcl_tree`) from a tree-sitter parse.

tree-sitter-hcl (a compiled grammar) parses the file; this module walks its concrete
syntax tree once and produces, for every attribute, the expression tree python-hcl2's
grammar would give (the shape the evaluator reads), with lines and character offsets
taken from the tree-sitter nodes.  Comments are dropped; punctuation the evaluator never
reads is not kept.  How the two grammars differ, and how each difference is mapped:

* tree-sitter flattens a traversal (``a.b[0].c``) into one node list; it is nested
  back into ``expr_term(get_attr_expr_term(expr_term(...), get_attr))`` levels;
* ``-1.5`` is a unary minus on a literal in tree-sitter and one ``FLOAT_LITERAL`` in
  python-hcl2 when the sign touches the digits: it becomes ``float_lit("-1.5")`` then
  (``-1`` is a unary minus in both);
* tree-sitter-hcl nests ``a ? b : c ? d : e`` to the left; HCL (and python-hcl2) nest it to
  the right, ``a ? b : (c ? d : e)``: the chain is rebuilt that way;
* a quoted string's literal text is re-split into ``STRING_CHARS`` / ``$${``-escaped
  runs as python-hcl2 lexes it (and as Terraform reads it: ``$$${x}`` is ``$`` + an escaped
  ``$${x}``, where tree-sitter-hcl sees ``$$`` + an interpolation); a template directive (``%{ if }``) becomes one
  ``template_directive`` part holding the expressions inside it;
* ``provider::aws::f(...)`` is one identifier in tree-sitter and three in python-hcl2.
"""

from __future__ import annotations

import re
from typing import Any

from infraleash.terraform.hcl_tree import Source, Token, Tree, make_tree

# An escaped ``$${...}`` / ``%%{...}`` up to its ``}``, scanning no further than the next escape (else a run of
# ``$${`` without a ``}`` is quadratic: 180 KB took 33 s); an escape never closed is the three characters alone.
_ESCAPED = re.compile(r"(\$\$\{(?:[^}$%]|[$%](?![$%]\{|\$\{|%\{))*\}|%%\{(?:[^}$%]|[$%](?![$%]\{|\$\{|%\{))*\}"
                      r"|\$\$\{|%%\{)")
_INT = re.compile(r"[0-9]+")


def _kind_ids() -> dict[tuple[str, bool], int]:
    """tree-sitter-hcl's node kinds: (name, named) -> id.

    The builder compares ``node.kind_id`` (an int) rather than ``node.type`` (a new str on every read): a
    quarter of the conversion's time went to reading and comparing kind names.  A kind with two ids (an alias
    in a newer grammar) would make an id comparison miss nodes, so it stops the import instead.
    """
    import tree_sitter
    import tree_sitter_hcl

    lang = tree_sitter.Language(tree_sitter_hcl.language())
    ids: dict[tuple[str, bool], int] = {}
    for i in range(lang.node_kind_count):
        name = lang.node_kind_for_id(i)
        if name is not None and lang.node_kind_is_visible(i):
            key = (name, lang.node_kind_is_named(i))
            if key in ids:
                raise ImportError(f"tree-sitter-hcl has two ids for the node kind {key[0]!r}")
            ids[key] = i
    return ids


_IDS = _kind_ids()
_ATTR_SPLAT = _IDS["attr_splat", True]
_BINARY_OPERATION = _IDS["binary_operation", True]
_COLLECTION_VALUE = _IDS["collection_value", True]
_COMMENT = _IDS["comment", True]
_CONDITIONAL = _IDS["conditional", True]
_ELLIPSIS = _IDS["ellipsis", True]
_EXPRESSION = _IDS["expression", True]
_FOR_COND = _IDS["for_cond", True]
_FOR_EXPR = _IDS["for_expr", True]
_FOR_INTRO = _IDS["for_intro", True]
_FOR_TUPLE_EXPR = _IDS["for_tuple_expr", True]
_FUNCTION_ARGUMENTS = _IDS["function_arguments", True]
_FUNCTION_CALL = _IDS["function_call", True]
_GET_ATTR = _IDS["get_attr", True]
_HEREDOC_TEMPLATE = _IDS["heredoc_template", True]
_IDENTIFIER = _IDS["identifier", True]
_INDEX = _IDS["index", True]
_LITERAL_VALUE = _IDS["literal_value", True]
_LPAR = _IDS["(", False]
_NEW_INDEX = _IDS["new_index", True]
_NUMERIC_LIT = _IDS["numeric_lit", True]
_OBJECT_ELEM = _IDS["object_elem", True]
_OPERATION = _IDS["operation", True]
_SPLAT = _IDS["splat", True]
_STRING_LIT = _IDS["string_lit", True]
_BOOL_LIT = _IDS["bool_lit", True]
_NULL_LIT = _IDS["null_lit", True]
_TEMPLATE_EXPR = _IDS["template_expr", True]
_TEMPLATE_INTERPOLATION = _IDS["template_interpolation", True]
_TEMPLATE_LITERAL = _IDS["template_literal", True]
_TEMPLATE_DIRECTIVE = _IDS["template_directive", True]
_TUPLE = _IDS["tuple", True]
_UNARY_OPERATION = _IDS["unary_operation", True]
_VARIABLE_EXPR = _IDS["variable_expr", True]
_POSTFIX = frozenset({_GET_ATTR, _INDEX, _SPLAT})
_TEXT_PIECES = frozenset({_TEMPLATE_INTERPOLATION, _TEMPLATE_DIRECTIVE})
# The binary operators (unnamed nodes): id -> the OP token the evaluator reads
_BINARY_OPS = {_IDS[op, False]: Token("OP", op)
               for op in ("||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%")}
# Tokens that are always the same text are shared: nothing modifies a token, and a Token costs a str and a dict
_LPAR_TOKEN, _RPAR_TOKEN, _ELLIPSIS_TOKEN = Token("LPAR", "("), Token("RPAR", ")"), Token("ELLIPSIS", "...")


class Unsupported(Exception):
    """A node this builder does not know (a tree-sitter-hcl grammar newer than this code)."""

    def __init__(self, node: Any) -> None:
        super().__init__(node.type)
        self.line = node.start_point[0] + 1
        self.kind = node.type


class Builder:
    """Converts the nodes of one parsed source (``data``: the UTF-8 bytes tree-sitter read).

    Written for speed (it runs once per node of every file, and py-tree-sitter makes a Python object for
    every node it hands out): kinds are compared as ids; a node's ``children`` are read once, or only the
    one child needed (``child(i)``) when the others are punctuation; a node whose text is all that is needed
    (a variable, a plain string's quotes) is not opened; trees are made directly (``make_tree(kind, children,
    start, end, source)``) and equal tokens are one object per source (:meth:`token`).
    """

    def __init__(self, data: bytes, text: str, line_map: list[int] | None = None) -> None:
        self.data = data
        self.text = text
        self.source = Source(data, text, line_map)
        # ASCII text: byte offsets are character offsets, so a node's text is a slice of ``text``
        self.ascii = len(data) == len(text)
        self._tokens: dict[tuple[str, str], Token] = {}
        self._names: dict[str, Token] = {}  # the NAME tokens (half of all tokens), by text
        self._chars: dict[str, Token] = {}  # the STRING_CHARS tokens of literal runs without escapes, by text

    def pos(self, byte: int) -> int:
        return byte if self.ascii else self.source.pos(byte)

    def tree(self, data: str, children: list[Any], first: Any, last: Any) -> Tree:
        return make_tree(data, children, first.start_byte, last.end_byte, self.source)

    def src(self, node: Any) -> str:
        if self.ascii:
            return self.text[node.start_byte:node.end_byte]
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def text_of(self, start: int, end: int) -> str:
        """The source text between two byte offsets."""
        return self.text[start:end] if self.ascii else self.data[start:end].decode("utf-8", "replace")

    def token(self, type_: str, text: str) -> Token:
        """The ``type_`` token ``text``, one object per distinct token in the source (names and literals recur)."""
        key = (type_, text)
        tok = self._tokens.get(key)
        if tok is None:
            tok = self._tokens[key] = Token(type_, text)
        return tok

    # ---------------------------------------------------------------- expressions
    def expression(self, node: Any) -> Any:
        if node.child_count == 1:  # the usual case (a lone child is never a comment): no list, no term() call
            kid = node.child(0)
            kind = kid.kind_id
            # the two most frequent terms, a variable and a literal, are built here (as single() would) to save calls
            if kind == _VARIABLE_EXPR:
                return make_tree("expr_term", [self.identifier(kid)], kid.start_byte, kid.end_byte, self.source)
            if kind == _LITERAL_VALUE:
                lit = kid.child(0)
                inner = self.string(lit) if lit.kind_id == _STRING_LIT else self.literal(lit)
                return make_tree("expr_term", [inner], kid.start_byte, kid.end_byte, self.source)
            if kind == _CONDITIONAL:
                return self.conditional(kid)
            return self.single(kid)
        return self.term([c for c in node.children if c.kind_id != _COMMENT])

    def term(self, kids: list[Any]) -> Any:
        """An expression given as tree-sitter's flattened ``_expr_term`` node list."""
        last = kids[-1]
        if len(kids) == 1:
            return self.single(last)
        first = kids[0]
        kind = last.kind_id
        if kind in _POSTFIX:
            return self.postfix(self.term(kids[:-1]), first, last, kind)
        if first.kind_id == _LPAR:
            inner = next(c for c in kids if c.kind_id == _EXPRESSION)
            return make_tree("expr_term", [_LPAR_TOKEN, self.expression(inner), _RPAR_TOKEN],
                             first.start_byte, last.end_byte, self.source)
        raise Unsupported(first)

    def single(self, node: Any) -> Any:
        """An expression term that is one node (a literal, a variable, a call, ...)."""
        kind = node.kind_id
        # most frequent first
        if kind == _VARIABLE_EXPR:  # its one child, the identifier, spans it: not read
            inner = self.identifier(node)
        elif kind == _LITERAL_VALUE:
            inner = self.literal(node.child(0))
        elif kind == _TEMPLATE_EXPR:
            t = node.child(0)
            inner = self.heredoc(t) if t.kind_id == _HEREDOC_TEMPLATE else self.string(t)
        elif kind == _COLLECTION_VALUE:
            c = node.child(0)
            inner = self.tuple_(c) if c.kind_id == _TUPLE else self.object_(c)
        elif kind == _FUNCTION_CALL:
            inner = self.function_call(node)
        elif kind == _OPERATION:
            return self.operation(node.child(0))
        elif kind == _FOR_EXPR:
            f = node.child(0)
            inner = self.for_tuple(f) if f.kind_id == _FOR_TUPLE_EXPR else self.for_object(f)
        elif kind == _EXPRESSION:
            return self.expression(node)
        else:
            raise Unsupported(node)
        return make_tree("expr_term", [inner], node.start_byte, node.end_byte, self.source)

    def postfix(self, base: Any, first: Any, last: Any, kind: int) -> Tree:
        """``base`` followed by the traversal step ``last`` (``.attr``, ``[index]``, a splat)."""
        start, end = first.start_byte, last.end_byte
        src = self.source
        if kind == _GET_ATTR:
            inner = make_tree("get_attr_expr_term", [base, self.get_attr(last)], start, end, src)
        elif kind == _INDEX:
            inner = make_tree("index_expr_term", [base, self.index(last.children[0])], start, end, src)
        else:
            splat = last.children[0]
            name = "attr_splat" if splat.kind_id == _ATTR_SPLAT else "full_splat"
            ops = [self.splat_op(c) for c in splat.children if c.is_named and c.kind_id != _COMMENT]
            inner = make_tree(f"{name}_expr_term", [base, make_tree(name, ops, splat.start_byte, splat.end_byte, src)],
                              start, end, src)
        return make_tree("expr_term", [inner], start, end, src)

    def identifier(self, node: Any) -> Tree:
        start, end = node.start_byte, node.end_byte
        text = self.text[start:end] if self.ascii else self.data[start:end].decode("utf-8", "replace")
        tok = self._names.get(text)
        if tok is None:
            tok = self._names[text] = Token("NAME", text)
        return make_tree("identifier", [tok], start, end, self.source)

    def literal(self, node: Any) -> Tree:
        kind = node.kind_id
        if kind == _STRING_LIT:
            return self.string(node)
        start, end = node.start_byte, node.end_byte
        text = self.text[start:end] if self.ascii else self.data[start:end].decode("utf-8", "replace")
        if kind == _NUMERIC_LIT:
            if _INT.fullmatch(text):
                return make_tree("int_lit", [self.token("INT_LITERAL", text)], start, end, self.source)
            return make_tree("float_lit", [self.token("FLOAT_LITERAL", text)], start, end, self.source)
        if kind in (_BOOL_LIT, _NULL_LIT):
            return make_tree("literal_value", [self.token(text.upper(), text)], start, end, self.source)
        raise Unsupported(node)

    def string(self, node: Any) -> Tree:
        """A quoted template: literal runs, interpolations and directives as ``string_part``s."""
        parts: list[Any] = []
        start, end = node.start_byte, node.end_byte
        if node.child_count == 3 and node.child(1).kind_id == _TEMPLATE_LITERAL:
            # the usual "text": its quotes (one byte each) are not made into nodes
            self._literal_parts(start + 1, end - 1, parts)
            return make_tree("string", parts, start, end, self.source)
        kids = node.children
        cursor = kids[0].end_byte  # after the opening quote
        for child in kids[1:-1]:
            kind = child.kind_id
            if kind in _TEXT_PIECES:
                at = child.start_byte
                if at > cursor and self.data[at - 1] == 36:
                    continue  # "$$${x}" is "$" + an escaped "$${x}" in HCL, not an interpolation
                self._literal_parts(cursor, at, parts)
                part = self.interpolation(child) if kind == _TEMPLATE_INTERPOLATION else self.directive(child)
                parts.append(make_tree("string_part", [part], part.start, part.end, self.source))
                cursor = child.end_byte
        self._literal_parts(cursor, kids[-1].start_byte if len(kids) > 1 else end, parts)
        return make_tree("string", parts, start, end, self.source)

    def _literal_parts(self, start: int, end: int, parts: list[Any]) -> None:
        if end <= start:
            return
        raw = self.text[start:end] if self.ascii else self.data[start:end].decode("utf-8", "replace")
        if "$${" not in raw and "%%{" not in raw:
            tok = self._chars.get(raw)
            if tok is None:
                tok = self._chars[raw] = Token("STRING_CHARS", raw)
            parts.append(make_tree("string_part", [tok], start, end, self.source))
            return
        pos = start
        for piece in _ESCAPED.split(raw):
            if not piece:
                continue
            if piece.startswith("$${"):
                kind = "ESCAPED_INTERPOLATION"
            elif piece.startswith("%%{"):
                kind = "ESCAPED_DIRECTIVE"
            else:
                kind = "STRING_CHARS"
            n = len(piece.encode("utf-8"))
            parts.append(make_tree("string_part", [Token(kind, piece)], pos, pos + n, self.source))
            pos += n

    def interpolation(self, node: Any) -> Tree:
        exprs = [self.expression(c) for c in node.children if c.kind_id == _EXPRESSION]
        return make_tree("interpolation", exprs, node.start_byte, node.end_byte, self.source)

    def directive(self, node: Any) -> Tree:
        """``%{ if }``/``%{ for }``: the expressions inside it, in source order (for references)."""
        found: list[Any] = []
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.kind_id == _EXPRESSION:
                found.append(self.expression(cur))
                continue
            stack.extend(reversed(cur.children))
        return self.tree("template_directive", found, node, node)

    def heredoc(self, node: Any) -> Tree:
        start = node.child(0)
        kind = "heredoc_template_trim" if self.src(start) == "<<-" else "heredoc_template"
        end = node.end_byte
        if self.data[end:end + 2] == b"\r\n":
            end += 2
        elif self.data[end:end + 1] == b"\n":
            end += 1
        raw = self.data[node.start_byte:end].decode("utf-8", "replace")
        return make_tree(kind, [Token(kind.upper(), raw)], node.start_byte, end, self.source)

    def tuple_(self, node: Any) -> Tree:
        expression = self.expression
        items = [expression(c) for c in node.children if c.kind_id == _EXPRESSION]
        return make_tree("tuple", items, node.start_byte, node.end_byte, self.source)

    def object_(self, node: Any) -> Tree:
        elems = []
        src = self.source
        expression = self.expression
        for c in node.children:
            if c.kind_id != _OBJECT_ELEM:
                continue
            if c.child_count == 3:  # key, "=" or ":", value: the one in the middle is not made a node
                key, value = c.child(0), c.child(2)
            else:
                exprs = [e for e in c.children if e.kind_id == _EXPRESSION]
                key, value = exprs[0], exprs[-1]
            key_tree = expression(key)
            key_elem = make_tree("object_elem_key", [key_tree], key.start_byte, key.end_byte, src)
            elems.append(make_tree("object_elem", [key_elem, expression(value)], c.start_byte, c.end_byte, src))
        return make_tree("object", elems, node.start_byte, node.end_byte, src)

    def function_call(self, node: Any) -> Tree:
        kids = node.children
        name = kids[0]
        children: list[Any] = [self.tree("identifier", [self.token("NAME", p)], name, name)
                               for p in self.src(name).split("::")]
        for args in kids:
            if args.kind_id == _FUNCTION_ARGUMENTS:
                items: list[Any] = []
                for c in args.children:
                    kind = c.kind_id
                    if kind == _EXPRESSION:
                        items.append(self.expression(c))
                    elif kind == _ELLIPSIS:
                        items.append(_ELLIPSIS_TOKEN)
                children.append(self.tree("arguments", items, args, args))
                break
        return self.tree("function_call", children, node, node)

    def for_intro(self, node: Any) -> Tree:
        items = [self.identifier(c) if c.kind_id == _IDENTIFIER else self.expression(c)
                 for c in node.children if c.kind_id == _IDENTIFIER or c.kind_id == _EXPRESSION]
        return self.tree("for_intro", items, node, node)

    def for_cond(self, node: Any) -> Tree:
        return self.tree("for_cond", [self.expression(c) for c in node.children if c.kind_id == _EXPRESSION],
                         node, node)

    def for_tuple(self, node: Any) -> Tree:
        return self.tree("for_tuple_expr", self._for_items(node), node, node)

    def for_object(self, node: Any) -> Tree:
        return self.tree("for_object_expr", self._for_items(node), node, node)

    def _for_items(self, node: Any) -> list[Any]:
        items: list[Any] = []
        for c in node.children:
            kind = c.kind_id
            if kind == _FOR_INTRO:
                items.append(self.for_intro(c))
            elif kind == _EXPRESSION:
                items.append(self.expression(c))
            elif kind == _ELLIPSIS:
                items.append(_ELLIPSIS_TOKEN)
            elif kind == _FOR_COND:
                items.append(self.for_cond(c))
        return items

    def conditional(self, node: Any) -> Tree:
        """``a ? b : c ? d : e`` is ``a ? b : (c ? d : e)`` in HCL; tree-sitter-hcl nests it to the left."""
        flat = self._conditional_chain(node)
        result: Any = self.expression(flat[-1])
        end = flat[-1].end_byte
        for i in range(len(flat) - 3, -1, -2):
            cond, yes = flat[i], flat[i + 1]
            result = make_tree("conditional", [self.expression(cond), self.expression(yes), result], cond.start_byte,
                               end, self.source)
        return result

    def _conditional_chain(self, node: Any) -> list[Any]:
        exprs = [c for c in node.children if c.kind_id == _EXPRESSION]
        head = [c for c in exprs[0].children if c.kind_id != _COMMENT]
        if len(head) == 1 and head[0].kind_id == _CONDITIONAL:  # an unparenthesized conditional as the condition
            return [*self._conditional_chain(head[0]), exprs[1], exprs[2]]
        return exprs

    def operation(self, node: Any) -> Any:
        kids = [c for c in node.children if c.kind_id != _COMMENT]
        kind = node.kind_id
        if kind == _UNARY_OPERATION:
            op, rest = kids[0], kids[1:]
            sign = self.src(op)
            if (sign == "-" and len(rest) == 1 and rest[0].kind_id == _LITERAL_VALUE
                    and rest[0].children[0].kind_id == _NUMERIC_LIT and op.end_byte == rest[0].start_byte
                    and not _INT.fullmatch(self.src(rest[0]))):
                # python-hcl2 lexes "-1.5" (not "-1") as one literal
                return self.tree("expr_term", [self.tree("float_lit", [Token("FLOAT_LITERAL", "-" + self.src(rest[0]))],
                                                         op, rest[0])], op, rest[0])
            return self.tree("unary_op", [self.token("MINUS" if sign == "-" else "NOT", sign), self.term(rest)],
                             op, kids[-1])
        if kind == _BINARY_OPERATION:
            i = next(i for i, c in enumerate(kids) if c.kind_id in _BINARY_OPS and not c.is_named)
            left, op, right = kids[:i], kids[i], kids[i + 1:]
            term = self.tree("binary_term", [self.tree("binary_operator", [_BINARY_OPS[op.kind_id]], op, op),
                                             self.term(right)], op, right[-1])
            return self.tree("binary_op", [self.term(left), term], kids[0], kids[-1])
        raise Unsupported(node)

    def get_attr(self, node: Any) -> Tree:
        if node.child_count == 2:  # ".", identifier
            ident = node.child(1)
        else:
            ident = next(c for c in node.children if c.kind_id == _IDENTIFIER)
        return self.tree("get_attr", [self.identifier(ident)], node, node)

    def index(self, node: Any) -> Tree:
        if node.kind_id == _NEW_INDEX:
            expr = next(c for c in node.children if c.kind_id == _EXPRESSION)
            return self.tree("braces_index", [self.expression(expr)], node, node)
        digits = self.src(node).lstrip(".").strip()
        return self.tree("short_index", [Token("INT_LITERAL", digits)], node, node)

    def splat_op(self, node: Any) -> Tree:
        kind = node.kind_id
        if kind == _GET_ATTR:
            return self.get_attr(node)
        if kind == _INDEX:
            return self.index(node.children[0])
        raise Unsupported(node)
