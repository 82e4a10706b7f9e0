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

from infraleash.terraform.hcl_tree import Source, Token, Tree

_BINARY_OPS = frozenset({"||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"})
_POSTFIX = frozenset({"get_attr", "index", "splat"})
# An escaped ``$${...}`` / ``%%{...}`` up to its ``}``, scanning no further than the next escape (else a run of
# ``$${`` without a ``}`` is quadratic: 180 KB took 33 s); an escape never closed is the three characters alone.
_ESCAPED = re.compile(r"(\$\$\{(?:[^}$%]|[$%](?![$%]\{|\$\{|%\{))*\}|%%\{(?:[^}$%]|[$%](?![$%]\{|\$\{|%\{))*\}"
                      r"|\$\$\{|%%\{)")
_INT = re.compile(r"[0-9]+")
_TEXT_PIECES = frozenset({"template_interpolation", "template_directive"})


class Unsupported(Exception):
    """A node this builder does not know (a tree-sitter-hcl grammar newer than this code)."""

    def __init__(self, node: Any) -> None:
        super().__init__(node.type)
        self.line = node.start_point[0] + 1
        self.kind = node.type


class Builder:
    """Converts the nodes of one parsed source (``data``: the UTF-8 bytes tree-sitter read)."""

    def __init__(self, data: bytes, text: str, line_map: list[int] | None = None) -> None:
        self.data = data
        self.text = text
        self.source = Source(data, text, line_map)

    def pos(self, byte: int) -> int:
        return self.source.pos(byte)

    def tree(self, data: str, children: list[Any], first: Any, last: Any) -> Tree:
        return Tree(data, children, first.start_byte, last.end_byte, self.source)

    def src(self, node: Any) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    # ---------------------------------------------------------------- expressions
    def expression(self, node: Any) -> Any:
        kids = [c for c in node.children if c.type != "comment"]
        if len(kids) == 1 and kids[0].type == "conditional":
            return self.conditional(kids[0])
        return self.term(kids)

    def term(self, kids: list[Any]) -> Any:
        """An expression given as tree-sitter's flattened ``_expr_term`` node list."""
        last = kids[-1]
        first = kids[0]
        src = self.source
        if len(kids) > 1 and last.type in _POSTFIX:
            base = self.term(kids[:-1])
            start, end = first.start_byte, last.end_byte
            kind = last.type
            if kind == "get_attr":
                inner = Tree("get_attr_expr_term", [base, self.get_attr(last)], start, end, src)
            elif kind == "index":
                inner = Tree("index_expr_term", [base, self.index(last.children[0])], start, end, src)
            else:
                splat = last.children[0]
                kind = "attr_splat" if splat.type == "attr_splat" else "full_splat"
                ops = [self.splat_op(c) for c in splat.children if c.is_named and c.type != "comment"]
                inner = Tree(f"{kind}_expr_term", [base, self.tree(kind, ops, splat, splat)], start, end, src)
            return Tree("expr_term", [inner], start, end, src)
        if first.type == "(":
            inner_expr = next(c for c in kids if c.type == "expression")
            return self.tree("expr_term", [Token("LPAR", "("), self.expression(inner_expr), Token("RPAR", ")")],
                             first, last)
        if len(kids) != 1:
            raise Unsupported(first)
        node = first
        kind = node.type
        if kind == "variable_expr":
            return self.tree("expr_term", [self.identifier(node.children[0])], node, node)
        if kind == "literal_value":
            return self.tree("expr_term", [self.literal(node.children[0])], node, node)
        if kind == "operation":
            return self.operation(node.children[0])
        if kind == "template_expr":
            t = node.children[0]
            return self.tree("expr_term", [self.heredoc(t) if t.type == "heredoc_template" else self.string(t)],
                             node, node)
        if kind == "collection_value":
            c = node.children[0]
            return self.tree("expr_term", [self.tuple_(c) if c.type == "tuple" else self.object_(c)], node, node)
        if kind == "function_call":
            return self.tree("expr_term", [self.function_call(node)], node, node)
        if kind == "for_expr":
            f = node.children[0]
            return self.tree("expr_term", [self.for_tuple(f) if f.type == "for_tuple_expr" else self.for_object(f)],
                             node, node)
        if kind == "expression":
            return self.expression(node)
        raise Unsupported(node)

    def identifier(self, node: Any) -> Tree:
        return Tree("identifier", [Token("NAME", self.src(node))], node.start_byte, node.end_byte, self.source)

    def literal(self, node: Any) -> Tree:
        kind = node.type
        text = self.src(node)
        if kind == "numeric_lit":
            if _INT.fullmatch(text):
                return self.tree("int_lit", [Token("INT_LITERAL", text)], node, node)
            return self.tree("float_lit", [Token("FLOAT_LITERAL", text)], node, node)
        if kind in ("bool_lit", "null_lit"):
            return self.tree("literal_value", [Token(text.upper(), text)], node, node)
        if kind == "string_lit":
            return self.string(node)
        raise Unsupported(node)

    def string(self, node: Any) -> Tree:
        """A quoted template: literal runs, interpolations and directives as ``string_part``s."""
        kids = node.children
        parts: list[Any] = []
        cursor = kids[0].end_byte  # after the opening quote
        for child in kids[1:-1]:
            if child.type in _TEXT_PIECES:
                if child.start_byte > cursor and self.data[child.start_byte - 1] == 36:
                    continue  # "$$${x}" is "$" + an escaped "$${x}" in HCL, not an interpolation
                self._literal_parts(cursor, child.start_byte, parts)
                part = self.interpolation(child) if child.type == "template_interpolation" else self.directive(child)
                parts.append(Tree("string_part", [part], part.start, part.end, self.source))
                cursor = child.end_byte
        self._literal_parts(cursor, kids[-1].start_byte if len(kids) > 1 else node.end_byte, parts)
        return self.tree("string", parts, node, node)

    def _literal_parts(self, start: int, end: int, parts: list[Any]) -> None:
        if end <= start:
            return
        raw = self.data[start:end].decode("utf-8", "replace")
        if "$${" not in raw and "%%{" not in raw:
            parts.append(Tree("string_part", [Token("STRING_CHARS", raw)], start, end, self.source))
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
            parts.append(Tree("string_part", [Token(kind, piece)], pos, pos + n, self.source))
            pos += n

    def interpolation(self, node: Any) -> Tree:
        exprs = [self.expression(c) for c in node.children if c.type == "expression"]
        return self.tree("interpolation", exprs, node, node)

    def directive(self, node: Any) -> Tree:
        """``%{ if }``/``%{ for }``: the expressions inside it, in source order (for references)."""
        found: list[Any] = []
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.type == "expression":
                found.append(self.expression(cur))
                continue
            stack.extend(reversed(cur.children))
        return self.tree("template_directive", found, node, node)

    def heredoc(self, node: Any) -> Tree:
        start = node.children[0]
        kind = "heredoc_template_trim" if self.src(start) == "<<-" else "heredoc_template"
        end = node.end_byte
        if self.data[end:end + 2] == b"\r\n":
            end += 2
        elif self.data[end:end + 1] == b"\n":
            end += 1
        raw = self.data[node.start_byte:end].decode("utf-8", "replace")
        return Tree(kind, [Token(kind.upper(), raw)], node.start_byte, end, self.source)

    def tuple_(self, node: Any) -> Tree:
        return self.tree("tuple", [self.expression(c) for c in node.children if c.type == "expression"], node, node)

    def object_(self, node: Any) -> Tree:
        elems = []
        for c in node.children:
            if c.type != "object_elem":
                continue
            exprs = [e for e in c.children if e.type == "expression"]
            key, value = exprs[0], exprs[-1]
            key_tree = self.expression(key)
            elems.append(self.tree("object_elem", [self.tree("object_elem_key", [key_tree], key, key),
                                                   self.expression(value)], c, c))
        return self.tree("object", elems, node, node)

    def function_call(self, node: Any) -> Tree:
        name = node.children[0]
        children: list[Any] = [self.tree("identifier", [Token("NAME", p)], name, name)
                               for p in self.src(name).split("::")]
        args = next((c for c in node.children if c.type == "function_arguments"), None)
        if args is not None:
            items: list[Any] = []
            for c in args.children:
                if c.type == "expression":
                    items.append(self.expression(c))
                elif c.type == "ellipsis":
                    items.append(Token("ELLIPSIS", "..."))
            children.append(self.tree("arguments", items, args, args))
        return self.tree("function_call", children, node, node)

    def for_intro(self, node: Any) -> Tree:
        items = [self.identifier(c) if c.type == "identifier" else self.expression(c)
                 for c in node.children if c.type in ("identifier", "expression")]
        return self.tree("for_intro", items, node, node)

    def for_cond(self, node: Any) -> Tree:
        return self.tree("for_cond", [self.expression(c) for c in node.children if c.type == "expression"],
                         node, node)

    def for_tuple(self, node: Any) -> Tree:
        return self.tree("for_tuple_expr", self._for_items(node), node, node)

    def for_object(self, node: Any) -> Tree:
        return self.tree("for_object_expr", self._for_items(node), node, node)

    def _for_items(self, node: Any) -> list[Any]:
        items: list[Any] = []
        for c in node.children:
            kind = c.type
            if kind == "for_intro":
                items.append(self.for_intro(c))
            elif kind == "expression":
                items.append(self.expression(c))
            elif kind == "ellipsis":
                items.append(Token("ELLIPSIS", "..."))
            elif kind == "for_cond":
                items.append(self.for_cond(c))
        return items

    def conditional(self, node: Any) -> Tree:
        """``a ? b : c ? d : e`` is ``a ? b : (c ? d : e)`` in HCL; tree-sitter-hcl nests it to the left."""
        flat = self._conditional_chain(node)
        result: Any = self.expression(flat[-1])
        end = flat[-1].end_byte
        for i in range(len(flat) - 3, -1, -2):
            cond, yes = flat[i], flat[i + 1]
            result = Tree("conditional", [self.expression(cond), self.expression(yes), result], cond.start_byte,
                          end, self.source)
        return result

    def _conditional_chain(self, node: Any) -> list[Any]:
        exprs = [c for c in node.children if c.type == "expression"]
        head = [c for c in exprs[0].children if c.type != "comment"]
        if len(head) == 1 and head[0].type == "conditional":  # an unparenthesized conditional as the condition
            return [*self._conditional_chain(head[0]), exprs[1], exprs[2]]
        return exprs

    def operation(self, node: Any) -> Any:
        kids = [c for c in node.children if c.type != "comment"]
        if node.type == "unary_operation":
            op, rest = kids[0], kids[1:]
            sign = self.src(op)
            if (sign == "-" and len(rest) == 1 and rest[0].type == "literal_value"
                    and rest[0].children[0].type == "numeric_lit" and op.end_byte == rest[0].start_byte
                    and not _INT.fullmatch(self.src(rest[0]))):
                # python-hcl2 lexes "-1.5" (not "-1") as one literal
                return self.tree("expr_term", [self.tree("float_lit", [Token("FLOAT_LITERAL", "-" + self.src(rest[0]))],
                                                         op, rest[0])], op, rest[0])
            return self.tree("unary_op", [Token("MINUS" if sign == "-" else "NOT", sign), self.term(rest)],
                             op, kids[-1])
        if node.type == "binary_operation":
            i = next(i for i, c in enumerate(kids) if not c.is_named and c.type in _BINARY_OPS)
            left, op, right = kids[:i], kids[i], kids[i + 1:]
            term = self.tree("binary_term", [self.tree("binary_operator", [Token("OP", op.type)], op, op),
                                             self.term(right)], op, right[-1])
            return self.tree("binary_op", [self.term(left), term], kids[0], kids[-1])
        raise Unsupported(node)

    def get_attr(self, node: Any) -> Tree:
        ident = next(c for c in node.children if c.type == "identifier")
        return self.tree("get_attr", [self.identifier(ident)], node, node)

    def index(self, node: Any) -> Tree:
        if node.type == "new_index":
            expr = next(c for c in node.children if c.type == "expression")
            return self.tree("braces_index", [self.expression(expr)], node, node)
        digits = self.src(node).lstrip(".").strip()
        return self.tree("short_index", [Token("INT_LITERAL", digits)], node, node)

    def splat_op(self, node: Any) -> Tree:
        if node.type == "get_attr":
            return self.get_attr(node)
        if node.type == "index":
            return self.index(node.children[0])
        raise Unsupported(node)
