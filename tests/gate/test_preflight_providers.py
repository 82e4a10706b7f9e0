"""Installed provider binaries against a packed (zip) mirror, and the identity-keyed hash cache."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from infraleash.gate import preflight_providers
from infraleash.gate.preflight import preflight
from infraleash.gate.preflight_providers import file_sha256, normalize_source
from infraleash.policy import Policy

NULL = "registry.terraform.io/hashicorp/null"
MAIN = 'terraform {\n  required_providers {\n    null = { source = "hashicorp/null" }\n  }\n}\n'


@pytest.fixture(autouse=True)
def _private_hash_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight_providers, "_cache_file", lambda: tmp_path / "hashes.json")
    monkeypatch.setattr(preflight_providers, "_hashes", {})
    monkeypatch.setattr(preflight_providers, "_hashes_loaded", False)


def packed_mirror(tmp_path: Path) -> Path:
    m = tmp_path / "mirror"
    d = m / NULL
    d.mkdir(parents=True)
    with zipfile.ZipFile(d / "terraform-provider-null_3.2.0_linux_amd64.zip", "w") as z:
        z.writestr("terraform-provider-null_v3.2.0_x5", b"\x7fELF real null provider")
    return m


def install(ws: Path, content: bytes) -> None:
    pkg = ws / ".terraform" / "providers" / NULL / "3.2.0" / "linux_amd64"
    pkg.mkdir(parents=True)
    (pkg / "terraform-provider-null_v3.2.0_x5").write_bytes(content)


@pytest.mark.parametrize("content,refused", [(b"\x7fELF real null provider", False),
                                             (b"\x7fELF fake null provider", True)], ids=["same", "fake"])
def test_installed_provider_against_a_packed_mirror(tmp_path: Path, content: bytes, refused: bool) -> None:
    mirror = packed_mirror(tmp_path)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text(MAIN, encoding="utf-8")
    install(ws, content)
    hits = preflight(["terraform", "plan"], str(ws), Policy(), plugin_mirrors=[str(mirror)])
    assert [h.id for h in hits] == (["PRE-PROVIDER-SOURCE"] if refused else [])
    if refused:
        assert "differs from the mirror's archive member" in hits[0].reason


def test_hash_cache_notices_a_same_size_rewrite_with_the_old_mtime(tmp_path: Path) -> None:
    f = tmp_path / "bin"
    f.write_bytes(b"AAAA")
    st = f.stat()
    first = file_sha256(f)
    f.write_bytes(b"BBBB")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only ctime tells
    assert file_sha256(f) != first


def test_hash_cache_persists_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "bin"
    f.write_bytes(b"x" * 1000)
    digest = file_sha256(f)
    monkeypatch.setattr(preflight_providers, "_hashes", {})
    monkeypatch.setattr(preflight_providers, "_hashes_loaded", False)
    monkeypatch.setattr(preflight_providers.hashlib, "sha256", None)  # a new hash would fail: it must be cached
    assert file_sha256(f) == digest


@pytest.mark.parametrize("source,local,want", [
    (None, "aws", "registry.terraform.io/hashicorp/aws"), ("hashicorp/AWS", "aws", "registry.terraform.io/hashicorp/aws"),
    ("example.com/x/y", "y", "example.com/x/y"), (None, "terraform", "terraform.io/builtin/terraform"),
])
def test_normalize_source(source: str | None, local: str, want: str) -> None:
    assert normalize_source(source, local) == want
