"""Provider schemas: the bundled AWS snapshot, lookups, suggestions, the lock file and the cache."""

from __future__ import annotations

import difflib
import os
import random
import time
from pathlib import Path

import pytest

from infraleash.terraform import schema as s


def test_bundled_aws_lookups() -> None:
    aws = s.bundled_aws()
    vpc = aws.resource("aws_vpc")
    assert vpc is not None and vpc.attributes["cidr_block"].optional and vpc.attributes["arn"].computed
    assert "arn" in vpc.exported()
    assert aws.resource("aws_iam_role").attributes["assume_role_policy"].required
    bucket = aws.resource("aws_s3_bucket")
    assert bucket.attributes["acl"].deprecated and bucket.block_types["versioning"].block.deprecated
    assert aws.resource("aws_security_group").attributes["ingress"].object_fields >= {"from_port", "cidr_blocks"}
    assert aws.data_source("aws_ami") is not None and aws.resource("aws_not_a_thing") is None
    assert len(aws.resource_types()) > 1500


def test_suggestions() -> None:
    schemas = s.load_schemas(None)
    assert schemas.suggest_resource("aws_s3_bukket") == "aws_s3_bucket"
    assert schemas.provider_for("random_id") is None


def test_suggest_answers_as_difflib_does() -> None:
    """The pruned search returns exactly difflib.get_close_matches(n=1), ties included."""
    types = s.bundled_aws().resource_types()
    typos = ["aws_s3_bukket", "aws_instanse", "aws_iam_rolee", "aws_lb_listner", "aws_vpc_endpont", "aws_x",
             "azurerm_vm", "aws_security_group_rul", "aws_dynamodb_tabel", "aws_kms_keyy", "zzzz"]
    for name in typos:
        found = difflib.get_close_matches(name, types, n=1, cutoff=0.6)
        assert s.suggest(name, types) == (found[0] if found else None), name
    ties = ["abcd", "abce", "abcf"]  # all three score 0.75 against "abcx": the largest name wins, like difflib
    assert s.suggest("abcx", ties) == difflib.get_close_matches("abcx", ties, n=1)[0] == "abcf"


def test_suggest_answers_as_difflib_does_on_random_names() -> None:
    """Names over a small alphabet (many ties, many near misses): still difflib's answer, at every cutoff."""
    rng = random.Random(7)
    for _ in range(400):
        alphabet = rng.choice(["ab", "abc_", "abcdef_."])
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        candidates = {"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(0, 30))}
        for cutoff in (0.0, 0.6, 0.8):
            found = difflib.get_close_matches(name, candidates, n=1, cutoff=cutoff)
            assert s.suggest(name, candidates, cutoff) == (found[0] if found else None), (name, candidates, cutoff)


def _lcs_table(a: str, b: str) -> int:
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def test_bit_parallel_lcs_is_the_table_algorithms() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        alphabet = rng.choice(["ab", "abc", "abcdefg_"])
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))
        assert s._lcs_length(a, s._char_masks(b), len(b)) == _lcs_table(a, b), (a, b)


def test_nested_blocks_are_built_when_visited() -> None:
    raw = s.bundled_aws()._index.get("r", "aws_wafv2_web_acl")
    assert raw is not None
    acl = s._block_from_index(raw)  # a fresh one (the memo's may have been visited by another test)
    rule = acl.block_types["rule"]
    assert "block" not in vars(rule)  # ~10,000 nested blocks below: none built yet
    assert "statement" in rule.block.block_types and rule.block is rule.block
    provider = s.bundled_aws().provider_config()
    assert "region" in provider.attributes and s.bundled_aws().provider_config() is provider


def test_cached_index_loads_fast_and_per_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRALEASH_CACHE", str(tmp_path))
    monkeypatch.setattr(s, "_memo", {})
    built = s.bundled_aws()  # builds and caches the compact index
    index_file = s._cache_path(s.AWS_SOURCE, "5.100.0")
    assert index_file.is_file()
    header = len(index_file.open("rb").readline())
    assert header < index_file.stat().st_size / 4  # type names and offsets only
    monkeypatch.setattr(s, "_memo", {})
    reads: list[int] = []
    real_pread = os.pread
    monkeypatch.setattr(s.os, "pread", lambda fd, n, off: reads.append(n) or real_pread(fd, n, off))
    started = time.perf_counter()
    aws = s.bundled_aws()
    vpc = aws.resource("aws_vpc")
    assert time.perf_counter() - started < 1.0  # generous on a shared CI machine; ~0.01 s typical
    assert aws.origin == "bundled" and len(aws.resource_types()) == len(built.resource_types()) > 1500
    assert vpc is not None and vpc.attributes["cidr_block"].optional
    assert vpc == built.resource("aws_vpc")  # the file gives what the in-memory index gave
    assert len(reads) == 1 and reads[0] < 20_000  # one type's entry, not the document
    assert aws.resource("aws_vpc") is vpc and len(reads) == 1  # decoded once
    assert aws.resource("aws_no_such_thing") is None and len(reads) == 1


def test_lock_file_and_unavailable_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRALEASH_CACHE", str(tmp_path / "cache"))
    (tmp_path / ".terraform.lock.hcl").write_text(
        'provider "registry.terraform.io/hashicorp/aws" {\n  version     = "4.67.0"\n  constraints = "~> 4.67"\n}\n')
    locked = s.read_lock_file(tmp_path)
    assert locked["registry.terraform.io/hashicorp/aws"].version == "4.67.0"
    schemas = s.load_schemas(tmp_path, use_terraform=False)
    assert schemas.providers["aws"].version == "5.100.0"  # the fallback
    assert any("4.67.0" in n and "not available" in n for n in schemas.notes)


@pytest.mark.sandbox
def test_schema_from_the_initialized_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`terraform providers schema -json` in an initialized directory, cached by provider and locked version."""
    from infraleash.terraform.sandbox import sandbox_env, why_unavailable

    reason = why_unavailable()
    if reason:
        pytest.skip(f"real Terraform sandbox unavailable: {reason}")
    import subprocess

    monkeypatch.setenv("INFRALEASH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(s, "_memo", {})
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text('terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n'
                                  '      version = "5.100.0"\n    }\n  }\n}\n')
    env = sandbox_env(tmp_path / "tfconfig")
    subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=work, env=env, check=True,
                   capture_output=True, timeout=300)
    # the lock names 5.100.0: take the bundled snapshot path away to force the working-directory path
    monkeypatch.setattr(s, "BUNDLED_AWS_VERSION", "0.0.0")
    schemas = s.load_schemas(work, env=env, timeout=300)
    aws = schemas.providers["aws"]
    assert aws.origin == "terraform" and aws.version == "5.100.0" and aws.resource("aws_vpc") is not None
    assert s._cache_path(s.AWS_SOURCE, "5.100.0").is_file()
    monkeypatch.setattr(s, "_memo", {})
    assert s.load_schemas(work, env=env).providers["aws"].origin == "cache"
