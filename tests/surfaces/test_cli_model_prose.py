"""Model prose through the real OpenAI SDK and a local chat-completions server, fact-checked before it is shown."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _cli import run_cli as run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent" / "models"))
from wire_servers import OpenAIServer  # noqa: E402

MODULE = Path(__file__).resolve().parents[1] / "paperwork" / "modules" / "objects_validation"
EXPECTED = Path(__file__).resolve().parents[1] / "paperwork" / "expected" / "objects_validation.md"

PROSE = ("This module creates the bucket `aws_s3_bucket.this` and expires its objects with "
         "`aws_s3_bucket_lifecycle_configuration.this`. "
         "It also creates `aws_kms_key.this` to encrypt the bucket. "
         "Objects expire after 30 days unless `expire_days` is changed. "
         "The bucket name must be 3 to 63 characters long.")


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "INFRALEASH_MODEL_PROVIDER", "INFRALEASH_MODEL"):
        monkeypatch.delenv(var, raising=False)


def test_docs_prose_drops_the_invented_resource_and_the_wrong_number(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model_env: None) -> None:
    with OpenAIServer([{"text": PROSE}]) as server:
        monkeypatch.setenv("INFRALEASH_MODEL_PROVIDER", "openai")
        monkeypatch.setenv("INFRALEASH_MODEL", "local-llm")
        monkeypatch.setenv("INFRALEASH_BASE_URL", f"{server.url}/v1")
        code, out, err = run(capsys, "docs", str(MODULE), "--prose")
    assert code == 0, err
    section, table = out.split("## Requirements", 1)
    assert "### What this module is for" in section and "Written by a model (openai:local-llm" in section
    kept = section.split("Unverified (dropped):")[0]
    assert "This module creates the bucket `aws_s3_bucket.this`" in kept
    assert "The bucket name must be 3 to 63 characters long." in kept
    assert "aws_kms_key" not in kept and "30 days" not in kept
    assert "- It also creates `aws_kms_key.this` to encrypt the bucket. (not in the facts: aws_kms_key.this)" in section
    assert "- Objects expire after 30 days unless `expire_days` is changed. (not in the facts: 30)" in section
    assert "## Requirements" + table == EXPECTED.read_text(encoding="utf-8")  # the facts' part is unchanged
    sent = server.requests[0]["messages"]
    assert "aws_s3_bucket_lifecycle_configuration.this" in sent[1]["content"]  # the model saw the facts


def test_docs_prose_without_a_model_prints_the_deterministic_docs(
        capsys: pytest.CaptureFixture[str], model_env: None, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.delenv("INFRALEASH_BASE_URL", raising=False)
    code, out, err = run(capsys, "docs", str(MODULE), "--prose")
    assert code == 0 and out == EXPECTED.read_text(encoding="utf-8")
    assert "no model configured" in err


def test_incident_rca_prose_is_fact_checked_and_the_customer_update_untouched(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model_env: None, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "paperwork"))
    import incident_logs as planted

    paths = planted.write(tmp_path / "logs")
    prose = ("At 02:15:00 `payments-db` logged that its primary stopped with a full disk. "
             "`checkout-api` then failed to connect 360 times until 02:26:58. "
             "The `billing-worker` queue backed up as well. "
             "About 5000 customers were affected.")
    with OpenAIServer([{"text": prose}]) as server:
        monkeypatch.setenv("INFRALEASH_MODEL_PROVIDER", "openai")
        monkeypatch.setenv("INFRALEASH_MODEL", "local-llm")
        monkeypatch.setenv("INFRALEASH_BASE_URL", f"{server.url}/v1")
        code, out, err = run(capsys, "incident", "report", *(a for p in paths for a in ("--logs", str(p))),
                             "-s", "2", "--dir", str(tmp_path))
    assert code == 0, err
    rca, update = out.split("# Customer update")
    kept = rca.split("Unverified (dropped):")[0]
    assert "### In short" in kept and "Written by a model (openai:local-llm" in kept
    assert "`checkout-api` then failed to connect 360 times until 02:26:58." in kept
    assert "billing-worker" not in kept and "5000" not in kept
    assert "(not in the facts: billing-worker)" in rca and "(not in the facts: 5000)" in rca
    assert "model" not in update and "payments-db" not in update
