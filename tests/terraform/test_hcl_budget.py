"""The evaluation budget (terraform/hcl_budget.py) and the confined file functions (terraform/hcl_eval.py).

Each bomb is a real configuration loaded the way ``check`` loads it: its value must come back unknown,
with one event naming the file, line and limit, in bounded time and bounded peak memory (tracemalloc).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from infraleash.surfaces.cli import main
from infraleash.terraform import hcl
from infraleash.terraform.config import Config, Unknown
from infraleash.terraform.hcl import load_config, load_text
from infraleash.terraform.hcl_budget import FILE_RULE_ID, RULE_ID, Budget, BudgetExceeded

PEAK_BYTES = 96 * 2**20  # what one bomb may make the evaluator hold at once
SECONDS = 20.0  # a bomb stops in < 5 s here (traced by tracemalloc); the machine is shared and slow


def _load(expr: str) -> tuple[Config, object, float, int]:
    text = f'locals {{\n  x = {expr}\n}}\n\nresource "aws_s3_bucket" "b" {{\n  bucket = local.x\n}}\n'
    tracemalloc.start()
    started = time.perf_counter()
    try:
        cfg = load_text(text, "main.tf")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    block = cfg.by_address("aws_s3_bucket.b")
    assert block is not None
    return cfg, block.get("bucket"), elapsed, peak


BOMBS = {
    "range": ("range(1000000000)", "range"),
    "range of three": ("range(0, 1000000000000, 3)", "range"),
    "format width": ('format("%1000000000d", 1)', "size"),
    "format precision": ('format("%.999999999f", 1)', "size"),
    "indent": ('indent(1000000000, "a\\nb\\nc")', "size"),
    "replace": ('replace(join("", [for i in range(1000) : "aaaaaaaaaa"]), "a", join("", range(1000)))', "size"),
    "regex replace": ('replace(join("", [for i in range(1000) : "aaaa"]), "/(a)/", join("", range(1000)))',
                      "size"),
    "join": ('join(join("", range(1000)), range(1000))', "size"),
    "pow": ("pow(10, 1000000000)", "number"),
    "big literal": ("9" * 5000, "number"),
    "nested for": ("[for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]",
                   "steps"),
    "formatlist": ('formatlist("%900000d", range(1000))', "size"),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_is_unknown_with_an_event_in_bounded_time_and_memory(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expr, limit = BOMBS[name]
    if "steps" in limit:  # traced by tracemalloc, 1M steps take the whole time budget: a smaller step budget
        monkeypatch.setattr(hcl, "Budget", functools.partial(Budget, max_steps=200_000))
    cfg, value, elapsed, peak = _load(expr)
    assert isinstance(value, Unknown), value
    events = [p for p in cfg.problems if p.rule == RULE_ID]
    assert events, cfg.problems
    assert events[0].file == "main.tf" and events[0].line == 2, events[0]
    assert _limit_words(events[0].message) in limit.split("|"), events[0].message
    assert elapsed < SECONDS, f"{name}: {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"{name}: peak {peak / 2**20:.0f} MiB"


def _limit_words(message: str) -> str:
    """Which limit a message names, as the key of hcl_budget.LIMITS."""
    for key, words in {"range": "range()", "number": "bits", "steps": "evaluation steps",
                       "size": "per value", "total": "built per configuration", "depth": "nesting",
                       "time": "s of evaluation"}.items():
        if words in message:
            return key
    return message


def test_a_value_doubled_through_locals_is_refused_before_anything_walks_it() -> None:
    """a1 = [a0, a0], a2 = [a1, a1] ...: shared references make 2^40 elements in a few bytes."""
    lines = ['  a0 = "xxxxxxxxxx"'] + [f"  a{i} = [local.a{i - 1}, local.a{i - 1}]" for i in range(1, 41)]
    text = "locals {\n" + "\n".join(lines) + '\n}\n\nresource "aws_s3_bucket" "b" {\n  tags = local.a40\n}\n'
    started = time.perf_counter()
    cfg = load_text(text, "main.tf")
    assert time.perf_counter() - started < SECONDS
    block = cfg.by_address("aws_s3_bucket.b")
    assert block is not None and isinstance(block.get("tags"), Unknown)
    assert any(p.rule == RULE_ID and "per value" in p.message for p in cfg.problems), cfg.problems


def test_a_spent_budget_is_reported_once_and_later_values_are_unknown() -> None:
    text = ('locals {\n  x = [for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]\n}\n'
            'resource "aws_s3_bucket" "a" {\n  tags = local.x\n}\n'
            + "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "n{i}"\n}}\n' for i in range(3)))
    cfg = load_text(text, "main.tf")
    spent = [p for p in cfg.problems if p.rule == RULE_ID and "evaluation stopped" in p.message]
    assert len(spent) == 1, cfg.problems
    later = [b for b in cfg.resources if b.name.startswith("b")]
    assert len(later) == 3 and all(isinstance(b.get("bucket"), Unknown) for b in later)


def test_a_dynamic_block_of_too_many_elements_is_one_unknown_block() -> None:
    text = ('locals {\n  ports = [for i in range(1000) : [for j in range(10) : i * 10 + j]]\n}\n\n'
            'resource "aws_security_group" "x" {\n  dynamic "ingress" {\n    for_each = flatten(local.ports)\n'
            '    content {\n      from_port = ingress.value\n    }\n  }\n}\n')
    cfg = load_text(text, "main.tf")
    block = cfg.by_address("aws_security_group.x")
    assert block is not None and len(block.blocks("ingress")) == 1
    assert isinstance(block.blocks("ingress")[0].get("from_port"), Unknown)
    event = next(p for p in cfg.problems if p.rule == RULE_ID)
    assert event.line == 7 and "10,000 elements" in event.message and "4,096 nested blocks" in event.message


def test_ordinary_functions_keep_their_values() -> None:
    cases = {
        "range(3)": [0, 1, 2], "range(5, 1)": [5, 4, 3, 2], "range(0, 1, 0.25)": [0, 0.25, 0.5, 0.75],
        'format("%05d|%-4s|%3s", 42, "ab", "c")': "00042|ab  |  c",
        'replace("a-b-c", "/(\\\\w)-/", "$1_")': "a_b_c", 'replace("abc", "b", "xx")': "axxc",
        'regex("(?P<k>\\\\w+)=(?P<v>\\\\d+)", "x k=12")': {"k": "k", "v": "12"},
        'regexall("[0-9]+", "a1b22c333")': ["1", "22", "333"],
        'distinct([1, "1", 1, true, [1], [1]])': [1, "1", True, [1]],
        'setintersection(["a", "b", "c"], ["b", "c", "d"])': ["b", "c"],
        'setsubtract(["a", "b", "c"], ["b"])': ["a", "c"],
        'matchkeys(["i-1", "i-2"], ["us", "eu"], ["eu"])': ["i-2"],
        'transpose({a = ["1", "2"], b = ["2"]})': {"1": ["a"], "2": ["a", "b"]},
        'indent(2, "a\\nb")': "a\n  b", "pow(2, 10)": 1024, 'join("-", ["a", "b"])': "a-b",
        'formatlist("%s=%d", ["a", "b"], [1, 2])': ["a=1", "b=2"],
    }
    for expr, expected in cases.items():
        cfg, value, _, _ = _load(expr)
        assert value == expected, f"{expr}: {value!r}"
        assert not cfg.problems, (expr, cfg.problems)


def test_a_bad_regex_is_unknown_without_noise(capfd: pytest.CaptureFixture[str]) -> None:
    cfg, value, _, _ = _load('regex("(?<=a)b", "ab")')  # lookbehind: not RE2, not Terraform
    assert isinstance(value, Unknown) and not cfg.problems
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------------- file functions

def _module(tmp_path: Path, body: str) -> Config:
    (tmp_path / "main.tf").write_text(f'resource "x_y" "a" {{\n{body}}}\n', encoding="utf-8")
    return load_config(tmp_path)


def test_file_functions_read_regular_files_inside_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text('{"Version": "2012-10-17"}', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.tpl").write_text("name=${name}", encoding="utf-8")
    cfg = _module(tmp_path, '  p = file("policy.json")\n  t = templatefile("${path.module}/sub/t.tpl", {name = "x"})\n'
                            '  e = fileexists("sub/t.tpl")\n  b = filebase64("sub/t.tpl")\n'
                            '  h = filesha256("sub/t.tpl")\n')
    block = cfg.by_address("x_y.a")
    assert block is not None
    assert block.get("p") == {"Version": "2012-10-17"} and block.get("t") == "name=x" and block.get("e") is True
    assert block.get("b") == "bmFtZT0ke25hbWV9"
    assert block.get("h") == hashlib.sha256(b"name=${name}").hexdigest()
    assert not cfg.problems


def test_file_functions_refuse_paths_outside_and_special_files(tmp_path: Path) -> None:
    root = tmp_path / "infra"
    root.mkdir()
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = AKIASECRETSECRETSECRET\n", encoding="utf-8")
    (root / "link").symlink_to(secret)
    os.mkfifo(root / "pipe")
    (root / "big.txt").write_bytes(b"x" * 1_000_001)
    cfg = _module(root, f'  abs = file("{secret}")\n  up = file("../credentials")\n  link = file("link")\n'
                        f'  exists = fileexists("{secret}")\n  pipe = file("pipe")\n  zero = file("/dev/zero")\n'
                        '  big = file("big.txt")\n  tpl = templatefile("../credentials", {})\n'
                        '  b64 = filebase64("/etc/hostname")\n')
    block = cfg.by_address("x_y.a")
    assert block is not None
    for name in ("abs", "up", "link", "exists", "pipe", "zero", "big", "tpl", "b64"):
        assert isinstance(block.get(name), Unknown), (name, block.get(name))
    refused = {p.line: p.message for p in cfg.problems if p.rule == FILE_RULE_ID}
    assert sorted(refused) == list(range(2, 11)), cfg.problems
    assert "outside the configuration" in refused[2] and "outside the configuration" in refused[4]
    assert "not a regular file" in refused[6] and "larger than" in refused[8]
    text = repr(block.attrs) + repr(cfg.problems)
    assert "AKIASECRET" not in text  # no byte of a refused file is read, none reaches a finding


def test_a_file_through_the_check_command_is_a_finding_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('locals {\n  x = range(1000000000)\n}\n\nresource "aws_s3_bucket" "b" {\n'
                                      '  bucket = file("/etc/passwd")\n  tags = local.x\n}\n', encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
        main(["check", str(tmp_path), "--format", "json"])
    assert e.value.code == 1, err.getvalue()
    findings = {f["rule"]: f for f in json.loads(out.getvalue())["findings"]}
    assert (findings[RULE_ID]["file"], findings[RULE_ID]["line"]) == ("main.tf", 2)
    assert (findings[FILE_RULE_ID]["file"], findings[FILE_RULE_ID]["line"]) == ("main.tf", 6)
    assert "root:" not in out.getvalue()  # /etc/passwd's content


def test_a_heredoc_of_whitespace_is_read_in_linear_time() -> None:
    """The heredoc regex (lazy body, ``[ \\t]*`` before the marker) took 91 s on 100 KB of spaces."""
    text = 'locals {\n  x = <<EOF\n' + " " * 400_000 + '\nEOF\n}\n\nresource "aws_s3_bucket" "b" {\n  bucket = local.x\n}\n'
    started = time.perf_counter()
    cfg = load_text(text, "main.tf")
    assert time.perf_counter() - started < 10
    block = cfg.by_address("aws_s3_bucket.b")
    assert block is not None and block.get("bucket") == " " * 400_000 + "\n"


def test_a_string_of_unclosed_escapes_is_read_in_linear_time() -> None:
    """``$${`` without a ``}`` 60,000 times took 33 s (each escape scanned to the end of the string)."""
    text = 'resource "aws_s3_bucket" "b" {\n  bucket = "' + "$${" * 60_000 + '"\n  acl = "x$${a $${b}y"\n}\n'
    started = time.perf_counter()
    cfg = load_text(text, "main.tf")
    assert time.perf_counter() - started < 10
    block = cfg.by_address("aws_s3_bucket.b")
    assert block is not None and block.get("bucket") == "${" * 60_000
    assert block.get("acl") == "x${a ${b}y"  # every $${ is a literal ${, as Terraform reads it


def test_the_time_limit_counts_evaluation_only_not_the_pauses_between() -> None:
    budget = Budget(max_seconds=0.2)
    budget.pause()  # a load done: deferred blocks may be read much later (terraform/hcl.py)
    time.sleep(0.3)
    budget.resume()
    budget.tick(4096)  # time is checked on the way: not spent, the pause did not count
    assert budget.spent is None
    time.sleep(0.3)  # the clock runs again
    with pytest.raises(BudgetExceeded) as e:
        budget.tick(4096)
    assert e.value.limit == "time"
