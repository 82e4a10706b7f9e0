"""``--log-format``'s grammar (logs/header.py): fields, whitespace, optional parts, escapes; the rest literal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infraleash.logs.header import FormatError, compile_format, split_header

from .test_records_malformed import run_cli

LINUX = r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>"


def test_loghub_formats_split_as_written() -> None:
    fields, content = split_header("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass", LINUX)
    assert fields == {"Month": "Jun", "Date": "14", "Time": "15:16:01", "Level": "combo",
                      "Component": "sshd(pam_unix)", "PID": "19939"} and content == "check pass"
    fields, content = split_header("Jun 14 15:16:02 combo su: session opened", LINUX)
    assert fields["Component"] == "su" and "PID" not in fields and content == "session opened"
    fields, content = split_header("[Sun Dec 04 04:47:44 2005] [error] mod_jk child", r"\[<Time>\] \[<Level>\] <Content>")
    assert (fields, content) == ({"Time": "Sun Dec 04 04:47:44 2005", "Level": "error"}, "mod_jk child")


@pytest.mark.parametrize(("fmt", "line", "content"), [
    ("<A>.<B> <Content>", "a.b msg", "msg"),
    ("<A>.<B> <Content>", "aXb msg", "aXb msg"),  # '.' is a dot, not any character: no match, the line whole
    ("<A> *<Content>", "x *msg", "msg"),
    ("<A> | <Content>", "x | msg", "msg"),
    ("<A> [<B> <Content>", "x [y msg", "msg"),  # an unclosed '[' is a bracket
    ("<A> (y <Content>", "x (y msg", "msg"),  # a '(' without ')?' is a parenthesis
    ("<A> $^ <Content>", "x $^ msg", "msg"),
])
def test_regex_characters_are_themselves(fmt: str, line: str, content: str) -> None:
    assert split_header(line, fmt)[1] == content


def test_a_field_twice_is_a_format_error_and_a_usage_error_through_the_cli(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="<A> appears twice"):
        compile_format("<A> <A> <Content>")
    log = tmp_path / "a.log"
    log.write_text("x y z\n", encoding="utf-8")
    code, _, err = run_cli(["logs", "templates", str(log), "--log-format", "<A> <A> <Content>"])
    assert code == 2 and err.count("\n") == 1 and "--log-format: <A> appears twice" in err, err


def test_a_line_that_almost_matches_many_fields_takes_linear_time() -> None:
    """Ten lazy fields and a ':' that never comes: backtracking would be 64 KB to the tenth power."""
    fmt = " ".join(f"<F{i}>" for i in range(10)) + ": <Content>"
    line = " ".join(["w"] * 32_000)
    started = time.perf_counter()
    assert split_header(line, fmt) == ({}, line)
    assert time.perf_counter() - started < 2
