"""hcl_parse: our LALR parser gives the trees and positions python-hcl2's parser gives; cached expressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hcl2.parser import parser as hcl2_parser
from lark import Token, Tree

from infraleash.terraform.hcl_parse import MAX_NESTING, _nesting_line, _parser, parse_expression

FIXTURES = Path(__file__).parents[1] / "checks" / "fixtures" / "realistic"


def _shape(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, Tree):
        meta = node.meta
        where = None if meta.empty else (meta.line, meta.column, meta.start_pos, meta.end_line, meta.end_column,
                                         meta.end_pos)
        out.append((node.data, where))
        for c in node.children:
            _shape(c, out)
    elif isinstance(node, Token):
        out.append((node.type, str(node), node.line, node.column, node.start_pos, node.end_pos))
    else:
        out.append(node)
    return out


def test_same_trees_and_positions_as_python_hcl2() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*.tf"))]
    texts.append('locals {\n  x = { for k, v in var.m : k => v if v != null }\n  y = [for s in var.l : upper(s)]\n'
                 '  z = var.a ? "${var.b}-x" : <<-EOT\n    hello ${var.c}\n  EOT\n  w = aws_vpc.v[*].id\n}\n')
    assert len(texts) > 5
    for text in texts:
        ours, theirs = _shape(_parser().parse(text + "\n"), []), _shape(hcl2_parser().parse(text + "\n"), [])
        assert ours == theirs
        assert any(isinstance(x, tuple) and x[0] == "block" and x[1] is not None for x in ours)


def test_parse_expression_is_cached_and_tolerates_garbage() -> None:
    first = parse_expression("var.x + 1")
    assert isinstance(first, Tree) and parse_expression("var.x + 1") is first
    assert parse_expression("var.x +") is None


def test_nesting_scan_counts_brackets_outside_strings_only() -> None:
    deep = "x = " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
    assert _nesting_line("a = 1\n\n" + deep) == 3
    quoted = 'x = "' + "[" * (MAX_NESTING + 5) + '"\n'
    assert _nesting_line(quoted) == 0
    escaped = 'x = "\\"' + "{" * (MAX_NESTING + 5) + '"\n'  # the escaped quote does not end the string
    assert _nesting_line(escaped) == 0
    assert _nesting_line("(" * MAX_NESTING + ")" * MAX_NESTING) == 0
