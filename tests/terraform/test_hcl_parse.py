"""hcl_parse: tree-sitter parse into raw blocks with lines; problems with file and line; cached expressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.terraform.hcl_parse import MAX_NESTING, _nesting_line, parse_expression, parse_text
from infraleash.terraform.hcl_tree import Tree


def test_blocks_attributes_and_lines() -> None:
    text = ('# c\nresource "aws_s3_bucket" "logs" {\n  bucket = "x" # trailing\n  tags = {\n    a = 1\n  }\n'
            '  versioning {\n    enabled = true\n  }\n}\n')
    pf = parse_text(text, "main.tf")
    assert pf.problem is None
    (rb,) = pf.blocks
    assert (rb.type, rb.labels, rb.line, rb.end_line) == ("resource", ["aws_s3_bucket", "logs"], 2, 10)
    assert rb.attrs["bucket"].line == 3 and rb.attrs["bucket"].text == '"x"'
    assert rb.attrs["tags"].line == 4 and rb.attrs["tags"].text == "{\n    a = 1\n  }"
    assert [(b.type, b.line, b.end_line) for b in rb.blocks] == [("versioning", 7, 9)]


def test_positions_are_characters_not_bytes_in_non_ascii_files() -> None:
    text = 'locals {\n  name = "café ☕"\n  ref  = aws_vpc.main.id\n}\n'
    pf = parse_text(text, "main.tf")
    attr = pf.blocks[0].attrs["ref"]
    assert attr.text == "aws_vpc.main.id"
    expr = attr.expr
    assert isinstance(expr, Tree)
    assert (expr.meta.line, text[expr.meta.start_pos:expr.meta.end_pos]) == (3, "aws_vpc.main.id")
    assert pf.blocks[0].attrs["name"].text == '"café ☕"'


def test_crlf_files_parse_with_the_same_lines() -> None:
    text = 'variable "a" {\r\n  default = <<EOT\r\nhello\r\nEOT\r\n}\r\nvariable "b" {}\r\n'
    pf = parse_text(text, "main.tf")
    assert pf.problem is None
    assert [(b.labels[0], b.line) for b in pf.blocks] == [("a", 1), ("b", 6)]


def test_malformed_hcl_is_a_problem_with_its_line() -> None:
    pf = parse_text('resource "a" "b" {\n  x = 1\n  y = [1, 2\n}\n\nlocals {\n}\n', "bad.tf")
    assert pf.problem is not None and pf.problem.file == "bad.tf"
    assert pf.problem.message.startswith("malformed HCL: ")
    assert pf.problem.line in (3, 4)
    assert parse_text('x = \n', "bad.tf").problem is not None
    assert parse_text('resource "a" "b" {\n', "bad.tf").problem is not None


def test_parse_expression_is_cached_and_tolerates_garbage() -> None:
    first = parse_expression("var.x + 1")
    assert isinstance(first, Tree) and parse_expression("var.x + 1") is first
    assert first.data == "binary_op"
    assert parse_expression("var.x +") is None
    assert parse_expression("a = 1\nb") is None


def test_nesting_scan_counts_brackets_outside_strings_only() -> None:
    deep = "x = " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
    assert _nesting_line("a = 1\n\n" + deep) == 3
    quoted = 'x = "' + "[" * (MAX_NESTING + 5) + '"\n'
    assert _nesting_line(quoted) == 0
    escaped = 'x = "\\"' + "{" * (MAX_NESTING + 5) + '"\n'  # the escaped quote does not end the string
    assert _nesting_line(escaped) == 0
    assert _nesting_line("(" * MAX_NESTING + ")" * MAX_NESTING) == 0
    pf = parse_text("a = 1\n" + deep + "\n", "deep.tf")
    assert pf.problem is not None and pf.problem.line == 2


def test_same_bytes_under_two_names_are_parsed_once_and_named_apart(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A file copied into every environment of a monorepo is parsed once, yet each copy keeps its own name."""
    from infraleash.terraform import hcl_parse

    # unique bytes (the directory's name in a comment): no earlier test of this process parsed them
    text = f'# {tmp_path.name}\nresource "aws_vpc" "v" {{\n  cidr_block = "10.0.0.0/16"\n}}\nbroken {{\n'
    for env in ("dev", "prod"):
        (tmp_path / env).mkdir()
        (tmp_path / env / "main.tf").write_text(text, encoding="utf-8")
    calls: list[str] = []
    real = hcl_parse.parse_text

    def counted(text: str, rel: str, line_map: list[int] | None = None) -> hcl_parse.ParsedFile:
        calls.append(rel)
        return real(text, rel, line_map)

    monkeypatch.setattr(hcl_parse, "parse_text", counted)
    dev = hcl_parse.parse_file(tmp_path / "dev" / "main.tf", "dev/main.tf")
    prod = hcl_parse.parse_file(tmp_path / "prod" / "main.tf", "prod/main.tf")
    assert calls == ["dev/main.tf"]
    assert (dev.rel, prod.rel) == ("dev/main.tf", "prod/main.tf")
    assert dev.problem is not None and prod.problem is not None
    assert (dev.problem.file, prod.problem.file) == ("dev/main.tf", "prod/main.tf")
    assert prod.problem.line == dev.problem.line == 6
    # the same bytes read as JSON syntax are not the HCL parse
    (tmp_path / "prod" / "main.tf.json").write_text(text, encoding="utf-8")
    as_json = hcl_parse.parse_file(tmp_path / "prod" / "main.tf.json", "prod/main.tf.json")
    assert as_json.problem is not None and "JSON" in as_json.problem.message


def test_a_file_is_read_whole_even_when_it_grew_after_its_stat(tmp_path: Path) -> None:
    from infraleash.terraform.hcl_parse import _read

    f = tmp_path / "main.tf"
    text = b'locals {\n  a = "' + b"x" * 3_000_000 + b'"\n}\n'
    f.write_bytes(text)
    assert _read(f, len(text)) == text
    assert _read(f, 10) == text  # the stat said 10 bytes: it read on to the end
    assert _read(f, len(text) + 5) == text


def test_a_fifo_named_like_a_tf_file_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    import os

    from infraleash.terraform.hcl_parse import parse_file

    os.mkfifo(tmp_path / "pipe.tf")
    parsed = parse_file(tmp_path / "pipe.tf", "pipe.tf")
    assert parsed.problem is not None and parsed.problem.message == "not a regular file; not parsed"
    assert parsed.problem.file == "pipe.tf" and parsed.blocks == []
