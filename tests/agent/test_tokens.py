"""Token counting: the real o200k/cl100k tokenizer offline for OpenAI models, a calibrated estimate otherwise."""

from __future__ import annotations

import pytest

from infraleash.agent.tokens import (
    EstimateCounter,
    TiktokenCounter,
    content_kind,
    context_window_for,
    counter_for,
    openai_encoding_name,
)


@pytest.mark.parametrize("model, encoding", [("gpt-4.1", "o200k_base"), ("openai:gpt-4o-mini", "o200k_base"),
                                             ("gpt-4", "cl100k_base"), ("o3-mini", "o200k_base"),
                                             ("claude-sonnet-4", None), ("llama3.1:8b", None)])
def test_encoding_per_model(model: str, encoding: str | None) -> None:
    assert openai_encoding_name(model) == encoding


def test_openai_models_use_the_real_tokenizer_without_network() -> None:
    # the loopback-only guard of tests/agent/conftest.py fails this test if tiktoken tries to download
    c = counter_for("gpt-4.1")
    assert isinstance(c, TiktokenCounter) and c.exact and c.name == "tiktoken:o200k_base"
    assert c.count("hello world") == 2 and c.count("") == 0
    assert counter_for("gpt-4").count("tiktoken is great!") == 6  # cl100k_base, as in tiktoken's README


def test_other_models_get_the_calibrated_estimate_with_a_margin() -> None:
    c = counter_for("claude-sonnet-4")
    assert isinstance(c, EstimateCounter) and not c.exact and c.name == "estimate:calibrated+15%"
    prose = "The bucket keeps access logs for the edge proxies and expires them after ninety days. " * 20
    exact = counter_for("gpt-4o").count(prose)
    assert exact <= c.count(prose) <= exact * 1.6


@pytest.mark.parametrize("text, kind", [
    ('{\n  "items": [\n    {"name": "a"}\n  ]\n}', "json"),
    ('resource "aws_s3_bucket" "logs" {\n  bucket = "x"\n}\n', "hcl"),
    ("2026-11-03 10:00:01 INFO a\n2026-11-03 10:00:02 ERROR b\n2026-11-03 10:00:03 INFO c\n", "log"),
    ("Plain words about a bucket.\nAnd another line.\nAnd a third.", "prose"),
])
def test_content_kind(text: str, kind: str) -> None:
    assert content_kind(text) == kind


def test_context_windows() -> None:
    assert context_window_for("claude-sonnet-4") == 200_000
    assert context_window_for("gpt-4.1-mini") == 1_047_576
    assert context_window_for("my-local-model") == 32_768
    assert context_window_for("gpt-4o", configured=9000) == 9000
