"""hcl_tree: positions computed on demand from byte offsets (lines, columns, character offsets)."""

from __future__ import annotations

from infraleash.terraform.hcl_tree import Source, Token, Tree, name_of


def test_meta_from_byte_offsets_in_a_multibyte_text() -> None:
    text = "é = 1\nab = \"☕\" + x\n"
    data = text.encode()
    start = data.index(b"x")
    node = Tree("identifier", [Token("NAME", "x")], start, start + 1, Source(data, text))
    m = node.meta
    assert (m.line, m.column, m.end_line) == (2, 12, 2)
    assert text[m.start_pos:m.end_pos] == "x"
    assert node.meta is m  # computed once


def test_tokens_are_strings_with_a_type_and_names_read_through_trees() -> None:
    tok = Token("NAME", "aws_vpc")
    assert tok == "aws_vpc" and tok.type == "NAME"
    string = Tree("string", [Tree("string_part", [Token("STRING_CHARS", "lab")], 0, 3, None),
                             Tree("string_part", [Token("STRING_CHARS", "el")], 3, 5, None)], 0, 5, None)
    assert name_of(string) == "label"
    assert name_of(Tree("identifier", [tok], 0, 7, None)) == "aws_vpc"
